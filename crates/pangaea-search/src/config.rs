//! [`SearchConfig`]: everything that defines a search (docs/method.md §3–§5), read from TOML.
//!
//! Every field has a documented default, unknown fields are refused, and errors name the field
//! (`selection.temperature`). The training recipe of a fitness evaluation is an
//! [`EvalRequest`] template (`[training]`): the search only fills in the activation and the
//! label, so dataset, data directory, architecture, epochs, subsets, learning rate and batch size
//! all live there.
//!
//! Three presets: [`SearchConfig::quick`] (Fashion-MNIST, the tiny net, a training subset, about
//! 15 minutes on 2 cores for ≥ 50 candidates), [`SearchConfig::standard`] (Fashion-MNIST with
//! rungs and re-evaluation, under 2 hours on 2 cores, for a claim `pangaea final` can test) and
//! [`SearchConfig::paper`] (CIFAR-100, WRN-10-4, paper-scale for a GPU).

use std::path::Path;

use pangaea_expr::{MutationWeights, OperatorSet, Operators};
use pangaea_wire::{Arch, DatasetName, EvalRequest};
use serde::{Deserialize, Serialize};

use crate::error::SearchError;

/// The whole definition of a search. Two searches with equal configurations (the executor
/// aside) produce the same candidates and the same final population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Seed of everything random in the search (initial forms, selection, mutation,
    /// parametrization). Default: 0.
    pub seed: u64,
    /// The evaluation request every candidate version is trained with; the search sets
    /// `activation` and `label`. Default: the tiny net's recipe ([`EvalRequest::recipe`]).
    pub training: EvalRequest,
    /// Forms kept from one generation to the next, and the size of the initial population
    /// (docs/method.md §3). Default: 64.
    pub population_size: usize,
    /// New (valid, not duplicate) forms per generation. Default: 16.
    pub children_per_generation: usize,
    /// Parametric versions trained per new form; the best stands for the form (docs/method.md §3).
    /// Default: 3.
    pub versions_per_child: usize,
    /// Most parameters (α, β, γ) in a version. Default: 3.
    pub max_params: usize,
    /// Most nodes in a form; mutations that would exceed it are not drawn. Default: 16.
    pub max_expr_size: usize,
    /// Operators the search draws from. Default: PANGAEA's 27 unary and 7 binary operators.
    pub operators: OperatorSet,
    /// Relative probabilities of the four mutations. Default: uniform.
    pub mutation_weights: MutationWeights,
    /// How parents are chosen. Default: softmax over ranks, temperature 0.25.
    pub selection: Selection,
    /// Which number of a result is the fitness. Default: `val_accuracy`.
    pub fitness: FitnessMetric,
    /// When to stop. Default: after 10 generations.
    pub stop: StopRule,
    /// Where evaluations run. Default: local, one worker, one hour per evaluation.
    pub executor: ExecutorConfig,
    /// Reference activations (expressions) trained once each, before generation 0, with the
    /// same recipe as every candidate: they are not part of the population, and give the line
    /// the progress display and the report compare the candidates with. Default: `relu(x)`.
    /// With re-evaluation on, they get the same extra runs as the best forms.
    pub baselines: Vec<String>,
    /// Extra runs with new seeds for the best forms, so that a form's fitness is a mean over
    /// runs rather than one lucky run. Default: off.
    pub reevaluation: Reevaluation,
    /// The kNN pre-screen: children predicted to be among the worst are not trained.
    /// Default: off.
    pub screening: Screening,
    /// Successive halving inside each generation: versions are first trained with cheaper
    /// recipes (rungs) and only the best are promoted to the full one. Default: off.
    pub fidelity: Fidelity,
}

/// `[fidelity]`: multi-fidelity evaluation inside a generation (successive halving, as in
/// Hyperband and ASHA; docs/method.md §3, *ours*). Every new version is trained first at rung 0
/// (`rungs[0]` written over `[training]`), the best `promote_fraction` of the generation's
/// versions that finished with a fitness (at least one) are trained again at rung 1, and so on
/// up to the full `[training]` recipe, rung `rungs.len()`. A version's fitness at a rung is
/// compared only with fitness at the same rung: forms are ranked by the highest rung their
/// standing version reached, then by its fitness there (a run that failed at its highest rung
/// ranks last). Baselines are trained at the full recipe only, and re-evaluation's extra runs
/// go only to forms that reached it. What
/// is promoted depends only on stored results, so a resumed search promotes the same versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fidelity {
    /// The cheaper rungs, cheapest first, each a table of request fields written over
    /// `[training]`, e.g. `{ dataset = { limit_train = 1000 } }` or `{ epochs = 1 }`; the
    /// activation, seed and label are the search's. Empty: off, every version is trained once
    /// with `[training]`. Default: empty.
    pub rungs: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Fraction of a rung's versions promoted to the next one, in (0, 1]; at least one is
    /// promoted whenever one finished. Default: 1/3 (η = 3 in Hyperband's terms).
    pub promote_fraction: f64,
}

