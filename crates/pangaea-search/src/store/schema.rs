//! The SQL of the store: the tables of schema [`SCHEMA_VERSION`] and the migrations from older
//! versions (kept in SQLite's `user_version`).

/// The schema version this code writes, and the newest it reads.
pub const SCHEMA_VERSION: u32 = 5;

pub(super) const SCHEMA: &str = "
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

/// The `slurm_jobs` table and its index, with `$reference` after the evaluation column: the
/// search schema's reference to `evaluations`, or nothing in a file that is not a search store
/// (`SlurmLedger`). One definition for both.
macro_rules! slurm_jobs_table {
    ($create:literal, $reference:literal) => {
        concat!(
            $create,
            " slurm_jobs (
    batch INTEGER NOT NULL,
    task INTEGER NOT NULL,
    evaluation_id INTEGER NOT NULL",
            $reference,
            ",
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
CREATE INDEX IF NOT EXISTS slurm_jobs_evaluation ON slurm_jobs(evaluation_id);
"
        )
    };
}
pub(super) use slurm_jobs_table;

/// Schema 1 → 2: the Slurm executor's job ledger.
pub(super) const MIGRATION_2: &str =
    slurm_jobs_table!("CREATE TABLE", " REFERENCES evaluations(id)");

/// Schema 2 → 3: re-evaluation. An evaluation names the generation that planned it (a form's
/// extra runs are planned by later generations) and its run (`replicate`: 0 = the first run,
/// r = the extra run with seed `training.seed + r`); a candidate stores how many runs its
/// standing version's fitness is the mean of, and their standard error.
pub(super) const MIGRATION_3: &str = "
ALTER TABLE evaluations ADD COLUMN generation INTEGER;
ALTER TABLE evaluations ADD COLUMN replicate INTEGER NOT NULL DEFAULT 0;
UPDATE evaluations SET generation =
    (SELECT generation FROM candidates WHERE candidates.id = evaluations.candidate_id);
CREATE INDEX evaluations_generation ON evaluations(generation);
ALTER TABLE candidates ADD COLUMN runs INTEGER;
ALTER TABLE candidates ADD COLUMN fitness_se REAL;
UPDATE candidates SET runs = 1 WHERE best_evaluation IS NOT NULL;
";

/// Schema 3 → 4: the pre-screen. A candidate stores its predicted fitness (the state
/// `screened` needs no change: states are text).
pub(super) const MIGRATION_4: &str = "
ALTER TABLE candidates ADD COLUMN predicted REAL;
";

/// Schema 4 → 5: multi-fidelity evaluation. An evaluation names the rung whose recipe it was
/// trained with, a candidate the rung of its standing version (older searches had one rung, 0).
pub(super) const MIGRATION_5: &str = "
ALTER TABLE evaluations ADD COLUMN rung INTEGER NOT NULL DEFAULT 0;
ALTER TABLE candidates ADD COLUMN rung INTEGER NOT NULL DEFAULT 0;
";
