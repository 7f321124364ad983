//! How noisy one fitness evaluation is: `pangaea noise` trains each of a few activations several
//! times under a search's recipe, with different seeds, and summarises the spread of the
//! search's fitness metric.
//!
//! A search compares candidates by single runs. Whether a difference between two of them means
//! anything depends on the standard deviation of a *difference* of two single runs,
//! sd_diff = √(s_a² + s_b²): a difference below 1.96·sd_diff is within what noise alone gives
//! one time in twenty. With k runs each, the means' difference has sd_diff/√k. Every run of a
//! search is scored on the same validation images, so the spread measured here is training's
//! (initialisation, batch order); for the validation accuracy the report also gives the
//! binomial std √(p(1 − p)/n) of n validation images, the uncertainty of any single figure as an
//! estimate of the accuracy on new images.

use std::fmt::Write as _;

use pangaea_search::FitnessMetric;
use pangaea_wire::{EvalRequest, EvalResult, Status};
use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::stats::{summarize, welch, Summary, WelchTest};

/// The value of the search's fitness metric in a result, as measured (the loss is not negated),
/// if the run finished with one.
pub fn metric_value(metric: FitnessMetric, result: &EvalResult) -> Option<f64> {
    if result.status != Status::Ok {
        return None;
    }
    match metric {
        FitnessMetric::ValAccuracy => result.val_accuracy,
        FitnessMetric::ValLoss => result.val_loss,
    }
    .filter(|v| v.is_finite())
}

fn metric_name(metric: FitnessMetric) -> &'static str {
    match metric {
        FitnessMetric::ValAccuracy => "validation accuracy",
        FitnessMetric::ValLoss => "validation loss",
    }
}

/// `runs` runs of each activation under `recipe` exactly as a search trains it (its subset
/// limits kept, no test set), run r with seed `seed + r`. Activation-major.
pub fn noise_requests(
    activations: &[String],
    recipe: &EvalRequest,
    runs: usize,
    seed: u64,
) -> Result<Vec<EvalRequest>, ReportError> {
    if activations.is_empty() {
        return Err(ReportError::Input("no activations to measure".into()));
    }
    if runs < 2 {
        return Err(ReportError::Input(
            "--runs must be at least 2 to measure a spread".into(),
        ));
    }
    let mut requests = Vec::new();
    for (i, activation) in activations.iter().enumerate() {
        for r in 0..runs {
            let mut request = recipe.clone();
            request.activation = activation.clone();
            request.label = Some(format!("noise-act{i}-run{r}"));
            request.seed = seed.wrapping_add(r as u64);
            requests.push(request);
        }
    }
    Ok(requests)
}

/// One activation's spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseRow {
    /// The activation as given.
    pub activation: String,
    /// The metric of every run that finished, in run order.
    pub values: Vec<f64>,
    /// Their summary (mean, sample std).
    pub summary: Summary,
    /// Standard error of the mean, std/√n.
    pub se: f64,
    /// Smallest and largest value.
    pub min: f64,
    /// See `min`.
    pub max: f64,
    /// Runs that gave no value, with their reasons.
    pub failures: Vec<String>,
}

/// One activation against the first one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoisePair {
    /// The activation compared with the first row.
    pub activation: String,
    /// Mean of this row minus mean of the first.
    pub mean_difference: f64,
    /// Standard deviation of the difference of two single runs, √(s_a² + s_b²).
    pub single_run_difference_std: f64,
    /// Welch's test of the two samples, when defined.
    pub welch: Option<WelchTest>,
}

/// The whole measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseReport {
    /// What was run: recipe and runs.
    pub title: String,
    /// The metric.
    pub metric: FitnessMetric,
    /// Validation images per run (for the binomial floor).
    pub val_images: Option<usize>,
    /// One row per activation, in the order given.
    pub rows: Vec<NoiseRow>,
    /// Every row after the first against the first.
    pub pairs: Vec<NoisePair>,
    /// √(mean of the rows' variances): the typical single-run standard deviation.
    pub pooled_std: f64,
    /// For the validation accuracy, √(p̄(1 − p̄)/n) at the mean accuracy p̄ over all runs: the
    /// validation set's own sampling error, common to every run.
    pub binomial_floor: Option<f64>,
}

