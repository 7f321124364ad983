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
    /// The executor could not run an evaluation at all (not a failed evaluation: those are
    /// results).
    #[error("executor error: {0}")]
    Executor(String),
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

fn source_name(file: &Option<PathBuf>) -> String {
    match file {
        Some(path) => format!(" in `{}`", path.display()),
        None => String::new(),
    }
}
