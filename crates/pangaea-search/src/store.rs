//! [`Store`]: the SQLite file that is the source of truth of one search (DESIGN.md, "Storage").
//!
//! Tables (schema version [`SCHEMA_VERSION`], kept in SQLite's `user_version`):
//! - `meta(key, value)`: `config` (the [`SearchConfig`] as JSON), `created_at`,
//!   `elapsed_seconds` (wall time summed over runs), `pangaea_version`.
//! - `candidates`: every form the search produced, in candidate order: generation, expression
//!   text, canonical text, fingerprint, parent, mutation and its detail, state (`pending`,
//!   `evaluated`, `rejected`, `duplicate`), reason, `duplicate_of`, fitness, best evaluation.
//! - `evaluations`: every parametric version of a new form: its expression, the full request
//!   JSON, and once finished the status, reason, result JSON, fitness, wall seconds, attempts,
//!   source (`executor` or `cache`) and finish time.
//! - `populations(generation, rank, candidate_id, fitness)`: the population after each
//!   generation (generation 0 = the initial population).
//! - `slurm_jobs` (schema 2): every Slurm array task the Slurm executor submitted, one row per
//!   attempt of an evaluation, with its job id (see [`SlurmJobRecord`]). A store of schema 1 is
//!   migrated when opened for writing.
//!
//! Only the coordinator writes, and every write is one transaction: a generation's plan (its
//! candidates and their evaluations), one finished evaluation, or a generation's end (fitness
//! of its candidates and the new population). The RNG state needs no storing: the RNG of
//! generation g is derived from (seed, g), so a generation's plan is a pure function of the
//! configuration and the previous population, both in the store.

use std::path::{Path, PathBuf};

use pangaea_train::{EvalRequest, EvalResult};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::config::SearchConfig;
use crate::error::SearchError;

/// The schema version this code writes, and the newest it reads.
pub const SCHEMA_VERSION: u32 = 2;

mod slurm_jobs;

pub use slurm_jobs::{SlurmJobRecord, SlurmJobState, SlurmTaskEnd};

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE candidates (
    id INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    expr TEXT NOT NULL,
    canonical TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    parent_id INTEGER REFERENCES candidates(id),
    mutation TEXT,
    mutation_detail TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    duplicate_of INTEGER REFERENCES candidates(id),
    fitness REAL,
    best_evaluation INTEGER
);
CREATE INDEX candidates_generation ON candidates(generation);
CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id),
    version INTEGER NOT NULL,
    expr TEXT NOT NULL,
    request_json TEXT NOT NULL,
    status TEXT,
    reason TEXT,
    result_json TEXT,
    fitness REAL,
    wall_seconds REAL,
    attempts INTEGER,
    source TEXT,
    finished_at REAL
);
CREATE INDEX evaluations_candidate ON evaluations(candidate_id);
CREATE TABLE populations (
    generation INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id),
    fitness REAL,
    PRIMARY KEY (generation, rank)
);
";

/// Schema 1 → 2: the Slurm executor's job ledger.
const MIGRATION_2: &str = "
CREATE TABLE slurm_jobs (
    batch INTEGER NOT NULL,
    task INTEGER NOT NULL,
    evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),
    attempt INTEGER NOT NULL,
    job_name TEXT NOT NULL,
    job_id TEXT,
    state TEXT NOT NULL,
    slurm_state TEXT,
    reason TEXT,
    submitted_at REAL NOT NULL,
    finished_at REAL,
    PRIMARY KEY (batch, task)
);
CREATE INDEX slurm_jobs_evaluation ON slurm_jobs(evaluation_id);
";

/// What became of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CandidateState {
    /// Planned; some of its evaluations have not finished.
    Pending,
    /// All its versions finished; `fitness` is the best of them (`None` when none finished ok).
    Evaluated,
    /// Refused before training (METHOD.md §4); `reason` says why.
    Rejected,
    /// Equivalent to an earlier candidate (`duplicate_of`), whose fitness it inherits.
    Duplicate,
    /// A reference activation (`SearchConfig::baselines`), trained once with the same recipe
    /// as the candidates; never in the population, never a parent, never a duplicate's original.
    Baseline,
}

