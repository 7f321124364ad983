//! Repeated final runs: the plans of `pangaea compare` and `pangaea final`, run through any
//! [`Executor`] (METHOD.md §5: "retrained several times (different seeds) on the full training
//! set and measured on the test set").
//!
//! Run r of every activation uses seed `seed + r`: the runs differ from each other, and each
//! activation sees the same initialisations and batch orders as the others.

use pangaea_search::{Executor, Job, Store};
use pangaea_train::{EvalRequest, EvalResult};

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
/// forms, then the baselines (ReLU first if listed), with the search's own training recipe.
pub fn final_plan(
    store: &Store,
    k: usize,
    runs: usize,
    baselines: &[String],
    seed: u64,
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
    ComparePlan::new(activations, &training, runs, seed)
}

/// Runs a plan on `executor` and builds the table. `on_done(finished, total, result)` is called
/// as each run finishes, for progress.
pub fn run_plan(
    plan: &ComparePlan,
    executor: &mut dyn Executor,
    on_done: &mut dyn FnMut(usize, usize, &EvalResult),
) -> Result<ComparisonTable, ReportError> {
    let jobs: Vec<Job> = plan
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| Job {
            id: i as i64,
            request: r.request.clone(),
        })
        .collect();
    let total = jobs.len();
    let mut results: Vec<Option<EvalResult>> = vec![None; total];
    let mut finished = 0usize;
    executor.run_batch(jobs, &mut |_| Ok(()), &mut |outcome| {
        let i = outcome.id as usize;
        finished += 1;
        on_done(finished, total, &outcome.result);
        if let Some(slot) = results.get_mut(i) {
            *slot = Some(outcome.result);
        }
        Ok(true)
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use pangaea_search::InProcessExecutor;
    use pangaea_train::Status;

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
        let table = run_plan(&plan, &mut executor, &mut |_, total, _| {
            calls += 1;
            assert_eq!(total, 6);
        })
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
