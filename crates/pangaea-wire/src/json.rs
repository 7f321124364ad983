//! Reading and writing the wire types as JSON: versioned JSON, errors that name the field, atomic files.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a request or result could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The file could not be read or written.
    #[error("failed to {action} `{path}`")]
    Io {
        /// What was being done: `read`, `write`, `rename into`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid JSON for the type, or a field has the wrong type or name.
    #[error("{message} at field `{field}` (line {line}, column {column})")]
    Json {
        /// Dotted path of the field (`dataset.limit_train`), `.` for the top level.
        field: String,
        /// serde's description of what was wrong.
        message: String,
        /// 1-based line of the error in the text.
        line: usize,
        /// 1-based column of the error in the text.
        column: usize,
    },
    /// The text was written by a newer version of pangaea.
    #[error(
        "{what} format version {found} is newer than this program supports (up to {supported}); \
         upgrade pangaea"
    )]
    NewerVersion {
        /// `request` or `result`.
        what: &'static str,
        /// The version in the text.
        found: u32,
        /// The newest version this code reads.
        supported: u32,
    },
    /// A field parsed but its value is out of range.
    #[error("bad value for field `{field}`: expected {expected}")]
    Field {
        /// Dotted path of the field.
        field: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// Any of the above, found in a file (the message includes the inner one).
    #[error("in `{path}`: {error}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What was wrong in it.
        error: Box<WireError>,
    },
}

impl WireError {
    /// Wraps the error with the file it was found in (I/O errors already name theirs).
    pub fn in_file(self, path: &Path) -> Self {
        match self {
            e @ (Self::Io { .. } | Self::InFile { .. }) => e,
            e => Self::InFile {
                path: path.to_owned(),
                error: Box::new(e),
            },
        }
    }
}

/// A wire type kept as a versioned JSON file: parse (refusing a newer version and bad values),
/// print, read and write atomically. Implementors name themselves and their version; the
/// methods are shared.
pub trait JsonFile: Serialize + DeserializeOwned {
    /// What the type is called in errors: `request`, `result`.
    const WHAT: &'static str;
    /// The newest format version this code reads and the one it writes.
    const VERSION: u32;

    /// Checks values that parse but are out of range; called after every parse.
    fn validate(&self) -> Result<(), WireError> {
        Ok(())
    }

    /// Parses the type from JSON text, refusing a newer version, unknown fields and bad values.
    fn from_json(text: &str) -> Result<Self, WireError> {
        let value: Self = from_json_versioned(text, Self::WHAT, Self::VERSION)?;
        value.validate()?;
        Ok(value)
    }

    /// The value as pretty JSON text with a trailing newline.
    fn to_json(&self) -> String {
        to_json(self)
    }

    /// Reads a file; errors name the file and the field.
    fn read(path: &Path) -> Result<Self, WireError> {
        read_file(path, Self::from_json)
    }

    /// Writes the file atomically (temporary name in the same directory, then rename), so a
    /// reader polling for it never sees half of it.
    fn write(&self, path: &Path) -> Result<(), WireError> {
        write_atomic(path, self.to_json().as_bytes())
    }
}

/// Deserializes `text`, first refusing a `version` newer than `supported` (so that a newer
/// writer's unknown fields produce the version error, not an unknown-field error).
pub(crate) fn from_json_versioned<T: DeserializeOwned>(
    text: &str,
    what: &'static str,
    supported: u32,
) -> Result<T, WireError> {
    #[derive(serde::Deserialize)]
    struct VersionOnly {
        version: Option<u64>,
    }
    // Read only the version; other fields are ignored here. Malformed JSON falls through to the
    // full parse below, which reports it with its position.
    if let Ok(VersionOnly {
        version: Some(found),
    }) = serde_json::from_str::<VersionOnly>(text)
    {
        if found > u64::from(supported) {
            return Err(WireError::NewerVersion {
                what,
                found: u32::try_from(found).unwrap_or(u32::MAX),
                supported,
            });
        }
    }
    let json_error = |field: String, e: serde_json::Error| WireError::Json {
        field,
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        json_error(field, e.into_inner())
    })?;
    // Trailing characters after the value.
    de.end().map_err(|e| json_error(".".to_owned(), e))?;
    Ok(value)
}

/// serde_json appends " at line L column C" to its messages; the error prints its own.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Pretty JSON with a trailing newline.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value)
        .expect("wire types serialize: plain structs with string keys and finite numbers");
    text.push('\n');
    text
}

/// Reads a JSON file and parses it with `parse`; errors name the file.
pub(crate) fn read_file<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, WireError>,
) -> Result<T, WireError> {
    let text = fs::read_to_string(path).map_err(|source| WireError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?;
    parse(&text).map_err(|e| e.in_file(path))
}

/// Writes `bytes` to `path` so that a reader sees either the old file or the whole new one:
/// write a temporary file in the same directory, flush it to disk, rename it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WireError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "result".to_owned());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let io = |action: &'static str, p: &Path| {
        let p = p.to_owned();
        move |source| WireError::Io {
            action,
            path: p,
            source,
        }
    };
    let result = (|| {
        let mut file = fs::File::create(&tmp).map_err(io("create", &tmp))?;
        file.write_all(bytes).map_err(io("write", &tmp))?;
        file.sync_all().map_err(io("flush", &tmp))?;
        fs::rename(&tmp, path).map_err(io("rename into", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "second");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn atomic_write_into_a_missing_directory_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("out.json");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn malformed_json_reports_its_position() {
        #[derive(Debug, serde::Deserialize)]
        struct T {
            #[expect(dead_code, reason = "only parsed")]
            a: u32,
        }
        let err = from_json_versioned::<T>("{\n  \"a\": 1,\n}", "request", 1).unwrap_err();
        match err {
            WireError::Json { line, .. } => assert_eq!(line, 3),
            other => panic!("unexpected {other}"),
        }
    }
}
