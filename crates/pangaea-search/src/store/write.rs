//! Writing a search: a generation's plan, each finished evaluation, a generation's end. Each
//! is one transaction, so a process killed at any instant leaves the store as it was before
//! or after the write, never in between.

use pangaea_wire::JsonFile;
use rusqlite::params;

use super::records::{
    DuplicateOf, FinishedEvaluation, FitnessUpdate, NewCandidate, NewRun, Survivor,
};
use super::sql::sql_err;
use super::Store;
use crate::clock::unix_now;
use crate::error::SearchError;

impl Store {
    /// Stores a generation's plan in one transaction; returns the new candidates' ids.
    pub fn insert_plan(
        &mut self,
        generation: usize,
        plan: &[NewCandidate],
    ) -> Result<Vec<i64>, SearchError> {
        let doing = format!("storing the plan of generation {generation}");
        let sql = || sql_err(&self.path, &doing);
        let tx = self.conn.transaction().map_err(sql())?;
        let mut ids: Vec<i64> = Vec::with_capacity(plan.len());
        for c in plan {
            let duplicate_of = c.duplicate_of.map(|d| match d {
                DuplicateOf::Stored(id) => id,
                DuplicateOf::InPlan(i) => ids[i],
            });
            let origin = c.origin.as_ref();
            tx.execute(
                "INSERT INTO candidates (generation, expr, canonical, fingerprint, parent_id, \
                 mutation, mutation_detail, state, reason, duplicate_of, predicted) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    generation as i64,
                    c.form.to_string(),
                    c.form.canonical_text(),
                    c.form.fingerprint().to_string(),
                    origin.map(|o| o.parent),
                    origin.map(|o| &o.mutation),
                    origin.map(|o| &o.detail),
                    c.state,
                    c.reason,
                    duplicate_of,
                    c.predicted
                ],
            )
            .map_err(sql())?;
            let id = tx.last_insert_rowid();
            ids.push(id);
            for (version, (expr, request)) in c.versions.iter().enumerate() {
                tx.execute(
                    "INSERT INTO evaluations (candidate_id, version, expr, request_json, \
                     generation, replicate, rung) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
                    params![
                        id,
                        version as i64,
                        expr,
                        request,
                        generation as i64,
                        c.rung as i64
                    ],
                )
                .map_err(sql())?;
            }
        }
        tx.commit().map_err(sql())?;
        Ok(ids)
    }

    /// Stores more runs of stored versions (promotions to a higher rung, re-evaluation's extra
    /// runs) planned by generation `generation`, in one transaction.
    pub fn insert_runs(&mut self, generation: usize, runs: &[NewRun]) -> Result<(), SearchError> {
        let doing = format!("storing the extra runs of generation {generation}");
        let sql = || sql_err(&self.path, &doing);
        let tx = self.conn.transaction().map_err(sql())?;
        for r in runs {
            tx.execute(
                "INSERT INTO evaluations (candidate_id, version, expr, request_json, \
                 generation, replicate, rung) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    r.candidate,
                    r.version as i64,
                    r.expr,
                    r.request,
                    generation as i64,
                    r.replicate as i64,
                    r.rung as i64
                ],
            )
            .map_err(sql())?;
        }
        tx.commit().map_err(sql())
    }

    /// Stores one finished evaluation in one transaction.
    pub fn record_evaluation(&mut self, e: &FinishedEvaluation) -> Result<(), SearchError> {
        let doing = format!("storing the result of evaluation {}", e.id);
        let sql = || sql_err(&self.path, &doing);
        let tx = self.conn.transaction().map_err(sql())?;
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
                    unix_now()
                ],
            )
            .map_err(sql())?;
        if changed != 1 {
            // Nothing was written: leave the transaction unfinished (rolled back on drop).
            return Err(SearchError::NotPending {
                path: self.path.clone(),
                evaluation: e.id,
            });
        }
        tx.commit().map_err(sql())
    }

    /// Ends a generation in one transaction: each candidate of `updates` gets its fitness and
    /// becomes `evaluated` (duplicates and baselines keep their state), the `population` is
    /// stored in rank order, and the elapsed wall time is updated.
    pub fn finish_generation(
        &mut self,
        generation: usize,
        updates: &[FitnessUpdate],
        population: &[Survivor],
        elapsed_seconds: f64,
    ) -> Result<(), SearchError> {
        let doing = format!("storing the end of generation {generation}");
        let sql = || sql_err(&self.path, &doing);
        let tx = self.conn.transaction().map_err(sql())?;
        for u in updates {
            tx.execute(
                "UPDATE candidates SET fitness = ?2, best_evaluation = ?3, runs = ?4, \
                 fitness_se = ?5, rung = ?6, \
                 state = CASE state WHEN 'pending' THEN 'evaluated' ELSE state END WHERE id = ?1",
                params![
                    u.candidate,
                    u.fitness,
                    u.best_evaluation,
                    u.runs as i64,
                    u.fitness_se,
                    u.rung as i64
                ],
            )
            .map_err(sql())?;
        }
        for (rank, s) in population.iter().enumerate() {
            tx.execute(
                "INSERT INTO populations (generation, rank, candidate_id, fitness) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![generation as i64, rank as i64, s.candidate, s.fitness],
            )
            .map_err(sql())?;
        }
        tx.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'elapsed_seconds'",
            [elapsed_seconds.to_string()],
        )
        .map_err(sql())?;
        tx.commit().map_err(sql())
    }
}
