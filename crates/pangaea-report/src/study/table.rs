//! The study's table in the paper's layout: rows functions, columns cells, mean ± std test
//! accuracy over the runs with the best of each column marked, Welch's p against ReLU in the
//! same cell, and a last column of wins / ties / losses against ReLU; with the "general vs
//! specialised" reading of each function. Written as markdown, JSON and LaTeX (`booktabs`).

use std::fmt::Write as _;

use pangaea_wire::{EvalResult, Status};
use serde::{Deserialize, Serialize};

use crate::stats::{summarize, welch, Summary, WelchTest};
use crate::study::run::StudyResults;
use crate::table::{test_accuracy, REFERENCE};

/// The significance level of a win or a loss.
pub const ALPHA: f64 = 0.05;

/// A function against ReLU in one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Higher mean, Welch p < [`ALPHA`], and no run diverged.
    Win,
    /// No significant difference, and no run diverged.
    Tie,
    /// Lower mean with Welch p < [`ALPHA`], or a run that diverged: a function that does not
    /// always train is worse than one that does, whatever its other runs score.
    Loss,
}

/// One function in one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyEntry {
    /// Test accuracies of the runs that finished ok, in run order.
    pub test_accuracies: Vec<f64>,
    /// Their summary.
    pub summary: Summary,
    /// Welch's test against ReLU in the same cell (`None`: ReLU itself, or undefined).
    pub vs_relu: Option<WelchTest>,
    /// Against ReLU (`None` when the test is undefined or for ReLU itself).
    pub verdict: Option<Verdict>,
    /// The highest mean of its column.
    pub best: bool,
    /// Runs without a test accuracy (diverged, failed), with their reasons.
    pub failures: Vec<String>,
    /// How many of those diverged (non-finite loss or parameters).
    pub diverged: usize,
    /// Runs of the plan without a result yet.
    pub missing: usize,
}

/// One function's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyRow {
    /// The function trained.
    pub activation: String,
    /// Where it comes from.
    pub origin: String,
    /// One entry per cell.
    pub entries: Vec<StudyEntry>,
    /// Cells where it is significantly better than ReLU.
    pub wins: usize,
    /// Cells without a significant difference.
    pub ties: usize,
    /// Cells where it is significantly worse.
    pub losses: usize,
    /// General or specialised, in words (`None` for ReLU).
    pub reading: Option<String>,
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyTable {
    /// The study's title.
    pub title: String,
    /// Runs of each function in each cell, as planned.
    pub runs_per_function: usize,
    /// Column names.
    pub cells: Vec<String>,
    /// Rows, ReLU first if present, then in the study's order.
    pub rows: Vec<StudyRow>,
}

