//! Expected failures and their exit codes, in one place.
//!
//! Commands return `anyhow::Result<()>`. [`code`] walks the error chain and decides by the
//! first error it knows: a [`UsageError`] (an expression that does not parse, a bad flag
//! value), or a library error its crate classifies as the caller's input
//! ([`pangaea_search::SearchError::is_usage`], [`pangaea_data::DataError::is_usage`]), exits
//! with [`USAGE`]; anything else — an unreadable file, a busy or locked database, a failed
//! training run, the cluster — exits with [`FAILURE`].

use std::fmt;

use pangaea_data::DataError;
use pangaea_search::SearchError;

/// The command succeeded.
pub const SUCCESS: i32 = 0;
/// The command failed for a reason outside the user's input (I/O, training failure).
pub const FAILURE: i32 = 1;
/// The user's input was invalid: an expression that does not parse, a bad flag value.
pub const USAGE: i32 = 2;
/// The command was interrupted (Ctrl-C twice), as shells report a SIGINT.
pub const INTERRUPTED: i32 = 130;

/// Marks an error as the user's input being invalid, so the process exits with [`USAGE`].
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Wraps any displayable input error as a [`UsageError`].
pub fn usage(err: impl fmt::Display) -> anyhow::Error {
    anyhow::Error::new(UsageError(err.to_string()))
}

/// The exit code of an error: the first error of the chain that says whose fault it is.
pub fn code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return USAGE;
        }
        if let Some(e) = cause.downcast_ref::<SearchError>() {
            return if e.is_usage() { USAGE } else { FAILURE };
        }
        if let Some(e) = cause.downcast_ref::<DataError>() {
            return if e.is_usage() { USAGE } else { FAILURE };
        }
    }
    FAILURE
}

/// Prints the error chain (if any) on stderr and returns the exit code.
pub fn report(result: anyhow::Result<()>) -> i32 {
    match result {
        Ok(()) => SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            code(&err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn sqlite(code: rusqlite::ffi::ErrorCode, extended: i32) -> SearchError {
        SearchError::Sqlite {
            path: PathBuf::from("run.db"),
            doing: "storing the result of evaluation 3".to_owned(),
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error {
                    code,
                    extended_code: extended,
                },
                Some("database is locked".to_owned()),
            ),
        }
    }

    /// A busy or locked store is the environment, not the user's input: status 1, not 2.
    #[test]
    fn a_busy_or_locked_store_is_a_failure_not_a_usage_error() {
        for e in [
            sqlite(rusqlite::ffi::ErrorCode::DatabaseBusy, 5),
            sqlite(rusqlite::ffi::ErrorCode::DatabaseLocked, 6),
        ] {
            let err = anyhow::Error::new(e).context("failed to resume the search");
            assert_eq!(code(&err), FAILURE, "{err:#}");
        }
    }

    #[test]
    fn input_errors_exit_with_the_usage_status() {
        let missing = SearchError::NoStore {
            path: PathBuf::from("nope.db"),
        };
        assert_eq!(code(&anyhow::Error::new(missing)), USAGE);
        let exists = SearchError::StoreExists {
            path: PathBuf::from("run.db"),
        };
        assert_eq!(code(&anyhow::Error::new(exists).context("starting")), USAGE);
        assert_eq!(code(&usage("bad flag")), USAGE);
        assert_eq!(code(&anyhow::anyhow!("disk full")), FAILURE);
    }
}
