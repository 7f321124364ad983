//! `pangaea search`: run or resume an evolutionary search (METHOD.md §3–§5).
//!
//! Two stages (STYLE.md rule 13): the flags, the optional preset and TOML file are resolved into
//! a [`SearchConfig`] (checked, errors naming the field) before the store is created; then the
//! coordinator runs with a terminal reporter on stderr and a JSON Lines event log next to the
//! store (`RUN.events.jsonl`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use pangaea_search::{
    fake_result, Cache, Executor, ExecutorConfig, Fanout, FitnessMetric, InProcessExecutor,
    JsonLinesLog, LocalExecutor, RunOptions, Search, SearchConfig, Selection, StopReason,
    TerminalReporter,
};

use crate::exit;

/// Run an evolutionary search for activation functions, or resume one.
///
/// Settings come from, in increasing precedence: the defaults (or `--preset`), the `--config`
/// TOML file (see `pangaea_search::SearchConfig`), the flags. Everything is stored in the
/// SQLite file given by `--store`; kill the search at any moment and `--resume` it: it re-runs
/// only the evaluations that were in flight and reaches the same final population.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The SQLite store of a new search (must not exist).
    #[arg(long, value_name = "RUN.db", required_unless_present = "resume")]
    store: Option<PathBuf>,
    /// Continue the search stored in this file with its stored configuration (only the
    /// executor flags --workers, --time-limit and --cache may be given with it).
    #[arg(long, value_name = "RUN.db", conflicts_with_all = ["store", "config", "preset"])]
    resume: Option<PathBuf>,
    /// A TOML configuration file.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Start from a preset: `quick` (Fashion-MNIST, tiny net, ~15 min on 2 cores) or `paper`
    /// (CIFAR-100, WRN-10-4, GPU scale).
    #[arg(long, value_parser = pangaea_search::PRESETS, conflicts_with = "config")]
    preset: Option<String>,
    /// A results cache (SQLite) shared by several searches: an evaluation whose full request
    /// matches a cached one is not run again.
    #[arg(long, value_name = "FILE.db")]
    cache: Option<PathBuf>,
    /// Worker processes (local executor) or threads (fake fitness).
    #[arg(long)]
    workers: Option<usize>,
    /// Seconds one evaluation may take before its worker is killed.
    #[arg(long, value_name = "SECONDS")]
    time_limit: Option<f64>,
    #[command(flatten)]
    settings: SettingFlags,
}

/// Flags that define the search (refused with --resume).
#[derive(Debug, Clone, Args)]
struct SettingFlags {
    /// Seed of the whole search.
    #[arg(long)]
    seed: Option<u64>,
    /// Dataset: cifar10, cifar100, mnist, fashion-mnist, synthetic.
    #[arg(long)]
    dataset: Option<String>,
    /// Folder holding the datasets.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Architecture: tiny, wrn-10-4, resnet-v1-56, resnet-v2-56, all-cnn-c.
    #[arg(long)]
    arch: Option<String>,
    /// Epochs per fitness evaluation.
    #[arg(long)]
    epochs: Option<usize>,
    /// Base learning rate of fitness evaluations.
    #[arg(long)]
    lr: Option<f64>,
    /// Images per step of fitness evaluations.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Train fitness evaluations on N training images.
    #[arg(long)]
    limit_train: Option<usize>,
    /// Validate fitness evaluations on N validation images.
    #[arg(long)]
    limit_val: Option<usize>,
    /// Forms kept per generation (and the initial population size).
    #[arg(long)]
    population_size: Option<usize>,
    /// New forms per generation.
    #[arg(long)]
    children: Option<usize>,
    /// Parametric versions trained per new form.
    #[arg(long)]
    versions: Option<usize>,
    /// Most parameters per version (1–3).
    #[arg(long)]
    max_params: Option<usize>,
    /// Most nodes per form.
    #[arg(long)]
    max_size: Option<usize>,
    /// Unary operators, comma-separated.
    #[arg(long, value_delimiter = ',')]
    unary: Option<Vec<String>>,
    /// Binary operators, comma-separated.
    #[arg(long, value_delimiter = ',')]
    binary: Option<Vec<String>>,
    /// Parent selection: rank_softmax or tournament.
    #[arg(long, value_parser = ["rank_softmax", "tournament"])]
    selection: Option<String>,
    /// Temperature of rank_softmax selection.
    #[arg(long)]
    temperature: Option<f64>,
    /// Size of tournament selection (implies --selection tournament).
    #[arg(long)]
    tournament_size: Option<usize>,
    /// Fitness: val_accuracy or val_loss (negated: lower loss is better).
    #[arg(long, value_parser = ["val_accuracy", "val_loss"])]
    fitness: Option<String>,
    /// Stop after this many generations of children.
    #[arg(long)]
    generations: Option<usize>,
    /// Stop after this many finished evaluations (checked between generations).
    #[arg(long)]
    evaluations: Option<usize>,
    /// Stop after this much wall time, in seconds (checked between generations).
    #[arg(long, value_name = "SECONDS")]
    wall_time: Option<f64>,
    /// FOR TESTS AND DEMOS ONLY: do not train; the fitness is a deterministic function of the
    /// expression (closeness to Swish on [-3, 3]).
    #[arg(long, hide = true)]
    fake_fitness: bool,
}

