//! Executors: where evaluations run (DESIGN.md: a local thread, a local process, or a cluster
//! job are interchangeable).
//!
//! Shaped like ripgrep's `Matcher`: an implementation provides three small methods
//! ([`Executor::capacity`], [`Executor::submit`], [`Executor::collect`]); the search drives it
//! only through [`Executor::run_batch`]. The Slurm executor ([`SlurmExecutor`]) overrides
//! `run_batch` to send a whole batch as one `sbatch --array` job, without touching the search.

mod in_process;
mod local;
mod slurm;

pub use in_process::InProcessExecutor;
pub use local::LocalExecutor;
pub use slurm::SlurmExecutor;

use std::time::Duration;

use pangaea_train::{EvalRequest, EvalResult};

use crate::error::SearchError;

/// One evaluation to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The evaluation id; the outcome carries it back.
    pub id: i64,
    /// The request.
    pub request: EvalRequest,
}

/// A finished job. A failed evaluation (time limit, crash) is an outcome whose result has
/// status `failed` and a reason, not an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The job's id.
    pub id: i64,
    /// The result.
    pub result: EvalResult,
    /// Seconds from start to finish, as the executor measured them (all attempts).
    pub wall_seconds: f64,
    /// Attempts made (a crashed worker is retried once).
    pub attempts: u32,
}

/// Runs evaluation requests somewhere.
pub trait Executor {
    /// The most jobs that may be submitted and not yet collected; the search never exceeds it.
    fn capacity(&self) -> usize;

    /// Queues a job. Called only while fewer than [`capacity`](Self::capacity) jobs are
    /// outstanding.
    fn submit(&mut self, job: Job) -> Result<(), SearchError>;

    /// Waits until at least one outstanding job has finished or `timeout` has passed, and
    /// returns the finished ones, in any order.
    fn collect(&mut self, timeout: Duration) -> Result<Vec<Outcome>, SearchError>;

    /// Runs `jobs`, keeping at most [`capacity`](Self::capacity) outstanding, and hands every
    /// outcome to `on_outcome` as it arrives (in arrival order). `on_outcome` returns `false` to
    /// stop early: the jobs not yet submitted are dropped, and the outstanding ones are
    /// abandoned (an executor stops or ignores them).
    fn run_batch(
        &mut self,
        jobs: Vec<Job>,
        on_submit: &mut dyn FnMut(&Job) -> Result<(), SearchError>,
        on_outcome: &mut dyn FnMut(Outcome) -> Result<bool, SearchError>,
    ) -> Result<bool, SearchError> {
        let mut pending = jobs.into_iter();
        let mut outstanding = 0usize;
        let mut exhausted = false;
        loop {
            while !exhausted && outstanding < self.capacity().max(1) {
                match pending.next() {
                    Some(job) => {
                        on_submit(&job)?;
                        self.submit(job)?;
                        outstanding += 1;
                    }
                    None => exhausted = true,
                }
            }
            if outstanding == 0 {
                return Ok(true);
            }
            for outcome in self.collect(Duration::from_millis(200))? {
                outstanding -= 1;
                if !on_outcome(outcome)? {
                    self.abandon();
                    return Ok(false);
                }
            }
        }
    }

    /// Stops or forgets every outstanding job (after an early stop). Default: nothing.
    fn abandon(&mut self) {}
}
