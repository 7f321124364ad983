//! Multi-fidelity evaluation (`[fidelity]`, successive halving) with a fake fitness whose noise
//! shrinks as the rung's training set grows: every version is trained at rung 0, the best
//! fraction of each rung goes on to the next, forms are ranked by the highest rung they reached,
//! and all of it is deterministic and resumes exactly.

use std::collections::HashMap;
use std::path::Path;

use pangaea_search::{
    fake_result, CandidateState, ExecutorConfig, Fidelity, Reevaluation, SearchConfig, SearchEvent,
    StopReason, StopRule, Store,
};
use pangaea_wire::{EvalRequest, EvalResult};

mod common;

/// The fake fitness plus noise that depends on the seed and on the training set: ±0.04 on 500
/// images, ±0.02 on 1,000, ±0.005 on the full recipe (no limit), so a cheap rung is a noisy
/// estimate of the full one, as with real training.
fn by_rung(request: &EvalRequest) -> EvalResult {
    let mut r = fake_result(request);
    let limit = request.dataset.limit_train;
    let amplitude = match limit {
        Some(500) => 0.08,
        Some(1000) => 0.04,
        _ => 0.01,
    };
    if let Some(a) = r.val_accuracy {
        let key = format!("{}|{}|{limit:?}", request.activation, request.seed);
        let h = pangaea_expr::fnv1a(key.as_bytes());
        let u = (h % 10_000) as f64 / 10_000.0 - 0.5;
        r.val_accuracy = Some(a + amplitude * u);
    }
    r
}

fn rung(limit: usize) -> serde_json::Map<String, serde_json::Value> {
    serde_json::json!({ "dataset": { "limit_train": limit } })
        .as_object()
        .unwrap()
        .clone()
}

/// Two cheap rungs (500 and 1,000 images) below the full recipe, half promoted each time.
fn config(seed: u64) -> SearchConfig {
    let mut c = SearchConfig {
        seed,
        population_size: 8,
        children_per_generation: 6,
        versions_per_child: 2,
        stop: StopRule {
            generations: Some(3),
            ..StopRule::default()
        },
        executor: ExecutorConfig::Fake { workers: 1 },
        fidelity: Fidelity {
            rungs: vec![rung(500), rung(1000)],
            promote_fraction: 0.5,
        },
        ..SearchConfig::default()
    };
    c.training.epochs = 1;
    c
}

fn run(path: &Path, config: SearchConfig, workers: usize, shuffle: Option<u64>) -> StopReason {
    common::run_with(path, config, by_rung, workers, shuffle)
}

/// Everything two equivalent runs must share: every evaluation (candidate, version, rung, run,
/// generation, seed, training set, fitness), every candidate's fitness, rung and run count,
/// every population.
type Fingerprint = (
    Vec<(
        i64,
        usize,
        usize,
        usize,
        usize,
        u64,
        Option<usize>,
        Option<u64>,
    )>,
    Vec<(i64, Option<u64>, usize, usize)>,
    Vec<Vec<(i64, Option<u64>)>>,
);

fn fingerprint(path: &Path) -> Fingerprint {
    let store = Store::open_read_only(path).unwrap();
    let evaluations = store
        .evaluations()
        .unwrap()
        .into_iter()
        .map(|e| {
            let request = e.request().unwrap();
            (
                e.candidate,
                e.version,
                e.rung,
                e.replicate,
                e.generation,
                request.seed,
                request.dataset.limit_train,
                e.fitness.map(f64::to_bits),
            )
        })
        .collect();
    let candidates = store
        .candidates()
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.fitness.map(f64::to_bits), c.rung, c.runs))
        .collect();
    let populations = common::populations(&store);
    (evaluations, candidates, populations)
}