impl Default for Fidelity {
    fn default() -> Self {
        Fidelity {
            rungs: Vec::new(),
            promote_fraction: 1.0 / 3.0,
        }
    }
}

impl Fidelity {
    /// Whether versions go through cheaper rungs at all.
    pub fn enabled(&self) -> bool {
        !self.rungs.is_empty()
    }

    /// The rung of the full recipe (0 when off).
    pub fn top(&self) -> usize {
        self.rungs.len()
    }

    /// How many of `finished` versions of a rung that finished with a fitness go on to the
    /// next: `ceil(promote_fraction · finished)`, at least one when any finished.
    pub fn promoted(&self, finished: usize) -> usize {
        if finished == 0 {
            return 0;
        }
        ((self.promote_fraction * finished as f64).ceil() as usize).clamp(1, finished)
    }

    /// The request of rung `rung` for the training template `training`: `rungs[rung]` over it,
    /// or `training` itself at the top rung.
    pub fn request(&self, training: &EvalRequest, rung: usize) -> Result<EvalRequest, SearchError> {
        match self.rungs.get(rung) {
            None => Ok(training.clone()),
            Some(fields) => training
                .with_fields(fields, &["activation", "seed", "label"])
                .map_err(|e| SearchError::Field {
                    field: match e.field.as_str() {
                        "" => format!("fidelity.rungs[{rung}]"),
                        f => format!("fidelity.rungs[{rung}].{f}"),
                    },
                    expected: e.message,
                }),
        }
    }

    fn check(&self, training: &EvalRequest) -> Result<(), SearchError> {
        if !(self.promote_fraction.is_finite()
            && self.promote_fraction > 0.0
            && self.promote_fraction <= 1.0)
        {
            return Err(field("fidelity.promote_fraction", "a number in (0, 1]"));
        }
        for rung in 0..self.rungs.len() {
            self.request(training, rung)?;
        }
        Ok(())
    }
}

/// `[screening]`: before a generation's children are trained, each is given a predicted
/// fitness, the mean fitness of its `k` nearest trained forms ([`crate::screen`]: values and
/// derivatives at fixed N(0, 1) samples, parameters at 1), and the `skip_fraction` of them with
/// the lowest predictions are stored as `screened` with their prediction and never trained.
/// Only once `min_history` forms have been trained; the prediction depends only on stored
/// results, so a resumed search screens the same children (docs/method.md §3, *ours*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Screening {
    /// Fraction of each generation's children skipped, in [0, 1); 0 turns screening off.
    /// Default: 0.
    pub skip_fraction: f64,
    /// Neighbours averaged. Default: 3 (the best of 3, 5 and 10 on the quick search,
    /// BENCHMARKS.md).
    pub k: usize,
    /// Trained forms needed before anything is screened. Default: 20.
    pub min_history: usize,
    /// Also compare forms by how a random deep network at initialisation carries signal and
    /// gradients through them ([`crate::screen::network_features`]). Default: false.
    pub network: bool,
    /// Also compare forms by statistics of the search's own network at initialisation (the
    /// rung-0 recipe's architecture with the form at every site, one batch of its training data:
    /// each site's output spread, each weight's gradient spread, the loss;
    /// [`crate::screen::OwnNetwork`]). Needs the training engine: the `pangaea` CLI provides it.
    /// Default: false.
    pub own_network: bool,
}

impl Default for Screening {
    fn default() -> Self {
        Screening {
            skip_fraction: 0.0,
            k: 3,
            min_history: 20,
            network: false,
            own_network: false,
        }
    }
}

impl Screening {
    /// Whether any child is ever screened.
    pub fn enabled(&self) -> bool {
        self.skip_fraction > 0.0
    }

