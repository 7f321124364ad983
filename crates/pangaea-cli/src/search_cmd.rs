//! `pangaea search`: run or resume an evolutionary search (docs/method.md §3–§5).
//!
//! Two stages (ARCHITECTURE.md, convention 13): the flags, the optional preset and TOML file are resolved into
//! a [`SearchConfig`] (checked, errors naming the field) before the store is created; then the
//! coordinator runs with a terminal reporter on stderr and a JSON Lines event log next to the
//! store (`RUN.events.jsonl`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use pangaea_expr::Mutation;
use pangaea_search::{
    fake_result, Cache, Executor, ExecutorConfig, Fanout, FitnessMetric, InProcessExecutor,
    JsonLinesLog, LocalExecutor, RunOptions, Search, SearchConfig, Selection, SlurmExecutor,
    StopReason,
};

use crate::exit;
use crate::recipe_flags::RecipeFlags;
use crate::search_reporter::TerminalReporter;

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
    /// Start from a preset: `quick` (Fashion-MNIST, tiny net, ~15 min on 2 cores), `standard`
    /// (Fashion-MNIST with rungs, re-evaluation, ReLU and Swish baselines, < 2 h on 2 cores) or
    /// `paper` (CIFAR-100, WRN-10-4, GPU scale).
    #[arg(long, value_parser = pangaea_search::PRESETS, conflicts_with = "config")]
    preset: Option<String>,
    /// A results cache (SQLite) shared by several searches: an evaluation whose full request
    /// matches a cached one is not run again.
    #[arg(long, value_name = "FILE.db")]
    cache: Option<PathBuf>,
    /// Worker processes (local executor), threads (fake fitness), or Slurm tasks at once
    /// (slurm executor: `executor.slurm.max_jobs`).
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
    /// The training recipe of every fitness evaluation.
    #[command(flatten)]
    recipe: RecipeFlags,
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
    /// Relative weights of the four mutations, e.g. `insert=1,remove=1,change=2,regenerate=0`
    /// (names left out keep their configured weight).
    #[arg(long, value_name = "NAME=W,...", value_delimiter = ',', value_parser = parse_mutation_weight)]
    mutation_weights: Option<Vec<(Mutation, f64)>>,
    /// Unary operators, comma-separated.
    #[arg(long, value_delimiter = ',')]
    unary: Option<Vec<String>>,
    /// Binary operators, comma-separated.
    #[arg(long, value_delimiter = ',')]
    binary: Option<Vec<String>>,
    /// Parent selection.
    #[arg(long, value_enum)]
    selection: Option<SelectionKind>,
    /// Temperature of rank_softmax selection.
    #[arg(long)]
    temperature: Option<f64>,
    /// Size of tournament selection (implies --selection tournament).
    #[arg(long)]
    tournament_size: Option<usize>,
    /// Fitness: validation accuracy, or validation loss (negated: lower loss is better).
    #[arg(long, value_enum)]
    fitness: Option<FitnessArg>,
    /// Stop after this many generations of children.
    #[arg(long)]
    generations: Option<usize>,
    /// Stop after this many finished evaluations (checked between generations).
    #[arg(long)]
    evaluations: Option<usize>,
    /// Stop after this much wall time, in seconds (checked between generations).
    #[arg(long, value_name = "SECONDS")]
    wall_time: Option<f64>,
    /// Re-evaluation: each generation, this many of the best forms (and the baselines) get
    /// extra runs with new seeds; their fitness becomes the mean over runs (0: off).
    #[arg(long, value_name = "N")]
    reevaluate_top: Option<usize>,
    /// Runs a re-evaluated form reaches, its first included (at least 2).
    #[arg(long, value_name = "N")]
    reevaluate_runs: Option<usize>,
    /// Forms are ranked by mean − Z · noise-std / √runs (0: by the mean).
    #[arg(long, value_name = "Z")]
    lcb_z: Option<f64>,
    /// The std of one run's fitness, as `pangaea noise` measures it for the recipe.
    #[arg(long, value_name = "STD")]
    noise_std: Option<f64>,
    /// Pre-screen: skip this fraction of each generation's children, those with the lowest
    /// fitness predicted by their nearest trained forms (0: off; `pangaea screen` measures it).
    #[arg(long, value_name = "FRACTION")]
    screen_skip: Option<f64>,
    /// Pre-screen: neighbours averaged.
    #[arg(long, value_name = "K")]
    screen_k: Option<usize>,
    /// Pre-screen: also compare forms by how a random deep network at initialisation carries
    /// signal and gradients through them.
    #[arg(long)]
    screen_network: bool,
    /// Pre-screen: also compare forms by statistics of the search's own network (its rung-0
    /// recipe) at initialisation on one training batch: each site's output spread, each
    /// weight's gradient spread, the loss.
    #[arg(long)]
    screen_own_network: bool,
    /// Multi-fidelity: a cheaper rung below the full recipe, as request fields written over
    /// it (`dataset.limit_train=1000,epochs=1`); repeat it for several rungs, cheapest first.
    /// Replaces the preset's or configuration's rungs.
    #[arg(long = "rung", value_name = "FIELD=VALUE,...", value_parser = parse_rung)]
    rungs: Vec<RungFields>,
    /// Multi-fidelity off: every version is trained with the full recipe.
    #[arg(long, conflicts_with = "rungs")]
    no_rungs: bool,
    /// Multi-fidelity: the fraction of a rung's versions promoted to the next, in (0, 1].
    #[arg(long, value_name = "FRACTION")]
    promote_fraction: Option<f64>,
    /// FOR TESTS AND DEMOS ONLY: do not train; the fitness is a deterministic function of the
    /// expression (closeness to Swish on [-3, 3]).
    #[arg(long, hide = true)]
    fake_fitness: bool,
    /// Where evaluations run: worker processes on this machine, or job arrays on a Slurm
    /// cluster (settings in the configuration's `[executor.slurm]`).
    #[arg(long, value_enum)]
    executor: Option<ExecutorKind>,
}