impl StudyTable {
    /// Builds the table from a study's results.
    pub fn from_results(study: &StudyResults) -> StudyTable {
        let plan = &study.plan;
        let mut rows: Vec<StudyRow> = plan
            .functions
            .iter()
            .enumerate()
            .map(|(f, function)| StudyRow {
                activation: function.activation.clone(),
                origin: function.origin.clone(),
                entries: (0..plan.cells.len())
                    .map(|c| {
                        let slots: Vec<&Option<EvalResult>> = plan
                            .runs
                            .iter()
                            .zip(&study.results)
                            .filter(|(r, _)| r.cell == c && r.function == f)
                            .map(|(_, res)| res)
                            .collect();
                        entry(&slots)
                    })
                    .collect(),
                wins: 0,
                ties: 0,
                losses: 0,
                reading: None,
            })
            .collect();
        rows.sort_by_key(|r| r.activation != REFERENCE);
        let reference = rows
            .iter()
            .position(|r| r.activation == REFERENCE)
            .map(|i| rows[i].entries.clone());
        for c in 0..plan.cells.len() {
            if let Some(reference) = &reference {
                for row in rows.iter_mut().filter(|r| r.activation != REFERENCE) {
                    let e = &mut row.entries[c];
                    e.vs_relu = welch(&e.test_accuracies, &reference[c].test_accuracies);
                    e.verdict = if e.diverged > 0 {
                        Some(Verdict::Loss)
                    } else {
                        e.vs_relu.map(|w| match (w.p < ALPHA, w.t > 0.0) {
                            (false, _) => Verdict::Tie,
                            (true, true) => Verdict::Win,
                            (true, false) => Verdict::Loss,
                        })
                    };
                }
            }
            let best = rows
                .iter()
                .map(|r| r.entries[c].summary)
                .filter(|s| s.n > 0)
                .map(|s| s.mean)
                .fold(f64::NEG_INFINITY, f64::max);
            for row in &mut rows {
                let s = row.entries[c].summary;
                row.entries[c].best = s.n > 0 && s.mean == best;
            }
        }
        for row in rows.iter_mut().filter(|r| r.activation != REFERENCE) {
            let count = |v: Verdict| row.entries.iter().filter(|e| e.verdict == Some(v)).count();
            (row.wins, row.ties, row.losses) = (
                count(Verdict::Win),
                count(Verdict::Tie),
                count(Verdict::Loss),
            );
            row.reading = Some(reading(
                row,
                &plan
                    .cells
                    .iter()
                    .map(|c| c.name.clone())
                    .collect::<Vec<_>>(),
            ));
        }
        StudyTable {
            title: plan.title.clone(),
            runs_per_function: plan.runs_per_function,
            cells: plan.cells.iter().map(|c| c.name.clone()).collect(),
            rows,
        }
    }

    /// The table as GitHub-flavoured markdown: accuracies in percent, the best of each column
    /// in bold, p against ReLU under each, wins / ties / losses, then the reading.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "# {}\n\nTest accuracy (%), mean ± std over {} run{} per function and cell; \
             **bold**: best of the column; p: Welch's t-test against ReLU in the same cell; \
             W / T / L: cells where the function is significantly better than / equal to / worse \
             than ReLU (p < {ALPHA}; a run that diverged makes the cell a loss).\n\n",
            self.title,
            self.runs_per_function,
            if self.runs_per_function == 1 { "" } else { "s" }
        );
        s.push_str("| function |");
        for c in &self.cells {
            let _ = write!(s, " {} |", c.replace('|', "\\|"));
        }
        s.push_str(" W / T / L |\n|---|");
        s.push_str(&"---:|".repeat(self.cells.len()));
        s.push_str("---:|\n");
        for r in &self.rows {
            let _ = write!(s, "| `{}` |", r.activation.replace('|', "\\|"));
            for e in &r.entries {
                let mut text = accuracy_text(e.summary, "±");
                if e.best {
                    text = format!("**{text}**");
                }
                if let Some(w) = e.vs_relu {
                    let _ = write!(text, " (p {})", format_p(w.p));
                }
                text.push_str(&shortfall(e, self.runs_per_function));
                let _ = write!(s, " {text} |");
            }
            let wtl = if r.activation == REFERENCE {
                "reference".to_owned()
            } else {
                format!("{} / {} / {}", r.wins, r.ties, r.losses)
            };
            let _ = writeln!(s, " {wtl} |");
        }
        let readings: Vec<&StudyRow> = self.rows.iter().filter(|r| r.reading.is_some()).collect();
        if !readings.is_empty() {
            s.push_str("\n## General or specialised\n\n");
            for r in readings {
                let _ = writeln!(
                    s,
                    "- `{}` ({}): {}",
                    r.activation,
                    r.origin,
                    r.reading.as_deref().unwrap_or_default()
                );
            }
        }
        let failures: Vec<String> = self
            .rows
            .iter()
            .flat_map(|r| {
                r.entries.iter().zip(&self.cells).flat_map(move |(e, c)| {
                    e.failures
                        .iter()
                        .map(move |f| format!("- `{}` in {c}: {f}", r.activation))
                })
            })
            .collect();
        if !failures.is_empty() {
            s.push_str("\n## Runs without a test accuracy\n\n");
            for f in failures {
                let _ = writeln!(s, "{f}");
            }
        }
        s
    }

    /// The table as pretty JSON (NaN summaries as `null`).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a table serializes");
        s.push('\n');
        s
    }

    /// The table as a LaTeX `table` with `booktabs` rules: `\usepackage{booktabs}` in the
    /// preamble. Best of each column in bold, p against ReLU in small type.
    pub fn to_latex(&self) -> String {
        let mut s = String::new();
        s.push_str("% needs \\usepackage{booktabs}\n\\begin{table}[t]\n\\centering\n\\small\n");
        let _ = writeln!(
            s,
            "\\caption{{{}: test accuracy (\\%), mean $\\pm$ std over {} runs; best of each column in bold; \
             Welch's $p$ against ReLU in parentheses; W/T/L: significantly better/equal/worse than ReLU ($p < {ALPHA}$; a diverged run makes a loss).}}",
            latex_escape(&self.title),
            self.runs_per_function
        );
        let _ = writeln!(
            s,
            "\\begin{{tabular}}{{l{}c}}",
            "r".repeat(self.cells.len())
        );
        s.push_str("\\toprule\nFunction");
        for c in &self.cells {
            let _ = write!(s, " & {}", latex_escape(c));
        }
        s.push_str(" & W/T/L \\\\\n\\midrule\n");
        for r in &self.rows {
            let _ = write!(s, "\\texttt{{{}}}", latex_escape(&r.activation));
            for e in &r.entries {
                let mut text = accuracy_text(e.summary, "\\pm");
                if e.summary.n > 0 {
                    text = if e.best {
                        format!("$\\mathbf{{{text}}}$")
                    } else {
                        format!("${text}$")
                    };
                }
                if let Some(w) = e.vs_relu {
                    let _ = write!(text, " {{\\scriptsize ({})}}", format_p(w.p));
                }
                let _ = write!(s, " & {text}");
            }
            if r.activation == REFERENCE {
                s.push_str(" & -- \\\\\n");
            } else {
                let _ = writeln!(s, " & {}/{}/{} \\\\", r.wins, r.ties, r.losses);
            }
        }
        s.push_str("\\bottomrule\n\\end{tabular}\n\\end{table}\n");
        s
    }
}