    fn check(&self) -> Result<(), SearchError> {
        if !(self.skip_fraction.is_finite() && (0.0..1.0).contains(&self.skip_fraction)) {
            return Err(field("screening.skip_fraction", "a number in [0, 1)"));
        }
        if self.k == 0 {
            return Err(field("screening.k", "at least 1"));
        }
        if self.min_history < self.k {
            return Err(field("screening.min_history", "at least screening.k"));
        }
        Ok(())
    }
}

/// `[reevaluation]`: each generation, the `top` best forms of the population (and the
/// baselines) whose standing version has fewer than `runs` runs get the missing runs, each with
/// a new seed (`training.seed + r` for run r). A version's fitness is the mean over its runs; the
/// version with the best ranking score stands for its form; forms are ranked (survivors and
/// parents) by mean − `lcb_z` · `noise_std` / √runs, so one lucky run does not outrank a
/// mean over several (docs/method.md §3, *ours*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reevaluation {
    /// How many of the population's best forms get extra runs each generation; 0 turns
    /// re-evaluation off. Default: 0.
    pub top: usize,
    /// Runs a re-evaluated version reaches, its first run included; ≥ 2. Default: 3.
    pub runs: usize,
    /// z of the lower confidence bound the forms are ranked by; 0 ranks by the mean. Default: 1.
    pub lcb_z: f64,
    /// The standard deviation of one run's fitness under the training recipe, as `pangaea
    /// noise` measures it (BENCHMARKS.md), used by the lower confidence bound. Default: 0.01.
    pub noise_std: f64,
}

impl Default for Reevaluation {
    fn default() -> Self {
        Reevaluation {
            top: 0,
            runs: 3,
            lcb_z: 1.0,
            noise_std: 0.01,
        }
    }
}

impl Reevaluation {
    /// Whether extra runs are made at all.
    pub fn enabled(&self) -> bool {
        self.top > 0
    }

    /// The score forms are ranked by: the mean, less `lcb_z` standard errors of a mean over
    /// `runs` runs (the mean itself when re-evaluation is off).
    pub fn score(&self, mean: Option<f64>, runs: usize) -> Option<f64> {
        let mean = mean?;
        if !self.enabled() || self.lcb_z == 0.0 {
            return Some(mean);
        }
        Some(mean - self.lcb_z * self.noise_std / (runs.max(1) as f64).sqrt())
    }

    fn check(&self) -> Result<(), SearchError> {
        if self.runs < 2 {
            return Err(field("reevaluation.runs", "at least 2"));
        }
        if !(self.lcb_z.is_finite() && self.lcb_z >= 0.0) {
            return Err(field("reevaluation.lcb_z", "a finite number ≥ 0"));
        }
        if !(self.noise_std.is_finite() && self.noise_std >= 0.0) {
            return Err(field("reevaluation.noise_std", "a finite number ≥ 0"));
        }
        Ok(())
    }
}

/// Parent selection (docs/method.md §3: probability increasing in fitness).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Selection {
    /// Softmax over ranks: the form of rank r (0 = best) of n is drawn with probability
    /// ∝ exp(−(r / n) / temperature). At 0.25 the best form is e⁴ ≈ 55 times as likely as the
    /// worst, whatever the population size.
    RankSoftmax {
        /// Temperature, > 0; lower is greedier.
        temperature: f64,
    },
    /// Draw `size` forms uniformly (with replacement); the fittest is the parent.
    Tournament {
        /// Tournament size, ≥ 1.
        size: usize,
    },
}

impl Default for Selection {
    fn default() -> Self {
        Selection::RankSoftmax { temperature: 0.25 }
    }
}

/// The result field a form is ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitnessMetric {
    /// Validation accuracy, higher is better (the paper's choice).
    #[default]
    ValAccuracy,
    /// Validation loss, lower is better: the fitness is its negation (GECCO 2020).
    ValLoss,
}

/// When the search stops; any combination, the first reached wins. Limits are checked between
/// generations (a started generation is finished), so the stopping point is deterministic for
/// generations and evaluations.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StopRule {
    /// Generations of children after the initial population. Default: 10 when no limit is
    /// given at all, else none.
    pub generations: Option<usize>,
    /// Finished evaluations (trained or taken from a cache). Default: none.
    pub evaluations: Option<usize>,
    /// Wall time in seconds, summed over resumed runs. Default: none.
    pub wall_seconds: Option<f64>,
}

