//! Executors: where evaluations run (a local thread, a local process, or a cluster job are
//! interchangeable; ARCHITECTURE.md, "The evaluation contract").
//!
//! Shaped like ripgrep's `Matcher`: an implementation provides three small methods
//! ([`Executor::capacity`], [`Executor::submit`], [`Executor::collect`]); the search drives it
//! only through [`Executor::run_batch`], reporting to a [`BatchObserver`] and watching a
//! [`CancelToken`]. The Slurm executor ([`SlurmExecutor`]) overrides `run_batch` to send a whole
//! batch as one `sbatch --array` job, without touching the search.

mod cancel;
mod in_process;
mod local;
mod slurm;
mod tail;

pub use cancel::CancelToken;
pub use in_process::InProcessExecutor;
pub use local::LocalExecutor;
pub use slurm::{SlurmCommandError, SlurmExecutor, SlurmState};
pub(crate) use tail::{tail, TAIL_BYTES};

use std::time::Duration;

use pangaea_wire::{EvalRequest, EvalResult};

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

/// What the caller of [`Executor::run_batch`] hears: each job as it goes out, each outcome as it
/// comes back.
pub trait BatchObserver {
    /// `job` is about to be handed to the executor.
    fn submitted(&mut self, job: &Job) -> Result<(), SearchError>;

    /// A job finished. Returns `false` to stop the batch early.
    fn finished(&mut self, outcome: Outcome) -> Result<bool, SearchError>;
}

/// How a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEnd {
    /// Every job's outcome was handed to the observer.
    Completed,
    /// The observer asked to stop, or the cancel token was raised: the jobs not yet submitted
    /// were dropped and the outstanding ones abandoned (stopped, or left for a resume to adopt).
    Stopped,
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
    /// outcome to `observer` as it arrives (in arrival order), until all are done, the observer
    /// asks to stop, or `cancel` is raised (checked at least every 200 ms).
    fn run_batch(
        &mut self,
        jobs: Vec<Job>,
        observer: &mut dyn BatchObserver,
        cancel: &CancelToken,
    ) -> Result<BatchEnd, SearchError> {
        let mut pending = jobs.into_iter();
        let mut outstanding = 0usize;
        let mut exhausted = false;
        loop {
            if cancel.is_cancelled() {
                self.abandon();
                return Ok(BatchEnd::Stopped);
            }
            while !exhausted && outstanding < self.capacity().max(1) {
                match pending.next() {
                    Some(job) => {
                        observer.submitted(&job)?;
                        self.submit(job)?;
                        outstanding += 1;
                    }
                    None => exhausted = true,
                }
            }
            if outstanding == 0 {
                return Ok(BatchEnd::Completed);
            }
            for outcome in self.collect(Duration::from_millis(200))? {
                outstanding -= 1;
                if !observer.finished(outcome)? {
                    self.abandon();
                    return Ok(BatchEnd::Stopped);
                }
            }
        }
    }

    /// Stops or forgets every outstanding job (after an early stop). Default: nothing.
    fn abandon(&mut self) {}
}

/// A [`BatchObserver`] that keeps every outcome, for callers that only want the results.
#[derive(Debug, Default)]
pub struct CollectOutcomes(pub Vec<Outcome>);

impl BatchObserver for CollectOutcomes {
    fn submitted(&mut self, _job: &Job) -> Result<(), SearchError> {
        Ok(())
    }

    fn finished(&mut self, outcome: Outcome) -> Result<bool, SearchError> {
        self.0.push(outcome);
        Ok(true)
    }
}
