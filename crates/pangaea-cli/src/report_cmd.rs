//! `pangaea report`, `pangaea final` and `pangaea compare`: the results side of a search.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use pangaea_report::{final_plan, run_plan, write_report, ComparePlan, ComparisonTable};
use pangaea_search::{LocalExecutor, Store};
use pangaea_train::{EvalRequest, EvalResult, Granularity};

use crate::exit::usage;

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

/// How the repeated runs are executed.
#[derive(Debug, Args)]
pub struct RunFlags {
    /// Parallel `pangaea worker` processes.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Time limit of one run, in seconds.
    #[arg(long, default_value_t = 86_400.0)]
    time_limit: f64,
    /// Seed of run 0; run r uses seed + r.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory for the table (table.md, table.json) and the run files (created).
    #[arg(long, value_name = "DIR", default_value = "compare-out")]
    out: PathBuf,
}

/// Retrain the top functions of a search and baselines several times on the full training set
/// and compare their test accuracy (mean ± std, Welch's p-value against ReLU).
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
    /// Epochs per run (default: the search's).
    #[arg(long)]
    epochs: Option<usize>,
    #[command(flatten)]
    run: RunFlags,
}

/// Train given activations several times on the full training set and compare their test
/// accuracy (mean ± std, Welch's p-value against ReLU).
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Activations: baseline names or expressions, comma-separated (`relu,swish,"x * erf(x)"`).
    #[arg(long, value_delimiter = ',', required = true)]
    acts: Vec<String>,
    /// Runs per activation.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Dataset name (`cifar10`, `cifar100`, `mnist`, `fashion-mnist`, `synthetic`).
    #[arg(long)]
    dataset: String,
    /// Architecture (`tiny`, `wrn-10-4`, `resnet-v1-56`, `resnet-v2-56`, `all-cnn-c`); its
    /// default recipe is used.
    #[arg(long)]
    arch: String,
    /// Epochs per run.
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Base learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Weight decay.
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Parameter granularity: channel, layer or shared.
    #[arg(long, value_parser = clap::value_parser!(Granularity))]
    granularity: Option<Granularity>,
    /// Directory holding the dataset files.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Use only the first N training images.
    #[arg(long)]
    limit_train: Option<usize>,
    /// Turn augmentation off.
    #[arg(long)]
    no_augment: bool,
    #[command(flatten)]
    run: RunFlags,
}

impl CompareArgs {
    /// Runs the command.
    pub fn exec(self) -> anyhow::Result<()> {
        let mut template = EvalRequest::recipe(&self.arch);
        template.dataset.name = self.dataset.clone();
        template.dataset.data_dir = self.data_dir.clone();
        template.dataset.limit_train = self.limit_train;
        template.dataset.augment = !self.no_augment;
        if let Some(e) = self.epochs {
            template.epochs = e;
        }
        if let Some(b) = self.batch_size {
            template.batch_size = b;
        }
        if let Some(lr) = self.lr {
            template.optimizer.lr = lr;
        }
        if let Some(wd) = self.weight_decay {
            template.optimizer.weight_decay = wd;
        }
        if let Some(g) = self.granularity {
            template.granularity = g;
        }
        template.check().map_err(usage)?;
        let acts = self
            .acts
            .iter()
            .map(|a| (a.trim().to_owned(), "given".to_owned()))
            .collect();
        let plan = ComparePlan::new(acts, &template, self.runs, self.run.seed).map_err(usage)?;
        execute(&plan, &self.run)
    }
}

impl FinalArgs {
    /// Runs the command.
    pub fn exec(self) -> anyhow::Result<()> {
        let store = Store::open_read_only(&self.store)?;
        let mut plan = final_plan(&store, self.top, self.runs, &self.baselines, self.run.seed)
            .map_err(usage)?;
        if let Some(e) = self.epochs {
            for r in &mut plan.runs {
                r.request.epochs = e;
            }
            plan.title = format!("{} (epochs overridden: {e})", plan.title);
        }
        drop(store);
        execute(&plan, &self.run)
    }
}

/// Runs a plan with `pangaea worker` processes and writes table.md and table.json.
fn execute(plan: &ComparePlan, flags: &RunFlags) -> anyhow::Result<()> {
    if flags.workers == 0 {
        return Err(usage("--workers must be at least 1"));
    }
    if !(flags.time_limit.is_finite() && flags.time_limit > 0.0) {
        return Err(usage("--time-limit must be a positive number of seconds"));
    }
    let program = std::env::current_exe().context("failed to find the pangaea executable")?;
    let work = flags.out.join("runs");
    let mut executor = LocalExecutor::new(
        &program,
        flags.workers,
        Duration::from_secs_f64(flags.time_limit),
        &work,
    )?;
    eprintln!(
        "{} runs of {} activations, {} at a time",
        plan.runs.len(),
        plan.activations.len(),
        flags.workers
    );
    let table = run_plan(plan, &mut executor, &mut |done, total, r: &EvalResult| {
        let acc = r.test_accuracy.map_or_else(
            || r.status.name().to_owned(),
            |a| format!("test {:.2} %", 100.0 * a),
        );
        eprintln!("[{done}/{total}] {}: {acc}", r.activation);
    })?;
    write_table(&table, &flags.out)?;
    print!("{}", table.to_markdown());
    Ok(())
}

fn write_table(table: &ComparisonTable, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("failed to create `{}`", out.display()))?;
    for (name, text) in [
        ("table.md", table.to_markdown()),
        ("table.json", table.to_json()),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    Ok(())
}
