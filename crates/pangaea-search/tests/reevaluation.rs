//! Re-evaluation with a noisy fake fitness: the best forms and the baselines get extra runs
//! with new seeds, a form's fitness is the mean over its standing version's runs, forms are
//! ranked by the lower confidence bound, and all of it is deterministic and resumes exactly.

use std::path::Path;

use pangaea_search::{
    fake_result, CandidateState, ExecutorConfig, InProcessExecutor, NoEvents, Reevaluation,
    RunOptions, Search, SearchConfig, SearchEvent, StopReason, StopRule, Store,
};
use pangaea_wire::{EvalRequest, EvalResult};

mod common;

/// The fake fitness plus seed noise (uniform, ±0.02), as a real training's fitness moves with
/// its seed: one lucky run can look better than it is.
fn noisy(request: &EvalRequest) -> EvalResult {
    let mut r = fake_result(request);
    if let Some(a) = r.val_accuracy {
        let key = format!("{}|{}", request.activation, request.seed);
        let h = pangaea_expr::fnv1a(key.as_bytes());
        let u = (h % 10_000) as f64 / 10_000.0 - 0.5;
        r.val_accuracy = Some(a + 0.04 * u);
    }
    r
}

fn config(seed: u64) -> SearchConfig {
    let mut c = SearchConfig {
        seed,
        population_size: 8,
        children_per_generation: 4,
        versions_per_child: 2,
        stop: StopRule {
            generations: Some(3),
            ..StopRule::default()
        },
        executor: ExecutorConfig::Fake { workers: 1 },
        reevaluation: Reevaluation {
            top: 3,
            runs: 3,
            lcb_z: 1.0,
            noise_std: 0.01,
        },
        ..SearchConfig::default()
    };
    c.training.epochs = 1;
    c
}

fn run(path: &Path, config: SearchConfig, workers: usize, shuffle: Option<u64>) -> StopReason {
    common::run_with(path, config, noisy, workers, shuffle)
}

/// Everything two equivalent runs must share: every evaluation (candidate, version, run,
/// generation, seed, fitness), every candidate's fitness and run count, every population.
type Fingerprint = (
    Vec<(i64, usize, usize, usize, u64, Option<u64>)>,
    Vec<(i64, Option<u64>, usize)>,
    Vec<Vec<(i64, Option<u64>)>>,
);

fn fingerprint(path: &Path) -> Fingerprint {
    let store = Store::open_read_only(path).unwrap();
    let evaluations = store
        .evaluations()
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.candidate,
                e.version,
                e.replicate,
                e.generation,
                e.request().unwrap().seed,
                e.fitness.map(f64::to_bits),
            )
        })
        .collect();
    let candidates = store
        .candidates()
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.fitness.map(f64::to_bits), c.runs))
        .collect();
    let populations = common::populations(&store);
    (evaluations, candidates, populations)
}

#[test]
fn the_best_forms_and_the_baselines_are_ranked_by_a_mean_over_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let config = config(5);
    assert_eq!(run(&path, config.clone(), 1, None), StopReason::Generations);
    let store = Store::open_read_only(&path).unwrap();
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let score = |f: f64, n: usize| f - 0.01 / (n as f64).sqrt();

    // The baseline has its three runs, seeds 0, 1, 2.
    let relu = &store.baselines().unwrap()[0];
    assert_eq!(relu.runs, 3);
    let runs = store.candidate_evaluations(relu.id).unwrap();
    assert_eq!(
        runs.iter()
            .map(|e| (e.replicate, e.request().unwrap().seed))
            .collect::<Vec<_>>(),
        [(0, 0), (1, 1), (2, 2)]
    );

    let last = store.last_finished_generation().unwrap().unwrap();
    for g in 0..=last {
        let population = store.population(g).unwrap();
        // Ranked by the lower confidence bound, best first.
        let scores: Vec<f64> = population
            .iter()
            .map(|m| {
                let c = store.candidate(m.candidate).unwrap().unwrap();
                score(m.fitness.unwrap(), c.runs.max(1))
            })
            .collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "generation {g}: {scores:?}"
        );
    }
    // The top forms the summary and the report show follow the same score.
    let top: Vec<f64> = store
        .top_forms(6)
        .unwrap()
        .iter()
        .map(|t| score(t.candidate.fitness.unwrap(), t.candidate.runs.max(1)))
        .collect();
    assert!(top.windows(2).all(|w| w[0] >= w[1]), "{top:?}");
    // At the end, the top three have three runs of their standing version each, and their
    // fitness is the mean of those runs, with its standard error.
    for m in store.final_population().unwrap().iter().take(3) {
        let c = store.candidate(m.candidate).unwrap().unwrap();
        assert_eq!(c.runs, 3, "candidate {}", c.id);
        let standing = store
            .evaluation(c.best_evaluation.unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(standing.replicate, 0);
        let values: Vec<f64> = store
            .version_runs(c.id, standing.version, standing.rung)
            .unwrap()
            .into_iter()
            .map(Option::unwrap)
            .collect();
        assert_eq!(values.len(), 3);
        let m = mean(&values);
        assert!((c.fitness.unwrap() - m).abs() < 1e-12);
        let sd = (values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((c.fitness_se.unwrap() - sd / 3f64.sqrt()).abs() < 1e-12);
    }
    // Extra runs are stored with the generation that planned them (their form's or a later
    // one, for a survivor that rose into the top), run r with seed `training.seed + r`.
    let base_seed = config.training.seed;
    let all = store.evaluations().unwrap();
    let extra: Vec<_> = all.iter().filter(|e| e.replicate > 0).collect();
    assert!(!extra.is_empty());
    for e in &extra {
        let c = store.candidate(e.candidate).unwrap().unwrap();
        assert!(e.generation >= c.generation);
        assert_eq!(e.request().unwrap().seed, base_seed + e.replicate as u64);
        assert!(matches!(
            c.state,
            CandidateState::Evaluated | CandidateState::Baseline
        ));
    }
    // No version has more than three runs, and no run was planned twice.
    for c in store.candidates().unwrap() {
        let evaluations = store.candidate_evaluations(c.id).unwrap();
        for v in 0..c.runs.max(1) {
            let runs: Vec<usize> = evaluations
                .iter()
                .filter(|e| e.version == v)
                .map(|e| e.replicate)
                .collect();
            assert!(runs.len() <= 3, "candidate {} version {v}: {runs:?}", c.id);
            let mut sorted = runs.clone();
            sorted.dedup();
            assert_eq!(sorted, runs);
        }
    }
}

#[test]
fn without_reevaluation_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let mut c = config(5);
    c.reevaluation.top = 0;
    run(&path, c, 1, None);
    let store = Store::open_read_only(&path).unwrap();
    assert!(store
        .evaluations()
        .unwrap()
        .iter()
        .all(|e| e.replicate == 0));
    for c in store.candidates().unwrap() {
        assert!(c.runs <= 1 && c.fitness_se.is_none(), "{c:?}");
    }
}

