//! Running a study's plan through an [`Executor`], resumably: every finished run is stored in
//! the study's results file (a [`Cache`], keyed by the full request) the moment it finishes, so
//! a study killed at any point and started again runs only what had not finished. Runs that
//! failed (time limit, crash, missing data) are not stored and run again; diverged runs are
//! results and are kept.

use std::collections::HashMap;

use pangaea_search::{BatchObserver, Cache, CancelToken, Executor, Job, Outcome, SearchError};
use pangaea_wire::EvalResult;

use crate::error::ReportError;
use crate::study::config::StudyPlan;

/// What a study's execution reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum StudyEvent<'a> {
    /// Before any run: how many of the plan's runs the results file already holds.
    Resumed {
        /// Runs already finished (read from the results file).
        finished: usize,
        /// Runs in the plan.
        total: usize,
    },
    /// A run finished (a run two cells share counts once).
    RunFinished {
        /// Runs finished in this execution so far.
        done: usize,
        /// Distinct runs this execution has to do.
        todo: usize,
        /// The run's cell name.
        cell: &'a str,
        /// The result.
        result: &'a EvalResult,
    },
}

/// A plan with the results of its runs, in plan order (`None`: not run, or stopped).
#[derive(Debug, Clone, PartialEq)]
pub struct StudyResults {
    /// The plan.
    pub plan: StudyPlan,
    /// One slot per run of the plan.
    pub results: Vec<Option<EvalResult>>,
}

impl StudyResults {
    /// How many runs have a result.
    pub fn finished(&self) -> usize {
        self.results.iter().filter(|r| r.is_some()).count()
    }
}

/// Runs every run of `plan` that `cache` does not hold yet on `executor`, storing each result
/// in `cache` as it finishes. A raised `cancel` stops the runs; the results then hold what
/// finished, and everything finished is in `cache` for the next start.
pub fn run_study(
    plan: StudyPlan,
    executor: &mut dyn Executor,
    cache: &Cache,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(StudyEvent<'_>),
) -> Result<StudyResults, ReportError> {
    let mut results = Vec::with_capacity(plan.runs.len());
    for run in &plan.runs {
        results.push(cache.get(&run.request)?);
    }
    let finished = results.iter().filter(|r| r.is_some()).count();
    on_event(StudyEvent::Resumed {
        finished,
        total: plan.runs.len(),
    });
    // One job per distinct request (two cells may ask for the same run), numbered by the
    // results file so that an executor adopting live tasks by id (Slurm) finds the same run.
    let mut jobs: Vec<Job> = Vec::new();
    let mut runs_of_job: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, run) in plan.runs.iter().enumerate() {
        if results[i].is_some() {
            continue;
        }
        let id = cache.request_id(&run.request)?;
        let runs = runs_of_job.entry(id).or_default();
        if runs.is_empty() {
            jobs.push(Job {
                id,
                request: run.request.clone(),
            });
        }
        runs.push(i);
    }
    if !jobs.is_empty() {
        let mut observer = Recorder {
            plan: &plan,
            cache,
            results: &mut results,
            runs_of_job: &runs_of_job,
            done: 0,
            todo: jobs.len(),
            on_event,
        };
        executor.run_batch(jobs, &mut observer, cancel)?;
    }
    Ok(StudyResults { plan, results })
}

/// Stores each finished run in the results file and in its slots, and reports it.
struct Recorder<'a> {
    plan: &'a StudyPlan,
    cache: &'a Cache,
    results: &'a mut Vec<Option<EvalResult>>,
    runs_of_job: &'a HashMap<i64, Vec<usize>>,
    done: usize,
    todo: usize,
    on_event: &'a mut dyn FnMut(StudyEvent<'_>),
}

