//! What a search's result claims, in words: whether its best form beats the reference (ReLU)
//! on repeated runs with a significance test, or is still a single-run claim.
//!
//! The search's summary and the report say it the same way. A claim tested here is about the
//! search's own recipe (its training subset and validation images); the full protocol is
//! `pangaea final` (whole training set, test set, repeated runs).

use std::fmt::Write as _;

use pangaea_search::Store;

use crate::error::ReportError;
use crate::stats::{summarize, welch, Summary, WelchTest};

/// The claim of a search store: its best form (its standing version's runs) against its first
/// baseline (`relu(x)` by default); with the baseline's text.
pub fn search_claim(store: &Store) -> Result<(Claim, Option<String>), ReportError> {
    let best = store.top_forms(1)?.into_iter().next();
    let baseline = store.baselines()?.into_iter().next();
    let (Some(best), Some(baseline)) = (best, baseline) else {
        return Ok((Claim::Nothing, None));
    };
    // With rungs, only fitness at the baseline's rung (the full recipe) is comparable.
    if best.best.rung != baseline.rung {
        return Ok((Claim::Nothing, Some(baseline.expr)));
    }
    let runs = |candidate: i64, version: usize, rung: usize| -> Result<Vec<f64>, ReportError> {
        Ok(store
            .version_runs(candidate, version, rung)?
            .into_iter()
            .flatten()
            .collect())
    };
    let best_runs = runs(best.candidate.id, best.best.version, best.best.rung)?;
    let reference_runs = match baseline.best_evaluation {
        Some(e) => match store.evaluation(e)? {
            Some(record) => runs(baseline.id, record.version, record.rung)?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    Ok((
        Claim::from_runs(&best_runs, &reference_runs),
        Some(baseline.expr),
    ))
}

/// The significance level of "confirmed".
pub const ALPHA: f64 = 0.05;

/// The best form against the reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// No best form or no reference fitness to compare.
    Nothing,
    /// One run on at least one side: a number, not evidence.
    SingleRun {
        /// The best form's fitness (mean when it has several runs).
        best: f64,
        /// The reference's.
        reference: f64,
    },
    /// Two runs or more on both sides.
    Tested {
        /// The best form's runs.
        best: Summary,
        /// The reference's runs.
        reference: Summary,
        /// Welch's test; `None` when no run varies on either side.
        test: Option<WelchTest>,
    },
}

impl Claim {
    /// The claim of the best form's run fitnesses against the reference's (runs that did not
    /// finish ok left out).
    pub fn from_runs(best: &[f64], reference: &[f64]) -> Claim {
        if best.is_empty() || reference.is_empty() {
            return Claim::Nothing;
        }
        let (b, r) = (summarize(best), summarize(reference));
        if b.n < 2 || r.n < 2 {
            return Claim::SingleRun {
                best: b.mean,
                reference: r.mean,
            };
        }
        Claim::Tested {
            best: b,
            reference: r,
            test: welch(best, reference),
        }
    }

    /// Whether the best form is better than the reference with Welch p < [`ALPHA`].
    pub fn confirmed(&self) -> bool {
        match self {
            Claim::Tested {
                best,
                reference,
                test: Some(t),
            } => best.mean > reference.mean && t.p < ALPHA,
            _ => false,
        }
    }

    /// One plain sentence, naming the reference as `reference_name`.
    pub fn sentence(&self, reference_name: &str) -> String {
        match self {
            Claim::Nothing => format!("no comparison with `{reference_name}` yet"),
            Claim::SingleRun { best, reference } => {
                let verdict = if best > reference {
                    "scored above"
                } else {
                    "did not score above"
                };
                format!(
                    "single-run claim, not confirmed: the best function {verdict} \
                     `{reference_name}` ({best:.4} vs {reference:.4}) on one run; re-evaluation \
                     (--reevaluate-top) or `pangaea final` can test it"
                )
            }
            Claim::Tested {
                best,
                reference,
                test,
            } => {
                let mut s = String::new();
                let verdict = if self.confirmed() {
                    "confirmed on the search's recipe"
                } else if best.mean > reference.mean {
                    "not confirmed (within the noise)"
                } else {
                    "not better"
                };
                let _ = write!(
                    s,
                    "{verdict}: the best function {:.4} (std {:.4}, {} runs) vs `{reference_name}` \
                     {:.4} (std {:.4}, {} runs), ",
                    best.mean, best.std, best.n, reference.mean, reference.std, reference.n
                );
                match test {
                    Some(t) if t.p < 0.001 => s.push_str("Welch p < 0.001"),
                    Some(t) => {
                        let _ = write!(s, "Welch p = {:.3}", t.p);
                    }
                    None => s.push_str("no spread to test"),
                }
                s.push_str("; the full protocol is `pangaea final`");
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_is_a_claim_not_a_confirmation() {
        let c = Claim::from_runs(&[0.8], &[0.7, 0.71, 0.69]);
        assert!(matches!(c, Claim::SingleRun { .. }));
        assert!(!c.confirmed());
        let s = c.sentence("relu(x)");
        assert!(
            s.starts_with("single-run claim") && s.contains("scored above"),
            "{s}"
        );
        assert_eq!(Claim::from_runs(&[], &[0.7]), Claim::Nothing);
    }

    #[test]
    fn repeated_runs_are_tested() {
        let c = Claim::from_runs(&[0.80, 0.81, 0.82], &[0.70, 0.71, 0.72]);
        assert!(c.confirmed());
        let s = c.sentence("relu(x)");
        assert!(s.starts_with("confirmed on the search's recipe"), "{s}");
        assert!(
            s.contains("(std 0.0100, 3 runs)") && s.contains("Welch p < 0.001"),
            "{s}"
        );

        let noisy = Claim::from_runs(&[0.80, 0.70, 0.75], &[0.74, 0.76, 0.73]);
        assert!(!noisy.confirmed());
        assert!(noisy
            .sentence("relu(x)")
            .starts_with("not confirmed (within the noise)"));

        let worse = Claim::from_runs(&[0.60, 0.61], &[0.70, 0.71]);
        assert!(!worse.confirmed());
        assert!(worse.sentence("relu(x)").starts_with("not better"));

        let flat = Claim::from_runs(&[0.8, 0.8], &[0.7, 0.7]);
        assert!(!flat.confirmed());
        assert!(flat.sentence("relu(x)").contains("no spread to test"));
    }
}
