//! What several search test files share (each file uses part of it).
#![allow(dead_code)]

use std::path::Path;

use pangaea_search::{
    EventSink, InProcessExecutor, NoEvents, RunOptions, Search, SearchConfig, SearchEvent,
    StopReason, Store,
};
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

/// Runs a new search in `path` to its end with `workers` threads, results arriving in an order
/// shuffled by `shuffle` when given.
pub fn run_with(
    path: &Path,
    config: SearchConfig,
    evaluate: fn(&EvalRequest) -> EvalResult,
    workers: usize,
    shuffle: Option<u64>,
) -> StopReason {
    let mut search = Search::create(path, config).unwrap();
    let mut ex = InProcessExecutor::new(workers, evaluate);
    if let Some(seed) = shuffle {
        ex = ex.with_shuffled_arrival(seed);
    }
    search
        .run(&mut ex, &mut NoEvents, &RunOptions::default())
        .unwrap()
}

/// Every stored population, best first: (candidate, fitness bits) per member.
pub fn populations(store: &Store) -> Vec<Vec<(i64, Option<u64>)>> {
    let last = store.last_finished_generation().unwrap().unwrap();
    (0..=last)
        .map(|g| {
            store
                .population(g)
                .unwrap()
                .into_iter()
                .map(|m| (m.candidate, m.fitness.map(f64::to_bits)))
                .collect()
        })
        .collect()
}

/// Runs a new search in `path` to its end with `workers` threads and returns every event it
/// reported, in order.
pub fn run_collecting(
    path: &Path,
    config: SearchConfig,
    evaluate: fn(&EvalRequest) -> EvalResult,
    workers: usize,
) -> Vec<SearchEvent> {
    struct Log(Vec<SearchEvent>);
    impl EventSink for Log {
        fn event(&mut self, e: &SearchEvent) {
            self.0.push(e.clone());
        }
    }
    let mut search = Search::create(path, config).unwrap();
    let mut log = Log(Vec::new());
    search
        .run(
            &mut InProcessExecutor::new(workers, evaluate),
            &mut log,
            &RunOptions::default(),
        )
        .unwrap();
    log.0
}