impl BatchObserver for Recorder<'_> {
    fn submitted(&mut self, _job: &Job) -> Result<(), SearchError> {
        Ok(())
    }

    fn finished(&mut self, outcome: Outcome) -> Result<bool, SearchError> {
        let runs = self.runs_of_job.get(&outcome.id).ok_or_else(|| {
            SearchError::Executor(format!(
                "a result for job {}, which was not asked for",
                outcome.id
            ))
        })?;
        let first = &self.plan.runs[runs[0]];
        self.cache.put(&first.request, &outcome.result)?;
        self.done += 1;
        (self.on_event)(StudyEvent::RunFinished {
            done: self.done,
            todo: self.todo,
            cell: &self.plan.cells[first.cell].name,
            result: &outcome.result,
        });
        for &i in runs {
            let mut result = outcome.result.clone();
            result.label = self.plan.runs[i].request.label.clone();
            self.results[i] = Some(result);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use pangaea_search::InProcessExecutor;
    use pangaea_wire::{EvalRequest, ParamSnapshot, SiteRecord, Status};

    use super::*;
    use crate::study::config::{CellSpec, StudyConfig};
    use crate::study::page::write_study;
    use crate::study::table::StudyTable;

    /// A stand-in for training: test accuracy from activation and seed; the run with seed 2 of
    /// `tanh(x)` fails the first `failures` times it is asked for.
    fn fake(request: &EvalRequest, calls: &AtomicUsize, failures: usize) -> EvalResult {
        let call = calls.fetch_add(1, Ordering::SeqCst);
        let mut r = EvalResult::not_run(
            request.label.clone(),
            &request.activation,
            Status::Ok,
            String::new(),
        );
        if request.activation == "tanh(x)" && request.seed == 2 && call < failures {
            r.status = Status::Failed;
            r.reason = Some("time limit".into());
            return r;
        }
        r.reason = None;
        let base = match request.activation.as_str() {
            "relu" => 0.90,
            "alpha * tanh(beta * x)" => 0.92,
            _ => 0.85,
        };
        r.test_accuracy = Some(base + 0.002 * request.seed as f64);
        r.epochs = (1..=2)
            .map(|epoch| pangaea_wire::EpochRecord {
                epoch,
                train_loss: 0.5,
                train_accuracy: 0.8,
                val_loss: 0.5,
                val_accuracy: 0.8,
                lr: 0.1,
                seconds: 1.0,
            })
            .collect();
        let site = |v: f32| SiteRecord {
            site: "block1.act".into(),
            params: BTreeMap::from([("alpha".to_owned(), vec![v, v + 0.1])]),
        };
        r.activation_params = (0..=4)
            .map(|k| ParamSnapshot {
                epoch: k / 2,
                step: Some(k),
                progress: Some(k as f64 / 4.0),
                sites: vec![site(1.0 + 0.1 * k as f32)],
            })
            .collect();
        r
    }

    fn config() -> StudyConfig {
        let cell = |arch| {
            CellSpec::new(
                arch,
                pangaea_wire::DatasetName::Synthetic,
                serde_json::json!({ "epochs": 1 }),
            )
        };
        StudyConfig {
            title: "unit".into(),
            runs: 3,
            functions: vec![
                "relu".into(),
                "alpha * tanh(beta * x)".into(),
                "tanh(x)".into(),
            ],
            cells: vec![
                cell(pangaea_wire::Arch::Tiny),
                cell(pangaea_wire::Arch::ResNetV1_20),
            ],
            ..StudyConfig::default()
        }
    }

    #[test]
    fn a_second_start_runs_only_what_did_not_finish() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("study.db")).unwrap();
        let calls = std::sync::Arc::new(AtomicUsize::new(0));
        let plan = config().plan().unwrap();
        let total = plan.runs.len();
        assert_eq!(total, 18);
        let run = |plan: StudyPlan, failures: usize| {
            let c = calls.clone();
            let mut executor =
                InProcessExecutor::new(2, move |r: &EvalRequest| fake(r, &c, failures));
            let mut events = Vec::new();
            let results = run_study(plan, &mut executor, &cache, &CancelToken::new(), &mut |e| {
                events.push(match e {
                    StudyEvent::Resumed { finished, total } => (finished, total),
                    StudyEvent::RunFinished { done, todo, .. } => (done, todo),
                })
            })
            .unwrap();
            (results, events)
        };
        // First start: two runs of `tanh(x)` (seed 2 in both cells) fail, as a killed worker would.
        let (first, events) = run(plan.clone(), 100);
        assert_eq!(events[0], (0, total));
        assert_eq!(events.len(), 1 + total);
        assert_eq!(calls.load(Ordering::SeqCst), total);
        let failed = first
            .results
            .iter()
            .filter(|r| r.as_ref().unwrap().status == Status::Failed)
            .count();
        assert_eq!(failed, 2);
        // Second start: only the two failed runs run again.
        calls.store(0, Ordering::SeqCst);
        let (second, events) = run(plan.clone(), 0);
        assert_eq!(events[0], (total - 2, total));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(second
            .results
            .iter()
            .all(|r| r.as_ref().unwrap().status == Status::Ok));
        // Third start: nothing to run; the table is the same as the second's.
        calls.store(0, Ordering::SeqCst);
        let (third, _) = run(plan, 0);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(
            StudyTable::from_results(&third),
            StudyTable::from_results(&second)
        );
        let t = StudyTable::from_results(&third);
        assert_eq!((t.rows[1].wins, t.rows[1].losses), (2, 0));
        assert_eq!((t.rows[2].wins, t.rows[2].losses), (0, 2));
    }

    #[test]
    fn a_run_two_cells_share_is_trained_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("study.db")).unwrap();
        let mut config = config();
        config.cells[1] = config.cells[0].clone();
        config.cells[1].name = Some("the same again".into());
        let plan = config.plan().unwrap();
        let calls = std::sync::Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let mut executor = InProcessExecutor::new(2, move |r: &EvalRequest| fake(r, &c, 0));
        let study = run_study(
            plan,
            &mut executor,
            &cache,
            &CancelToken::new(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 9);
        assert_eq!(study.finished(), 18);
        for (run, result) in study.plan.runs.iter().zip(&study.results) {
            assert_eq!(result.as_ref().unwrap().label, run.request.label);
        }
        let t = StudyTable::from_results(&study);
        assert_eq!(t.rows[1].entries[0], t.rows[1].entries[1]);
    }

    #[test]
    fn the_page_has_the_table_strip_plots_and_learned_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("study.db")).unwrap();
        let calls = std::sync::Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let mut executor = InProcessExecutor::new(1, move |r: &EvalRequest| fake(r, &c, 0));
        let study = run_study(
            config().plan().unwrap(),
            &mut executor,
            &cache,
            &CancelToken::new(),
            &mut |_| {},
        )
        .unwrap();
        let out = dir.path().join("page");
        let files = write_study(&study, &out).unwrap();
        let html = std::fs::read_to_string(&files.index).unwrap();
        for needle in [
            "<table>",
            "tiny / synthetic",
            "resnet-v1-20 / synthetic",
            "2 / 0 / 0",
            "General or specialised",
            "general: better than ReLU in every cell tested (2 of 2)",
            "<details open><summary><code>alpha * tanh(beta * x)</code> in tiny / synthetic",
            "block1.act",
        ] {
            assert!(html.contains(needle), "{needle:?} missing from the page");
        }
        for outside in ["src=\"http", "href=\"http", "<script", "@import"] {
            assert!(
                !html.contains(outside),
                "the page loads nothing from outside"
            );
        }
        assert_eq!(html.matches("<svg").count(), files.charts.len());
        // Two strip plots, and per parametric function and cell one parameter chart and one
        // learned-shape chart.
        assert_eq!(files.charts.len(), 2 + 2 * 2);
        for name in [
            "table.md",
            "table.json",
            "table.tex",
            "runs-1.svg",
            "runs-2.svg",
        ] {
            assert!(out.join(name).is_file(), "{name}");
        }
    }
}