impl CandidateState {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            CandidateState::Pending => "pending",
            CandidateState::Evaluated => "evaluated",
            CandidateState::Rejected => "rejected",
            CandidateState::Duplicate => "duplicate",
            CandidateState::Baseline => "baseline",
        }
    }

    fn from_name(name: &str) -> Option<CandidateState> {
        [
            CandidateState::Pending,
            CandidateState::Evaluated,
            CandidateState::Rejected,
            CandidateState::Duplicate,
            CandidateState::Baseline,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// One candidate (a form) as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CandidateRecord {
    /// Candidate id, increasing in candidate order (1-based).
    pub id: i64,
    /// Generation it was born in (0 = initial population).
    pub generation: usize,
    /// The form's text (no parameters).
    pub expr: String,
    /// Its canonical text.
    pub canonical: String,
    /// Its behavioural fingerprint, 16 hex digits.
    pub fingerprint: String,
    /// The parent's id (none in generation 0).
    pub parent: Option<i64>,
    /// The mutation that made it from the parent (`insert`, …).
    pub mutation: Option<String>,
    /// What the mutation did (`insert tanh above node 2`).
    pub mutation_detail: Option<String>,
    /// What became of it.
    pub state: CandidateState,
    /// Why it was rejected (`code: message`), or which candidate it duplicates, in words.
    pub reason: Option<String>,
    /// The candidate it is a duplicate of.
    pub duplicate_of: Option<i64>,
    /// Its fitness (higher is better); `None` while pending, when rejected, or when no version
    /// finished ok.
    pub fitness: Option<f64>,
    /// The evaluation that gave the fitness (the best version; for a duplicate, the original's).
    pub best_evaluation: Option<i64>,
}

/// One evaluation (a parametric version of a candidate) as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvaluationRecord {
    /// Evaluation id, increasing in candidate order (1-based).
    pub id: i64,
    /// The candidate it is a version of.
    pub candidate: i64,
    /// Which version (0-based).
    pub version: usize,
    /// The parametric expression trained.
    pub expr: String,
    /// The full request, JSON.
    pub request_json: String,
    /// `ok`, `diverged`, `rejected`, `failed`; `None` while pending.
    pub status: Option<String>,
    /// Why, when not ok.
    pub reason: Option<String>,
    /// The full result, JSON; `None` while pending.
    pub result_json: Option<String>,
    /// The fitness of the result (`None`: pending, or the worst).
    pub fitness: Option<f64>,
    /// Seconds the evaluation took (as the executor measured it).
    pub wall_seconds: Option<f64>,
    /// Attempts the executor made (a crashed worker is retried once).
    pub attempts: Option<u32>,
    /// `executor` or `cache`.
    pub source: Option<String>,
    /// Unix time it finished.
    pub finished_at: Option<f64>,
}

impl EvaluationRecord {
    /// Whether it has a result.
    pub fn is_finished(&self) -> bool {
        self.result_json.is_some()
    }

    /// The request, parsed.
    pub fn request(&self) -> Result<EvalRequest, String> {
        EvalRequest::from_json(&self.request_json).map_err(|e| e.to_string())
    }

    /// The result, parsed (`None` while pending).
    pub fn result(&self) -> Result<Option<EvalResult>, String> {
        self.result_json
            .as_deref()
            .map(|t| EvalResult::from_json(t).map_err(|e| e.to_string()))
            .transpose()
    }
}

/// A candidate planned for a generation, before it has an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCandidate {
    /// Form text.
    pub expr: String,
    /// Canonical text.
    pub canonical: String,
    /// Fingerprint, hex.
    pub fingerprint: String,
    /// Parent id.
    pub parent: Option<i64>,
    /// Mutation name.
    pub mutation: Option<String>,
    /// Mutation detail.
    pub mutation_detail: Option<String>,
    /// `Pending` (with versions), `Rejected`, `Duplicate`, or `Baseline` (one version, as written).
    pub state: CandidateState,
    /// Rejection reason or duplicate note.
    pub reason: Option<String>,
    /// The original, for a duplicate: an id, or the index of an earlier candidate of this plan.
    pub duplicate_of: Option<DuplicateOf>,
    /// The parametric versions: (expression text, request JSON).
    pub versions: Vec<(String, String)>,
}