#[test]
fn the_best_half_of_each_rung_is_promoted_and_forms_rank_by_their_highest_rung() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    assert_eq!(run(&path, config(3), 1, None), StopReason::Generations);
    let store = Store::open_read_only(&path).unwrap();
    let limits = [Some(500), Some(1000), None];

    // The baseline is trained once, with the full recipe, at the top rung.
    let relu = &store.baselines().unwrap()[0];
    let runs = store.candidate_evaluations(relu.id).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].rung, relu.rung), (2, 2));
    assert_eq!(runs[0].request().unwrap().dataset.limit_train, None);

    for g in 0..=3 {
        let children: Vec<i64> = store
            .generation_candidates(g)
            .unwrap()
            .iter()
            .filter(|c| c.state == CandidateState::Evaluated)
            .map(|c| c.id)
            .collect();
        let evaluations: Vec<_> = store
            .generation_evaluations(g)
            .unwrap()
            .into_iter()
            .filter(|e| children.contains(&e.candidate))
            .collect();
        // Every version of every child starts at rung 0.
        let at = |r: usize| -> Vec<_> { evaluations.iter().filter(|e| e.rung == r).collect() };
        let mut versions: Vec<(i64, usize)> = evaluations
            .iter()
            .map(|e| (e.candidate, e.version))
            .collect();
        versions.sort_unstable();
        versions.dedup();
        let versions = versions.len();
        assert!(versions >= children.len());
        assert_eq!(at(0).len(), versions, "generation {g}");
        for r in 0..2 {
            let mut below = at(r);
            below.sort_by(|a, b| {
                b.fitness
                    .partial_cmp(&a.fitness)
                    .unwrap()
                    .then(a.id.cmp(&b.id))
            });
            let expected: Vec<(i64, usize)> = below[..below.len().div_ceil(2)]
                .iter()
                .map(|e| (e.candidate, e.version))
                .collect();
            let promoted: Vec<(i64, usize)> =
                at(r + 1).iter().map(|e| (e.candidate, e.version)).collect();
            let mut sorted = expected.clone();
            sorted.sort_unstable();
            let mut got = promoted.clone();
            got.sort_unstable();
            assert_eq!(got, sorted, "generation {g}: promoted from rung {r}");
            // Each rung is trained with its own recipe and the version's own seed.
            for e in at(r + 1) {
                let request = e.request().unwrap();
                assert_eq!(request.dataset.limit_train, limits[r + 1]);
                assert_eq!(request.seed, 0);
                assert_eq!(e.replicate, 0);
            }
        }
        assert_eq!(at(2).len(), versions.div_ceil(2).div_ceil(2));
        // A form's fitness is its best version's at the highest rung it reached.
        for &id in &children {
            let c = store.candidate(id).unwrap().unwrap();
            let mine: Vec<_> = evaluations.iter().filter(|e| e.candidate == id).collect();
            let top = mine.iter().map(|e| e.rung).max().unwrap();
            assert_eq!(c.rung, top, "candidate {id}");
            let best = mine
                .iter()
                .filter(|e| e.rung == top)
                .filter_map(|e| e.fitness)
                .fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(c.fitness, Some(best), "candidate {id}");
        }
    }
    // Populations rank by rung first: nobody at a lower rung is above someone at a higher one.
    let rungs: HashMap<i64, usize> = store
        .candidates()
        .unwrap()
        .iter()
        .map(|c| (c.id, c.rung))
        .collect();
    for g in 0..=3 {
        let population = store.population(g).unwrap();
        let order: Vec<usize> = population.iter().map(|m| rungs[&m.candidate]).collect();
        let mut sorted = order.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(order, sorted, "generation {g}");
        assert_eq!(order[0], 2);
    }
}

#[test]
fn promotions_then_reevaluation_only_at_the_full_recipe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let mut c = config(4);
    c.reevaluation = Reevaluation {
        top: 2,
        runs: 3,
        lcb_z: 1.0,
        noise_std: 0.01,
    };
    run(&path, c, 1, None);
    let store = Store::open_read_only(&path).unwrap();
    let extra: Vec<_> = store
        .evaluations()
        .unwrap()
        .into_iter()
        .filter(|e| e.replicate > 0)
        .collect();
    assert!(!extra.is_empty());
    for e in &extra {
        // The best forms reached the full recipe: their extra runs use it, with new seeds.
        assert_eq!(e.rung, 2, "{e:?}");
        assert_eq!(e.request().unwrap().dataset.limit_train, None);
        assert_eq!(e.request().unwrap().seed, e.replicate as u64);
    }
    // Within a generation every promotion comes before any extra run.
    for g in 0..=3 {
        let evaluations = store.generation_evaluations(g).unwrap();
        let first_extra = evaluations.iter().position(|e| e.replicate > 0);
        let last_promotion = evaluations
            .iter()
            .rposition(|e| e.rung > 0 && e.replicate == 0);
        if let (Some(x), Some(p)) = (first_extra, last_promotion) {
            assert!(p < x, "generation {g}");
        }
    }
    let best = store.population(3).unwrap()[0];
    let best = store.candidate(best.candidate).unwrap().unwrap();
    assert_eq!((best.rung, best.runs), (2, 3));
}

