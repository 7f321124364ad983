//! The evolutionary search of pangaea (docs/method.md §3–§5): the coordinator ([`Search`]), its
//! SQLite [`Store`], the [`Executor`]s that run evaluations, and the [`SearchEvent`]s it
//! reports. It sees training only through `EvalRequest → EvalResult` (pangaea-train without
//! its `engine` feature), so it never compiles burn.
//!
//! # Running a search
//!
//! ```no_run
//! use pangaea_search::{Search, SearchConfig, InProcessExecutor, NoEvents, RunOptions, fake_result};
//! let mut search = Search::create("run.db".as_ref(), SearchConfig::quick())?;
//! let mut executor = InProcessExecutor::new(2, fake_result);
//! search.run(&mut executor, &mut NoEvents, &RunOptions::default())?;
//! # Ok::<(), pangaea_search::SearchError>(())
//! ```
//!
//! # Reading a store (reports)
//!
//! [`Store::open_read_only`] opens a store, even while its search runs; then:
//! - [`Store::config`] — the [`SearchConfig`] (its `training` is the evaluation template);
//! - [`Store::evaluations`] — every evaluation in evaluation order ([`EvaluationRecord`]: the
//!   parametric expression, request and result JSON, status, reason, fitness, wall seconds,
//!   source `executor`/`cache`); [`EvaluationRecord::result`] parses the result;
//! - [`Store::best_so_far`] — the best-fitness curve over finished evaluations ([`BestPoint`]);
//! - [`Store::top_forms`]`(k)` — the k best forms with their best version ([`TopForm`]);
//! - [`Store::candidates`], [`Store::candidate`], [`Store::candidate_evaluations`] — every form
//!   ([`CandidateRecord`]: generation, form, canonical text, fingerprint, parent, mutation and
//!   detail, state `pending`/`evaluated`/`rejected`/`duplicate`, reason, fitness);
//! - [`Store::lineage`]`(id)` — the candidate and its ancestors up to generation 0, each
//!   naming the mutation that produced it;
//! - [`Store::population`]`(g)` / [`Store::final_population`] — the population after a
//!   generation, best first ([`PopulationMember`]).
//!
//! Fitness is higher-is-better everywhere: validation accuracy, or the negated validation loss
//! (`fitness = "val_loss"`); `None` is the worst (diverged, failed, pending).
#![warn(missing_docs)]

mod cache;
mod clock;
mod config;
mod error;
mod event;
pub mod executor;
mod fitness;
pub mod rungs;
pub mod screen;
mod search;
mod selection;
mod store;

pub use cache::{cache_key, Cache};
pub use config::{
    ExecutorConfig, Fidelity, FitnessMetric, Reevaluation, Screening, SearchConfig, Selection,
    SlurmConfig, StopRule, PRESETS,
};
pub use error::SearchError;
pub use event::{EventSink, Fanout, JsonLinesLog, NoEvents, SearchEvent, StopReason};
pub use executor::{
    BatchEnd, BatchObserver, CancelToken, CollectOutcomes, Executor, InProcessExecutor, Job,
    LocalExecutor, Outcome, SlurmCommandError, SlurmExecutor, SlurmState,
};
pub use fitness::{compare_best_first, compare_ranked, fake_result, fitness};
pub use search::{generation_rng, RunOptions, Search};
pub use selection::select_parent;
pub use store::{
    BestPoint, CandidateRecord, CandidateState, DuplicateOf, EvaluationRecord, FinishedEvaluation,
    FitnessUpdate, NewCandidate, NewRun, Origin, PopulationMember, ResultSource, SlurmJobRecord,
    SlurmJobState, SlurmLedger, SlurmTaskEnd, Store, Survivor, TopForm, SCHEMA_VERSION,
};