/// The summary of one function's runs in one cell.
fn entry(slots: &[&Option<EvalResult>]) -> StudyEntry {
    let mut test_accuracies = Vec::new();
    let mut failures = Vec::new();
    let mut missing = 0;
    let mut diverged = 0;
    for slot in slots {
        match slot {
            None => missing += 1,
            Some(r) => match test_accuracy(r) {
                Ok(a) => test_accuracies.push(a),
                Err(failure) => {
                    diverged += usize::from(r.status == Status::Diverged);
                    failures.push(failure);
                }
            },
        }
    }
    StudyEntry {
        summary: summarize(&test_accuracies),
        test_accuracies,
        vs_relu: None,
        verdict: None,
        best: false,
        failures,
        diverged,
        missing,
    }
}

/// Where a function is better than ReLU: everywhere (general), somewhere (specialised), or
/// nowhere.
fn reading(row: &StudyRow, cells: &[String]) -> String {
    let named = |v: Verdict| -> Vec<&str> {
        row.entries
            .iter()
            .zip(cells)
            .filter(|(e, _)| e.verdict == Some(v))
            .map(|(_, c)| c.as_str())
            .collect()
    };
    let (wins, losses) = (named(Verdict::Win), named(Verdict::Loss));
    let tested = row.entries.iter().filter(|e| e.verdict.is_some()).count();
    let untested = cells.len() - tested;
    let mut text = if tested == 0 {
        "not tested: fewer than two runs on one side in every cell".to_owned()
    } else if wins.len() == tested {
        format!(
            "general: better than ReLU in every cell tested ({} of {})",
            tested,
            cells.len()
        )
    } else if !wins.is_empty() {
        format!("specialised: better than ReLU in {}", wins.join(", "))
    } else if losses.is_empty() {
        "no significant difference from ReLU in any cell".to_owned()
    } else {
        "never better than ReLU".to_owned()
    };
    if !losses.is_empty() {
        let _ = write!(text, "; worse in {}", losses.join(", "));
    }
    let diverged: Vec<&str> = row
        .entries
        .iter()
        .zip(cells)
        .filter(|(e, _)| e.diverged > 0)
        .map(|(_, c)| c.as_str())
        .collect();
    if !diverged.is_empty() {
        let _ = write!(text, " (diverged in {})", diverged.join(", "));
    }
    if untested > 0 && tested > 0 {
        let _ = write!(
            text,
            "; {untested} cell(s) without a test (fewer than two runs)"
        );
    }
    text
}