/// Where evaluations run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecutorConfig {
    /// `pangaea worker` child processes on this machine.
    Local {
        /// Worker processes at once; one per core is right for CPU training. Default: 1.
        workers: usize,
        /// Seconds one evaluation may take before its worker is killed and it is recorded as
        /// failed with reason "time limit". Default: 3600.
        time_limit_seconds: f64,
    },
    /// FOR TESTS AND DEMOS ONLY: no training; the fitness is a deterministic function of the
    /// expression ([`crate::fake_result`]), computed in-process by `workers` threads.
    Fake {
        /// Threads. Default: 1.
        workers: usize,
    },
    /// Slurm job arrays on a cluster ([`crate::SlurmExecutor`]): `kind = "slurm"` under
    /// `[executor]`, the settings under `[executor.slurm]`.
    Slurm {
        /// The `[executor.slurm]` section (boxed: it is much larger than the other variants).
        #[serde(default)]
        slurm: Box<SlurmConfig>,
    },
}

/// `[executor.slurm]`: how a search's evaluations are submitted to a Slurm cluster. Each
/// generation's evaluations go out as one `sbatch --array` job; every task runs `pangaea worker`
/// on one request file of the shared run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmConfig {
    /// `--partition`. Default: none (the cluster's default partition).
    pub partition: Option<String>,
    /// `--account`. Default: none (the user's default account).
    pub account: Option<String>,
    /// `--qos`. Default: none.
    pub qos: Option<String>,
    /// Seconds one evaluation may run, `--time` (Slurm counts whole minutes: rounded up, at
    /// least 1). A task over it ends TIMEOUT and is retried like any failure. Default: 3600.
    pub time_limit_seconds: f64,
    /// `--gres`, e.g. `gpu:1` (one GPU per evaluation). Default: none.
    pub gres: Option<String>,
    /// `--cpus-per-task`. Default: 1.
    pub cpus_per_task: usize,
    /// `--mem`, e.g. `16G`. Default: none (the partition's default).
    pub mem: Option<String>,
    /// More `sbatch` arguments, each one word, e.g. `["--constraint=a100", "--exclusive"]`.
    /// Default: none.
    pub extra_args: Vec<String>,
    /// Most tasks of a batch running at once (the array throttle `%N`); also the most
    /// evaluations in flight. Default: 16.
    pub max_jobs: usize,
    /// Seconds between two looks at `squeue`; a busy cluster's controller thanks you for a
    /// long one. Default: 10.
    pub poll_seconds: f64,
    /// The run directory (requests, results, batch scripts, logs) that both this machine and
    /// the compute nodes see at the same path. Default: the store's path with the extension
    /// `slurm` (`RUN.db` → `RUN.slurm`).
    pub run_dir: Option<std::path::PathBuf>,
    /// Times a failed task (non-zero exit, NODE_FAIL, TIMEOUT, OUT_OF_MEMORY, PREEMPTED, a job
    /// that vanished, a missing or unreadable result) is submitted again before its evaluation
    /// is recorded as failed. Default: 2.
    pub max_retries: u32,
    /// The `pangaea` binary as the compute nodes see it. Default: this program's own path.
    pub program: Option<std::path::PathBuf>,
    /// Shell lines the batch script runs before the worker (`module load cuda`, `source
    /// venv/bin/activate`). Default: none.
    pub setup: Vec<String>,
}

impl Default for SlurmConfig {
    fn default() -> Self {
        SlurmConfig {
            partition: None,
            account: None,
            qos: None,
            time_limit_seconds: 3600.0,
            gres: None,
            cpus_per_task: 1,
            mem: None,
            extra_args: Vec::new(),
            max_jobs: 16,
            poll_seconds: 10.0,
            run_dir: None,
            max_retries: 2,
            program: None,
            setup: Vec::new(),
        }
    }
}

impl SlurmConfig {
    /// `--time` in whole minutes: the time limit rounded up, at least 1.
    pub fn time_minutes(&self) -> u64 {
        ((self.time_limit_seconds / 60.0).ceil() as u64).max(1)
    }

