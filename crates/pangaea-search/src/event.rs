//! [`SearchEvent`]: what the coordinator reports as it goes, and the [`EventSink`]s that
//! observe it (ARCHITECTURE.md, convention 14). Sinks only observe; the coordinator writes the store.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::SearchError;

/// Why a search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `stop.generations` reached.
    Generations,
    /// `stop.evaluations` reached.
    Evaluations,
    /// `stop.wall_seconds` reached.
    WallTime,
    /// A generation produced no new form to evaluate and the population cannot change.
    Exhausted,
    /// Stopped early by the caller ([`crate::RunOptions`]); the store can be resumed.
    Interrupted,
}

/// One thing that happened in a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SearchEvent {
    /// The coordinator started (or resumed).
    SearchStarted {
        /// The store file.
        store: PathBuf,
        /// Whether it continues an existing store.
        resumed: bool,
        /// Evaluations already finished in the store.
        evaluations_done: usize,
        /// The generation limit, if any.
        generation_limit: Option<usize>,
        /// The evaluation limit, if any.
        evaluation_limit: Option<usize>,
        /// How many evaluations the search will run at most when it stops by its generation
        /// or evaluation limit (every planned form trained, no duplicates): the ETA's basis.
        expected_evaluations: Option<usize>,
        /// The rung of the full recipe (`[fidelity]`; 0 without rungs): only fitness at this
        /// rung is comparable with the baselines'.
        top_rung: usize,
    },
    /// A generation's candidates were planned and stored.
    GenerationStarted {
        /// Generation number (0 = initial population).
        generation: usize,
        /// Candidates in it (new, rejected and duplicates).
        candidates: usize,
        /// Evaluations it still has to run.
        evaluations: usize,
    },
    /// Multi-fidelity (`[fidelity]`): the generation's best versions at the rung below `rung`
    /// are trained again at `rung`, after every evaluation below finished.
    Promoted {
        /// Generation number.
        generation: usize,
        /// The rung they are promoted to (the top rung is the full `[training]` recipe).
        rung: usize,
        /// Runs planned now, one per promoted version.
        evaluations: usize,
        /// The forms they are versions of.
        candidates: usize,
    },
    /// Re-evaluation: the generation's best forms (and the baselines) get extra runs, after
    /// its other evaluations finished.
    ExtraRuns {
        /// Generation number.
        generation: usize,
        /// Extra runs planned now.
        evaluations: usize,
        /// The forms they are for.
        candidates: usize,
    },
    /// A candidate was refused before training.
    CandidateRejected {
        /// Candidate id.
        candidate: i64,
        /// Its form.
        expr: String,
        /// Why (`code: message`).
        reason: String,
    },
    /// The pre-screen skipped a child: its predicted fitness was among its generation's lowest.
    CandidateScreened {
        /// Candidate id.
        candidate: i64,
        /// Its form.
        expr: String,
        /// Its predicted fitness.
        predicted: f64,
    },
    /// A candidate is equivalent to an earlier one and inherits its result.
    CandidateDuplicate {
        /// Candidate id.
        candidate: i64,
        /// Its form.
        expr: String,
        /// The earlier candidate.
        original: i64,
    },
    /// An evaluation went to the executor.
    EvaluationSubmitted {
        /// Evaluation id.
        evaluation: i64,
        /// Its candidate.
        candidate: i64,
        /// The parametric expression.
        expr: String,
    },
    /// An evaluation finished (from the executor or the cache) and is stored.
    EvaluationFinished {
        /// Evaluation id.
        evaluation: i64,
        /// Its candidate.
        candidate: i64,
        /// The parametric expression.
        expr: String,
        /// `ok`, `diverged`, `rejected`, `failed`.
        status: String,
        /// Why, when not ok.
        reason: Option<String>,
        /// Its fitness (`None`: the worst).
        fitness: Option<f64>,
        /// Whether the result came from the cache.
        cached: bool,
        /// Whether it is a baseline's (a reference, not a candidate of the search).
        baseline: bool,
        /// Which run of its version: 0 = the first, r ≥ 1 = an extra run (re-evaluation).
        replicate: usize,
        /// The rung it was trained at (`[fidelity]`; 0 without rungs): fitness of different
        /// rungs are not comparable.
        rung: usize,
        /// Seconds it took.
        wall_seconds: f64,
    },
    /// A generation ended and its population is stored.
    GenerationFinished {
        /// Generation number.
        generation: usize,
        /// The best form of the population: (candidate, form, fitness).
        best: Option<(i64, String, f64)>,
        /// Evaluations finished in the whole search.
        evaluations_done: usize,
    },
    /// The search stopped.
    SearchFinished {
        /// Why.
        reason: StopReason,
        /// The last finished generation.
        generation: Option<usize>,
        /// Evaluations finished in the whole search.
        evaluations_done: usize,
        /// The best form of the final population: (candidate, form, fitness).
        best: Option<(i64, String, f64)>,
    },
}

/// Something that observes search events.
pub trait EventSink {
    /// Called for every event, in order.
    fn event(&mut self, event: &SearchEvent);
}

/// Ignores every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn event(&mut self, _event: &SearchEvent) {}
}

impl EventSink for Vec<SearchEvent> {
    fn event(&mut self, event: &SearchEvent) {
        self.push(event.clone());
    }
}

/// Sends each event to every sink of a list.
pub struct Fanout<'a>(pub Vec<&'a mut dyn EventSink>);

impl EventSink for Fanout<'_> {
    fn event(&mut self, event: &SearchEvent) {
        for sink in &mut self.0 {
            sink.event(event);
        }
    }
}

/// Appends events as JSON Lines (one object per line, with a Unix `time` field) to a file.
#[derive(Debug)]
pub struct JsonLinesLog {
    file: std::fs::File,
}

impl JsonLinesLog {
    /// Opens `path` for appending (a resumed search continues the same log).
    pub fn open(path: &Path) -> Result<JsonLinesLog, SearchError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| SearchError::Io {
                path: path.to_owned(),
                doing: "open the event log",
                source,
            })?;
        Ok(JsonLinesLog { file })
    }

    /// The log file that goes with a store: `RUN.db` → `RUN.events.jsonl`.
    pub fn path_for_store(store: &Path) -> PathBuf {
        store.with_extension("events.jsonl")
    }
}

impl EventSink for JsonLinesLog {
    fn event(&mut self, event: &SearchEvent) {
        let mut value = serde_json::to_value(event).expect("events serialize");
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("time".to_owned(), crate::clock::unix_now().into());
        }
        // A log that cannot be written must not stop the search: the store is the truth.
        let _ = writeln!(self.file, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_log_writes_one_tagged_object_per_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = JsonLinesLog::path_for_store(&dir.path().join("run.db"));
        assert!(path.ends_with("run.events.jsonl"));
        let mut log = JsonLinesLog::open(&path).unwrap();
        log.event(&SearchEvent::CandidateRejected {
            candidate: 3,
            expr: "exp(exp(x))".into(),
            reason: "non_finite_value: overflow".into(),
        });
        log.event(&SearchEvent::GenerationStarted {
            generation: 1,
            candidates: 4,
            evaluations: 9,
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "candidate_rejected");
        assert_eq!(lines[0]["candidate"], 3);
        assert_eq!(lines[1]["event"], "generation_started");
        assert!(lines[1]["time"].as_f64().unwrap() > 0.0);
    }
}