fn accuracy_text(s: Summary, pm: &str) -> String {
    match s.n {
        0 => "—".to_owned(),
        1 => format!("{:.2}", 100.0 * s.mean),
        _ => format!("{:.2} {pm} {:.2}", 100.0 * s.mean, 100.0 * s.std),
    }
}

/// ` (2 of 3 runs)` when runs are missing or failed.
fn shortfall(e: &StudyEntry, planned: usize) -> String {
    if e.summary.n < planned {
        format!(" ({} of {planned} runs)", e.summary.n)
    } else {
        String::new()
    }
}

/// A p-value in three decimals, or in scientific notation below 0.001.
pub(crate) fn format_p(p: f64) -> String {
    if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// Escapes LaTeX's special characters in text.
pub(crate) fn latex_escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => s.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                s.push('\\');
                s.push(ch);
            }
            '~' => s.push_str("\\textasciitilde{}"),
            '^' => s.push_str("\\textasciicircum{}"),
            _ => s.push(ch),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::config::{StudyCell, StudyFunction, StudyPlan, StudyRun};
    use pangaea_wire::EvalRequest;

    /// Two cells × three functions × four runs, with accuracies chosen per (cell, function).
    fn study(acc: impl Fn(usize, usize, usize) -> Option<f64>) -> StudyResults {
        let functions = ["relu", "x * erf(x)", "tanh(x)"]
            .map(|a| StudyFunction {
                activation: a.to_owned(),
                origin: "given".to_owned(),
            })
            .to_vec();
        let cells: Vec<StudyCell> = ["tiny / mnist", "resnet-v1-20 / mnist"]
            .map(|n| StudyCell {
                name: n.to_owned(),
                request: EvalRequest::default(),
            })
            .to_vec();
        let mut runs = Vec::new();
        let mut results = Vec::new();
        for c in 0..2 {
            for f in 0..3 {
                for r in 0..4 {
                    runs.push(StudyRun {
                        cell: c,
                        function: f,
                        replicate: r,
                        request: EvalRequest::default(),
                    });
                    results.push(acc(c, f, r).map(|a| {
                        let mut res = EvalResult::not_run(None, "x", Status::Ok, String::new());
                        res.reason = None;
                        res.test_accuracy = Some(a);
                        res
                    }));
                }
            }
        }
        StudyResults {
            plan: StudyPlan {
                title: "demo & test".to_owned(),
                runs_per_function: 4,
                functions,
                cells,
                runs,
            },
            results,
        }
    }

    #[test]
    fn wins_ties_losses_best_and_reading() {
        let noise = [0.001, -0.002, 0.0015, -0.0005];
        let t = StudyTable::from_results(&study(|c, f, r| {
            let base = match (c, f) {
                (_, 0) => 0.90,
                (0, 1) => 0.93,   // clearly better in cell 0
                (1, 1) => 0.9005, // equal in cell 1
                (_, _) => 0.80,   // clearly worse
            };
            (!(c == 1 && f == 2 && r == 3)).then_some(base + noise[r])
        }));
        assert_eq!(t.rows[0].activation, "relu");
        let erf = &t.rows[1];
        assert_eq!((erf.wins, erf.ties, erf.losses), (1, 1, 0));
        assert_eq!(erf.entries[0].verdict, Some(Verdict::Win));
        assert!(erf.entries[0].best && !t.rows[0].entries[0].best);
        assert!(t.rows[0].entries[1].best || erf.entries[1].best);
        assert_eq!(
            erf.reading.as_deref(),
            Some("specialised: better than ReLU in tiny / mnist")
        );
        let tanh = &t.rows[2];
        assert_eq!((tanh.wins, tanh.ties, tanh.losses), (0, 0, 2));
        assert_eq!(tanh.entries[1].missing, 1);
        assert_eq!(
            tanh.reading.as_deref(),
            Some("never better than ReLU; worse in tiny / mnist, resnet-v1-20 / mnist")
        );
        let md = t.to_markdown();
        assert!(
            md.contains("| `relu` | 90.00 ± 0.16 | 90.00 ± 0.16 | reference |"),
            "{md}"
        );
        assert!(md.contains("**93.00 ± 0.16** (p "), "{md}");
        assert!(md.contains("(3 of 4 runs)"), "{md}");
        assert!(md.contains(" 1 / 1 / 0 |"), "{md}");
        let tex = t.to_latex();
        assert!(
            tex.contains("\\toprule") && tex.contains("\\midrule") && tex.contains("\\bottomrule")
        );
        assert!(tex.contains("demo \\& test"), "{tex}");
        assert!(tex.contains("$\\mathbf{93.00 \\pm 0.16}$"), "{tex}");
        assert!(tex.contains("& 1/1/0 \\\\"), "{tex}");
        let back: StudyTable = serde_json::from_str(&t.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.rows.len(), 3);
    }

    #[test]
    fn a_function_better_everywhere_is_general() {
        let t = StudyTable::from_results(&study(|_, f, r| {
            Some([0.90, 0.95, 0.90][f] + 0.001 * r as f64)
        }));
        assert_eq!(
            t.rows[1].reading.as_deref(),
            Some("general: better than ReLU in every cell tested (2 of 2)")
        );
        assert_eq!(
            t.rows[2].reading.as_deref(),
            Some("no significant difference from ReLU in any cell")
        );
    }

    #[test]
    fn a_function_that_diverges_in_a_cell_loses_it() {
        let mut study = study(|_, f, r| Some([0.90, 0.95, 0.90][f] + 0.001 * r as f64));
        // `x * erf(x)` diverges in every run of the second cell, `tanh(x)` in one run.
        for (run, result) in study.plan.runs.iter().zip(study.results.iter_mut()) {
            if run.cell == 1 && (run.function == 1 || (run.function == 2 && run.replicate == 0)) {
                let r = result.as_mut().unwrap();
                r.status = Status::Diverged;
                r.test_accuracy = None;
                r.reason = Some("non-finite training loss".into());
            }
        }
        let t = StudyTable::from_results(&study);
        let erf = &t.rows[1];
        assert_eq!(erf.entries[1].diverged, 4);
        assert_eq!(erf.entries[1].verdict, Some(Verdict::Loss));
        assert_eq!((erf.wins, erf.ties, erf.losses), (1, 0, 1));
        assert_eq!(
            erf.reading.as_deref(),
            Some(
                "specialised: better than ReLU in tiny / mnist; worse in resnet-v1-20 / mnist \
                 (diverged in resnet-v1-20 / mnist)"
            )
        );
        assert_eq!(t.rows[2].entries[1].verdict, Some(Verdict::Loss));
    }

    #[test]
    fn latex_special_characters_are_escaped() {
        assert_eq!(latex_escape("log_sigmoid(x) & 50% #1 {a} ~^\\"), "log\\_sigmoid(x) \\& 50\\% \\#1 \\{a\\} \\textasciitilde{}\\textasciicircum{}\\textbackslash{}");
    }
}
