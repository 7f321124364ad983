//! Reading a store: its configuration and progress, candidates, evaluations, populations, and
//! the views the report and the CLI use (best so far, top forms, lineage).

use rusqlite::OptionalExtension;

use super::records::{
    BestPoint, CandidateRecord, CandidateState, EvaluationRecord, PopulationMember, TopForm,
};
use super::Store;
use crate::config::SearchConfig;
use crate::error::SearchError;

const CANDIDATE_COLUMNS: &str =
    "id, generation, expr, canonical, fingerprint, parent_id, mutation, \
     mutation_detail, state, reason, duplicate_of, fitness, best_evaluation, runs, fitness_se, \
     predicted, rung";
/// The same from a schema-4 store opened read-only: every run was at rung 0.
const CANDIDATE_COLUMNS_4: &str =
    "id, generation, expr, canonical, fingerprint, parent_id, mutation, \
     mutation_detail, state, reason, duplicate_of, fitness, best_evaluation, runs, fitness_se, \
     predicted, 0";
/// The same from a schema-3 store opened read-only: nothing was predicted.
const CANDIDATE_COLUMNS_3: &str =
    "id, generation, expr, canonical, fingerprint, parent_id, mutation, \
     mutation_detail, state, reason, duplicate_of, fitness, best_evaluation, runs, fitness_se, \
     NULL, 0";
/// The same from a schema-2 store opened read-only: every fitness is one run's.
const CANDIDATE_COLUMNS_2: &str =
    "id, generation, expr, canonical, fingerprint, parent_id, mutation, \
     mutation_detail, state, reason, duplicate_of, fitness, best_evaluation, \
     CASE WHEN best_evaluation IS NULL THEN NULL ELSE 1 END, NULL, NULL, 0";
const EVALUATION_COLUMNS: &str = "id, candidate_id, version, expr, request_json, status, reason, \
     result_json, fitness, wall_seconds, attempts, source, finished_at, generation, replicate, \
     rung";
/// The same from a schema-3 or 4 store opened read-only: every run was at rung 0.
const EVALUATION_COLUMNS_3: &str = "id, candidate_id, version, expr, request_json, status, \
     reason, result_json, fitness, wall_seconds, attempts, source, finished_at, generation, \
     replicate, 0";
/// The same from a schema-2 store opened read-only: an evaluation belongs to its candidate's
/// generation and is its first run.
const EVALUATION_COLUMNS_2: &str = "id, candidate_id, version, expr, request_json, status, \
     reason, result_json, fitness, wall_seconds, attempts, source, finished_at, \
     (SELECT generation FROM candidates WHERE candidates.id = evaluations.candidate_id), 0, 0";

impl Store {
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

    fn candidate_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CandidateRecord> {
        Ok(CandidateRecord {
            id: r.get(0)?,
            generation: r.get::<_, i64>(1)? as usize,
            expr: r.get(2)?,
            canonical: r.get(3)?,
            fingerprint: r.get(4)?,
            parent: r.get(5)?,
            mutation: r.get(6)?,
            mutation_detail: r.get(7)?,
            state: r.get(8)?,
            reason: r.get(9)?,
            duplicate_of: r.get(10)?,
            fitness: r.get(11)?,
            best_evaluation: r.get(12)?,
            runs: r.get::<_, Option<i64>>(13)?.map_or(0, |n| n as usize),
            fitness_se: r.get(14)?,
            predicted: r.get(15)?,
            rung: r.get::<_, i64>(16)? as usize,
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
            generation: r.get::<_, i64>(13)? as usize,
            replicate: r.get::<_, i64>(14)? as usize,
            rung: r.get::<_, i64>(15)? as usize,
        })
    }

