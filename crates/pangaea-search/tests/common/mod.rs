//! What several search test files share.

use std::path::Path;

use pangaea_search::{InProcessExecutor, NoEvents, RunOptions, Search, SearchConfig, StopReason};
use pangaea_wire::{EvalRequest, EvalResult};

/// Runs a new search in `path` that stops (as if killed) after `stop_after` stored evaluations,
/// with 3 workers whose results arrive in an order shuffled by `shuffle`; then resumes it, with
/// one worker and the same stop, again and again until it ends by its generation limit.
pub fn interrupt_and_resume(
    path: &Path,
    config: SearchConfig,
    evaluate: fn(&EvalRequest) -> EvalResult,
    stop_after: usize,
    shuffle: u64,
) {
    let mut search = Search::create(path, config).unwrap();
    let mut ex = InProcessExecutor::new(3, evaluate).with_shuffled_arrival(shuffle);
    let options = RunOptions {
        stop_after_evaluations: Some(stop_after),
        ..RunOptions::default()
    };
    assert_eq!(
        search.run(&mut ex, &mut NoEvents, &options).unwrap(),
        StopReason::Interrupted
    );
    drop(search);
    loop {
        let mut search = Search::resume(path).unwrap();
        let mut ex = InProcessExecutor::new(1, evaluate);
        let reason = search.run(&mut ex, &mut NoEvents, &options).unwrap();
        if reason != StopReason::Interrupted {
            assert_eq!(reason, StopReason::Generations);
            break;
        }
    }
}
