//! [`Store`]: the SQLite file that is the source of truth of one search (ARCHITECTURE.md,
//! "pangaea-search").
//!
//! Tables (schema version [`SCHEMA_VERSION`], kept in SQLite's `user_version`):
//! - `meta(key, value)`: `config` (the [`SearchConfig`](crate::SearchConfig) as JSON), `created_at`,
//!   `elapsed_seconds` (wall time summed over runs), `pangaea_version`.
//! - `candidates`: every form the search produced, in candidate order: generation, expression
//!   text, canonical text, fingerprint, parent, mutation and its detail, state (`pending`,
//!   `evaluated`, `rejected`, `duplicate`, `baseline`, `screened`), reason, `duplicate_of`,
//!   fitness, best evaluation, runs and standard error, the pre-screen's prediction.
//! - `evaluations`: every parametric version of a new form: its expression, the full request
//!   JSON, and once finished the status, reason, result JSON, fitness, wall seconds, attempts,
//!   source (`executor` or `cache`) and finish time.
//! - `populations(generation, rank, candidate_id, fitness)`: the population after each
//!   generation (generation 0 = the initial population).
//! - `slurm_jobs` (schema 2): every Slurm array task the Slurm executor submitted, one row per
//!   attempt of an evaluation, with its job id (see [`SlurmJobRecord`]). A store of schema 1 is
//!   migrated when opened for writing.
//!
//! Only the coordinator writes, and every write is one transaction: a generation's plan (its
//! candidates and their evaluations), one finished evaluation, or a generation's end (fitness
//! of its candidates and the new population). The RNG state needs no storing: the RNG of
//! generation g is derived from (seed, g), so a generation's plan is a pure function of the
//! configuration and the previous population, both in the store.
//!
//! The parts: `schema` (the SQL and its migrations), `open` (create, open, check the
//! version), `write` (the three kinds of transaction), `read` (the queries), `records` (the
//! row types), `slurm_jobs` (the Slurm executor's ledger), `sql` (errors that name the file).

mod open;
mod read;
mod records;
mod schema;
mod slurm_jobs;
mod sql;
mod write;

pub use open::Store;
pub use records::{
    BestPoint, CandidateRecord, CandidateState, DuplicateOf, EvaluationRecord, FinishedEvaluation,
    FitnessUpdate, NewCandidate, NewRun, Origin, PopulationMember, ResultSource, Survivor, TopForm,
};
pub use schema::SCHEMA_VERSION;
pub use slurm_jobs::{SlurmJobRecord, SlurmJobState, SlurmLedger, SlurmTaskEnd};
pub(crate) use sql::sql_err;
