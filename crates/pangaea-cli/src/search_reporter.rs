//! [`TerminalReporter`]: the human view of a search. A progress bar (indicatif) on a terminal;
//! plain lines otherwise (logs, CI, pipes). It only observes events.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use pangaea_search::{EventSink, SearchEvent};

/// Shows generation, evaluations done / in flight (handed to the executor: running or waiting
/// in its queue) / rejected, the best fitness so far with its expression, throughput and (when
/// the stopping rule allows) an ETA.
pub struct TerminalReporter {
    out: Box<dyn Write + Send>,
    bar: Option<ProgressBar>,
    start: Instant,
    generation: usize,
    done_at_start: usize,
    done: usize,
    in_flight: usize,
    rejected: usize,
    screened: usize,
    duplicates: usize,
    best: Option<(f64, String)>,
    /// The first baseline's (the reference's) latest fitness: (candidate, fitness, form).
    baseline: Option<(i64, f64, String)>,
    expected_evaluations: Option<usize>,
    /// The rung of the full recipe: the best shown is the best single run at it.
    top_rung: usize,
}

impl std::fmt::Debug for TerminalReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalReporter")
            .field("done", &self.done)
            .finish()
    }
}

impl TerminalReporter {
    /// Reports on stderr: a progress bar when stderr is a terminal, plain lines otherwise.
    pub fn stderr() -> TerminalReporter {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .expect("the template is valid"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Self::with_output(Box::new(std::io::stderr()), bar)
    }

    /// Plain lines to any writer (tests, log files).
    #[cfg(test)]
    pub fn plain(out: Box<dyn Write + Send>) -> TerminalReporter {
        Self::with_output(out, None)
    }

    fn with_output(out: Box<dyn Write + Send>, bar: Option<ProgressBar>) -> TerminalReporter {
        TerminalReporter {
            out,
            bar,
            start: Instant::now(),
            generation: 0,
            done_at_start: 0,
            done: 0,
            in_flight: 0,
            rejected: 0,
            screened: 0,
            duplicates: 0,
            best: None,
            baseline: None,
            expected_evaluations: None,
            top_rung: 0,
        }
    }

    fn status(&self) -> String {
        let minutes = self.start.elapsed().as_secs_f64() / 60.0;
        let new = self.done - self.done_at_start;
        let rate = if minutes > 0.0 {
            new as f64 / minutes
        } else {
            0.0
        };
        let best = match &self.best {
            Some((f, e)) => format!("best {f:.4} `{e}`"),
            None => "best -".to_owned(),
        };
        let baseline = match &self.baseline {
            Some((_, f, e)) => format!(" (baseline `{e}` {f:.4})"),
            None => String::new(),
        };
        let eta = match self.expected_evaluations {
            Some(limit) if rate > 0.0 && limit > self.done => {
                format!(", ETA {:.1} min", (limit - self.done) as f64 / rate)
            }
            _ => String::new(),
        };
        let screened = match self.screened {
            0 => String::new(),
            n => format!(", {n} screened"),
        };
        format!(
            "gen {} | evals {} done, {} in flight, {} rejected{screened}, {} duplicates | {best}{baseline} | {rate:.1} evals/min{eta}",
            self.generation, self.done, self.in_flight, self.rejected, self.duplicates
        )
    }

    fn line(&mut self, text: String) {
        match &self.bar {
            Some(bar) => {
                bar.println(text);
                bar.set_message(self.status());
            }
            None => {
                let _ = writeln!(self.out, "{text}");
            }
        }
    }
}

impl EventSink for TerminalReporter {
    fn event(&mut self, event: &SearchEvent) {
        match event {
            SearchEvent::SearchStarted {
                store,
                resumed,
                evaluations_done,
                generation_limit,
                evaluation_limit,
                expected_evaluations,
                top_rung,
            } => {
                self.top_rung = *top_rung;
                self.done = *evaluations_done;
                self.done_at_start = *evaluations_done;
                self.expected_evaluations = *expected_evaluations;
                let verb = if *resumed { "resuming" } else { "starting" };
                let limits = match (generation_limit, evaluation_limit) {
                    (Some(g), Some(e)) => format!(" (up to {g} generations, {e} evaluations)"),
                    (Some(g), None) => format!(" (up to {g} generations)"),
                    (None, Some(e)) => format!(" (up to {e} evaluations)"),
                    (None, None) => String::new(),
                };
                self.line(format!(
                    "{verb} search `{}`: {evaluations_done} evaluations stored{limits}",
                    store.display()
                ));
            }
            SearchEvent::GenerationStarted {
                generation,
                candidates,
                evaluations,
            } => {
                self.generation = *generation;
                self.line(format!(
                    "generation {generation}: {candidates} candidates, {evaluations} evaluations to run"
                ));
            }
            SearchEvent::Promoted {
                generation,
                rung,
                evaluations,
                candidates,
            } => {
                let to = if *rung == self.top_rung {
                    " (the full recipe)".to_owned()
                } else {
                    String::new()
                };
                self.line(format!(
                    "generation {generation}: {evaluations} best versions ({candidates} forms) promoted to rung {rung}{to}"
                ));
            }
            SearchEvent::ExtraRuns {
                generation,
                evaluations,
                candidates,
            } => {
                self.line(format!(
                    "generation {generation}: re-evaluation, {evaluations} extra runs for the {candidates} best forms and baselines"
                ));
            }
            SearchEvent::CandidateRejected { .. } => self.rejected += 1,
            SearchEvent::CandidateScreened { .. } => self.screened += 1,
            SearchEvent::CandidateDuplicate { .. } => self.duplicates += 1,
            SearchEvent::EvaluationSubmitted { .. } => {
                self.in_flight += 1;
                if let Some(bar) = &self.bar {
                    bar.set_message(self.status());
                }
            }
            SearchEvent::EvaluationFinished {
                evaluation,
                candidate,
                expr,
                status,
                reason,
                fitness,
                cached,
                baseline,
                replicate,
                rung,
                ..
            } => {
                if !cached {
                    self.in_flight = self.in_flight.saturating_sub(1);
                }
                self.done += 1;
                if *baseline {
                    if let Some(f) = fitness {
                        if self.baseline.as_ref().is_none_or(|b| *candidate <= b.0) {
                            self.baseline = Some((*candidate, *f, expr.clone()));
                        }
                    }
                } else if let (Some(f), true) = (fitness, *rung == self.top_rung) {
                    if self.best.as_ref().is_none_or(|(b, _)| f > b) {
                        self.best = Some((*f, expr.clone()));
                    }
                }
                let value = fitness.map_or("-".to_owned(), |f| format!("{f:.4}"));
                let why = reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                let from = if *cached { " [cache]" } else { "" };
                let mut run = String::new();
                if *rung < self.top_rung {
                    run += &format!(" (rung {rung} of {})", self.top_rung);
                }
                if *replicate > 0 {
                    run += &format!(" (re-evaluation, run {})", replicate + 1);
                }
                let status_line = self.status();
                self.line(format!(
                    "eval {evaluation} {status}{from} fitness {value} `{expr}`{run}{why}\n  {status_line}"
                ));
            }
            SearchEvent::GenerationFinished {
                generation, best, ..
            } => {
                let best = match best {
                    Some((id, expr, f)) => {
                        format!("population best {f:.4} `{expr}` (candidate {id})")
                    }
                    None => "no fitness yet".to_owned(),
                };
                self.line(format!("generation {generation} finished: {best}"));
            }
            SearchEvent::SearchFinished {
                reason,
                evaluations_done,
                best,
                ..
            } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let best = match best {
                    Some((id, expr, f)) => format!("best {f:.4} `{expr}` (candidate {id})"),
                    None => "no fitness".to_owned(),
                };
                let reason = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                self.line(format!(
                    "search stopped ({reason}) after {evaluations_done} evaluations: {best}"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_lines_show_counts_and_the_best_so_far() {
        let buf = Shared::default();
        let mut r = TerminalReporter::plain(Box::new(buf.clone()));
        r.event(&SearchEvent::GenerationStarted {
            generation: 1,
            candidates: 3,
            evaluations: 2,
        });
        r.event(&SearchEvent::CandidateRejected {
            candidate: 4,
            expr: "exp(exp(x))".into(),
            reason: "non_finite_value".into(),
        });
        r.event(&SearchEvent::EvaluationSubmitted {
            evaluation: 7,
            candidate: 5,
            expr: "alpha * tanh(x)".into(),
        });
        r.event(&SearchEvent::EvaluationFinished {
            evaluation: 1,
            candidate: 1,
            expr: "relu(x)".into(),
            status: "ok".into(),
            reason: None,
            fitness: Some(0.9),
            cached: true,
            baseline: true,
            replicate: 0,
            rung: 0,
            wall_seconds: 1.0,
        });
        r.event(&SearchEvent::EvaluationFinished {
            evaluation: 7,
            candidate: 5,
            expr: "alpha * tanh(x)".into(),
            status: "ok".into(),
            reason: None,
            fitness: Some(0.8125),
            cached: false,
            baseline: false,
            replicate: 0,
            rung: 0,
            wall_seconds: 1.0,
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("generation 1: 3 candidates, 2 evaluations to run"),
            "{text}"
        );
        assert!(
            text.contains("eval 7 ok fitness 0.8125 `alpha * tanh(x)`"),
            "{text}"
        );
        assert!(
            text.contains("gen 1 | evals 2 done, 0 in flight, 1 rejected, 0 duplicates | best 0.8125 `alpha * tanh(x)` (baseline `relu(x)` 0.9000)"),
            "{text}"
        );
    }
}