    /// Checks the values serde cannot; errors name the field (`executor.slurm.mem`).
    pub fn check(&self) -> Result<(), SearchError> {
        let name = |f: &str| format!("executor.slurm.{f}");
        for (f, value) in [
            ("partition", &self.partition),
            ("account", &self.account),
            ("qos", &self.qos),
            ("gres", &self.gres),
        ] {
            if let Some(v) = value {
                if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(field(&name(f), "a non-empty word without spaces"));
                }
            }
        }
        if let Some(mem) = &self.mem {
            let digits = mem.trim_end_matches(['K', 'M', 'G', 'T']);
            if digits.is_empty()
                || !digits.chars().all(|c| c.is_ascii_digit())
                || mem.len() - digits.len() > 1
            {
                return Err(field(
                    &name("mem"),
                    "a memory size like `16G` (digits, then K, M, G or T)",
                ));
            }
        }
        if !(self.time_limit_seconds.is_finite() && self.time_limit_seconds > 0.0) {
            return Err(field(&name("time_limit_seconds"), "a finite number > 0"));
        }
        if self.cpus_per_task == 0 {
            return Err(field(&name("cpus_per_task"), "at least 1"));
        }
        if self.max_jobs == 0 {
            return Err(field(&name("max_jobs"), "at least 1"));
        }
        if !(self.poll_seconds.is_finite() && self.poll_seconds > 0.0) {
            return Err(field(&name("poll_seconds"), "a finite number > 0"));
        }
        for (i, arg) in self.extra_args.iter().enumerate() {
            if !arg.starts_with('-') || arg.contains(['\n', '\r']) {
                return Err(field(
                    &format!("executor.slurm.extra_args[{i}]"),
                    "an sbatch option starting with `-`, on one line",
                ));
            }
        }
        for (i, line) in self.setup.iter().enumerate() {
            if line.contains(['\n', '\r']) {
                return Err(field(
                    &format!("executor.slurm.setup[{i}]"),
                    "one shell line (no line breaks)",
                ));
            }
        }
        Ok(())
    }
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig::Local {
            workers: 1,
            time_limit_seconds: 3600.0,
        }
    }
}

impl ExecutorConfig {
    /// The number of evaluations that run at once.
    pub fn workers(&self) -> usize {
        match self {
            ExecutorConfig::Local { workers, .. } | ExecutorConfig::Fake { workers } => *workers,
            ExecutorConfig::Slurm { slurm } => slurm.max_jobs,
        }
    }
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            seed: 0,
            training: EvalRequest::recipe(Arch::Tiny),
            population_size: 64,
            children_per_generation: 16,
            versions_per_child: 3,
            max_params: 3,
            max_expr_size: 16,
            operators: OperatorSet::default(),
            mutation_weights: MutationWeights::default(),
            selection: Selection::default(),
            fitness: FitnessMetric::default(),
            stop: StopRule::default(),
            executor: ExecutorConfig::default(),
            baselines: vec!["relu(x)".to_owned()],
            reevaluation: Reevaluation::default(),
            screening: Screening::default(),
            fidelity: Fidelity::default(),
        }
    }
}

/// The standard deviation of one quick-preset evaluation's validation accuracy: 0.91 points,
/// pooled over ReLU and Swish, 10 runs each (`pangaea noise --preset quick`, BENCHMARKS.md).
const QUICK_NOISE_STD: f64 = 0.009;

/// The standard deviation of one evaluation's validation accuracy under the standard preset's
/// full recipe (its top rung): measured by `pangaea noise` (BENCHMARKS.md).
const STANDARD_NOISE_STD: f64 = 0.003;

/// Names of the presets, for help texts.
pub const PRESETS: [&str; 3] = ["quick", "standard", "paper"];

impl SearchConfig {
    /// A preset by name (`quick`, `standard`, `paper`).
    pub fn preset(name: &str) -> Option<SearchConfig> {
        match name {
            "quick" => Some(Self::quick()),
            "standard" => Some(Self::standard()),
            "paper" => Some(Self::paper()),
            _ => None,
        }
    }

    /// Fashion-MNIST, the tiny net, one epoch on 3,000 training images, 1,000 validation
    /// images: about 3.5 s per evaluation per worker. Population 16, 8 children per generation,
    /// 3 versions each, 5 generations, plus the ReLU baseline; the 3 best forms and ReLU are
    /// re-evaluated to 3 runs each (σ = 0.009, measured): 193 evaluations in 11 minutes with 2
    /// workers on the 2-core CI box (BENCHMARKS.md); a 15-minute wall limit caps it.
    pub fn quick() -> SearchConfig {
        let mut training = EvalRequest::recipe(Arch::Tiny);
        training.epochs = 1;
        training.dataset.name = DatasetName::FashionMnist;
        training.dataset.limit_train = Some(3_000);
        training.dataset.limit_val = Some(1_000);
        training.dataset.augment = false;
        SearchConfig {
            training,
            population_size: 16,
            children_per_generation: 8,
            versions_per_child: 3,
            stop: StopRule {
                generations: Some(5),
                evaluations: None,
                wall_seconds: Some(15.0 * 60.0),
            },
            executor: ExecutorConfig::Local {
                workers: 2,
                time_limit_seconds: 120.0,
            },
            reevaluation: Reevaluation {
                top: 3,
                runs: 3,
                lcb_z: 1.0,
                noise_std: QUICK_NOISE_STD,
            },
            ..SearchConfig::default()
        }
    }