impl SettingFlags {
    fn any(&self) -> bool {
        let SettingFlags {
            seed,
            dataset,
            data_dir,
            arch,
            epochs,
            lr,
            batch_size,
            limit_train,
            limit_val,
            population_size,
            children,
            versions,
            max_params,
            max_size,
            unary,
            binary,
            selection,
            temperature,
            tournament_size,
            fitness,
            generations,
            evaluations,
            wall_time,
            fake_fitness,
        } = self;
        seed.is_some()
            || dataset.is_some()
            || data_dir.is_some()
            || arch.is_some()
            || epochs.is_some()
            || lr.is_some()
            || batch_size.is_some()
            || limit_train.is_some()
            || limit_val.is_some()
            || population_size.is_some()
            || children.is_some()
            || versions.is_some()
            || max_params.is_some()
            || max_size.is_some()
            || unary.is_some()
            || binary.is_some()
            || selection.is_some()
            || temperature.is_some()
            || tournament_size.is_some()
            || fitness.is_some()
            || generations.is_some()
            || evaluations.is_some()
            || wall_time.is_some()
            || *fake_fitness
    }

    fn apply(self, c: &mut SearchConfig) {
        macro_rules! set {
            ($flag:expr => $field:expr) => {
                if let Some(v) = $flag {
                    $field = v;
                }
            };
        }
        set!(self.seed => c.seed);
        set!(self.dataset => c.training.dataset.name);
        if self.data_dir.is_some() {
            c.training.dataset.data_dir = self.data_dir;
        }
        set!(self.arch => c.training.architecture);
        set!(self.epochs => c.training.epochs);
        set!(self.lr => c.training.optimizer.lr);
        set!(self.batch_size => c.training.batch_size);
        if self.limit_train.is_some() {
            c.training.dataset.limit_train = self.limit_train;
        }
        if self.limit_val.is_some() {
            c.training.dataset.limit_val = self.limit_val;
        }
        set!(self.population_size => c.population_size);
        set!(self.children => c.children_per_generation);
        set!(self.versions => c.versions_per_child);
        set!(self.max_params => c.max_params);
        set!(self.max_size => c.max_expr_size);
        set!(self.unary => c.operators.unary);
        set!(self.binary => c.operators.binary);
        // A tournament size alone asks for tournament selection.
        let selection = self
            .selection
            .as_deref()
            .or(self.tournament_size.map(|_| "tournament"));
        match selection {
            Some("tournament") => {
                c.selection = Selection::Tournament {
                    size: self.tournament_size.unwrap_or(3),
                }
            }
            Some(_) => {
                c.selection = Selection::RankSoftmax {
                    temperature: self.temperature.unwrap_or(0.25),
                }
            }
            None => {}
        }
        match &mut c.selection {
            Selection::RankSoftmax { temperature } => set!(self.temperature => *temperature),
            Selection::Tournament { size } => set!(self.tournament_size => *size),
        }
        match self.fitness.as_deref() {
            Some("val_loss") => c.fitness = FitnessMetric::ValLoss,
            Some(_) => c.fitness = FitnessMetric::ValAccuracy,
            None => {}
        }
        if self.generations.is_some() || self.evaluations.is_some() || self.wall_time.is_some() {
            if self.generations.is_some() {
                c.stop.generations = self.generations;
            }
            if self.evaluations.is_some() {
                c.stop.evaluations = self.evaluations;
            }
            if self.wall_time.is_some() {
                c.stop.wall_seconds = self.wall_time;
            }
        }
        if self.fake_fitness {
            c.executor = ExecutorConfig::Fake {
                workers: c.executor.workers(),
            };
        }
    }
}

