//! The end of a worker's log, for the reason of a failed evaluation.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Bytes of a failed worker's stderr or task log kept in a failure reason.
pub(crate) const TAIL_BYTES: usize = 2_000;

/// The last `max_bytes` of a text file, trimmed; `(empty)` for an empty or unreadable file.
/// Reads only the end, so a huge log costs nothing.
pub(crate) fn tail(path: &Path, max_bytes: usize) -> String {
    let read = || -> std::io::Result<Vec<u8>> {
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(max_bytes as u64)))?;
        let mut bytes = Vec::with_capacity(max_bytes.min(len as usize));
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    let bytes = read().unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    if text.is_empty() {
        "(empty)".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_end_of_a_long_file_and_names_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, format!("{}\nthe end\n", "x".repeat(10_000))).unwrap();
        let t = tail(&path, 20);
        assert!(t.ends_with("the end") && t.len() <= 20, "{t}");
        std::fs::write(&path, "").unwrap();
        assert_eq!(tail(&path, 20), "(empty)");
        assert_eq!(tail(&dir.path().join("missing"), 20), "(empty)");
    }
}
