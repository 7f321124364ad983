//! Repeated final runs: the plans of `pangaea compare` and `pangaea final`, run through any
//! [`Executor`] (docs/method.md §5: "retrained several times (different seeds) on the full training
//! set and measured on the test set").
//!
//! Run r of every activation uses seed `seed + r`: the runs differ from each other, and each
//! activation sees the same initialisations and batch orders as the others.

use pangaea_search::{BatchObserver, CancelToken, Executor, Job, Outcome, SearchError, Store};
use pangaea_wire::{EvalRequest, EvalResult};

use crate::error::ReportError;
use crate::table::{ComparisonTable, REFERENCE};

/// One training run of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// Index of the activation in [`ComparePlan::activations`].
    pub activation: usize,
    /// The request.
    pub request: EvalRequest,
}

/// Activations and the runs that measure them.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparePlan {
    /// The table's title.
    pub title: String,
    /// `(activation, origin)` in table order.
    pub activations: Vec<(String, String)>,
    /// Every run, activation-major.
    pub runs: Vec<PlannedRun>,
}

impl ComparePlan {
    /// `runs` runs of each activation with `template`'s recipe, on the full training set with
    /// the test set measured.
    pub fn new(
        activations: Vec<(String, String)>,
        template: &EvalRequest,
        runs: usize,
        seed: u64,
    ) -> Result<ComparePlan, ReportError> {
        if activations.is_empty() {
            return Err(ReportError::Input("no activations to compare".into()));
        }
        if runs == 0 {
            return Err(ReportError::Input("--runs must be at least 1".into()));
        }
        let mut planned = Vec::new();
        for (i, (activation, _)) in activations.iter().enumerate() {
            for r in 0..runs {
                let mut request = template.clone();
                request.activation = activation.clone();
                request.label = Some(format!("act{i}-run{r}"));
                request.seed = seed.wrapping_add(r as u64);
                request.dataset.train_on_full = true;
                request.dataset.measure_test = true;
                planned.push(PlannedRun {
                    activation: i,
                    request,
                });
            }
        }
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let title = format!(
            "{} on {}, {} epoch{}, {} run{} each",
            template.architecture,
            template.dataset.name,
            template.epochs,
            plural(template.epochs),
            runs,
            plural(runs)
        );
        Ok(ComparePlan {
            title,
            activations,
            runs: planned,
        })
    }
}

/// The plan of `pangaea final`: the best parametric version of each of the store's top `k`
/// forms, then the baselines (ReLU first if listed), with the search's own training recipe on
/// the whole training set, changed by `adjust` (the caller's overrides, applied before the
/// plan is made so that its title describes the runs).
pub fn final_plan(
    store: &Store,
    k: usize,
    runs: usize,
    baselines: &[String],
    seed: u64,
    adjust: impl FnOnce(&mut EvalRequest),
) -> Result<ComparePlan, ReportError> {
    let config = store.config()?;
    let top = store.top_forms(k)?;
    if top.is_empty() {
        return Err(ReportError::Input(format!(
            "store `{}` has no evaluated candidate yet",
            store.path().display()
        )));
    }
    let mut activations: Vec<(String, String)> = Vec::new();
    let mut ordered: Vec<&String> = baselines.iter().filter(|b| *b == REFERENCE).collect();
    ordered.extend(baselines.iter().filter(|b| *b != REFERENCE));
    for b in ordered {
        activations.push((b.clone(), "baseline".to_owned()));
    }
    for t in top {
        activations.push((
            t.best.expr.clone(),
            format!("search candidate {}", t.candidate.id),
        ));
    }
    // The search's recipe, but on the whole training set: a search usually trains on a subset
    // (`limit_train`, `limit_val`) to go fast, a final comparison must not.
    let mut training = config.training;
    training.dataset.limit_train = None;
    training.dataset.limit_val = None;
    adjust(&mut training);
    training
        .check()
        .map_err(|e| ReportError::Input(format!("the final recipe: {e}")))?;
    ComparePlan::new(activations, &training, runs, seed)
}

