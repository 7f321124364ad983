//! The records the store reads and writes: candidates with their [`CandidateState`],
//! evaluations, plans, the population, and the shapes of the report's queries.

use pangaea_expr::Expr;
use pangaea_wire::JsonFile;
use pangaea_wire::{EvalRequest, EvalResult};

use super::sql::stored_as_name;

/// What became of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CandidateState {
    /// Planned; some of its evaluations have not finished.
    Pending,
    /// All its versions finished; `fitness` is the best of them (`None` when none finished ok).
    Evaluated,
    /// Refused before training (docs/method.md §4); `reason` says why.
    Rejected,
    /// Equivalent to an earlier candidate (`duplicate_of`), whose fitness it inherits.
    Duplicate,
    /// A reference activation (`SearchConfig::baselines`), trained once with the same recipe
    /// as the candidates; never in the population, never a parent, never a duplicate's original.
    Baseline,
    /// Skipped by the pre-screen (`[screening]`): its predicted fitness (`predicted`) was among
    /// the lowest of its generation's children; never trained.
    Screened,
}

impl CandidateState {
    /// Every state.
    pub const ALL: [CandidateState; 6] = [
        CandidateState::Pending,
        CandidateState::Evaluated,
        CandidateState::Rejected,
        CandidateState::Duplicate,
        CandidateState::Baseline,
        CandidateState::Screened,
    ];

    /// The stored name (also the JSON name).
    pub fn name(self) -> &'static str {
        match self {
            CandidateState::Pending => "pending",
            CandidateState::Evaluated => "evaluated",
            CandidateState::Rejected => "rejected",
            CandidateState::Duplicate => "duplicate",
            CandidateState::Baseline => "baseline",
            CandidateState::Screened => "screened",
        }
    }
}

stored_as_name!(CandidateState, "candidate state");

/// Where a stored result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultSource {
    /// Trained by the search's executor.
    Executor,
    /// Taken from a results cache shared by several searches (`--cache`).
    Cache,
}

impl ResultSource {
    /// Every source.
    pub const ALL: [ResultSource; 2] = [ResultSource::Executor, ResultSource::Cache];

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            ResultSource::Executor => "executor",
            ResultSource::Cache => "cache",
        }
    }
}

stored_as_name!(ResultSource, "result source");

/// One candidate (a form) as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CandidateRecord {
    /// Candidate id, increasing in candidate order (1-based).
    pub id: i64,
    /// Generation it was born in (0 = initial population).
    pub generation: usize,
    /// The form's text (no parameters).
    pub expr: String,
    /// Its canonical text.
    pub canonical: String,
    /// Its behavioural fingerprint, 16 hex digits.
    pub fingerprint: String,
    /// The parent's id (none in generation 0).
    pub parent: Option<i64>,
    /// The mutation that made it from the parent (`insert`, …).
    pub mutation: Option<String>,
    /// What the mutation did (`insert tanh above node 2`).
    pub mutation_detail: Option<String>,
    /// What became of it.
    pub state: CandidateState,
    /// Why it was rejected (`code: message`), or which candidate it duplicates, in words.
    pub reason: Option<String>,
    /// The candidate it is a duplicate of.
    pub duplicate_of: Option<i64>,
    /// Its fitness (higher is better): the mean over the runs of its standing version; `None`
    /// while pending, when rejected, or when no version finished ok.
    pub fitness: Option<f64>,
    /// The first run of the version that stands for the form (the best version; for a
    /// duplicate, the original's).
    pub best_evaluation: Option<i64>,
    /// How many runs `fitness` is the mean of (0 while it has none; 1 without re-evaluation).
    pub runs: usize,
    /// The standard error of that mean (sample std / √runs), with 2 runs or more.
    pub fitness_se: Option<f64>,
    /// The pre-screen's predicted fitness, when screening was on and had enough history.
    pub predicted: Option<f64>,
    /// The rung of its standing version (`[fidelity]`): its fitness is a fitness at this rung,
    /// comparable only with other fitness at the same rung. 0 without rungs.
    pub rung: usize,
}

/// One evaluation (a parametric version of a candidate) as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvaluationRecord {
    /// Evaluation id, increasing in candidate order (1-based).
    pub id: i64,
    /// The candidate it is a version of.
    pub candidate: i64,
    /// Which version (0-based).
    pub version: usize,
    /// The parametric expression trained.
    pub expr: String,
    /// The full request, JSON.
    pub request_json: String,
    /// `ok`, `diverged`, `rejected`, `failed`; `None` while pending.
    pub status: Option<String>,
    /// Why, when not ok.
    pub reason: Option<String>,
    /// The full result, JSON; `None` while pending.
    pub result_json: Option<String>,
    /// The fitness of the result (`None`: pending, or the worst).
    pub fitness: Option<f64>,
    /// Seconds the evaluation took (as the executor measured it).
    pub wall_seconds: Option<f64>,
    /// Attempts the executor made (a crashed worker is retried once).
    pub attempts: Option<u32>,
    /// Where the result came from.
    pub source: Option<ResultSource>,
    /// Unix time it finished.
    pub finished_at: Option<f64>,
    /// The generation that planned it: the candidate's own for its first runs, a later one
    /// for an extra run (re-evaluation).
    pub generation: usize,
    /// Which run of its version at its rung: 0 = the first, r = an extra run with seed
    /// `training.seed + r`.
    pub replicate: usize,
    /// The rung (`[fidelity]`) whose recipe it was trained with: 0 = the cheapest; the full
    /// recipe is the top rung (0 when the search has no rungs).
    pub rung: usize,
}