    /// The preset for a claim on a laptop: Fashion-MNIST and the tiny net, with the full recipe
    /// (the top rung, and what `pangaea final` trains on the whole training set) two epochs on
    /// 20,000 training images, validated on all 6,000 validation images. Every version goes
    /// through successive halving: rung 0 is one epoch on 3,000 images (1,000 validation
    /// images), rung 1 one epoch on 10,000 (2,000), and the best third of each rung is promoted.
    /// Population 24, 12 children per generation, 3 versions each, 8 generations; ReLU and
    /// Swish as baselines; the 3 best forms and the baselines re-evaluated to 3 runs at the full
    /// recipe, ranked by mean − σ/√runs with σ measured for it. Under 2 hours with 2 workers on
    /// the 2-core CI box (BENCHMARKS.md); a 110-minute wall limit caps it.
    pub fn standard() -> SearchConfig {
        let mut training = EvalRequest::recipe(Arch::Tiny);
        training.epochs = 2;
        training.dataset.name = DatasetName::FashionMnist;
        training.dataset.limit_train = Some(20_000);
        training.dataset.limit_val = None;
        training.dataset.augment = false;
        let rung = |value: serde_json::Value| match value {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("a rung is a table"),
        };
        SearchConfig {
            training,
            population_size: 24,
            children_per_generation: 12,
            versions_per_child: 3,
            stop: StopRule {
                generations: Some(8),
                evaluations: None,
                wall_seconds: Some(110.0 * 60.0),
            },
            executor: ExecutorConfig::Local {
                workers: 2,
                time_limit_seconds: 600.0,
            },
            baselines: vec!["relu(x)".to_owned(), "swish(x)".to_owned()],
            reevaluation: Reevaluation {
                top: 3,
                runs: 3,
                lcb_z: 1.0,
                noise_std: STANDARD_NOISE_STD,
            },
            fidelity: Fidelity {
                rungs: vec![
                    rung(serde_json::json!({
                        "epochs": 1,
                        "dataset": { "limit_train": 3_000, "limit_val": 1_000 }
                    })),
                    rung(serde_json::json!({
                        "epochs": 1,
                        "dataset": { "limit_train": 10_000, "limit_val": 2_000 }
                    })),
                ],
                promote_fraction: 1.0 / 3.0,
            },
            ..SearchConfig::default()
        }
    }

    /// CIFAR-100 and WRN-10-4 with docs/method.md §5's recipe (SGD, Nesterov, lr 0.1, cosine,
    /// batch 128, augmentation), 30 epochs per fitness evaluation, population 64, 16 children
    /// per generation, 3 versions each, 50 generations: paper scale, for a GPU.
    pub fn paper() -> SearchConfig {
        let mut training = EvalRequest::recipe(Arch::Wrn10_4);
        training.epochs = 30;
        training.dataset.name = DatasetName::Cifar100;
        SearchConfig {
            training,
            stop: StopRule {
                generations: Some(50),
                evaluations: None,
                wall_seconds: None,
            },
            executor: ExecutorConfig::Local {
                workers: 1,
                time_limit_seconds: 6.0 * 3600.0,
            },
            ..SearchConfig::default()
        }
    }

    /// Parses TOML text; errors name the field. The result is [`check`](Self::check)ed.
    pub fn from_toml(text: &str) -> Result<SearchConfig, SearchError> {
        let de = toml::Deserializer::new(text);
        let config: SearchConfig =
            serde_path_to_error::deserialize(de).map_err(|e| SearchError::Config {
                file: None,
                message: format!("at `{}`: {}", e.path(), e.inner().message().trim()),
            })?;
        config.check()?;
        Ok(config)
    }

    /// Reads a TOML file; errors name the file and the field.
    pub fn read(path: &Path) -> Result<SearchConfig, SearchError> {
        let text = std::fs::read_to_string(path).map_err(|source| SearchError::Io {
            path: path.to_owned(),
            doing: "read the configuration",
            source,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            SearchError::Config { message, .. } => SearchError::Config {
                file: Some(path.to_owned()),
                message,
            },
            other => other,
        })
    }