/// The original of a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateOf {
    /// A candidate already in the store.
    Stored(i64),
    /// An earlier candidate of the same plan, by index.
    InPlan(usize),
}

/// A finished evaluation, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedEvaluation {
    /// Evaluation id.
    pub id: i64,
    /// The result.
    pub result: EvalResult,
    /// Its fitness.
    pub fitness: Option<f64>,
    /// Seconds it took.
    pub wall_seconds: f64,
    /// Attempts made.
    pub attempts: u32,
    /// `executor` or `cache`.
    pub source: &'static str,
}

/// One point of the best-so-far curve.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BestPoint {
    /// The evaluation (in evaluation order).
    pub evaluation: i64,
    /// Its fitness.
    pub fitness: Option<f64>,
    /// The best fitness among it and every earlier finished evaluation.
    pub best: Option<f64>,
    /// The evaluation holding `best`.
    pub best_evaluation: Option<i64>,
}

/// A form of the top-K list with the version that stands for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TopForm {
    /// The candidate.
    pub candidate: CandidateRecord,
    /// Its best parametric version, with its request and result JSON.
    pub best: EvaluationRecord,
}

/// A member of a stored population.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PopulationMember {
    /// 0 = best.
    pub rank: usize,
    /// The candidate.
    pub candidate: i64,
    /// Its fitness.
    pub fitness: Option<f64>,
}

/// An open search store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

const CANDIDATE_COLUMNS: &str =
    "id, generation, expr, canonical, fingerprint, parent_id, mutation, \
     mutation_detail, state, reason, duplicate_of, fitness, best_evaluation";
