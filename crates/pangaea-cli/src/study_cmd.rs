//! `pangaea study`: train functions in every (architecture, dataset) cell of a grid, N runs
//! each, and write the paper-style table and page.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use pangaea_report::study::{
    run_study, write_study, StudyConfig, StudyEvent, StudyTable, STUDY_PRESETS,
};
use pangaea_search::{Cache, Executor, ExecutorConfig, LocalExecutor, SlurmExecutor};
use pangaea_wire::{DatasetName, EvalResult};

use crate::exit::usage;
use crate::train_cmd::check_activation;

/// Train functions in every cell of a grid of architectures × datasets, several runs each with
/// different seeds, and write a table in the paper's layout (markdown, JSON, LaTeX) and an
/// offline HTML page.
///
/// The table has a row per function and a column per cell: test accuracy mean ± std, the best
/// of each column marked, Welch's p against ReLU in the same cell, and wins / ties / losses
/// against ReLU; the page adds the runs per cell as strip plots and the learned parameters.
///
/// Every finished run is stored in DIR/study.db the moment it finishes: run the same command
/// again (or `pangaea study --config DIR/study.toml --out DIR`) after a crash or Ctrl-C and only
/// the runs that had not finished are trained. Runs go to local worker processes, or to a Slurm
/// cluster with `kind = "slurm"` under the configuration's `[executor]` (settings under
/// `[executor.slurm]`, as for a search; its job ledger is kept in DIR/study.db, so a restarted
/// study adopts its live tasks instead of submitting them again).
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// Start from a preset: `transfer-quick` (Fashion-MNIST and MNIST × tiny net and
    /// ResNet-20, 3 runs, minutes per function on 2 cores) or `paper` (CIFAR-10/100 × the four
    /// networks of the paper, 200 epochs: GPU or cluster scale).
    #[arg(long, value_parser = STUDY_PRESETS, conflicts_with = "config")]
    preset: Option<String>,
    /// A TOML configuration file (see `--print-config` for the format).
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Add a search's best functions: its `--top` best forms, each as its best parametric
    /// version (repeat for several searches).
    #[arg(long, value_name = "RUN.db")]
    from: Vec<PathBuf>,
    /// How many of each `--from` search's best forms.
    #[arg(long, default_value_t = 2)]
    top: usize,
    /// Add functions, comma-separated: baseline names, expressions, `RUN.db#ID` (a search's
    /// candidate), `RUN.db#topK`.
    #[arg(long, value_delimiter = ',')]
    functions: Vec<String>,
    /// Runs of every function in every cell.
    #[arg(long)]
    runs: Option<usize>,
    /// Seed of run 0; run r uses seed + r.
    #[arg(long)]
    seed: Option<u64>,
    /// Worker processes at once (local executor), or Slurm tasks at once (slurm executor:
    /// `executor.slurm.max_jobs`).
    #[arg(long)]
    workers: Option<usize>,
    /// Seconds one run may take before its worker is killed (or its Slurm task times out).
    #[arg(long, value_name = "SECONDS")]
    time_limit: Option<f64>,
    /// Folder holding the datasets of every cell (default: each dataset's usual place).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print the configuration (preset, file and flags applied) as TOML and exit.
    #[arg(long)]
    print_config: bool,
    /// Output directory: study.db (the finished runs), study.toml, table.md, table.json,
    /// table.tex, index.html, the charts, and the run files under runs/ (created).
    #[arg(long, value_name = "DIR", default_value = "study-out")]
    out: PathBuf,
}