    /// The configuration as JSON (how the store keeps it).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a search configuration serializes")
    }

    /// Parses the JSON written by [`to_json`](Self::to_json).
    pub fn from_json(text: &str) -> Result<SearchConfig, SearchError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| SearchError::Config {
            file: None,
            message: format!("at `{}`: {}", e.path(), e.inner()),
        })
    }

    /// The stopping rule with its default filled in: 10 generations when no limit is given.
    pub fn effective_stop(&self) -> StopRule {
        let s = &self.stop;
        if s.generations.is_none() && s.evaluations.is_none() && s.wall_seconds.is_none() {
            StopRule {
                generations: Some(10),
                ..StopRule::default()
            }
        } else {
            s.clone()
        }
    }

    /// The operator set, resolved.
    pub fn resolved_operators(&self) -> Result<Operators, SearchError> {
        let ops = self.operators.resolve().map_err(|e| SearchError::Field {
            field: "operators".to_owned(),
            expected: format!("known operator names ({e})"),
        })?;
        if ops.unary.is_empty() {
            return Err(field("operators.unary", "at least one unary operator"));
        }
        Ok(ops)
    }

    /// Checks the values serde cannot: sizes ≥ 1, ranges, operator names, the training
    /// template.
    pub fn check(&self) -> Result<(), SearchError> {
        if self.population_size == 0 {
            return Err(field("population_size", "at least 1"));
        }
        if self.children_per_generation == 0 {
            return Err(field("children_per_generation", "at least 1"));
        }
        if self.versions_per_child == 0 {
            return Err(field("versions_per_child", "at least 1"));
        }
        if !(1..=pangaea_expr::MAX_PARAMS).contains(&self.max_params) {
            return Err(field("max_params", "1, 2 or 3"));
        }
        if self.max_expr_size < 5 {
            return Err(field(
                "max_expr_size",
                "at least 5 (the size of the initial shapes)",
            ));
        }
        self.resolved_operators()?;
        let w = &self.mutation_weights;
        for (name, v) in [
            ("insert", w.insert),
            ("remove", w.remove),
            ("change", w.change),
            ("regenerate", w.regenerate),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(field(
                    &format!("mutation_weights.{name}"),
                    "a finite number ≥ 0",
                ));
            }
        }
        if w.insert + w.remove + w.change + w.regenerate <= 0.0 {
            return Err(field("mutation_weights", "at least one positive weight"));
        }
        match self.selection {
            Selection::RankSoftmax { temperature }
                if !(temperature.is_finite() && temperature > 0.0) =>
            {
                return Err(field("selection.temperature", "a finite number > 0"));
            }
            Selection::Tournament { size: 0 } => {
                return Err(field("selection.size", "at least 1"));
            }
            _ => {}
        }
        if let Some(s) = self.stop.wall_seconds {
            if !(s.is_finite() && s > 0.0) {
                return Err(field("stop.wall_seconds", "a finite number > 0"));
            }
        }
        if let ExecutorConfig::Slurm { slurm } = &self.executor {
            slurm.check()?;
        }
        for (i, baseline) in self.baselines.iter().enumerate() {
            if let Err(e) = pangaea_expr::Expr::parse(baseline) {
                return Err(field(
                    &format!("baselines[{i}]"),
                    &format!("an expression (`{baseline}`: {e})"),
                ));
            }
        }
        self.reevaluation.check()?;
        self.screening.check()?;
        self.fidelity.check(&self.training)?;
        if self.executor.workers() == 0 {
            return Err(field("executor.workers", "at least 1"));
        }
        if let ExecutorConfig::Local {
            time_limit_seconds, ..
        } = self.executor
        {
            if !(time_limit_seconds.is_finite() && time_limit_seconds > 0.0) {
                return Err(field("executor.time_limit_seconds", "a finite number > 0"));
            }
        }
        self.training.check().map_err(|e| SearchError::Field {
            field: "training".to_owned(),
            expected: format!("a valid evaluation request ({e})"),
        })?;
        Ok(())
    }
}