impl NoiseReport {
    /// Builds the report from each activation's results.
    pub fn from_results(
        title: &str,
        metric: FitnessMetric,
        groups: &[(String, Vec<EvalResult>)],
    ) -> Result<Self, ReportError> {
        let mut rows = Vec::new();
        let mut val_images = None;
        for (activation, results) in groups {
            let mut values = Vec::new();
            let mut failures = Vec::new();
            for r in results {
                match metric_value(metric, r) {
                    Some(v) => {
                        values.push(v);
                        val_images = val_images.or(Some(r.val_images));
                    }
                    None => failures.push(format!(
                        "{}: {}",
                        r.status.name(),
                        r.reason.as_deref().unwrap_or("no value recorded")
                    )),
                }
            }
            if values.len() < 2 {
                return Err(ReportError::Input(format!(
                    "`{activation}`: only {} of {} runs gave a {}; a spread needs two ({})",
                    values.len(),
                    results.len(),
                    metric_name(metric),
                    failures.join("; ")
                )));
            }
            let summary = summarize(&values);
            let (min, max) = values
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            rows.push(NoiseRow {
                activation: activation.clone(),
                se: summary.std / (summary.n as f64).sqrt(),
                summary,
                min,
                max,
                values,
                failures,
            });
        }
        let first = &rows[0];
        let pairs = rows[1..]
            .iter()
            .map(|r| NoisePair {
                activation: r.activation.clone(),
                mean_difference: r.summary.mean - first.summary.mean,
                single_run_difference_std: (r.summary.std.powi(2) + first.summary.std.powi(2))
                    .sqrt(),
                welch: welch(&r.values, &first.values),
            })
            .collect();
        let pooled_std =
            (rows.iter().map(|r| r.summary.std.powi(2)).sum::<f64>() / rows.len() as f64).sqrt();
        let binomial_floor = match (metric, val_images) {
            (FitnessMetric::ValAccuracy, Some(n)) if n > 0 => {
                let all: Vec<f64> = rows.iter().flat_map(|r| r.values.iter().copied()).collect();
                let p = all.iter().sum::<f64>() / all.len() as f64;
                Some((p * (1.0 - p) / n as f64).sqrt())
            }
            _ => None,
        };
        Ok(Self {
            title: title.to_owned(),
            metric,
            val_images,
            rows,
            pairs,
            pooled_std,
            binomial_floor,
        })
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report always serializes") + "\n"
    }

