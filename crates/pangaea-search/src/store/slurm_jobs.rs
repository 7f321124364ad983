//! The `slurm_jobs` table: the Slurm executor's ledger of array tasks (schema 2).
//!
//! One row per attempt of an evaluation: the executor's own batch number and the task's index
//! in it (the key, known before `sbatch` answers), the job name it was submitted under, and the
//! array job id once `sbatch` has answered. A row is written *before* `sbatch` runs (state
//! `submitting`), so a coordinator killed at any instant leaves a row for every job it may have
//! submitted; `--resume` finds a `submitting` batch's job by its name, adopts `submitted`
//! ones, and never submits an evaluation twice.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use super::sql::{sql_err, stored_as_name};
use super::Store;
use crate::clock::unix_now;
use crate::error::SearchError;
use crate::executor::SlurmState;

/// Where one attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SlurmJobState {
    /// Recorded; `sbatch` may or may not have accepted it (no job id yet).
    Submitting,
    /// Accepted by `sbatch` (job id known); queued, running or finished but not yet collected.
    Submitted,
    /// Finished with a readable result, which the executor handed to the search.
    Done,
    /// Finished without a usable result (`slurm_state` and `reason` say why).
    Failed,
    /// Cancelled by the coordinator (Ctrl-C); does not count as an attempt.
    Cancelled,
}

impl SlurmJobState {
    /// Every state.
    pub const ALL: [SlurmJobState; 5] = [
        SlurmJobState::Submitting,
        SlurmJobState::Submitted,
        SlurmJobState::Done,
        SlurmJobState::Failed,
        SlurmJobState::Cancelled,
    ];

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            SlurmJobState::Submitting => "submitting",
            SlurmJobState::Submitted => "submitted",
            SlurmJobState::Done => "done",
            SlurmJobState::Failed => "failed",
            SlurmJobState::Cancelled => "cancelled",
        }
    }
}

stored_as_name!(SlurmJobState, "slurm job state");

/// One attempt of one evaluation as a Slurm array task.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SlurmJobRecord {
    /// The executor's submission number (one `sbatch --array` per batch), from 1.
    pub batch: i64,
    /// The task's index in the array.
    pub task: i64,
    /// The evaluation it runs.
    pub evaluation: i64,
    /// Which attempt of the evaluation (1-based).
    pub attempt: u32,
    /// The `--job-name` it was submitted under (unique per batch and run directory).
    pub job_name: String,
    /// The array job id `sbatch` answered; `None` while `submitting`.
    pub job_id: Option<String>,
    /// Where it stands.
    pub state: SlurmJobState,
    /// The last Slurm state seen (`COMPLETED`, `TIMEOUT`, `NODE_FAIL`, …, or `VANISHED`).
    #[serde(serialize_with = "serialize_slurm_state")]
    pub slurm_state: Option<SlurmState>,
    /// Why it failed, with the tail of its log.
    pub reason: Option<String>,
    /// Unix time it was recorded.
    pub submitted_at: f64,
    /// Unix time it was seen finished.
    pub finished_at: Option<f64>,
}

impl SlurmJobRecord {
    /// The task's Slurm id, `ARRAYJOBID_TASK`, once known.
    pub fn slurm_id(&self) -> Option<String> {
        self.job_id.as_ref().map(|j| format!("{j}_{}", self.task))
    }
}

fn serialize_slurm_state<S: serde::Serializer>(
    state: &Option<SlurmState>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match state {
        Some(s) => serializer.serialize_some(s.as_str()),
        None => serializer.serialize_none(),
    }
}

/// How one task ended, for [`SlurmLedger::finish_slurm_tasks`].
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmTaskEnd {
    /// The batch.
    pub batch: i64,
    /// The task's index in it.
    pub task: i64,
    /// `Done`, `Failed` or `Cancelled`.
    pub state: SlurmJobState,
    /// The Slurm state seen (`COMPLETED`, `TIMEOUT`, …).
    pub slurm_state: Option<SlurmState>,
    /// Why, for a failure or cancellation.
    pub reason: Option<String>,
}

impl Store {
    /// Every recorded attempt, by batch and task (empty for a store of schema 1 opened
    /// read-only).
    pub fn slurm_jobs(&self) -> Result<Vec<SlurmJobRecord>, SearchError> {
        read_jobs(&self.conn, &self.path)
    }
}