/// `--selection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SelectionKind {
    /// Softmax over fitness ranks (`--temperature`).
    #[value(name = "rank_softmax")]
    RankSoftmax,
    /// The fittest of `--tournament-size` forms drawn uniformly.
    Tournament,
}

/// `--fitness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FitnessArg {
    /// Validation accuracy, higher is better.
    #[value(name = "val_accuracy")]
    ValAccuracy,
    /// Validation loss, lower is better.
    #[value(name = "val_loss")]
    ValLoss,
}

impl From<FitnessArg> for FitnessMetric {
    fn from(f: FitnessArg) -> Self {
        match f {
            FitnessArg::ValAccuracy => FitnessMetric::ValAccuracy,
            FitnessArg::ValLoss => FitnessMetric::ValLoss,
        }
    }
}

/// `--executor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExecutorKind {
    /// `pangaea worker` processes on this machine.
    Local,
    /// Slurm job arrays.
    Slurm,
}

impl SettingFlags {
    fn any(&self) -> bool {
        let SettingFlags {
            seed,
            recipe,
            population_size,
            children,
            versions,
            max_params,
            max_size,
            mutation_weights,
            unary,
            binary,
            selection,
            temperature,
            tournament_size,
            fitness,
            generations,
            evaluations,
            wall_time,
            reevaluate_top,
            reevaluate_runs,
            lcb_z,
            noise_std,
            screen_skip,
            screen_k,
            screen_network,
            screen_own_network,
            rungs,
            no_rungs,
            promote_fraction,
            fake_fitness,
            executor,
        } = self;
        seed.is_some()
            || recipe.any()
            || population_size.is_some()
            || children.is_some()
            || versions.is_some()
            || max_params.is_some()
            || max_size.is_some()
            || mutation_weights.is_some()
            || reevaluate_top.is_some()
            || reevaluate_runs.is_some()
            || lcb_z.is_some()
            || noise_std.is_some()
            || screen_skip.is_some()
            || screen_k.is_some()
            || *screen_network
            || *screen_own_network
            || !rungs.is_empty()
            || *no_rungs
            || promote_fraction.is_some()
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
            || executor.is_some()
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
        self.recipe.apply(&mut c.training);
        set!(self.population_size => c.population_size);
        set!(self.children => c.children_per_generation);
        set!(self.versions => c.versions_per_child);
        set!(self.max_params => c.max_params);
        set!(self.max_size => c.max_expr_size);
        for (mutation, weight) in self.mutation_weights.unwrap_or_default() {
            c.mutation_weights.set(mutation, weight);
        }
        set!(self.unary => c.operators.unary);
        set!(self.binary => c.operators.binary);
        // A tournament size alone asks for tournament selection.
        let selection = self
            .selection
            .or(self.tournament_size.map(|_| SelectionKind::Tournament));
        match selection {
            Some(SelectionKind::Tournament) => {
                c.selection = Selection::Tournament {
                    size: self.tournament_size.unwrap_or(3),
                }
            }
            Some(SelectionKind::RankSoftmax) => {
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
        set!(self.fitness.map(FitnessMetric::from) => c.fitness);
        if self.generations.is_some() {
            c.stop.generations = self.generations;
        }
        if self.evaluations.is_some() {
            c.stop.evaluations = self.evaluations;
        }
        if self.wall_time.is_some() {
            c.stop.wall_seconds = self.wall_time;
        }
        let re = &mut c.reevaluation;
        for (target, value) in [
            (&mut re.top, self.reevaluate_top),
            (&mut re.runs, self.reevaluate_runs),
        ] {
            if let Some(v) = value {
                *target = v;
            }
        }
        for (target, value) in [
            (&mut re.lcb_z, self.lcb_z),
            (&mut re.noise_std, self.noise_std),
        ] {
            if let Some(v) = value {
                *target = v;
            }
        }
        set!(self.screen_skip => c.screening.skip_fraction);
        if let Some(k) = self.screen_k {
            c.screening.k = k;
            c.screening.min_history = c.screening.min_history.max(k);
        }
        if self.screen_network {
            c.screening.network = true;
        }
        if self.screen_own_network {
            c.screening.own_network = true;
        }
        if self.no_rungs {
            c.fidelity.rungs.clear();
        }
        if !self.rungs.is_empty() {
            c.fidelity.rungs = self.rungs.into_iter().map(|r| r.0).collect();
        }
        set!(self.promote_fraction => c.fidelity.promote_fraction);
        match (self.executor, &c.executor) {
            (Some(ExecutorKind::Slurm), ExecutorConfig::Slurm { .. })
            | (Some(ExecutorKind::Local), ExecutorConfig::Local { .. })
            | (None, _) => {}
            (Some(ExecutorKind::Slurm), _) => {
                c.executor = ExecutorConfig::Slurm {
                    slurm: Box::default(),
                }
            }
            (Some(ExecutorKind::Local), _) => {
                c.executor = ExecutorConfig::Local {
                    workers: c.executor.workers(),
                    time_limit_seconds: 3600.0,
                }
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
                let search = Search::resume(path)?;
                (search, path.clone())
            }
            None => {
                let store = self
                    .store
                    .clone()
                    .expect("clap requires --store or --resume");
                let config = self.resolve_config()?;
                let search = Search::create(&store, config)?;
                (search, store)
            }
        };
        if let Some(path) = &self.cache {
            let cache = Cache::open(path).context("failed to open the cache")?;
            search = search.with_cache(cache);
        }
        let screening = &search.config().screening;
        if screening.enabled() && screening.own_network {
            let probe = crate::own_network::probe(search.config())?;
            search = search.with_network_probe(probe);
        }
        let mut executor = self.executor(search.config(), &store)?;
        let mut log = JsonLinesLog::open(&JsonLinesLog::path_for_store(&store))?;
        let mut reporter = TerminalReporter::stderr();
        let mut events = Fanout(vec![&mut reporter, &mut log]);
        let options = RunOptions {
            cancel: crate::interrupt::on_ctrl_c("stopping the search")?,
            ..RunOptions::default()
        };
        let reason = search.run(executor.as_mut(), &mut events, &options)?;
        if reason == StopReason::Interrupted {
            anyhow::bail!(
                "the search was interrupted; continue it with `pangaea search --resume {}`",
                store.display()
            );
        }
        print_summary(search.store(), &store)
    }

    fn resolve_config(&self) -> anyhow::Result<SearchConfig> {
        let mut config = match (&self.config, &self.preset) {
            (Some(path), _) => SearchConfig::read(path)?,
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
                ExecutorConfig::Slurm { slurm } => slurm.max_jobs = w,
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
        if let (Some(t), ExecutorConfig::Slurm { slurm }) = (self.time_limit, &mut config.executor)
        {
            slurm.time_limit_seconds = t;
        }
        config.check()?;
        Ok(config)
    }

    fn executor(&self, config: &SearchConfig, store: &Path) -> anyhow::Result<Box<dyn Executor>> {
        let workers = self.workers.unwrap_or(config.executor.workers());
        if workers == 0 {
            return Err(exit::usage("--workers must be at least 1"));
        }
        Ok(match &config.executor {
            ExecutorConfig::Fake { .. } => Box::new(InProcessExecutor::new(workers, fake_result)),
            ExecutorConfig::Slurm { slurm } => {
                let mut slurm = slurm.clone();
                slurm.max_jobs = workers;
                if let Some(t) = self.time_limit {
                    slurm.time_limit_seconds = t;
                }
                slurm.check()?;
                let program = std::env::current_exe()
                    .context("failed to find the pangaea binary for the Slurm tasks")?;
                Box::new(SlurmExecutor::new(&program, &slurm, store)?)
            }
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

/// Prints the outcome on stdout: the best forms with their best version, the baselines, and
/// the commands that take the results further.
fn print_summary(store: &pangaea_search::Store, path: &Path) -> anyhow::Result<()> {
    let top = store.top_forms(5)?;
    let baselines = store.baselines()?;
    let top_rung = store.config()?.fidelity.top();
    println!(
        "best functions ({} evaluations):",
        store.finished_evaluations()?
    );
    for (rank, form) in top.iter().enumerate() {
        // A fitness at a cheaper rung is not comparable with the full recipe's.
        let rung = match form.candidate.rung {
            r if r < top_rung => format!(" [rung {r} of {top_rung}: cheaper recipe]"),
            _ => String::new(),
        };
        println!(
            "  {}. {}  {}  (candidate {}){rung}",
            rank + 1,
            fitness_text(
                form.candidate.fitness,
                form.candidate.runs,
                form.candidate.fitness_se
            ),
            form.best.expr,
            form.candidate.id
        );
    }
    for b in &baselines {
        match b.fitness {
            Some(f) => println!(
                "  baseline {}  {}",
                fitness_text(Some(f), b.runs, b.fitness_se),
                b.expr
            ),
            None => println!("  baseline -       {} (did not finish ok)", b.expr),
        }
    }
    let (claim, reference) = pangaea_report::search_claim(store)?;
    if let Some(reference) = reference {
        println!("{}", claim.sentence(&reference));
    }
    let p = path.display();
    println!("next: pangaea report {p} --out report  |  pangaea final {p} --top 3 --runs 5");
    if let Some(form) = top.first() {
        println!(
            "      pangaea export '{p}#{}' --to pytorch",
            form.candidate.id
        );
    }
    Ok(())
}

/// A fitness with its runs: `0.7620 (1 run)`, `0.7590 ± 0.0021 SE (3 runs)`.
fn fitness_text(fitness: Option<f64>, runs: usize, se: Option<f64>) -> String {
    let Some(f) = fitness else {
        return "-".to_owned();
    };
    match se {
        Some(se) if runs >= 2 => format!("{f:.4} ± {se:.4} SE ({runs} runs)"),
        _ => format!("{f:.4} (1 run)"),
    }
}

/// The fields of one `--rung`.
#[derive(Debug, Clone, PartialEq)]
struct RungFields(serde_json::Map<String, serde_json::Value>);

/// Parses one `--rung`: comma-separated `FIELD=VALUE` pairs, FIELD a dotted request field
/// (`dataset.limit_train`), VALUE a TOML value (`1000`, `0.05`, `true`, `"cosine"`). Whether
/// the fields make a valid request is checked with the configuration, naming the rung.
fn parse_rung(text: &str) -> Result<RungFields, String> {
    let mut fields = serde_json::Map::new();
    for pair in text.split(',') {
        let (field, value) = pair.split_once('=').ok_or_else(|| {
            format!("`{pair}` is not FIELD=VALUE (e.g. `dataset.limit_train=1000`)")
        })?;
        let field = field.trim();
        let path: Vec<&str> = field.split('.').collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(format!("`{field}` is not a dotted field name"));
        }
        let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {}", value.trim()))
            .map_err(|_| {
                format!("the value of `{field}` is not a number, boolean or quoted string")
            })?
            .remove("v")
            .expect("the key was written");
        let mut value =
            serde_json::to_value(value).map_err(|e| format!("the value of `{field}`: {e}"))?;
        for key in path[1..].iter().rev() {
            let mut table = serde_json::Map::new();
            table.insert((*key).to_owned(), value);
            value = serde_json::Value::Object(table);
        }
        match (fields.get_mut(path[0]), value) {
            (Some(serde_json::Value::Object(old)), serde_json::Value::Object(new)) => {
                old.extend(new)
            }
            (_, value) => {
                fields.insert(path[0].to_owned(), value);
            }
        }
    }
    Ok(RungFields(fields))
}

/// Parses one `NAME=WEIGHT` of `--mutation-weights`: the name one of the four mutations, the
/// weight a finite number ≥ 0 (the configuration check then asks for one positive weight).
fn parse_mutation_weight(pair: &str) -> Result<(Mutation, f64), String> {
    let (name, weight) = pair
        .split_once('=')
        .ok_or_else(|| format!("`{pair}`: expected NAME=WEIGHT"))?;
    let name = name.trim();
    let mutation = Mutation::from_name(name)
        .ok_or_else(|| format!("`{name}`: expected one of insert, remove, change, regenerate"))?;
    let weight: f64 = weight
        .trim()
        .parse()
        .map_err(|_| format!("`{pair}`: the weight is not a number"))?;
    if !weight.is_finite() || weight < 0.0 {
        return Err(format!("`{pair}`: expected a finite weight >= 0"));
    }
    Ok((mutation, weight))
}

#[cfg(test)]
mod tests {
    use super::{parse_mutation_weight, parse_rung};

    #[test]
    fn rungs_parse_into_nested_fields_and_errors_name_the_pair() {
        let r = parse_rung("dataset.limit_train=1000, epochs=1,dataset.limit_val=500").unwrap();
        assert_eq!(
            serde_json::Value::Object(r.0),
            serde_json::json!({"dataset": {"limit_train": 1000, "limit_val": 500}, "epochs": 1})
        );
        let r = parse_rung("schedule.kind=\"constant\",optimizer.lr=0.05").unwrap();
        assert_eq!(r.0["optimizer"]["lr"], 0.05);
        assert!(parse_rung("epochs").unwrap_err().contains("`epochs`"));
        assert!(parse_rung("epochs=one").unwrap_err().contains("`epochs`"));
        assert!(parse_rung("dataset..x=1").unwrap_err().contains("dotted"));
    }
    use pangaea_expr::Mutation;

    #[test]
    fn mutation_weights_parse_and_errors_name_the_pair() {
        assert_eq!(
            parse_mutation_weight("change=2.5"),
            Ok((Mutation::Change, 2.5))
        );
        assert!(parse_mutation_weight("swap=1")
            .unwrap_err()
            .contains("`swap`"));
        assert!(parse_mutation_weight("insert")
            .unwrap_err()
            .contains("NAME=WEIGHT"));
        assert!(parse_mutation_weight("remove=-1")
            .unwrap_err()
            .contains(">= 0"));
        assert!(parse_mutation_weight("remove=x")
            .unwrap_err()
            .contains("not a number"));
    }
}