#[test]
fn reevaluation_is_deterministic_whatever_the_workers_and_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    run(&a, config(9), 1, None);
    run(&b, config(9), 3, Some(4));
    assert_eq!(fingerprint(&a), fingerprint(&b));
}

#[test]
fn reevaluation_resumes_exactly_after_an_interruption_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("ref.db");
    run(&reference, config(11), 2, None);
    let expected = fingerprint(&reference);
    let store = Store::open_read_only(&reference).unwrap();
    let total = store.evaluations().unwrap().len();
    // Stop points inside a generation's first runs and inside its extra runs.
    let first_extra = store
        .evaluations()
        .unwrap()
        .iter()
        .position(|e| e.replicate > 0)
        .unwrap();
    drop(store);
    for (i, k) in [1, first_extra, first_extra + 1, total / 2, total - 1]
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("run{i}.db"));
        common::interrupt_and_resume(&path, config(11), noisy, k, i as u64);
        assert_eq!(fingerprint(&path), expected, "interrupted after {k}");
    }
}

#[test]
fn extra_runs_are_announced_once_per_round() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let log: Vec<(usize, usize, usize)> = common::run_collecting(&path, config(5), noisy, 1)
        .into_iter()
        .filter_map(|e| match e {
            SearchEvent::ExtraRuns {
                generation,
                evaluations,
                candidates,
            } => Some((generation, evaluations, candidates)),
            _ => None,
        })
        .collect();
    let store = Store::open_read_only(&path).unwrap();
    let extra = store
        .evaluations()
        .unwrap()
        .iter()
        .filter(|e| e.replicate > 0)
        .count();
    assert_eq!(log.iter().map(|x| x.1).sum::<usize>(), extra);
    // Generation 0 re-evaluates the baseline and the top three: 4 forms, 2 runs each.
    assert_eq!(log[0], (0, 8, 4));
}

/// A store of schema 2 (before re-evaluation and screening): read-only it reads as one run per fitness
/// without being modified; opened by a resumed search it is migrated and the search goes on.
#[test]
fn a_schema_2_store_reads_unchanged_and_migrates_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let mut c = config(2);
    c.reevaluation.top = 0;
    c.stop.generations = Some(1);
    run(&path, c, 1, None);
    let before = {
        let store = Store::open_read_only(&path).unwrap();
        (store.candidates().unwrap(), store.evaluations().unwrap())
    };
    {
        // Take the store back to schema 2.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP INDEX evaluations_generation;
             ALTER TABLE evaluations DROP COLUMN generation;
             ALTER TABLE evaluations DROP COLUMN replicate;
             ALTER TABLE candidates DROP COLUMN runs;
             ALTER TABLE candidates DROP COLUMN fitness_se;
             ALTER TABLE candidates DROP COLUMN predicted;
             ALTER TABLE candidates DROP COLUMN rung;
             ALTER TABLE evaluations DROP COLUMN rung;
             PRAGMA journal_mode = DELETE;
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    {
        let store = Store::open_read_only(&path).unwrap();
        assert_eq!(store.candidates().unwrap(), before.0);
        assert_eq!(store.evaluations().unwrap(), before.1);
        assert_eq!(
            store.generation_evaluations(1).unwrap(),
            before
                .1
                .iter()
                .filter(|e| e.generation == 1)
                .cloned()
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "reading never writes");
    // Opened by a resumed search: migrated, nothing read changes, and it runs (to its end).
    let mut search = Search::resume(&path).unwrap();
    assert!(!search.store().generation_evaluations(1).unwrap().is_empty());
    drop(search);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, pangaea_search::SCHEMA_VERSION);
    drop(conn);
    let store = Store::open_read_only(&path).unwrap();
    assert_eq!(store.candidates().unwrap(), before.0);
    assert_eq!(store.evaluations().unwrap(), before.1);
    search = Search::resume(&path).unwrap();
    let mut ex = InProcessExecutor::new(1, noisy);
    search
        .run(&mut ex, &mut NoEvents, &RunOptions::default())
        .unwrap();
}