const EVALUATION_COLUMNS: &str = "id, candidate_id, version, expr, request_json, status, reason, \
     result_json, fitness, wall_seconds, attempts, source, finished_at";

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Store {
    fn err(&self, doing: &str) -> impl FnOnce(rusqlite::Error) -> SearchError + '_ {
        let doing = doing.to_owned();
        move |source| SearchError::Sqlite {
            path: self.path.clone(),
            doing,
            source,
        }
    }

    /// Creates a new store for `config`. Refuses a file that already exists.
    pub fn create(path: &Path, config: &SearchConfig) -> Result<Store, SearchError> {
        if path.exists() {
            return Err(SearchError::StoreExists {
                path: path.to_owned(),
            });
        }
        let sql = |doing: &str| {
            let doing = doing.to_owned();
            move |source| SearchError::Sqlite {
                path: path.to_owned(),
                doing,
                source,
            }
        };
        // Built under a temporary name and renamed, so that a process killed while creating
        // it never leaves a half-made store behind.
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let temp = path.with_file_name(format!(
            ".{}.creating-{}",
            file_name.as_deref().unwrap_or("store"),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&temp);
        {
            let mut conn = Connection::open(&temp).map_err(sql("creating the store"))?;
            let tx = conn.transaction().map_err(sql("creating the schema"))?;
            tx.execute_batch(SCHEMA)
                .map_err(sql("creating the schema"))?;
            tx.execute_batch(MIGRATION_2)
                .map_err(sql("creating the schema"))?;
            for (key, value) in [
                ("config", config.to_json()),
                ("created_at", now().to_string()),
                ("elapsed_seconds", "0".to_owned()),
                ("pangaea_version", env!("CARGO_PKG_VERSION").to_owned()),
            ] {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    params![key, value],
                )
                .map_err(sql("writing the configuration"))?;
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(sql("writing the schema version"))?;
            tx.commit().map_err(sql("creating the schema"))?;
        }
        std::fs::rename(&temp, path).map_err(|source| SearchError::Io {
            path: path.to_owned(),
            doing: "move the new store into place at",
            source,
        })?;
        Self::open(path)
    }

    fn configure(conn: &Connection) -> rusqlite::Result<()> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        Ok(())
    }

    /// Checks the schema version without modifying anything; returns it.
    fn check_version(path: &Path) -> Result<u32, SearchError> {
        if !path.is_file() {
            return Err(SearchError::Io {
                path: path.to_owned(),
                doing: "open the store",
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let sql = |source| SearchError::Sqlite {
            path: path.to_owned(),
            doing: "reading the schema version".to_owned(),
            source,
        };
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql)?;
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(SearchError::NewerSchema {
                path: path.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version == 0 {
            return Err(SearchError::NotAStore {
                path: path.to_owned(),
                message: "no schema version (not created by pangaea search)".to_owned(),
            });
        }
        Ok(version)
    }

    /// Brings a store of an older schema up to [`SCHEMA_VERSION`] in one transaction.
    fn migrate(&mut self, from: u32) -> Result<(), SearchError> {
        if from >= SCHEMA_VERSION {
            return Ok(());
        }
        let path = self.path.clone();
        let sql = move |source| SearchError::Sqlite {
            path: path.clone(),
            doing: format!("migrating the schema from version {from} to {SCHEMA_VERSION}"),
            source,
        };
        let tx = self.conn.transaction().map_err(sql.clone())?;
        // Read again inside the transaction: another coordinator may have migrated meanwhile.
        let version: u32 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql.clone())?;
        if version < 2 {
            tx.execute_batch(MIGRATION_2).map_err(sql.clone())?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql.clone())?;
        tx.commit().map_err(sql)
    }

    /// Opens an existing store for writing (the coordinator, `--resume`). A store from a newer
    /// schema is refused before anything is written.
    pub fn open(path: &Path) -> Result<Store, SearchError> {
        let version = Self::check_version(path)?;
        let conn = Connection::open(path).map_err(|source| SearchError::Sqlite {
            path: path.to_owned(),
            doing: "opening the store".to_owned(),
            source,
        })?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
        };
        Self::configure(&store.conn).map_err(store.err("configuring the store"))?;
        store.config()?;
        store.migrate(version)?;
        Ok(store)
    }

    /// Opens an existing store read-only (reports, while a search may still be running).
    pub fn open_read_only(path: &Path) -> Result<Store, SearchError> {
        Self::check_version(path)?;
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(
            |source| SearchError::Sqlite {
                path: path.to_owned(),
                doing: "opening the store".to_owned(),
                source,
            },
        )?;
        let store = Store {
            conn,
            path: path.to_owned(),
        };
        store
            .conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(store.err("configuring the store"))?;
        store.config()?;
        Ok(store)
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn meta(&self, key: &str) -> Result<Option<String>, SearchError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.err("reading the metadata"))
    }

    /// The search's configuration.
    pub fn config(&self) -> Result<SearchConfig, SearchError> {
        let text = self.meta("config")?.ok_or_else(|| SearchError::NotAStore {
            path: self.path.clone(),
            message: "no configuration in table `meta`".to_owned(),
        })?;
        SearchConfig::from_json(&text).map_err(|e| SearchError::StoredJson {
            path: self.path.clone(),
            what: "config",
            row: 0,
            message: e.to_string(),
        })
    }

    /// Wall seconds spent in the search, summed over runs (updated at each generation's end).
    pub fn elapsed_seconds(&self) -> Result<f64, SearchError> {
        Ok(self
            .meta("elapsed_seconds")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0))
    }

    /// The highest generation with candidates (planned), if any.
    pub fn last_planned_generation(&self) -> Result<Option<usize>, SearchError> {
        let g: Option<i64> = self
            .conn
            .query_row("SELECT MAX(generation) FROM candidates", [], |r| r.get(0))
            .map_err(self.err("reading the progress"))?;
        Ok(g.map(|g| g as usize))
    }

    /// The highest generation whose population is stored (finished), if any.
    pub fn last_finished_generation(&self) -> Result<Option<usize>, SearchError> {
        let g: Option<i64> = self
            .conn
            .query_row("SELECT MAX(generation) FROM populations", [], |r| r.get(0))
            .map_err(self.err("reading the progress"))?;
        Ok(g.map(|g| g as usize))
    }

    /// Stores a generation's plan in one transaction; returns the new candidates' ids.
    pub fn insert_plan(
        &mut self,
        generation: usize,
        plan: &[NewCandidate],
    ) -> Result<Vec<i64>, SearchError> {
        let path = self.path.clone();
        let sql = move |source| SearchError::Sqlite {
            path: path.clone(),
            doing: format!("storing the plan of generation {generation}"),
            source,
        };
        let tx = self.conn.transaction().map_err(sql.clone())?;
        let mut ids: Vec<i64> = Vec::with_capacity(plan.len());
        for c in plan {
            let duplicate_of = c.duplicate_of.map(|d| match d {
                DuplicateOf::Stored(id) => id,
                DuplicateOf::InPlan(i) => ids[i],
            });
            tx.execute(
                "INSERT INTO candidates (generation, expr, canonical, fingerprint, parent_id, \
                 mutation, mutation_detail, state, reason, duplicate_of) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    generation as i64,
                    c.expr,
                    c.canonical,
                    c.fingerprint,
                    c.parent,
                    c.mutation,
                    c.mutation_detail,
                    c.state.name(),
                    c.reason,
                    duplicate_of
                ],
            )
            .map_err(sql.clone())?;
            let id = tx.last_insert_rowid();
            ids.push(id);
            for (version, (expr, request)) in c.versions.iter().enumerate() {
                tx.execute(
                    "INSERT INTO evaluations (candidate_id, version, expr, request_json) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![id, version as i64, expr, request],
                )
                .map_err(sql.clone())?;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(ids)
    }

    /// Stores one finished evaluation in one transaction.
    pub fn record_evaluation(&mut self, e: &FinishedEvaluation) -> Result<(), SearchError> {
        let path = self.path.clone();
        let id = e.id;
        let sql = move |source| SearchError::Sqlite {
            path: path.clone(),
            doing: format!("storing the result of evaluation {id}"),
            source,
        };
        let tx = self.conn.transaction().map_err(sql.clone())?;
        let changed = tx
            .execute(
                "UPDATE evaluations SET status = ?2, reason = ?3, result_json = ?4, fitness = ?5, \
                 wall_seconds = ?6, attempts = ?7, source = ?8, finished_at = ?9 \
                 WHERE id = ?1 AND result_json IS NULL",
                params![
                    e.id,
                    e.result.status.name(),
                    e.result.reason,
                    e.result.to_json(),
                    e.fitness,
                    e.wall_seconds,
                    e.attempts,
                    e.source,
                    now()
                ],
            )
            .map_err(sql.clone())?;
        tx.commit().map_err(sql)?;
        if changed != 1 {
            return Err(SearchError::NotAStore {
                path: self.path.clone(),
                message: format!("evaluation {} is not a pending evaluation", e.id),
            });
        }
        Ok(())
    }

    /// Ends a generation in one transaction: each (candidate, fitness, best evaluation) of the
    /// generation becomes `evaluated` (duplicates keep their state and take their original's
    /// fitness), the population is stored, and the elapsed wall time is updated.
    pub fn finish_generation(
        &mut self,
        generation: usize,
        fitness: &[(i64, Option<f64>, Option<i64>)],
        population: &[(i64, Option<f64>)],
        elapsed_seconds: f64,
    ) -> Result<(), SearchError> {
        let path = self.path.clone();
        let sql = move |source| SearchError::Sqlite {
            path: path.clone(),
            doing: format!("storing the end of generation {generation}"),
            source,
        };
        let tx = self.conn.transaction().map_err(sql.clone())?;
        for (id, f, best) in fitness {
            tx.execute(
                "UPDATE candidates SET fitness = ?2, best_evaluation = ?3, \
                 state = CASE state WHEN 'pending' THEN 'evaluated' ELSE state END WHERE id = ?1",
                params![id, f, best],
            )
            .map_err(sql.clone())?;
        }
        for (rank, (id, f)) in population.iter().enumerate() {
            tx.execute(
                "INSERT INTO populations (generation, rank, candidate_id, fitness) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![generation as i64, rank as i64, id, f],
            )
            .map_err(sql.clone())?;
        }
        tx.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'elapsed_seconds'",
            [elapsed_seconds.to_string()],
        )
        .map_err(sql.clone())?;
        tx.commit().map_err(sql)
    }

    fn candidate_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CandidateRecord> {
        let state: String = r.get(8)?;
        Ok(CandidateRecord {
            id: r.get(0)?,
            generation: r.get::<_, i64>(1)? as usize,
            expr: r.get(2)?,
            canonical: r.get(3)?,
            fingerprint: r.get(4)?,
            parent: r.get(5)?,
            mutation: r.get(6)?,
            mutation_detail: r.get(7)?,
            state: CandidateState::from_name(&state).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    8,
                    rusqlite::types::Type::Text,
                    format!("unknown candidate state `{state}`").into(),
                )
            })?,
            reason: r.get(9)?,
            duplicate_of: r.get(10)?,
            fitness: r.get(11)?,
            best_evaluation: r.get(12)?,
        })
    }

    fn evaluation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EvaluationRecord> {
        Ok(EvaluationRecord {
            id: r.get(0)?,
            candidate: r.get(1)?,
            version: r.get::<_, i64>(2)? as usize,
            expr: r.get(3)?,
            request_json: r.get(4)?,
            status: r.get(5)?,
            reason: r.get(6)?,
            result_json: r.get(7)?,
            fitness: r.get(8)?,
            wall_seconds: r.get(9)?,
            attempts: r.get(10)?,
            source: r.get(11)?,
            finished_at: r.get(12)?,
        })
    }

    fn query_candidates(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<CandidateRecord>, SearchError> {
        let sql = format!("SELECT {CANDIDATE_COLUMNS} FROM candidates {filter} ORDER BY id");
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(self.err("reading candidates"))?;
        let rows = stmt
            .query_map(args, Self::candidate_row)
            .map_err(self.err("reading candidates"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.err("reading candidates"))
    }

    fn query_evaluations(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<EvaluationRecord>, SearchError> {
        let sql = format!("SELECT {EVALUATION_COLUMNS} FROM evaluations {filter} ORDER BY id");
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(self.err("reading evaluations"))?;
        let rows = stmt
            .query_map(args, Self::evaluation_row)
            .map_err(self.err("reading evaluations"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.err("reading evaluations"))
    }

    /// Every candidate, in candidate order.
    pub fn candidates(&self) -> Result<Vec<CandidateRecord>, SearchError> {
        self.query_candidates("", [])
    }

    /// The candidates of one generation, in candidate order.
    pub fn generation_candidates(
        &self,
        generation: usize,
    ) -> Result<Vec<CandidateRecord>, SearchError> {
        self.query_candidates("WHERE generation = ?1", [generation as i64])
    }

    /// One candidate.
    pub fn candidate(&self, id: i64) -> Result<Option<CandidateRecord>, SearchError> {
        Ok(self.query_candidates("WHERE id = ?1", [id])?.pop())
    }

    /// Every evaluation, in evaluation (= candidate) order, finished or not.
    pub fn evaluations(&self) -> Result<Vec<EvaluationRecord>, SearchError> {
        self.query_evaluations("", [])
    }

    /// The evaluations of one candidate, by version.
    pub fn candidate_evaluations(&self, id: i64) -> Result<Vec<EvaluationRecord>, SearchError> {
        self.query_evaluations("WHERE candidate_id = ?1", [id])
    }

    /// One evaluation.
    pub fn evaluation(&self, id: i64) -> Result<Option<EvaluationRecord>, SearchError> {
        Ok(self.query_evaluations("WHERE id = ?1", [id])?.pop())
    }

    /// The evaluations of a generation's candidates, in order.
    pub fn generation_evaluations(
        &self,
        generation: usize,
    ) -> Result<Vec<EvaluationRecord>, SearchError> {
        self.query_evaluations(
            "WHERE candidate_id IN (SELECT id FROM candidates WHERE generation = ?1)",
            [generation as i64],
        )
    }

    /// Number of finished evaluations.
    pub fn finished_evaluations(&self) -> Result<usize, SearchError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM evaluations WHERE result_json IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .map_err(self.err("counting evaluations"))?;
        Ok(n as usize)
    }

    /// The finished evaluations of a search's candidates in evaluation order (baselines left
    /// out), each with the best fitness so far (the curve of a search's progress).
    pub fn best_so_far(&self) -> Result<Vec<BestPoint>, SearchError> {
        let baselines: std::collections::HashSet<i64> =
            self.baselines()?.into_iter().map(|c| c.id).collect();
        let mut best: Option<(f64, i64)> = None;
        let mut out = Vec::new();
        for e in self.evaluations()? {
            if !e.is_finished() || baselines.contains(&e.candidate) {
                continue;
            }
            if let Some(f) = e.fitness {
                if best.is_none_or(|(b, _)| f > b) {
                    best = Some((f, e.id));
                }
            }
            out.push(BestPoint {
                evaluation: e.id,
                fitness: e.fitness,
                best: best.map(|b| b.0),
                best_evaluation: best.map(|b| b.1),
            });
        }
        Ok(out)
    }

    /// The reference activations of the search (state `baseline`), in candidate order; their
    /// `fitness` is set once generation 0 has ended.
    pub fn baselines(&self) -> Result<Vec<CandidateRecord>, SearchError> {
        self.query_candidates("WHERE state = 'baseline'", [])
    }

    /// The population after `generation` (0 = initial), best first.
    pub fn population(&self, generation: usize) -> Result<Vec<PopulationMember>, SearchError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT rank, candidate_id, fitness FROM populations WHERE generation = ?1 \
                 ORDER BY rank",
            )
            .map_err(self.err("reading a population"))?;
        let rows = stmt
            .query_map([generation as i64], |r| {
                Ok(PopulationMember {
                    rank: r.get::<_, i64>(0)? as usize,
                    candidate: r.get(1)?,
                    fitness: r.get(2)?,
                })
            })
            .map_err(self.err("reading a population"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.err("reading a population"))
    }

    /// The latest stored population, best first (empty before generation 0 ends).
    pub fn final_population(&self) -> Result<Vec<PopulationMember>, SearchError> {
        match self.last_finished_generation()? {
            Some(g) => self.population(g),
            None => Ok(Vec::new()),
        }
    }

    /// The `k` best evaluated forms (duplicates and rejected ones excluded), best first, ties
    /// broken by candidate order, each with its best parametric version.
    pub fn top_forms(&self, k: usize) -> Result<Vec<TopForm>, SearchError> {
        let mut candidates =
            self.query_candidates("WHERE state = 'evaluated' AND fitness IS NOT NULL", [])?;
        candidates.sort_by(|a, b| {
            crate::fitness::compare_best_first(a.fitness, b.fitness).then(a.id.cmp(&b.id))
        });
        let mut out = Vec::new();
        for candidate in candidates.into_iter().take(k) {
            let Some(best_id) = candidate.best_evaluation else {
                continue;
            };
            let best = self
                .evaluation(best_id)?
                .ok_or_else(|| SearchError::NotAStore {
                    path: self.path.clone(),
                    message: format!(
                        "candidate {} names evaluation {best_id}, which does not exist",
                        candidate.id
                    ),
                })?;
            out.push(TopForm { candidate, best });
        }
        Ok(out)
    }

    /// The lineage of a candidate: itself, its parent, its parent's parent, … up to a form of
    /// the initial population. Each record names the mutation that produced it.
    pub fn lineage(&self, id: i64) -> Result<Vec<CandidateRecord>, SearchError> {
        let mut out = Vec::new();
        let mut next = Some(id);
        while let Some(id) = next {
            let c = self.candidate(id)?.ok_or_else(|| SearchError::NotAStore {
                path: self.path.clone(),
                message: format!("no candidate {id}"),
            })?;
            next = c.parent;
            out.push(c);
            if out.len() > 1_000_000 {
                return Err(SearchError::NotAStore {
                    path: self.path.clone(),
                    message: format!("the lineage of candidate {id} has a cycle"),
                });
            }
        }
        Ok(out)
    }
}
