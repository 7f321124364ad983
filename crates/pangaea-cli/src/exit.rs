//! Expected failures and their exit codes, in one place.
//!
//! Commands return `anyhow::Result<()>`. An error that carries a [`UsageError`] anywhere in its
//! chain (a parse error in an expression, a bad flag value) exits with [`USAGE`]; anything else
//! (an unreadable file, a failed training run) exits with [`FAILURE`].

use std::fmt;

/// The command succeeded.
pub const SUCCESS: i32 = 0;
/// The command failed for a reason outside the user's input (I/O, training failure).
pub const FAILURE: i32 = 1;
/// The user's input was invalid: an expression that does not parse, a bad flag value.
pub const USAGE: i32 = 2;

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

/// Prints the error chain (if any) on stderr and returns the exit code.
pub fn report(result: anyhow::Result<()>) -> i32 {
    match result {
        Ok(()) => SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if err.chain().any(|e| e.is::<UsageError>()) {
                USAGE
            } else {
                FAILURE
            }
        }
    }
}