#[test]
fn promotions_are_announced_rung_by_rung() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let log: Vec<(usize, usize, usize)> = common::run_collecting(&path, config(5), by_rung, 2)
        .into_iter()
        .filter_map(|e| match e {
            SearchEvent::Promoted {
                generation,
                rung,
                evaluations,
                ..
            } => Some((generation, rung, evaluations)),
            _ => None,
        })
        .collect();
    // Generation 0: 8 forms × 2 versions at rung 0, 8 promoted to rung 1, 4 to rung 2.
    assert_eq!(log[..2], [(0, 1, 8), (0, 2, 4)]);
    let store = Store::open_read_only(&path).unwrap();
    let promoted = store
        .evaluations()
        .unwrap()
        .iter()
        .filter(|e| e.rung > 0 && e.replicate == 0)
        .count();
    // The baseline's run is at the top rung without a promotion.
    assert_eq!(log.iter().map(|x| x.2).sum::<usize>(), promoted - 1);
}

#[test]
fn rungs_are_deterministic_whatever_the_workers_and_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    run(&a, config(9), 1, None);
    run(&b, config(9), 3, Some(4));
    assert_eq!(fingerprint(&a), fingerprint(&b));
}

#[test]
fn rungs_resume_exactly_after_an_interruption_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(11);
    c.reevaluation.top = 2;
    let reference = dir.path().join("ref.db");
    run(&reference, c.clone(), 2, None);
    let expected = fingerprint(&reference);
    let store = Store::open_read_only(&reference).unwrap();
    let evaluations = store.evaluations().unwrap();
    let total = evaluations.len();
    // Stop points at the first promotion of each rung, inside the extra runs, and elsewhere.
    let first = |f: &dyn Fn(&pangaea_search::EvaluationRecord) -> bool| {
        evaluations.iter().position(f).unwrap()
    };
    let rung1 = first(&|e| e.rung == 1);
    let baseline = store.baselines().unwrap()[0].id;
    let rung2 = first(&|e| e.rung == 2 && e.candidate != baseline);
    let extra = first(&|e| e.replicate > 0);
    drop(store);
    for (i, k) in [
        1,
        rung1,
        rung1 + 1,
        rung2,
        extra,
        extra + 1,
        total / 2,
        total - 1,
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.path().join(format!("run{i}.db"));
        common::interrupt_and_resume(&path, c.clone(), by_rung, k, i as u64);
        assert_eq!(fingerprint(&path), expected, "interrupted after {k}");
    }
}

#[test]
fn a_rung_that_is_not_a_valid_recipe_is_refused_with_its_field() {
    let mut c = config(0);
    c.fidelity.rungs[1] = serde_json::json!({ "dataset": { "limit_train": "many" } })
        .as_object()
        .unwrap()
        .clone();
    let e = c.check().unwrap_err().to_string();
    assert!(e.contains("fidelity.rungs[1].dataset.limit_train"), "{e}");
    c.fidelity.rungs[1] = serde_json::json!({ "seed": 3 })
        .as_object()
        .unwrap()
        .clone();
    let e = c.check().unwrap_err().to_string();
    assert!(e.contains("fidelity.rungs[1].seed"), "{e}");
    let mut c = config(0);
    c.fidelity.promote_fraction = 0.0;
    let e = c.check().unwrap_err().to_string();
    assert!(e.contains("fidelity.promote_fraction"), "{e}");
    // From TOML, as a user writes it.
    let toml = "[fidelity]\npromote_fraction = 0.25\n[[fidelity.rungs]]\ndataset = { limit_train = 500 }\n[[fidelity.rungs]]\nepochs = 2\n";
    let c = SearchConfig::from_toml(toml).unwrap();
    assert_eq!(c.fidelity.top(), 2);
    assert_eq!(c.fidelity.request(&c.training, 1).unwrap().epochs, 2);
    let bad = "[[fidelity.rungs]]\nepochs = -1\n";
    let e = SearchConfig::from_toml(bad).unwrap_err().to_string();
    assert!(e.contains("fidelity.rungs[0].epochs"), "{e}");
}