impl SearchArgs {
    /// Runs `pangaea search`.
    pub fn exec(self) -> anyhow::Result<()> {
        let (mut search, store) = match &self.resume {
            Some(path) => {
                if self.settings.any() {
                    return Err(exit::usage(
                        "with --resume only --workers, --time-limit and --cache may be given: \
                         the search's settings are in its store",
                    ));
                }
                let search = Search::resume(path).map_err(exit::usage)?;
                (search, path.clone())
            }
            None => {
                let store = self
                    .store
                    .clone()
                    .expect("clap requires --store or --resume");
                let config = self.resolve_config()?;
                let search = Search::create(&store, config).map_err(exit::usage)?;
                (search, store)
            }
        };
        if let Some(path) = &self.cache {
            let cache = Cache::open(path).context("failed to open the cache")?;
            search = search.with_cache(cache);
        }
        let mut executor = self.executor(search.config(), &store)?;
        let mut log = JsonLinesLog::open(&JsonLinesLog::path_for_store(&store))?;
        let mut reporter = TerminalReporter::stderr();
        let mut events = Fanout(vec![&mut reporter, &mut log]);
        let reason = search.run(executor.as_mut(), &mut events, &RunOptions::default())?;
        if reason == StopReason::Interrupted {
            anyhow::bail!("the search was interrupted; continue it with --resume");
        }
        Ok(())
    }

    fn resolve_config(&self) -> anyhow::Result<SearchConfig> {
        let mut config = match (&self.config, &self.preset) {
            (Some(path), _) => SearchConfig::read(path).map_err(exit::usage)?,
            (None, Some(preset)) => {
                SearchConfig::preset(preset).expect("clap only accepts known presets")
            }
            (None, None) => SearchConfig::default(),
        };
        self.settings.clone().apply(&mut config);
        if let Some(w) = self.workers {
            match &mut config.executor {
                ExecutorConfig::Local { workers, .. } | ExecutorConfig::Fake { workers } => {
                    *workers = w
                }
            }
        }
        if let (
            Some(t),
            ExecutorConfig::Local {
                time_limit_seconds, ..
            },
        ) = (self.time_limit, &mut config.executor)
        {
            *time_limit_seconds = t;
        }
        config.check().map_err(exit::usage)?;
        Ok(config)
    }

    fn executor(&self, config: &SearchConfig, store: &Path) -> anyhow::Result<Box<dyn Executor>> {
        let workers = self.workers.unwrap_or(config.executor.workers());
        if workers == 0 {
            return Err(exit::usage("--workers must be at least 1"));
        }
        Ok(match &config.executor {
            ExecutorConfig::Fake { .. } => Box::new(InProcessExecutor::new(workers, fake_result)),
            ExecutorConfig::Local {
                time_limit_seconds, ..
            } => {
                let limit = self.time_limit.unwrap_or(*time_limit_seconds);
                if !(limit.is_finite() && limit > 0.0) {
                    return Err(exit::usage(
                        "--time-limit must be a positive number of seconds",
                    ));
                }
                let program = std::env::current_exe()
                    .context("failed to find the pangaea binary for the workers")?;
                Box::new(LocalExecutor::new(
                    &program,
                    workers,
                    Duration::from_secs_f64(limit),
                    &store.with_extension("work"),
                )?)
            }
        })
    }
}
