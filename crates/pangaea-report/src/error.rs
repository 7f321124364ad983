//! Errors of the report crate.

use std::path::PathBuf;

/// Why a table or report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading the search store failed.
    #[error(transparent)]
    Search(#[from] pangaea_search::SearchError),
    /// A file could not be written.
    #[error("failed to write `{}`", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A stored expression or record does not parse.
    #[error("{what}: {message}")]
    Bad {
        /// What was being read (`candidate 12`, `evaluation 40 result`).
        what: String,
        /// What was wrong.
        message: String,
    },
    /// A plot could not be drawn.
    #[error("failed to draw `{file}`: {message}")]
    Plot {
        /// The SVG file.
        file: String,
        /// plotters' message.
        message: String,
    },
    /// The request is empty or inconsistent (no activations, zero runs, an empty store).
    #[error("{0}")]
    Input(String),
}