/// Runs a plan on `executor` and builds the table. `on_done(finished, total, result)` is called
/// as each run finishes, for progress. A raised `cancel` stops the runs; the table then holds
/// the runs that finished.
pub fn run_plan(
    plan: &ComparePlan,
    executor: &mut dyn Executor,
    cancel: &CancelToken,
    on_done: &mut dyn FnMut(usize, usize, &EvalResult),
) -> Result<ComparisonTable, ReportError> {
    let requests: Vec<EvalRequest> = plan.runs.iter().map(|r| r.request.clone()).collect();
    let results = run_requests(&requests, executor, cancel, on_done)?;
    let groups: Vec<(String, String, Vec<EvalResult>)> = plan
        .activations
        .iter()
        .enumerate()
        .map(|(a, (activation, origin))| {
            let rs = plan
                .runs
                .iter()
                .zip(&results)
                .filter(|(r, _)| r.activation == a)
                .filter_map(|(_, res)| res.clone())
                .collect();
            (activation.clone(), origin.clone(), rs)
        })
        .collect();
    Ok(ComparisonTable::from_results(&plan.title, &groups))
}

/// Runs `requests` on `executor`: the result of each, in request order (None for a run a raised
/// `cancel` stopped). `on_done(finished, total, result)` is called as each run finishes.
pub fn run_requests(
    requests: &[EvalRequest],
    executor: &mut dyn Executor,
    cancel: &CancelToken,
    on_done: &mut dyn FnMut(usize, usize, &EvalResult),
) -> Result<Vec<Option<EvalResult>>, ReportError> {
    let jobs: Vec<Job> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| Job {
            id: i as i64,
            request: r.clone(),
        })
        .collect();
    /// Puts each result in its run's slot and reports progress.
    struct Slots<'a> {
        results: Vec<Option<EvalResult>>,
        finished: usize,
        on_done: &'a mut dyn FnMut(usize, usize, &EvalResult),
    }
    impl BatchObserver for Slots<'_> {
        fn submitted(&mut self, _job: &Job) -> Result<(), SearchError> {
            Ok(())
        }
        fn finished(&mut self, outcome: Outcome) -> Result<bool, SearchError> {
            self.finished += 1;
            let total = self.results.len();
            (self.on_done)(self.finished, total, &outcome.result);
            if let Some(slot) = self.results.get_mut(outcome.id as usize) {
                *slot = Some(outcome.result);
            }
            Ok(true)
        }
    }
    let mut slots = Slots {
        results: vec![None; jobs.len()],
        finished: 0,
        on_done,
    };
    executor.run_batch(jobs, &mut slots, cancel)?;
    Ok(slots.results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pangaea_search::{CancelToken, InProcessExecutor};
    use pangaea_wire::Status;

    /// A stand-in for training: test accuracy is a function of activation and seed.
    fn fake(request: &EvalRequest) -> EvalResult {
        assert!(request.dataset.train_on_full && request.dataset.measure_test);
        let mut r = EvalResult::not_run(
            request.label.clone(),
            &request.activation,
            Status::Ok,
            String::new(),
        );
        r.reason = None;
        let base = if request.activation == "relu" {
            0.90
        } else {
            0.93
        };
        r.test_accuracy = Some(base + 0.001 * request.seed as f64);
        r
    }

    #[test]
    fn a_plan_runs_every_activation_with_distinct_seeds() {
        let acts = vec![
            ("relu".to_owned(), "baseline".to_owned()),
            ("x * sigmoid(x)".to_owned(), "given".to_owned()),
        ];
        let plan = ComparePlan::new(acts, &EvalRequest::default(), 3, 10).unwrap();
        assert_eq!(plan.runs.len(), 6);
        let seeds: Vec<u64> = plan.runs.iter().map(|r| r.request.seed).collect();
        assert_eq!(seeds, vec![10, 11, 12, 10, 11, 12]);
        let mut executor = InProcessExecutor::new(2, fake);
        let mut calls = 0;
        let table = run_plan(
            &plan,
            &mut executor,
            &CancelToken::new(),
            &mut |_, total, _| {
                calls += 1;
                assert_eq!(total, 6);
            },
        )
        .unwrap();
        assert_eq!(calls, 6);
        assert_eq!(table.rows[0].summary.n, 3);
        assert!((table.rows[0].summary.mean - 0.911).abs() < 1e-12);
        assert!((table.rows[1].summary.mean - 0.941).abs() < 1e-12);
        assert!(table.rows[1].vs_relu.unwrap().p < 1e-3);
    }

    #[test]
    fn empty_plans_are_refused() {
        assert!(ComparePlan::new(vec![], &EvalRequest::default(), 3, 0).is_err());
        let acts = vec![("relu".to_owned(), "baseline".to_owned())];
        assert!(ComparePlan::new(acts, &EvalRequest::default(), 0, 0).is_err());
    }
}
