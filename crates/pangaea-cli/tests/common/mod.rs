//! Helpers shared by the CLI's search tests (each test file includes this module and uses only
//! part of it).
#![allow(dead_code)]

use std::path::Path;

use pangaea_search::Store;

/// Training flags of a tiny real evaluation: synthetic data, the tiny net, 64 training and 32
/// validation images, one epoch (about a second per evaluation).
pub const TINY_TRAINING: [&str; 12] = [
    "--dataset",
    "synthetic",
    "--arch",
    "tiny",
    "--epochs",
    "1",
    "--limit-train",
    "64",
    "--limit-val",
    "32",
    "--batch-size",
    "32",
];

/// (form, state, parent, fitness bits, the pre-screen's prediction bits) of one candidate.
pub type CandidateSummary = (String, String, Option<i64>, Option<u64>, Option<u64>);

/// What must be equal between equivalent searches: every candidate (form, state, parent,
/// fitness bits, the pre-screen's prediction bits) in order, every evaluation (candidate, version, rung, run, fitness bits) in
/// order, and the final population (candidate, fitness bits).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// (form, state, parent, fitness bits, prediction bits) per candidate.
    pub candidates: Vec<CandidateSummary>,
    /// (candidate, version, rung, run, fitness bits) per evaluation.
    pub evaluations: Vec<(i64, usize, usize, usize, Option<u64>)>,
    /// (candidate, fitness bits) per member of the final population.
    pub population: Vec<(i64, Option<u64>)>,
}

/// The [`Summary`] of a store.
pub fn summary(path: &Path) -> Summary {
    let store = Store::open_read_only(path).unwrap();
    let candidates = store
        .candidates()
        .unwrap()
        .into_iter()
        .map(|c| {
            (
                c.expr,
                c.state.name().to_owned(),
                c.parent,
                c.fitness.map(f64::to_bits),
                c.predicted.map(f64::to_bits),
            )
        })
        .collect();
    let evaluations = store
        .evaluations()
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.candidate,
                e.version,
                e.rung,
                e.replicate,
                e.fitness.map(f64::to_bits),
            )
        })
        .collect();
    let population = store
        .final_population()
        .unwrap()
        .into_iter()
        .map(|m| (m.candidate, m.fitness.map(f64::to_bits)))
        .collect();
    Summary {
        candidates,
        evaluations,
        population,
    }
}
