//! [`SearchError`]: everything that can go wrong in a search, each saying where.

use std::path::PathBuf;

/// An error of the search, its configuration, its store or its executor.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The configuration text does not parse or names an unknown field.
    #[error("invalid search configuration{}: {message}", source_name(.file))]
    Config {
        /// The file it came from, when it came from one.
        file: Option<PathBuf>,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A configuration value is out of range.
    #[error("invalid search configuration: field `{field}` expected {expected}")]
    Field {
        /// The dotted field path.
        field: String,
        /// What was expected.
        expected: String,
    },
    /// The store was written by a newer pangaea; it is left untouched.
    #[error(
        "store `{}` has schema version {found}, newer than the {supported} this pangaea reads; \
         it was not modified (use a newer pangaea)",
        .path.display()
    )]
    NewerSchema {
        /// The store file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The newest this code reads.
        supported: u32,
    },
    /// The store is not a pangaea search store, or lacks something it must hold.
    #[error("store `{}` is not a usable pangaea search store: {message}", .path.display())]
    NotAStore {
        /// The store file.
        path: PathBuf,
        /// What is missing or wrong.
        message: String,
    },
    /// The store file does not exist.
    #[error("no store `{}` (no such file)", .path.display())]
    NoStore {
        /// The path given.
        path: PathBuf,
    },
    /// The store has no candidate of that id (a `RUN.db#ID` that names nothing).
    #[error("store `{}` has no candidate {candidate}", .path.display())]
    NoCandidate {
        /// The store file.
        path: PathBuf,
        /// The id asked for.
        candidate: i64,
    },
    /// A result was stored for an evaluation that is not pending (already finished, or not
    /// in the store): the coordinator's bookkeeping and the store disagree.
    #[error(
        "store `{}`: evaluation {evaluation} is not pending (already finished or unknown); \
         nothing was written",
        .path.display()
    )]
    NotPending {
        /// The store file.
        path: PathBuf,
        /// The evaluation.
        evaluation: i64,
    },
    /// Following parents from a candidate came back to a candidate already seen.
    #[error(
        "store `{}`: the lineage of candidate {candidate} has a cycle (candidate {repeated} \
         is its own ancestor)",
        .path.display()
    )]
    LineageCycle {
        /// The store file.
        path: PathBuf,
        /// The candidate whose lineage was asked for.
        candidate: i64,
        /// The candidate met twice.
        repeated: i64,
    },
    /// A stored expression does not parse (written by another version, or edited by hand).
    #[error("store `{}`: candidate {candidate} has an unparsable expression: {message}", .path.display())]
    BadStoredExpression {
        /// The store file.
        path: PathBuf,
        /// The candidate.
        candidate: i64,
        /// The parse error.
        message: String,
    },
    /// A new search was asked to write into an existing store.
    #[error("store `{}` already exists (use --resume to continue it)", .path.display())]
    StoreExists {
        /// The store file.
        path: PathBuf,
    },
    /// An SQLite error, with the file and the operation.
    #[error("sqlite error in `{}` while {doing}: {source}", .path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What the store was doing.
        doing: String,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// A JSON document in the store does not parse.
    #[error("bad {what} JSON in `{}` (row {row}): {message}", .path.display())]
    StoredJson {
        /// The store file.
        path: PathBuf,
        /// Which document (`request`, `result`, `config`).
        what: &'static str,
        /// The row id.
        row: i64,
        /// The parse error.
        message: String,
    },
    /// A Slurm program (`sbatch`, `squeue`, …) did not do what the Slurm executor asked.
    #[error("slurm: {0}")]
    Slurm(#[from] crate::executor::SlurmCommandError),
    /// The executor could not run an evaluation at all (not a failed evaluation: those are
    /// results).
    #[error("executor error: {0}")]
    Executor(String),
    /// The pre-screen's features of the search's own network could not be computed: no probe
    /// was given to a search that asks for them, or the probe failed on a form.
    #[error("pre-screen: {0}")]
    Screen(String),
    /// A file outside the store (event log, work directory) could not be used.
    #[error("failed to {doing} `{}`: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        doing: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl SearchError {
    /// Whether the error is the caller's input (a bad configuration, a store path that does
    /// not exist or is not a store, a store written by a newer version, a candidate id that
    /// names nothing) rather than the environment (I/O, SQLite, a busy or locked database,
    /// the cluster). The CLI exits with its usage status for the first kind only.
    pub fn is_usage(&self) -> bool {
        match self {
            SearchError::Config { .. }
            | SearchError::Field { .. }
            | SearchError::NewerSchema { .. }
            | SearchError::NotAStore { .. }
            | SearchError::NoStore { .. }
            | SearchError::NoCandidate { .. }
            | SearchError::StoreExists { .. } => true,
            SearchError::NotPending { .. }
            | SearchError::LineageCycle { .. }
            | SearchError::BadStoredExpression { .. }
            | SearchError::Sqlite { .. }
            | SearchError::StoredJson { .. }
            | SearchError::Slurm(_)
            | SearchError::Executor(_)
            | SearchError::Screen(_)
            | SearchError::Io { .. } => false,
        }
    }
}

fn source_name(file: &Option<PathBuf>) -> String {
    match file {
        Some(path) => format!(" in `{}`", path.display()),
        None => String::new(),
    }
}
