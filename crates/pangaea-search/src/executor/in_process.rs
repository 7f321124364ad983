//! [`InProcessExecutor`]: evaluations computed by a closure on threads of this process.
//!
//! For tests and for the fake fitness ([`crate::fake_result`]): no child process, no files.
//! Its results can be made to arrive in a shuffled order, to check that the search does not
//! depend on the order results arrive in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use pangaea_wire::{EvalRequest, EvalResult};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Executor, Job, Outcome};
use crate::error::SearchError;

/// Runs a closure `Fn(&EvalRequest) -> EvalResult` on up to `workers` threads at once.
pub struct InProcessExecutor<F> {
    evaluate: F,
    workers: usize,
    queued: VecDeque<Job>,
    shuffle: Option<ChaCha8Rng>,
}

impl<F> std::fmt::Debug for InProcessExecutor<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessExecutor")
            .field("workers", &self.workers)
            .field("queued", &self.queued.len())
            .finish()
    }
}

impl<F> InProcessExecutor<F>
where
    F: Fn(&EvalRequest) -> EvalResult + Sync,
{
    /// An executor running `evaluate` on `workers` threads.
    ///
    /// # Panics
    /// If `workers` is 0.
    pub fn new(workers: usize, evaluate: F) -> Self {
        assert!(
            workers > 0,
            "InProcessExecutor needs at least one worker, got 0"
        );
        InProcessExecutor {
            evaluate,
            workers,
            queued: VecDeque::new(),
            shuffle: None,
        }
    }

    /// Returns each batch of results in an order shuffled by `seed` (for tests).
    pub fn with_shuffled_arrival(mut self, seed: u64) -> Self {
        self.shuffle = Some(ChaCha8Rng::seed_from_u64(seed));
        self
    }
}

impl<F> Executor for InProcessExecutor<F>
where
    F: Fn(&EvalRequest) -> EvalResult + Sync,
{
    fn capacity(&self) -> usize {
        self.workers
    }

    fn submit(&mut self, job: Job) -> Result<(), SearchError> {
        self.queued.push_back(job);
        Ok(())
    }

    fn collect(&mut self, _timeout: Duration) -> Result<Vec<Outcome>, SearchError> {
        let n = self.queued.len().min(self.workers);
        let batch: Vec<Job> = self.queued.drain(..n).collect();
        let evaluate = &self.evaluate;
        let mut outcomes: Vec<Outcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .into_iter()
                .map(|job| {
                    scope.spawn(move || {
                        let start = Instant::now();
                        let result = evaluate(&job.request);
                        Outcome {
                            id: job.id,
                            result,
                            wall_seconds: start.elapsed().as_secs_f64(),
                            attempts: 1,
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("the evaluation closure panicked"))
                .collect()
        });
        if let Some(rng) = &mut self.shuffle {
            outcomes.shuffle(rng);
        }
        Ok(outcomes)
    }

    fn abandon(&mut self) {
        self.queued.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::{BatchEnd, CancelToken, CollectOutcomes};
    use crate::fitness::fake_result;

    #[test]
    fn runs_every_job_and_keeps_ids() {
        let mut ex = InProcessExecutor::new(3, fake_result).with_shuffled_arrival(5);
        let jobs: Vec<Job> = ["tanh(x)", "relu(x)", "x * sigmoid(x)", "abs(x)"]
            .iter()
            .enumerate()
            .map(|(i, a)| Job {
                id: i as i64 + 1,
                request: EvalRequest {
                    activation: (*a).to_owned(),
                    ..EvalRequest::default()
                },
            })
            .collect();
        let mut observer = CollectOutcomes::default();
        let end = ex
            .run_batch(jobs.clone(), &mut observer, &CancelToken::new())
            .unwrap();
        assert_eq!(end, BatchEnd::Completed);
        assert_eq!(observer.0.len(), 4);
        for o in &observer.0 {
            let job = &jobs[(o.id - 1) as usize];
            assert_eq!(o.result, fake_result(&job.request));
        }
    }
}