impl StudyArgs {
    /// The configuration: preset or file, then the flags.
    fn config(&self) -> anyhow::Result<StudyConfig> {
        let mut config = match (&self.config, &self.preset) {
            (Some(path), _) => StudyConfig::read(path).map_err(usage)?,
            (None, Some(name)) => StudyConfig::preset(name).expect("clap only accepts presets"),
            (None, None) => {
                return Err(usage(
                    "give --preset transfer-quick|paper or --config FILE.toml",
                ))
            }
        };
        if self.top == 0 {
            return Err(usage("--top must be at least 1"));
        }
        for store in &self.from {
            config
                .functions
                .push(format!("{}#top{}", store.display(), self.top));
        }
        config
            .functions
            .extend(self.functions.iter().map(|f| f.trim().to_owned()));
        if let Some(runs) = self.runs {
            config.runs = runs;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        match &mut config.executor {
            ExecutorConfig::Local {
                workers,
                time_limit_seconds,
            } => {
                if let Some(w) = self.workers {
                    *workers = w;
                }
                if let Some(t) = self.time_limit {
                    *time_limit_seconds = t;
                }
            }
            ExecutorConfig::Slurm { slurm } => {
                if let Some(w) = self.workers {
                    slurm.max_jobs = w;
                }
                if let Some(t) = self.time_limit {
                    slurm.time_limit_seconds = t;
                }
            }
            ExecutorConfig::Fake { .. } => {}
        }
        if let Some(dir) = &self.data_dir {
            let dir = serde_json::Value::String(dir.display().to_string());
            for cell in &mut config.cells {
                let dataset = cell
                    .recipe
                    .entry("dataset")
                    .or_insert_with(|| serde_json::json!({}));
                if let Some(d) = dataset.as_object_mut() {
                    d.insert("data_dir".to_owned(), dir.clone());
                }
            }
        }
        config.check().map_err(usage)?;
        Ok(config)
    }

    /// Runs the command.
    pub fn exec(self) -> anyhow::Result<()> {
        let config = self.config()?;
        if self.print_config {
            print!("{}", config.to_toml());
            return Ok(());
        }
        let plan = config.plan().map_err(usage)?;
        for f in &plan.functions {
            check_activation(&f.activation)?;
        }
        for cell in &plan.cells {
            check_data(&cell.name, &cell.request.dataset)?;
        }
        if matches!(config.executor, ExecutorConfig::Fake { .. }) {
            return Err(usage(
                "the `fake` executor is for searches only: a study needs test accuracies",
            ));
        }
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("failed to create `{}`", self.out.display()))?;
        let toml_path = self.out.join("study.toml");
        std::fs::write(&toml_path, config.to_toml())
            .with_context(|| format!("failed to write `{}`", toml_path.display()))?;
        let results_path = self.out.join("study.db");
        let cache = Cache::open(&results_path)?;
        let program = std::env::current_exe().context("failed to find the pangaea executable")?;
        let (mut executor, workers): (Box<dyn Executor>, usize) = match &config.executor {
            ExecutorConfig::Local {
                workers,
                time_limit_seconds,
            } => (
                Box::new(LocalExecutor::new(
                    &program,
                    *workers,
                    Duration::from_secs_f64(*time_limit_seconds),
                    &self.out.join("runs"),
                )?),
                *workers,
            ),
            ExecutorConfig::Slurm { slurm } => (
                // The job ledger lives in the results file; the run directory next to it.
                Box::new(SlurmExecutor::new(&program, slurm, &results_path)?),
                slurm.max_jobs,
            ),
            ExecutorConfig::Fake { .. } => unreachable!("refused above"),
        };
        eprintln!(
            "study `{}`: {} functions × {} cells × {} runs, {} at a time",
            plan.title,
            plan.functions.len(),
            plan.cells.len(),
            plan.runs_per_function,
            workers
        );
        let cancel = crate::interrupt::on_ctrl_c("stopping the study")?;
        let results = run_study(
            plan,
            executor.as_mut(),
            &cache,
            &cancel,
            &mut |event| match event {
                StudyEvent::Resumed { finished, total } if finished == total => eprintln!(
                    "{finished} of {total} runs already finished (in {}); nothing to run",
                    self.out.join("study.db").display(),
                ),
                StudyEvent::Resumed { finished, total } if finished > 0 => eprintln!(
                    "{finished} of {total} runs already finished (in {}); running the other {}",
                    self.out.join("study.db").display(),
                    total - finished
                ),
                StudyEvent::Resumed { .. } => {}
                StudyEvent::RunFinished {
                    done,
                    todo,
                    cell,
                    result,
                } => eprintln!(
                    "[{done}/{todo}] {cell}: {} {}",
                    result.activation,
                    outcome(result)
                ),
            },
        )?;
        let files = write_study(&results, &self.out)?;
        print!("{}", StudyTable::from_results(&results).to_markdown());
        if cancel.is_cancelled() {
            anyhow::bail!(
                "interrupted: the table shows the {} runs finished so far; run the same command \
                 again to finish the study",
                results.finished()
            );
        }
        println!("wrote {}", files.index.display());
        Ok(())
    }
}

/// `test 91.23 %`, or the status and reason.
fn outcome(r: &EvalResult) -> String {
    match r.test_accuracy {
        Some(a) => format!("test {:.2} %", 100.0 * a),
        None => format!(
            "{}: {}",
            r.status.name(),
            r.reason.as_deref().unwrap_or("no test accuracy")
        ),
    }
}

/// Refuses to start a study whose data is missing, naming the cell and where it looked.
fn check_data(cell: &str, dataset: &pangaea_wire::DatasetSpec) -> anyhow::Result<()> {
    if dataset.name == DatasetName::Synthetic {
        return Ok(());
    }
    let root = pangaea_data::resolve_data_root(dataset.data_dir.as_deref());
    pangaea_data::locate(dataset.name, root.as_deref().map(Path::new))
        .map(|_| ())
        .map_err(|e| usage(format!("cell `{cell}`: {e}")))
}