impl EvaluationRecord {
    /// Whether it has a result.
    pub fn is_finished(&self) -> bool {
        self.result_json.is_some()
    }

    /// The request, parsed.
    pub fn request(&self) -> Result<EvalRequest, String> {
        EvalRequest::from_json(&self.request_json).map_err(|e| e.to_string())
    }

    /// The result, parsed (`None` while pending).
    pub fn result(&self) -> Result<Option<EvalResult>, String> {
        self.result_json
            .as_deref()
            .map(|t| EvalResult::from_json(t).map_err(|e| e.to_string()))
            .transpose()
    }
}

/// A candidate planned for a generation, before it has an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCandidate {
    /// The form (no parameters); the store keeps its text, canonical text and fingerprint.
    pub form: Expr,
    /// Where it came from: none for the initial population and the baselines.
    pub origin: Option<Origin>,
    /// `Pending` (with versions), `Rejected`, `Duplicate`, or `Baseline` (one version, as written).
    pub state: CandidateState,
    /// Rejection reason or duplicate note.
    pub reason: Option<String>,
    /// The original, for a duplicate: an id, or the index of an earlier candidate of this plan.
    pub duplicate_of: Option<DuplicateOf>,
    /// The parametric versions: (expression text, request JSON).
    pub versions: Vec<(String, String)>,
    /// The pre-screen's predicted fitness.
    pub predicted: Option<f64>,
    /// The rung its versions are first trained at (rung 0 for a child, the top rung for a
    /// baseline).
    pub rung: usize,
}

/// The parent a child was mutated from, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// The parent's candidate id.
    pub parent: i64,
    /// The mutation's name (`insert`, …).
    pub mutation: String,
    /// What it did (`insert tanh above node 2`).
    pub detail: String,
}

/// Another run of a stored candidate's version: a promotion to a higher rung, or an extra run
/// (re-evaluation), planned by the candidate's generation or a later one.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// The candidate.
    pub candidate: i64,
    /// Its version (0-based).
    pub version: usize,
    /// The parametric expression.
    pub expr: String,
    /// Which run of the version at `rung` (0 for a promotion, ≥ 1 for an extra run).
    pub replicate: usize,
    /// The rung it is trained at.
    pub rung: usize,
    /// The request JSON (the version's, with the run's seed).
    pub request: String,
}

/// The original of a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateOf {
    /// A candidate already in the store.
    Stored(i64),
    /// An earlier candidate of the same plan, by index.
    InPlan(usize),
}

/// The fitness a generation's end gives one of its candidates (for a duplicate: its
/// original's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitnessUpdate {
    /// The candidate.
    pub candidate: i64,
    /// Its fitness (`None`: the worst): the mean over the standing version's runs.
    pub fitness: Option<f64>,
    /// The first run of the standing version.
    pub best_evaluation: Option<i64>,
    /// How many runs the mean is over.
    pub runs: usize,
    /// Its standard error, with 2 runs or more.
    pub fitness_se: Option<f64>,
    /// The rung of the standing version.
    pub rung: usize,
}

/// A member of the population a generation's end keeps, in rank order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Survivor {
    /// The candidate.
    pub candidate: i64,
    /// Its fitness.
    pub fitness: Option<f64>,
}

/// A finished evaluation, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedEvaluation {
    /// Evaluation id.
    pub id: i64,
    /// The result.
    pub result: EvalResult,
    /// Its fitness.
    pub fitness: Option<f64>,
    /// Seconds it took.
    pub wall_seconds: f64,
    /// Attempts made.
    pub attempts: u32,
    /// Where the result came from.
    pub source: ResultSource,
}

/// One point of the best-so-far curve.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BestPoint {
    /// The evaluation (in evaluation order).
    pub evaluation: i64,
    /// Its fitness.
    pub fitness: Option<f64>,
    /// The best fitness among it and every earlier finished evaluation.
    pub best: Option<f64>,
    /// The evaluation holding `best`.
    pub best_evaluation: Option<i64>,
    /// The rung the evaluation was trained at (the top rung is the full recipe).
    pub rung: usize,
}

/// A form of the top-K list with the version that stands for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TopForm {
    /// The candidate.
    pub candidate: CandidateRecord,
    /// Its best parametric version, with its request and result JSON.
    pub best: EvaluationRecord,
}

/// A member of a stored population.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PopulationMember {
    /// 0 = best.
    pub rank: usize,
    /// The candidate.
    pub candidate: i64,
    /// Its fitness.
    pub fitness: Option<f64>,
}
