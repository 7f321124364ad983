//! The comparison table of `pangaea compare` and `pangaea final`: per activation, the test
//! accuracy over repeated runs as mean ± std, the number of runs, and Welch's p-value against
//! ReLU (docs/method.md §5). Written as markdown for people and JSON for scripts.

use std::fmt::Write;

use pangaea_wire::{EvalResult, Status};
use serde::{Deserialize, Serialize};

use crate::stats::{summarize, welch, Summary, WelchTest};

/// The label of the reference row the p-values are computed against.
pub const REFERENCE: &str = "relu";

/// The label of the second reference row (`p vs Swish`), when the table has one.
pub const SECOND_REFERENCE: &str = "swish";

/// The significance level of a verdict.
pub const VERDICT_ALPHA: f64 = 0.05;

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
    /// Welch's test against the Swish row, the same way.
    #[serde(default)]
    pub vs_swish: Option<WelchTest>,
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
                    vs_swish: None,
                    failures,
                }
            })
            .collect();
        let runs_of = |name: &str| {
            rows.iter()
                .find(|r| r.activation == name)
                .map(|r| r.test_accuracies.clone())
        };
        let (relu, swish) = (runs_of(REFERENCE), runs_of(SECOND_REFERENCE));
        for row in &mut rows {
            if let Some(reference) = relu.as_ref().filter(|_| row.activation != REFERENCE) {
                row.vs_relu = welch(&row.test_accuracies, reference);
            }
            if let Some(reference) = swish
                .as_ref()
                .filter(|_| row.activation != SECOND_REFERENCE)
            {
                row.vs_swish = welch(&row.test_accuracies, reference);
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
        let swish = self.rows.iter().any(|r| r.activation == SECOND_REFERENCE);
        if swish {
            s.push_str(
                "| activation | origin | n | test accuracy (%) | p vs ReLU (Welch) | p vs Swish (Welch) | failed |\n",
            );
            s.push_str("|---|---|---:|---:|---:|---:|---:|\n");
        } else {
            s.push_str(
                "| activation | origin | n | test accuracy (%) | p vs ReLU (Welch) | failed |\n",
            );
            s.push_str("|---|---|---:|---:|---:|---:|\n");
        }
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
            let p = |test: &Option<WelchTest>, reference: &str| match test {
                _ if r.activation == reference => "(reference)".to_owned(),
                Some(w) => format_p(w.p),
                None => "—".to_owned(),
            };
            let mut ps = p(&r.vs_relu, REFERENCE);
            if swish {
                ps = format!("{ps} | {}", p(&r.vs_swish, SECOND_REFERENCE));
            }
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {acc} | {ps} | {} |",
                r.activation.replace('|', "\\|"),
                r.origin,
                r.summary.n,
                r.failures.len()
            );
        }
        let verdicts = self.verdicts();
        if !verdicts.is_empty() {
            s.push_str("\nVerdict (Welch, two-sided, α = 0.05):\n\n");
            for v in verdicts {
                let _ = writeln!(s, "- {v}");
            }
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

    /// One sentence per function that is not a baseline: whether it is better than ReLU and
    /// Swish (each a row of the table) on this protocol — a higher mean with Welch p <
    /// [`VERDICT_ALPHA`] — and with how many runs. Nothing when the table has no ReLU row.
    pub fn verdicts(&self) -> Vec<String> {
        let references: Vec<(&str, &str)> = [(REFERENCE, "ReLU"), (SECOND_REFERENCE, "Swish")]
            .into_iter()
            .filter(|(name, _)| self.rows.iter().any(|r| r.activation == *name))
            .collect();
        if !references.iter().any(|(name, _)| *name == REFERENCE) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for row in self.rows.iter().filter(|r| r.origin != "baseline") {
            let mut parts = Vec::new();
            let mut better_than_all = true;
            for (name, shown) in &references {
                let reference = self.rows.iter().find(|r| r.activation == *name);
                let test = if *name == REFERENCE {
                    &row.vs_relu
                } else {
                    &row.vs_swish
                };
                let (Some(reference), Some(w)) = (reference, test) else {
                    better_than_all = false;
                    parts.push(format!("no test against {shown} (too few runs)"));
                    continue;
                };
                let diff = 100.0 * (row.summary.mean - reference.summary.mean);
                let better = diff > 0.0 && w.p < VERDICT_ALPHA;
                better_than_all &= better;
                let word = match (diff > 0.0, w.p < VERDICT_ALPHA) {
                    (true, true) => "better than",
                    (false, true) => "worse than",
                    _ => "not distinguishable from",
                };
                parts.push(format!(
                    "{word} {shown} ({diff:+.2} points, p = {})",
                    format_p(w.p)
                ));
            }
            let n = row.summary.n;
            let conclusion = if better_than_all {
                "confirmed on this protocol"
            } else {
                "not confirmed"
            };
            let plural = if n == 1 { "" } else { "s" };
            out.push(format!(
                "`{}` ({n} run{plural}): {} — {conclusion}.",
                row.activation,
                parts.join(", ")
            ));
        }
        out
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
            md.contains("| `relu` | baseline | 5 | 91.28 ± 0.63 | (reference) | 0.0036 | 0 |"),
            "{md}"
        );
        assert!(
            md.contains("| `swish` | baseline | 6 | 92.73 ± 0.52 | 0.0036 | (reference) | 0 |"),
            "{md}"
        );
        assert!(
            md.contains("| `tanh(x)` | given | 1 | 50.00 | — | — | 1 |"),
            "{md}"
        );
        assert!(
            md.contains("`tanh(x)` (1 run): no test against ReLU (too few runs), no test against Swish (too few runs) — not confirmed."),
            "{md}"
        );
        let back: serde_json::Value = serde_json::from_str(&t.to_json()).unwrap();
        assert_eq!(back["rows"][1]["activation"], "swish");
        assert_eq!(back["rows"][2]["summary"]["std"], serde_json::Value::Null);
    }

    #[test]
    fn verdicts_need_a_significantly_higher_mean_against_both_references() {
        let ok = |a: f64| result(Some(a), Status::Ok);
        let runs = |xs: &[f64]| xs.iter().map(|&a| ok(a)).collect::<Vec<_>>();
        let group =
            |name: &str, origin: &str, xs: &[f64]| (name.to_owned(), origin.to_owned(), runs(xs));
        let groups = vec![
            group("relu", "baseline", &[0.900, 0.902, 0.898, 0.901, 0.899]),
            group("swish", "baseline", &[0.890, 0.892, 0.888, 0.891, 0.889]),
            group(
                "a(x)",
                "search candidate 1",
                &[0.910, 0.912, 0.908, 0.911, 0.909],
            ),
            group(
                "b(x)",
                "search candidate 2",
                &[0.901, 0.903, 0.897, 0.902, 0.898],
            ),
            group(
                "c(x)",
                "search candidate 3",
                &[0.880, 0.882, 0.878, 0.881, 0.879],
            ),
        ];
        let t = ComparisonTable::from_results("demo", &groups);
        let v = t.verdicts();
        assert_eq!(v.len(), 3);
        assert!(
            v[0].starts_with("`a(x)` (5 runs): better than ReLU (+1.00 points, p = "),
            "{v:?}"
        );
        assert!(v[0].ends_with("— confirmed on this protocol."), "{v:?}");
        assert!(v[1].contains("not distinguishable from ReLU"), "{v:?}");
        assert!(
            v[1].contains("better than Swish") && v[1].ends_with("not confirmed."),
            "{v:?}"
        );
        assert!(
            v[2].contains("worse than ReLU") && v[2].ends_with("not confirmed."),
            "{v:?}"
        );
        // Without a ReLU row there is no verdict.
        let t = ComparisonTable::from_results("demo", &groups[1..]);
        assert!(t.verdicts().is_empty());
    }
}