    /// The report as markdown: the rows, the pairs, and what the figures mean for a search.
    pub fn to_markdown(&self) -> String {
        let pct = self.metric == FitnessMetric::ValAccuracy;
        let f = |v: f64| {
            if pct {
                format!("{:.2}", 100.0 * v)
            } else {
                format!("{v:.4}")
            }
        };
        let signed = |v: f64| {
            if pct {
                format!("{:+.2}", 100.0 * v)
            } else {
                format!("{v:+.4}")
            }
        };
        let unit = if pct { " (%)" } else { "" };
        let mut s = format!("# Noise of one evaluation: {}\n\n", self.title);
        let _ = writeln!(
            s,
            "| activation | runs | mean{unit} | std{unit} | SE{unit} | min{unit} | max{unit} |\n\
             |---|---:|---:|---:|---:|---:|---:|"
        );
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| `{}` | {}{} | {} | {} | {} | {} | {} |",
                r.activation,
                r.summary.n,
                if r.failures.is_empty() {
                    String::new()
                } else {
                    format!(" ({} failed)", r.failures.len())
                },
                f(r.summary.mean),
                f(r.summary.std),
                f(r.se),
                f(r.min),
                f(r.max)
            );
        }
        if !self.pairs.is_empty() {
            let _ = writeln!(
                s,
                "\n| against `{}` | mean difference{unit} | std of a single-run difference{unit} | Welch p |\n\
                 |---|---:|---:|---:|",
                self.rows[0].activation
            );
            for p in &self.pairs {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} | {} |",
                    p.activation,
                    signed(p.mean_difference),
                    f(p.single_run_difference_std),
                    p.welch
                        .map_or_else(|| "—".to_owned(), |w| format!("{:.3}", w.p))
                );
            }
        }
        let sd_diff = self.pooled_std * std::f64::consts::SQRT_2;
        let _ = write!(
            s,
            "\nTypical single-run std: {}{unit}; std of the difference of two single runs: {}{unit}. \
             Two functions scored by one run each must differ by more than {}{unit} (1.96·std) \
             before the difference is unlikely to be noise alone; with 3 runs each, {}{unit}; \
             with 10, {}{unit}.",
            f(self.pooled_std),
            f(sd_diff),
            f(1.96 * sd_diff),
            f(1.96 * sd_diff / 3f64.sqrt()),
            f(1.96 * sd_diff / 10f64.sqrt()),
        );
        if let (Some(b), Some(n)) = (self.binomial_floor, self.val_images) {
            let _ = write!(
                s,
                " Every run is scored on the same {n} validation images, so this spread is \
                 training's (initialisation, batch order); as an estimate of the accuracy on new \
                 images, each single figure also carries the validation set's binomial std of \
                 {}{unit}.",
                f(b)
            );
        }
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(acc: f64) -> EvalResult {
        let mut r = EvalResult::not_run(None, "relu", Status::Ok, String::new());
        r.reason = None;
        r.val_accuracy = Some(acc);
        r.val_loss = Some(1.0 - acc);
        r.val_images = 1000;
        r
    }

    fn groups() -> Vec<(String, Vec<EvalResult>)> {
        vec![
            (
                "relu".into(),
                vec![result(0.80), result(0.82), result(0.81)],
            ),
            (
                "swish".into(),
                vec![
                    result(0.84),
                    result(0.86),
                    result(0.85),
                    EvalResult::not_run(None, "swish", Status::Diverged, "boom".into()),
                ],
            ),
        ]
    }

    #[test]
    fn rows_pairs_and_floor_follow_the_definitions() {
        let report = NoiseReport::from_results("t", FitnessMetric::ValAccuracy, &groups()).unwrap();
        let relu = &report.rows[0];
        assert_eq!(relu.summary.n, 3);
        assert!((relu.summary.mean - 0.81).abs() < 1e-12);
        assert!((relu.summary.std - 0.01).abs() < 1e-12);
        assert!((relu.se - 0.01 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!((relu.min, relu.max), (0.80, 0.82));
        assert_eq!(report.rows[1].failures.len(), 1);
        let pair = &report.pairs[0];
        assert!((pair.mean_difference - 0.04).abs() < 1e-12);
        assert!((pair.single_run_difference_std - 0.02f64.sqrt() * 0.1).abs() < 1e-12);
        assert!(pair.welch.unwrap().p < 0.05);
        assert!((report.pooled_std - 0.01).abs() < 1e-12);
        let p = 0.83;
        assert!(
            (report.binomial_floor.unwrap() - (p * (1.0 - p) / 1000.0f64).sqrt()).abs() < 1e-12
        );
        let md = report.to_markdown();
        assert!(md.contains("| `swish` | +4.00 | 1.41 |"), "{md}");
        assert!(md.contains("| `relu` | 3 | 81.00 | 1.00 |"), "{md}");
        assert!(md.contains("| `swish` | 3 (1 failed) | 85.00 |"), "{md}");
        assert!(md.contains("same 1000 validation images"), "{md}");
        let back: NoiseReport = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn the_loss_metric_has_no_binomial_floor() {
        let report = NoiseReport::from_results("t", FitnessMetric::ValLoss, &groups()).unwrap();
        assert!(report.binomial_floor.is_none());
        assert!((report.rows[0].summary.mean - 0.19).abs() < 1e-12);
    }

    #[test]
    fn too_few_finished_runs_is_an_error_naming_the_activation() {
        let groups = vec![(
            "tanh".to_owned(),
            vec![
                result(0.5),
                EvalResult::not_run(None, "tanh", Status::Failed, "no data".into()),
            ],
        )];
        let err = NoiseReport::from_results("t", FitnessMetric::ValAccuracy, &groups).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`tanh`") && text.contains("no data"),
            "{text}"
        );
    }

    #[test]
    fn requests_keep_the_search_recipe_and_vary_the_seed() {
        let mut recipe = EvalRequest::default();
        recipe.dataset.limit_train = Some(500);
        let reqs = noise_requests(&["relu".into(), "swish".into()], &recipe, 3, 10).unwrap();
        assert_eq!(reqs.len(), 6);
        assert_eq!(
            reqs.iter().map(|r| r.seed).collect::<Vec<_>>(),
            [10, 11, 12, 10, 11, 12]
        );
        assert!(reqs.iter().all(|r| r.dataset.limit_train == Some(500)
            && !r.dataset.measure_test
            && !r.dataset.train_on_full));
        assert_eq!(reqs[3].activation, "swish");
        assert!(noise_requests(&["relu".into()], &recipe, 1, 0).is_err());
        assert!(noise_requests(&[], &recipe, 3, 0).is_err());
    }
}
