//! [`Cache`]: an SQLite file of finished evaluations shared by several searches (`--cache`).
//!
//! The key is the full evaluation request as canonical JSON (serde's field order, compact) with
//! its `label` cleared, since the label only names the candidate: two searches that ask for the
//! same training run share its result. Only `ok` and `diverged` results are cached; a failed
//! run (time limit, crash, missing data) may succeed another time. Several processes may use one
//! cache at once (WAL, busy timeout); each write is one statement.

use pangaea_wire::JsonFile;
use std::path::{Path, PathBuf};

use pangaea_wire::{EvalRequest, EvalResult, Status};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::SearchError;
use crate::store::sql_err;

/// An open cache file.
pub struct Cache {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("path", &self.path).finish()
    }
}

/// The cache key of a request: canonical JSON without the label.
pub fn cache_key(request: &EvalRequest) -> String {
    let mut request = request.clone();
    request.label = None;
    serde_json::to_string(&request).expect("a request serializes")
}

impl Cache {
    /// Opens or creates a cache file.
    pub fn open(path: &Path) -> Result<Cache, SearchError> {
        let sql = || sql_err(path, "opening the cache");
        let conn = Connection::open(path).map_err(sql())?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql())?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql())?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS results (request TEXT PRIMARY KEY, result TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS request_ids (id INTEGER PRIMARY KEY, \
             request TEXT NOT NULL UNIQUE);",
        )
        .map_err(sql())?;
        Ok(Cache {
            conn,
            path: path.to_owned(),
        })
    }

    /// The stored result of a request, relabelled with the request's label.
    pub fn get(&self, request: &EvalRequest) -> Result<Option<EvalResult>, SearchError> {
        let key = cache_key(request);
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT result FROM results WHERE request = ?1",
                [&key],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err(&self.path, "reading the cache"))?;
        let Some(text) = text else { return Ok(None) };
        let mut result = EvalResult::from_json(&text).map_err(|e| SearchError::StoredJson {
            path: self.path.clone(),
            what: "cached result",
            row: 0,
            message: e.to_string(),
        })?;
        result.label = request.label.clone();
        Ok(Some(result))
    }

    /// A number for a request (without its label), the same every time this file is asked: a
    /// job id that names the same training run across restarts, for an executor that adopts
    /// live tasks by id (the Slurm executor).
    pub fn request_id(&self, request: &EvalRequest) -> Result<i64, SearchError> {
        let key = cache_key(request);
        let sql = || sql_err(&self.path, "numbering a request");
        self.conn
            .execute(
                "INSERT OR IGNORE INTO request_ids (request) VALUES (?1)",
                [&key],
            )
            .map_err(sql())?;
        self.conn
            .query_row(
                "SELECT id FROM request_ids WHERE request = ?1",
                [&key],
                |r| r.get(0),
            )
            .map_err(sql())
    }

    /// Stores a result (only `ok` and `diverged`; others are ignored).
    pub fn put(&self, request: &EvalRequest, result: &EvalResult) -> Result<(), SearchError> {
        if !matches!(result.status, Status::Ok | Status::Diverged) {
            return Ok(());
        }
        self.conn
            .execute(
                "INSERT OR IGNORE INTO results (request, result) VALUES (?1, ?2)",
                params![cache_key(request), result.to_json()],
            )
            .map_err(sql_err(&self.path, "writing the cache"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_shared_by_request_whatever_the_label() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let cache = Cache::open(&path).unwrap();
        let mut request = EvalRequest {
            activation: "tanh(x)".into(),
            label: Some("a".into()),
            ..EvalRequest::default()
        };
        let result = crate::fitness::fake_result(&request);
        assert_eq!(cache.get(&request).unwrap(), None);
        cache.put(&request, &result).unwrap();
        let other = Cache::open(&path).unwrap();
        request.label = Some("b".into());
        let got = other.get(&request).unwrap().unwrap();
        assert_eq!(got.label.as_deref(), Some("b"));
        assert_eq!(got.val_accuracy, result.val_accuracy);
        request.epochs += 1;
        assert_eq!(other.get(&request).unwrap(), None);
        let failed = EvalResult::not_run(None, "x", Status::Failed, "time limit".into());
        cache.put(&request, &failed).unwrap();
        assert_eq!(cache.get(&request).unwrap(), None);
        // Request ids: the same for the same request in any connection, whatever the label.
        let id = cache.request_id(&request).unwrap();
        request.label = Some("c".into());
        assert_eq!(other.request_id(&request).unwrap(), id);
        request.seed += 1;
        assert_ne!(cache.request_id(&request).unwrap(), id);
    }
}