/// The ledger the Slurm executor writes: the `slurm_jobs` table of a search store, or of any
/// other SQLite file a caller keeps its runs in (a study's results file), where the table is
/// created without the search store's reference to its evaluations: there the evaluation ids
/// are the caller's job ids.
pub struct SlurmLedger {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for SlurmLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlurmLedger")
            .field("path", &self.path)
            .finish()
    }
}

impl SlurmLedger {
    /// Opens the ledger in `path` (created if missing). A search store is opened as a store
    /// first, so that an older one is migrated and its own table is used.
    pub fn open(path: &Path) -> Result<SlurmLedger, SearchError> {
        let sql = || sql_err(path, "opening the slurm ledger");
        if path.exists() {
            let probe = Connection::open(path).map_err(sql())?;
            let is_store: Option<String> = probe
                .query_row(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql())?;
            drop(probe);
            if is_store.is_some() {
                drop(Store::open(path)?);
            }
        }
        let conn = Connection::open(path).map_err(sql())?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql())?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql())?;
        conn.execute_batch(LEDGER_TABLE).map_err(sql())?;
        Ok(SlurmLedger {
            conn,
            path: path.to_owned(),
        })
    }

    /// Every recorded attempt, by batch and task.
    pub fn jobs(&self) -> Result<Vec<SlurmJobRecord>, SearchError> {
        read_jobs(&self.conn, &self.path)
    }

    /// The number the next batch gets (one more than the highest stored).
    pub fn next_slurm_batch(&self) -> Result<i64, SearchError> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT MAX(batch) FROM slurm_jobs", [], |r| r.get(0))
            .map_err(sql_err(&self.path, "reading the slurm jobs"))?;
        Ok(max.unwrap_or(0) + 1)
    }

    /// Records a batch about to be submitted: task i runs `tasks[i] = (evaluation, attempt)`.
    /// One transaction, before `sbatch` runs.
    pub fn insert_slurm_batch(
        &mut self,
        batch: i64,
        job_name: &str,
        tasks: &[(i64, u32)],
    ) -> Result<(), SearchError> {
        let doing = format!("recording slurm batch {batch}");
        let sql = || sql_err(&self.path, &doing);
        let tx = self.conn.transaction().map_err(sql())?;
        let at = unix_now();
        for (task, (evaluation, attempt)) in tasks.iter().enumerate() {
            tx.execute(
                "INSERT INTO slurm_jobs (batch, task, evaluation_id, attempt, job_name, state, \
                 submitted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    batch,
                    task as i64,
                    evaluation,
                    attempt,
                    job_name,
                    SlurmJobState::Submitting,
                    at
                ],
            )
            .map_err(sql())?;
        }
        tx.commit().map_err(sql())
    }

    /// Records the array job id `sbatch` gave a batch: its tasks become `submitted`.
    pub fn set_slurm_job_id(&mut self, batch: i64, job_id: &str) -> Result<(), SearchError> {
        self.conn
            .execute(
                "UPDATE slurm_jobs SET job_id = ?2, state = ?3 WHERE batch = ?1 AND state = ?4",
                params![
                    batch,
                    job_id,
                    SlurmJobState::Submitted,
                    SlurmJobState::Submitting
                ],
            )
            .map_err(sql_err(&self.path, "recording a slurm job id"))?;
        Ok(())
    }

    /// Records how tasks ended, in one transaction.
    pub fn finish_slurm_tasks(&mut self, tasks: &[SlurmTaskEnd]) -> Result<(), SearchError> {
        let sql = || sql_err(&self.path, "recording the end of slurm tasks");
        let tx = self.conn.transaction().map_err(sql())?;
        let at = unix_now();
        for t in tasks {
            tx.execute(
                "UPDATE slurm_jobs SET state = ?3, slurm_state = ?4, reason = ?5, \
                 finished_at = ?6 WHERE batch = ?1 AND task = ?2",
                params![t.batch, t.task, t.state, t.slurm_state, t.reason, at],
            )
            .map_err(sql())?;
        }
        tx.commit().map_err(sql())
    }
}

/// The ledger's table where the file has none (not a search store): the search schema's
/// columns without the reference to `evaluations`.
const LEDGER_TABLE: &str = super::schema::slurm_jobs_table!("CREATE TABLE IF NOT EXISTS", "");

