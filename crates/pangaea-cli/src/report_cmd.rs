//! `pangaea report`, `pangaea final` and `pangaea compare`: the results side of a search.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use pangaea_report::{final_plan, run_plan, write_report, ComparePlan, ComparisonTable};
use pangaea_search::{LocalExecutor, Store};
use pangaea_wire::{EvalRequest, EvalResult};

use crate::exit::usage;
use crate::recipe_flags::RecipeFlags;
use crate::train_cmd::check_activation;

/// Write an offline HTML report of a search store: progress, top functions, learned
/// parameters, lineage (index.html, SVG charts, leaderboard.md).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The search store.
    #[arg(value_name = "RUN.db")]
    store: PathBuf,
    /// Output directory (created).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

impl ReportArgs {
    /// Runs the command.
    pub fn exec(self) -> anyhow::Result<()> {
        let store = Store::open_read_only(&self.store)?;
        let files = write_report(&store, &self.out)?;
        println!("wrote {}", files.index.display());
        Ok(())
    }
}

/// How repeated runs are executed (`final`, `compare`, `noise`).
#[derive(Debug, Args)]
pub struct RunFlags {
    /// Parallel `pangaea worker` processes.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Time limit of one run, in seconds.
    #[arg(long, default_value_t = 86_400.0)]
    pub time_limit: f64,
    /// Seed of run 0; run r uses seed + r.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl RunFlags {
    /// The local executor these flags describe, with its run files under `out/runs`.
    pub fn executor(&self, out: &Path) -> anyhow::Result<LocalExecutor> {
        local_executor(self.workers, self.time_limit, &out.join("runs"))
    }
}

/// Retrain the top functions of a search and baselines several times on the full training set
/// and compare their test accuracy (mean ± std, Welch's p-value against ReLU).
///
/// The runs use the search's training recipe without its `limit_train`/`limit_val`; the
/// training flags override parts of it (e.g. `--epochs 30` for a longer final protocol).
#[derive(Debug, Args)]
pub struct FinalArgs {
    /// The search store; its training recipe is used.
    #[arg(value_name = "RUN.db")]
    store: PathBuf,
    /// How many of the best functions (each as its best parametric version).
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// Runs per function.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Baselines to include (names or expressions); ReLU is the reference of the p-values.
    #[arg(long, value_delimiter = ',', default_value = "relu,swish")]
    baselines: Vec<String>,
    #[command(flatten)]
    recipe: RecipeFlags,
    #[command(flatten)]
    run: RunFlags,
    /// Output directory for the table (table.md, table.json) and the run files (created).
    #[arg(long, value_name = "DIR", default_value = "compare-out")]
    out: PathBuf,
}

/// Train given activations several times on the full training set and compare their test
/// accuracy (mean ± std, Welch's p-value against ReLU).
///
/// The recipe is the architecture's (docs/method.md §5) with the training flags applied.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Activations: baseline names or expressions, comma-separated (`relu,swish,"x * erf(x)"`).
    #[arg(long, value_delimiter = ',', required = true)]
    acts: Vec<String>,
    /// Runs per activation.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    #[command(flatten)]
    recipe: RecipeFlags,
    #[command(flatten)]
    run: RunFlags,
    /// Output directory for the table (table.md, table.json) and the run files (created).
    #[arg(long, value_name = "DIR", default_value = "compare-out")]
    out: PathBuf,
}

impl CompareArgs {
    /// Runs the command.
    pub fn exec(self) -> anyhow::Result<()> {
        let arch = self.recipe.arch.ok_or_else(|| {
            usage("missing --arch (compare trains with that architecture's recipe)")
        })?;
        let dataset = self
            .recipe
            .dataset
            .ok_or_else(|| usage("missing --dataset"))?;
        let mut template = EvalRequest::recipe(arch);
        template.dataset.name = dataset;
        self.recipe.apply(&mut template);
        template.check().map_err(usage)?;
        for act in &self.acts {
            check_activation(act.trim())?;
        }
        let acts = self
            .acts
            .iter()
            .map(|a| (a.trim().to_owned(), "given".to_owned()))
            .collect();
        let plan = ComparePlan::new(acts, &template, self.runs, self.run.seed).map_err(usage)?;
        execute(&plan, &self.run, &self.out)
    }
}

impl FinalArgs {
    /// Runs the command.
    pub fn exec(self) -> anyhow::Result<()> {
        let store = Store::open_read_only(&self.store)?;
        for b in &self.baselines {
            check_activation(b.trim())?;
        }
        let mut plan = final_plan(
            &store,
            self.top,
            self.runs,
            &self.baselines,
            self.run.seed,
            |r| self.recipe.apply(r),
        )
        .map_err(usage)?;
        drop(store);
        if self.recipe.any() {
            plan.title = format!("{} (overridden: {})", plan.title, self.recipe.describe());
        }
        execute(&plan, &self.run, &self.out)
    }
}

/// `workers` `pangaea worker` processes at a time, each run stopped after `time_limit` seconds,
/// their files under `work`.
fn local_executor(workers: usize, time_limit: f64, work: &Path) -> anyhow::Result<LocalExecutor> {
    if workers == 0 {
        return Err(usage("--workers must be at least 1"));
    }
    if !(time_limit.is_finite() && time_limit > 0.0) {
        return Err(usage("--time-limit must be a positive number of seconds"));
    }
    let program = std::env::current_exe().context("failed to find the pangaea executable")?;
    Ok(LocalExecutor::new(
        &program,
        workers,
        Duration::from_secs_f64(time_limit),
        work,
    )?)
}

/// Runs a plan with `pangaea worker` processes and writes table.md and table.json.
fn execute(plan: &ComparePlan, flags: &RunFlags, out: &Path) -> anyhow::Result<()> {
    let mut executor = flags.executor(out)?;
    eprintln!(
        "{} runs of {} activations, {} at a time",
        plan.runs.len(),
        plan.activations.len(),
        flags.workers
    );
    let cancel = crate::interrupt::on_ctrl_c("stopping the runs")?;
    let table = run_plan(
        plan,
        &mut executor,
        &cancel,
        &mut |done, total, r: &EvalResult| {
            let acc = r.test_accuracy.map_or_else(
                || r.status.name().to_owned(),
                |a| format!("test {:.2} %", 100.0 * a),
            );
            eprintln!("[{done}/{total}] {}: {acc}", r.activation);
        },
    )?;
    if cancel.is_cancelled() {
        anyhow::bail!("interrupted: the table was not written");
    }
    write_table(&table, out)?;
    print!("{}", table.to_markdown());
    Ok(())
}

fn write_table(table: &ComparisonTable, out: &Path) -> anyhow::Result<()> {
    write_files(
        out,
        [
            ("table.md", table.to_markdown()),
            ("table.json", table.to_json()),
        ],
    )
}

/// Writes `(name, text)` files into `out` (created if needed).
pub(crate) fn write_files<const N: usize>(
    out: &Path,
    files: [(&str, String); N],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("failed to create `{}`", out.display()))?;
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    Ok(())
}