    fn query_candidates(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<CandidateRecord>, SearchError> {
        let columns = match self.schema {
            5.. => CANDIDATE_COLUMNS,
            4 => CANDIDATE_COLUMNS_4,
            3 => CANDIDATE_COLUMNS_3,
            _ => CANDIDATE_COLUMNS_2,
        };
        let sql = format!("SELECT {columns} FROM candidates {filter} ORDER BY id");
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
        let columns = match self.schema {
            5.. => EVALUATION_COLUMNS,
            3 | 4 => EVALUATION_COLUMNS_3,
            _ => EVALUATION_COLUMNS_2,
        };
        let sql = format!("SELECT {columns} FROM evaluations {filter} ORDER BY id");
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

    /// The evaluations a generation planned (its candidates' versions and the extra runs of
    /// earlier forms), in order.
    pub fn generation_evaluations(
        &self,
        generation: usize,
    ) -> Result<Vec<EvaluationRecord>, SearchError> {
        if self.schema >= 3 {
            self.query_evaluations("WHERE generation = ?1", [generation as i64])
        } else {
            self.query_evaluations(
                "WHERE candidate_id IN (SELECT id FROM candidates WHERE generation = ?1)",
                [generation as i64],
            )
        }
    }

    /// The fitness of every finished run of one version of a candidate at one rung, in run
    /// order (`None` for a run that did not finish ok).
    pub fn version_runs(
        &self,
        candidate: i64,
        version: usize,
        rung: usize,
    ) -> Result<Vec<Option<f64>>, SearchError> {
        Ok(self
            .candidate_evaluations(candidate)?
            .into_iter()
            .filter(|e| e.version == version && e.rung == rung && e.is_finished())
            .map(|e| e.fitness)
            .collect())
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
    /// out), each with the best fitness so far at the full recipe (the curve of a search's
    /// progress; with rungs, cheaper rungs' fitness is not comparable and does not count).
    pub fn best_so_far(&self) -> Result<Vec<BestPoint>, SearchError> {
        let top = self.config()?.fidelity.top();
        let baselines: std::collections::HashSet<i64> =
            self.baselines()?.into_iter().map(|c| c.id).collect();
        let mut best: Option<(f64, i64)> = None;
        let mut out = Vec::new();
        for e in self.evaluations()? {
            if !e.is_finished() || baselines.contains(&e.candidate) {
                continue;
            }
            if let (Some(f), true) = (e.fitness, e.rung == top) {
                if best.is_none_or(|(b, _)| f > b) {
                    best = Some((f, e.id));
                }
            }
            out.push(BestPoint {
                evaluation: e.id,
                fitness: e.fitness,
                best: best.map(|b| b.0),
                best_evaluation: best.map(|b| b.1),
                rung: e.rung,
            });
        }
        Ok(out)
    }

    /// The reference activations of the search (state `baseline`), in candidate order; their
    /// `fitness` is set once generation 0 has ended.
    pub fn baselines(&self) -> Result<Vec<CandidateRecord>, SearchError> {
        self.query_candidates("WHERE state = ?1", [CandidateState::Baseline])
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

    /// The `k` best evaluated forms (duplicates and rejected ones excluded), best first as the
    /// search ranks them (the highest rung reached first, then the fitness; with
    /// re-evaluation, its lower confidence bound over the form's runs), ties broken by
    /// candidate order, each with its best parametric version.
    pub fn top_forms(&self, k: usize) -> Result<Vec<TopForm>, SearchError> {
        let re = self.config()?.reevaluation;
        let mut candidates = self.query_candidates(
            "WHERE state = ?1 AND fitness IS NOT NULL",
            [CandidateState::Evaluated],
        )?;
        candidates.sort_by(|a, b| {
            crate::fitness::compare_ranked(
                (re.score(a.fitness, a.runs.max(1)), a.rung),
                (re.score(b.fitness, b.runs.max(1)), b.rung),
            )
            .then(a.id.cmp(&b.id))
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
        let mut out: Vec<CandidateRecord> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut next = Some(id);
        while let Some(current) = next {
            if !seen.insert(current) {
                return Err(SearchError::LineageCycle {
                    path: self.path.clone(),
                    candidate: id,
                    repeated: current,
                });
            }
            let c = self
                .candidate(current)?
                .ok_or_else(|| SearchError::NoCandidate {
                    path: self.path.clone(),
                    candidate: current,
                })?;
            next = c.parent;
            out.push(c);
        }
        Ok(out)
    }
}