/// The `slurm_jobs` rows of `conn` (none when it has no such table).
fn read_jobs(conn: &Connection, path: &Path) -> Result<Vec<SlurmJobRecord>, SearchError> {
    let table: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'slurm_jobs'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err(path, "reading the slurm jobs"))?;
    if table.is_none() {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(
            "SELECT batch, task, evaluation_id, attempt, job_name, job_id, state, \
                 slurm_state, reason, submitted_at, finished_at FROM slurm_jobs \
                 ORDER BY batch, task",
        )
        .map_err(sql_err(path, "reading the slurm jobs"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SlurmJobRecord {
                batch: r.get(0)?,
                task: r.get(1)?,
                evaluation: r.get(2)?,
                attempt: r.get(3)?,
                job_name: r.get(4)?,
                job_id: r.get(5)?,
                state: r.get(6)?,
                slurm_state: r.get(7)?,
                reason: r.get(8)?,
                submitted_at: r.get(9)?,
                finished_at: r.get(10)?,
            })
        })
        .map_err(sql_err(path, "reading the slurm jobs"))?;
    rows.collect::<Result<_, _>>()
        .map_err(sql_err(path, "reading the slurm jobs"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SearchConfig;
    use crate::store::schema::{SCHEMA, SCHEMA_VERSION};
    use crate::store::{CandidateState, NewCandidate};
    use rusqlite::Connection;

    fn plan_one(store: &mut Store) -> i64 {
        let ids = store
            .insert_plan(
                0,
                &[NewCandidate {
                    form: "tanh(x)".parse().unwrap(),
                    origin: None,
                    state: CandidateState::Pending,
                    reason: None,
                    duplicate_of: None,
                    versions: vec![("tanh(x)".to_owned(), "{}".to_owned())],
                    predicted: None,
                    rung: 0,
                }],
            )
            .unwrap();
        store.candidate_evaluations(ids[0]).unwrap()[0].id
    }

    #[test]
    fn ledger_records_batches_ids_and_endings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut store = Store::create(&path, &SearchConfig::quick()).unwrap();
        let e = plan_one(&mut store);
        let mut ledger = SlurmLedger::open(&path).unwrap();
        assert_eq!(ledger.next_slurm_batch().unwrap(), 1);
        ledger
            .insert_slurm_batch(1, "pangaea-x-b1", &[(e, 1)])
            .unwrap();
        let rows = store.slurm_jobs().unwrap();
        assert_eq!(rows[0].state, SlurmJobState::Submitting);
        assert_eq!(rows[0].slurm_id(), None);
        ledger.set_slurm_job_id(1, "77").unwrap();
        ledger
            .finish_slurm_tasks(&[SlurmTaskEnd {
                batch: 1,
                task: 0,
                state: SlurmJobState::Failed,
                slurm_state: Some(SlurmState::Timeout),
                reason: Some("log".to_owned()),
            }])
            .unwrap();
        let rows = store.slurm_jobs().unwrap();
        assert_eq!(rows[0].slurm_id().as_deref(), Some("77_0"));
        assert_eq!(rows[0].state, SlurmJobState::Failed);
        assert_eq!(rows[0].slurm_state, Some(SlurmState::Timeout));
        assert_eq!(ledger.next_slurm_batch().unwrap(), 2);
        // In a search store the evaluation must exist.
        assert!(ledger.insert_slurm_batch(2, "n", &[(e + 100, 1)]).is_err());
    }

    #[test]
    fn a_ledger_in_another_file_takes_any_job_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("study.db");
        let mut ledger = SlurmLedger::open(&path).unwrap();
        ledger
            .insert_slurm_batch(1, "b1", &[(40, 1), (7, 2)])
            .unwrap();
        drop(ledger);
        let ledger = SlurmLedger::open(&path).unwrap();
        let jobs = ledger.jobs().unwrap();
        assert_eq!(
            jobs.iter()
                .map(|j| (j.evaluation, j.attempt))
                .collect::<Vec<_>>(),
            vec![(40, 1), (7, 2)]
        );
        assert_eq!(ledger.next_slurm_batch().unwrap(), 2);
    }

    #[test]
    fn schema_1_store_is_migrated_when_opened_for_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('config', ?1)",
                [SearchConfig::quick().to_json()],
            )
            .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let read_only = Store::open_read_only(&path).unwrap();
        assert!(read_only.slurm_jobs().unwrap().is_empty());
        drop(read_only);
        let mut store = Store::open(&path).unwrap();
        let version: u32 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let e = plan_one(&mut store);
        SlurmLedger::open(&path)
            .unwrap()
            .insert_slurm_batch(1, "n", &[(e, 1)])
            .unwrap();
        assert_eq!(store.slurm_jobs().unwrap().len(), 1);
    }
}