fn field(name: &str, expected: &str) -> SearchError {
    SearchError::Field {
        field: name.to_owned(),
        expected: expected.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_presets_are_valid() {
        SearchConfig::default().check().unwrap();
        SearchConfig::quick().check().unwrap();
        SearchConfig::paper().check().unwrap();
        assert_eq!(SearchConfig::default().population_size, 64);
        assert_eq!(SearchConfig::default().versions_per_child, 3);
        assert_eq!(
            SearchConfig::quick().training.dataset.name,
            DatasetName::FashionMnist
        );
        assert_eq!(SearchConfig::paper().training.architecture, Arch::Wrn10_4);
        // Every preset by name, and the standard preset's rungs climb to its full recipe.
        for name in PRESETS {
            SearchConfig::preset(name).unwrap().check().unwrap();
        }
        let s = SearchConfig::standard();
        let limits: Vec<Option<usize>> = (0..=s.fidelity.top())
            .map(|r| {
                s.fidelity
                    .request(&s.training, r)
                    .unwrap()
                    .dataset
                    .limit_train
            })
            .collect();
        assert_eq!(limits, [Some(3_000), Some(10_000), Some(20_000)]);
        assert_eq!(s.fidelity.request(&s.training, 2).unwrap(), s.training);
        // The round trip through the store's JSON keeps the rungs.
        assert_eq!(SearchConfig::from_json(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn toml_sets_nested_fields() {
        let config = SearchConfig::from_toml(
            r#"
            seed = 7
            population_size = 8
            fitness = "val_loss"
            [training]
            architecture = "tiny"
            epochs = 2
            [training.dataset]
            name = "synthetic"
            [selection]
            kind = "tournament"
            size = 3
            [stop]
            evaluations = 40
            [executor]
            kind = "fake"
            workers = 3
            "#,
        )
        .unwrap();
        assert_eq!(config.seed, 7);
        assert_eq!(config.training.epochs, 2);
        assert_eq!(config.selection, Selection::Tournament { size: 3 });
        assert_eq!(config.fitness, FitnessMetric::ValLoss);
        assert_eq!(config.executor, ExecutorConfig::Fake { workers: 3 });
        assert_eq!(config.stop.evaluations, Some(40));
        assert_eq!(config.children_per_generation, 16);
        let back = SearchConfig::from_json(&config.to_json()).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn unknown_fields_and_bad_values_are_named() {
        let err = SearchConfig::from_toml("[selection]\nkind = \"rank_softmax\"\ntemprature = 1.0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("temprature"), "{err}");
        let err = SearchConfig::from_toml("[training]\nepochs = \"many\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("training.epochs"), "{err}");
        let err = SearchConfig::from_toml("max_params = 4")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`max_params`"), "{err}");
        let err = SearchConfig::from_toml("[operators]\nunary = [\"tanh\", \"nope\"]\nbinary = []")
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn slurm_section_parses_and_bad_values_are_named() {
        let config = SearchConfig::from_toml(
            "[executor]\nkind = \"slurm\"\n[executor.slurm]\npartition = \"gpu\"\n\
             gres = \"gpu:1\"\nmem = \"16G\"\ntime_limit_seconds = 90\nmax_jobs = 4\n\
             extra_args = [\"--exclusive\"]\n",
        )
        .unwrap();
        let ExecutorConfig::Slurm { slurm } = &config.executor else {
            panic!("{:?}", config.executor)
        };
        assert_eq!(slurm.partition.as_deref(), Some("gpu"));
        assert_eq!(slurm.time_minutes(), 2);
        assert_eq!(slurm.max_retries, 2);
        assert_eq!(config.executor.workers(), 4);
        assert_eq!(SearchConfig::from_json(&config.to_json()).unwrap(), config);
        for (text, named) in [
            ("mem = \"lots\"", "executor.slurm.mem"),
            ("max_jobs = 0", "executor.slurm.max_jobs"),
            ("poll_seconds = 0", "executor.slurm.poll_seconds"),
            ("partition = \"a b\"", "executor.slurm.partition"),
            (
                "extra_args = [\"exclusive\"]",
                "executor.slurm.extra_args[0]",
            ),
            ("time_limt_seconds = 3", "time_limt_seconds"),
        ] {
            let err = SearchConfig::from_toml(&format!(
                "[executor]\nkind = \"slurm\"\n[executor.slurm]\n{text}\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(err.contains(named), "{text}: {err}");
        }
    }

    #[test]
    fn no_stop_limit_means_ten_generations() {
        let c = SearchConfig::default();
        assert_eq!(c.effective_stop().generations, Some(10));
        let mut c = SearchConfig::default();
        c.stop.evaluations = Some(5);
        assert_eq!(c.effective_stop().generations, None);
    }
}
