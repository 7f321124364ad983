//! The crate's error type: every failure names the file, the position and what was expected.

use std::path::PathBuf;

use pangaea_wire::DatasetName;

/// Everything that can go wrong while reading, locating, fetching or batching a dataset.
///
/// Messages are lowercase fragments that say where: the file path, the byte offset or record
/// index, and what was expected. For gzipped idx files, byte offsets count into the decompressed
/// stream. Bad input never panics; it ends up here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file could not be opened or read (a missing file lands here, with its path).
    #[error("failed to read `{}`", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A gzipped file could not be decompressed.
    #[error("failed to decompress `{}`", .path.display())]
    Decompress {
        /// The file.
        path: PathBuf,
        /// The underlying decoder error.
        #[source]
        source: std::io::Error,
    },
    /// A file or directory could not be written, renamed or synced.
    #[error("failed to write `{}`", .path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file ends before a header or record is complete.
    #[error(
        "truncated file `{}`: {what} at byte {offset} needs {needed} bytes, only {available} remain",
        .path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read ("idx header", "record 9999", …).
        what: String,
        /// Byte offset where the incomplete item starts.
        offset: u64,
        /// Bytes the item needs.
        needed: u64,
        /// Bytes left in the file from `offset`.
        available: u64,
    },
    /// An idx file does not start with the expected magic number.
    #[error(
        "bad magic number in `{}` at byte 0: expected {expected:#010x}, found {found:#010x}",
        .path.display()
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number expected (0x00000803 for images, 0x00000801 for labels).
        expected: u32,
        /// The first four bytes of the file, big-endian.
        found: u32,
    },
    /// A file's length does not fit the record layout it was read with.
    #[error(
        "wrong record size in `{}`: {len} bytes is not a whole number of {record_size}-byte records ({hint})",
        .path.display()
    )]
    RecordSize {
        /// The file.
        path: PathBuf,
        /// The file's length in bytes.
        len: u64,
        /// The record size expected.
        record_size: usize,
        /// What the length suggests instead.
        hint: String,
    },
    /// An idx file holds more bytes than its header announces.
    #[error(
        "trailing data in `{}`: {extra} bytes after the last element, which ends at byte {offset}",
        .path.display()
    )]
    TrailingData {
        /// The file.
        path: PathBuf,
        /// Where the announced data ends.
        offset: u64,
        /// How many bytes follow.
        extra: u64,
    },
    /// A label is not below the number of classes.
    #[error(
        "label out of range in `{}`: record {record} (byte {offset}) has {field} {label}, expected below {num_classes}",
        .path.display()
    )]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Index of the record (image) in the file.
        record: usize,
        /// Byte offset of the label byte.
        offset: u64,
        /// Which label ("label", "coarse label", "fine label").
        field: &'static str,
        /// The label found.
        label: u32,
        /// The number of classes; labels must be below it.
        num_classes: usize,
    },
    /// An idx file's dimensions are not what the dataset needs.
    #[error("unexpected shape in `{}`: expected {expected}, found {found}", .path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// The shape expected.
        expected: String,
        /// The shape found.
        found: String,
    },
    /// The images file and the labels file disagree on the number of items.
    #[error(
        "image/label count mismatch: `{}` has {images} images but `{}` has {labels} labels",
        .images_path.display(),
        .labels_path.display()
    )]
    CountMismatch {
        /// The images file.
        images_path: PathBuf,
        /// Images in it.
        images: usize,
        /// The labels file.
        labels_path: PathBuf,
        /// Labels in it.
        labels: usize,
    },
    /// The dataset's files were not found in any searched location.
    #[error(
        "dataset `{dataset}` not found: searched {}; each needs {}; run `pangaea data fetch {dataset}` to download it",
        display_paths(.searched),
        .needed.join(", ")
    )]
    NotFound {
        /// The dataset.
        dataset: DatasetName,
        /// The folders searched, in order.
        searched: Vec<PathBuf>,
        /// The files a folder must hold (idx files may also end in `.gz`).
        needed: Vec<String>,
    },
    /// No data root could be determined (no `--data-dir`, no `$PANGAEA_DATA`, no home folder).
    #[error(
        "no data folder: give --data-dir or set $PANGAEA_DATA (no per-user cache folder found)"
    )]
    NoDataRoot,
    /// The dataset has no download (the synthetic set is generated, not fetched).
    #[error("dataset `{0}` cannot be fetched: it is generated from a seed")]
    NotFetchable(DatasetName),
    /// An argument or configuration value is invalid.
    #[error("invalid {field}: {reason}")]
    InvalidConfig {
        /// The field or argument.
        field: &'static str,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A dataset's fields disagree with each other.
    #[error("inconsistent dataset `{name}`: {reason}")]
    Inconsistent {
        /// The dataset's name.
        name: String,
        /// What disagrees.
        reason: String,
    },
    /// The HTTP request failed (connection refused, bad status, TLS error, …).
    #[error("request for `{url}` failed")]
    Http {
        /// The address.
        url: String,
        /// The client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The connection broke while the body was being received.
    #[error("download of `{url}` interrupted after {received} bytes")]
    Interrupted {
        /// The address.
        url: String,
        /// Bytes received before the failure.
        received: u64,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The body ended early or ran long.
    #[error("download of `{url}` has {received} bytes, expected {expected}")]
    DownloadSize {
        /// The address.
        url: String,
        /// Bytes expected (from the plan or `Content-Length`).
        expected: u64,
        /// Bytes received.
        received: u64,
    },
    /// The downloaded bytes do not have the expected SHA-256.
    #[error("checksum mismatch for `{url}`: expected sha256 {expected}, found {found}")]
    Checksum {
        /// The address.
        url: String,
        /// The expected digest (lowercase hex).
        expected: String,
        /// The digest of what arrived (lowercase hex).
        found: String,
    },
    /// An archive could not be unpacked, or lacks an expected file.
    #[error("failed to unpack `{}`: {reason}", .path.display())]
    Unpack {
        /// The archive.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nothing".to_owned();
    }
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl DataError {
    /// A [`DataError::Read`] for `path`.
    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Read {
            path: path.into(),
            source,
        }
    }

    /// A [`DataError::Write`] for `path`.
    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Write {
            path: path.into(),
            source,
        }
    }

    /// A [`DataError::InvalidConfig`].
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        DataError::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }

    /// Whether the error comes from the caller's input (a bad name or configuration value)
    /// rather than from the files or the network; the CLI maps these to its usage exit code.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            DataError::InvalidConfig { .. } | DataError::NotFetchable(_)
        )
    }
}
