//! The comparison table of `pangaea compare` and `pangaea final`: per activation, the test
//! accuracy over repeated runs as mean ± std, the number of runs, and Welch's p-value against
//! ReLU (docs/method.md §5). Written as markdown for people and JSON for scripts.

use std::fmt::Write;

use pangaea_wire::{EvalResult, Status};
use serde::{Deserialize, Serialize};

use crate::stats::{summarize, welch, Summary, WelchTest};

/// The label of the reference row the p-values are computed against.
pub const REFERENCE: &str = "relu";

/// One activation's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// The activation as given (a baseline name or expression text).
    pub activation: String,
    /// Where it comes from: `baseline`, `given`, or `search candidate N`.
    pub origin: String,
    /// Test accuracies of the runs that finished (`ok` with a test accuracy), in run order.
    pub test_accuracies: Vec<f64>,
    /// Their summary.
    pub summary: Summary,
    /// Welch's test against the ReLU row; `None` for ReLU itself, without a ReLU row, or when
    /// undefined (fewer than two runs on either side, no spread on both).
    pub vs_relu: Option<WelchTest>,
    /// Runs that did not give a test accuracy (diverged, rejected, failed), with their reasons.
    pub failures: Vec<String>,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonTable {
    /// A one-line description: dataset, architecture, epochs.
    pub title: String,
    /// Rows in the order the activations were given.
    pub rows: Vec<ComparisonRow>,
}

impl ComparisonTable {
    /// Builds the table from each activation's results; `origin` says where each came from.
    pub fn from_results(title: &str, groups: &[(String, String, Vec<EvalResult>)]) -> Self {
        let mut rows: Vec<ComparisonRow> = groups
            .iter()
            .map(|(activation, origin, results)| {
                let mut test_accuracies = Vec::new();
                let mut failures = Vec::new();
                for r in results {
                    match test_accuracy(r) {
                        Ok(a) => test_accuracies.push(a),
                        Err(failure) => failures.push(failure),
                    }
                }
                ComparisonRow {
                    activation: activation.clone(),
                    origin: origin.clone(),
                    summary: summarize(&test_accuracies),
                    test_accuracies,
                    vs_relu: None,
                    failures,
                }
            })
            .collect();
        let reference = rows
            .iter()
            .find(|r| r.activation == REFERENCE)
            .map(|r| r.test_accuracies.clone());
        if let Some(reference) = reference {
            for row in rows.iter_mut().filter(|r| r.activation != REFERENCE) {
                row.vs_relu = welch(&row.test_accuracies, &reference);
            }
        }
        ComparisonTable {
            title: title.to_owned(),
            rows,
        }
    }

    /// The table as GitHub-flavoured markdown; accuracies in percent.
    pub fn to_markdown(&self) -> String {
        let mut s = format!("# {}\n\n", self.title);
        s.push_str(
            "| activation | origin | n | test accuracy (%) | p vs ReLU (Welch) | failed |\n",
        );
        s.push_str("|---|---|---:|---:|---:|---:|\n");
        for r in &self.rows {
            let acc = if r.summary.n == 0 {
                "—".to_owned()
            } else if r.summary.n == 1 {
                format!("{:.2}", 100.0 * r.summary.mean)
            } else {
                format!(
                    "{:.2} ± {:.2}",
                    100.0 * r.summary.mean,
                    100.0 * r.summary.std
                )
            };
            let p = match (&r.vs_relu, r.activation == REFERENCE) {
                (_, true) => "(reference)".to_owned(),
                (Some(w), _) => format_p(w.p),
                (None, _) => "—".to_owned(),
            };
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {acc} | {p} | {} |",
                r.activation.replace('|', "\\|"),
                r.origin,
                r.summary.n,
                r.failures.len()
            );
        }
        let failures: Vec<_> = self
            .rows
            .iter()
            .filter(|r| !r.failures.is_empty())
            .collect();
        if !failures.is_empty() {
            s.push_str("\nFailed runs:\n\n");
            for r in failures {
                for f in &r.failures {
                    let _ = writeln!(s, "- `{}`: {f}", r.activation);
                }
            }
        }
        s
    }

    /// The table as pretty JSON (this type's serde form; NaN summaries are written as `null`).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a table serializes");
        s.push('\n');
        s
    }
}

/// A run's test accuracy, or why it has none (`diverged: …`): only an `ok` run with a finite test
/// accuracy counts.
pub(crate) fn test_accuracy(r: &EvalResult) -> Result<f64, String> {
    match (r.status, r.test_accuracy) {
        (Status::Ok, Some(a)) if a.is_finite() => Ok(a),
        (status, _) => Err(format!(
            "{}: {}",
            status.name(),
            r.reason.as_deref().unwrap_or("no test accuracy recorded")
        )),
    }
}

fn format_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(acc: Option<f64>, status: Status) -> EvalResult {
        let mut r = EvalResult::not_run(None, "x", status, "diverged at epoch 2".into());
        r.test_accuracy = acc;
        if status == Status::Ok {
            r.reason = None;
        }
        r
    }

    #[test]
    fn rows_summarize_and_test_against_relu() {
        let ok = |a: f64| result(Some(a), Status::Ok);
        let groups = vec![
            (
                "relu".to_owned(),
                "baseline".to_owned(),
                vec![ok(0.912), ok(0.905), ok(0.921), ok(0.917), ok(0.909)],
            ),
            (
                "swish".to_owned(),
                "baseline".to_owned(),
                vec![
                    ok(0.925),
                    ok(0.931),
                    ok(0.919),
                    ok(0.928),
                    ok(0.934),
                    ok(0.927),
                ],
            ),
            (
                "tanh(x)".to_owned(),
                "given".to_owned(),
                vec![ok(0.5), result(None, Status::Diverged)],
            ),
        ];
        let t = ComparisonTable::from_results("demo", &groups);
        assert!(t.rows[0].vs_relu.is_none());
        let p = t.rows[1].vs_relu.unwrap().p;
        assert!((p - 0.003_613_656).abs() < 1e-6, "{p}");
        assert!(t.rows[2].vs_relu.is_none(), "one run: undefined");
        assert_eq!(
            t.rows[2].failures,
            vec!["diverged: diverged at epoch 2".to_owned()]
        );
        let md = t.to_markdown();
        assert!(
            md.contains("| `relu` | baseline | 5 | 91.28 ± 0.63 | (reference) | 0 |"),
            "{md}"
        );
        assert!(
            md.contains("| `swish` | baseline | 6 | 92.73 ± 0.52 | 0.0036 | 0 |"),
            "{md}"
        );
        assert!(
            md.contains("| `tanh(x)` | given | 1 | 50.00 | — | 1 |"),
            "{md}"
        );
        let back: serde_json::Value = serde_json::from_str(&t.to_json()).unwrap();
        assert_eq!(back["rows"][1]["activation"], "swish");
        assert_eq!(back["rows"][2]["summary"]["std"], serde_json::Value::Null);
    }
}
