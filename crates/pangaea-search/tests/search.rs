//! The search end to end with the in-process executor and the fake fitness: store round trip,
//! schema refusal, determinism, rejection and dedup, resume, cache.

use std::path::Path;

use pangaea_search::{
    fake_result, Cache, CandidateState, ExecutorConfig, InProcessExecutor, NoEvents, ResultSource,
    RunOptions, Search, SearchConfig, SearchError, SearchEvent, StopReason, StopRule, Store,
};
use pangaea_wire::{EvalRequest, EvalResult};

mod common;

fn config(seed: u64) -> SearchConfig {
    let mut c = SearchConfig {
        seed,
        population_size: 8,
        children_per_generation: 4,
        versions_per_child: 2,
        stop: StopRule {
            generations: Some(4),
            ..StopRule::default()
        },
        executor: ExecutorConfig::Fake { workers: 1 },
        ..SearchConfig::default()
    };
    c.training.epochs = 1;
    c
}

/// Everything that must be identical between equivalent runs: the candidate sequence (form,
/// state, parent, mutation, fitness) and the population of every generation.
type Fingerprint = (
    Vec<(
        String,
        &'static str,
        Option<i64>,
        Option<String>,
        Option<u64>,
    )>,
    Vec<Vec<(i64, Option<u64>)>>,
);

fn summary(path: &Path) -> Fingerprint {
    let store = Store::open_read_only(path).unwrap();
    let candidates = store
        .candidates()
        .unwrap()
        .into_iter()
        .map(|c| {
            (
                c.expr,
                c.state.name(),
                c.parent,
                c.mutation_detail,
                c.fitness.map(f64::to_bits),
            )
        })
        .collect();
    let populations = common::populations(&store);
    (candidates, populations)
}

fn run(path: &Path, config: SearchConfig, workers: usize, shuffle: Option<u64>) -> StopReason {
    let mut search = Search::create(path, config).unwrap();
    let mut ex = InProcessExecutor::new(workers, fake_result);
    if let Some(seed) = shuffle {
        ex = ex.with_shuffled_arrival(seed);
    }
    search
        .run(&mut ex, &mut NoEvents, &RunOptions::default())
        .unwrap()
}

#[test]
fn store_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let config = config(1);
    assert_eq!(run(&path, config.clone(), 2, None), StopReason::Generations);
    let store = Store::open_read_only(&path).unwrap();
    assert_eq!(store.config().unwrap(), config);
    assert_eq!(store.last_finished_generation().unwrap(), Some(4));
    let evaluations = store.evaluations().unwrap();
    assert!(!evaluations.is_empty());
    for e in &evaluations {
        let request: EvalRequest = e.request().unwrap();
        assert_eq!(request.activation, e.expr);
        assert_eq!(request.epochs, 1);
        let result: EvalResult = e.result().unwrap().unwrap();
        assert_eq!(result, fake_result(&request), "evaluation {}", e.id);
        assert_eq!(e.status.as_deref(), Some(result.status.name()));
        assert_eq!(e.source, Some(ResultSource::Executor));
    }
    // The ReLU baseline was trained once, as written, with the same recipe; it is not part of
    // the population, and the progress curve leaves it out.
    let baselines = store.baselines().unwrap();
    assert_eq!(baselines.len(), 1);
    assert_eq!(baselines[0].expr, "relu(x)");
    assert_eq!(baselines[0].state, CandidateState::Baseline);
    let baseline_evals = store.candidate_evaluations(baselines[0].id).unwrap();
    assert_eq!(baseline_evals.len(), 1);
    let baseline_request = baseline_evals[0].request().unwrap();
    assert_eq!(baseline_request.activation, "relu(x)");
    assert_eq!(baseline_request.epochs, config.training.epochs);
    assert_eq!(baselines[0].fitness, baseline_evals[0].fitness);
    assert!(baselines[0].fitness.is_some());
    for g in 0..=4 {
        assert!(store
            .population(g)
            .unwrap()
            .iter()
            .all(|m| m.candidate != baselines[0].id));
    }
    // best so far is monotone and ends at the best evaluation of a candidate.
    let curve = store.best_so_far().unwrap();
    assert_eq!(curve.len(), evaluations.len() - 1);
    assert!(curve.windows(2).all(|w| w[1].best >= w[0].best));
    let best_fitness = evaluations
        .iter()
        .filter(|e| e.candidate != baselines[0].id)
        .filter_map(|e| e.fitness)
        .fold(f64::MIN, f64::max);
    assert_eq!(curve.last().unwrap().best, Some(best_fitness));
    // The top form is the population's best, and its version is its best evaluation.
    let top = store.top_forms(3).unwrap();
    assert_eq!(top.len(), 3);
    let population = store.final_population().unwrap();
    assert_eq!(population.len(), 8);
    assert_eq!(top[0].candidate.id, population[0].candidate);
    assert_eq!(top[0].best.fitness, top[0].candidate.fitness);
    assert!(top[0].best.result().unwrap().is_some());
    for e in store.candidate_evaluations(top[0].candidate.id).unwrap() {
        assert!(e.fitness <= top[0].best.fitness);
    }
    // Lineage: back to generation 0 through parents, each step naming its mutation.
    let deepest = store
        .candidates()
        .unwrap()
        .into_iter()
        .rfind(|c| c.generation == 4)
        .unwrap();
    let lineage = store.lineage(deepest.id).unwrap();
    assert_eq!(lineage[0].id, deepest.id);
    assert_eq!(lineage.last().unwrap().generation, 0);
    assert!(lineage.last().unwrap().parent.is_none());
    for pair in lineage.windows(2) {
        assert_eq!(pair[0].parent, Some(pair[1].id));
        assert!(pair[0].mutation.is_some() && pair[0].mutation_detail.is_some());
        assert!(pair[1].generation < pair[0].generation);
    }
}

#[test]
fn a_store_from_a_newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    drop(Search::create(&path, config(1)).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Search::resume(&path).unwrap_err();
    assert!(
        matches!(err, SearchError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("schema version 99") && text.contains("not modified"),
        "{text}"
    );
    assert!(Store::open_read_only(&path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // And a new search never overwrites an existing file.
    let err = Search::create(&path, config(1)).unwrap_err();
    assert!(matches!(err, SearchError::StoreExists { .. }), "{err}");
}

#[test]
fn same_seed_same_search_whatever_the_workers_and_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    let c = dir.path().join("c.db");
    let d = dir.path().join("d.db");
    run(&a, config(3), 1, None);
    run(&b, config(3), 1, None);
    run(&c, config(3), 3, Some(11));
    run(&d, config(4), 1, None);
    let sa = summary(&a);
    assert_eq!(sa, summary(&b));
    assert_eq!(sa, summary(&c));
    assert_ne!(sa.0, summary(&d).0, "another seed gives other candidates");
    // Results really did arrive in another order with 3 shuffled workers.
    let finished_order = |p: &Path| {
        let mut e = Store::open_read_only(p).unwrap().evaluations().unwrap();
        e.sort_by(|x, y| {
            x.finished_at
                .partial_cmp(&y.finished_at)
                .unwrap()
                .then(x.id.cmp(&y.id))
        });
        e.into_iter().map(|e| e.id).collect::<Vec<_>>()
    };
    let order = finished_order(&c);
    assert!(order.windows(2).any(|w| w[0] > w[1]), "{order:?}");
}

#[test]
fn rejections_and_duplicates_are_recorded_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let mut c = config(5);
    // A small set with constants and poles: many rejections and duplicates.
    c.operators.unary = [
        "zero",
        "one",
        "exp",
        "reciprocal",
        "tanh",
        "relu",
        "neg",
        "abs",
    ]
    .map(String::from)
    .to_vec();
    c.operators.binary = ["add", "mul", "div", "max"].map(String::from).to_vec();
    let mut search = Search::create(&path, c).unwrap();
    let mut events: Vec<SearchEvent> = Vec::new();
    search
        .run(
            &mut InProcessExecutor::new(2, fake_result),
            &mut events,
            &RunOptions::default(),
        )
        .unwrap();
    let store = Store::open_read_only(&path).unwrap();
    let candidates = store.candidates().unwrap();
    let rejected: Vec<_> = candidates
        .iter()
        .filter(|c| c.state == CandidateState::Rejected)
        .collect();
    let duplicates: Vec<_> = candidates
        .iter()
        .filter(|c| c.state == CandidateState::Duplicate)
        .collect();
    assert!(!rejected.is_empty() && !duplicates.is_empty());
    let codes = [
        "non_finite_value",
        "non_finite_gradient",
        "constant",
        "zero_gradient",
    ];
    for r in &rejected {
        let reason = r.reason.as_deref().unwrap();
        assert!(codes.iter().any(|c| reason.starts_with(c)), "{reason}");
        assert!(
            store.candidate_evaluations(r.id).unwrap().is_empty(),
            "never trained"
        );
        let expr = pangaea_expr::Expr::parse(&r.expr).unwrap();
        assert!(expr.validate().is_err());
    }
    for d in &duplicates {
        let original = store.candidate(d.duplicate_of.unwrap()).unwrap().unwrap();
        assert!(original.id < d.id);
        assert_eq!(original.state, CandidateState::Evaluated);
        assert!(original.canonical == d.canonical || original.fingerprint == d.fingerprint);
        assert!(d.reason.as_deref().unwrap().starts_with("same "));
        assert_eq!(d.fitness, original.fitness, "inherits the result");
        assert_eq!(d.best_evaluation, original.best_evaluation);
        assert!(
            store.candidate_evaluations(d.id).unwrap().is_empty(),
            "never trained"
        );
    }
    // Events told the same story.
    let n_rejected = events
        .iter()
        .filter(|e| matches!(e, SearchEvent::CandidateRejected { .. }))
        .count();
    let n_duplicate = events
        .iter()
        .filter(|e| matches!(e, SearchEvent::CandidateDuplicate { .. }))
        .count();
    assert_eq!(
        (n_rejected, n_duplicate),
        (rejected.len(), duplicates.len())
    );
    // No form is in a population twice, and no rejected or duplicate form is in one.
    let population = store.final_population().unwrap();
    let mut ids: Vec<_> = population.iter().map(|m| m.candidate).collect();
    ids.dedup();
    assert_eq!(ids.len(), population.len());
    for m in population {
        assert_eq!(
            store.candidate(m.candidate).unwrap().unwrap().state,
            CandidateState::Evaluated
        );
    }
}

#[test]
fn interrupted_and_resumed_runs_reach_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("ref.db");
    run(&reference, config(7), 2, None);
    let expected = summary(&reference);
    let total = Store::open_read_only(&reference)
        .unwrap()
        .evaluations()
        .unwrap()
        .len();
    for (i, k) in [1usize, 5, 16, 17, total - 1].into_iter().enumerate() {
        let path = dir.path().join(format!("run{i}.db"));
        common::interrupt_and_resume(&path, config(7), fake_result, k, i as u64);
        assert_eq!(
            summary(&path),
            expected,
            "interrupted after {k} evaluations"
        );
        let store = Store::open_read_only(&path).unwrap();
        assert!(store.evaluations().unwrap().iter().all(|e| e.is_finished()));
    }
}

#[test]
fn a_shared_cache_serves_a_second_identical_search() {
    let dir = tempfile::tempdir().unwrap();
    let cache_path = dir.path().join("cache.db");
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    for path in [&a, &b] {
        let mut search = Search::create(path, config(9))
            .unwrap()
            .with_cache(Cache::open(&cache_path).unwrap());
        search
            .run(
                &mut InProcessExecutor::new(2, fake_result),
                &mut NoEvents,
                &RunOptions::default(),
            )
            .unwrap();
    }
    assert_eq!(summary(&a), summary(&b));
    let store = Store::open_read_only(&b).unwrap();
    let evaluations = store.evaluations().unwrap();
    assert!(evaluations
        .iter()
        .all(|e| e.source == Some(ResultSource::Cache)));
    let first = Store::open_read_only(&a).unwrap().evaluations().unwrap();
    assert!(first
        .iter()
        .all(|e| e.source == Some(ResultSource::Executor)));
}

#[test]
fn the_evaluation_limit_stops_between_generations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let mut c = config(2);
    c.stop = StopRule {
        evaluations: Some(20),
        ..StopRule::default()
    };
    assert_eq!(run(&path, c, 2, None), StopReason::Evaluations);
    let store = Store::open_read_only(&path).unwrap();
    let done = store.finished_evaluations().unwrap();
    assert!(done >= 20, "{done}");
    // It stopped at the first generation boundary past the limit.
    let last = store.last_finished_generation().unwrap().unwrap();
    let before_last: usize = (0..last)
        .map(|g| store.generation_evaluations(g).unwrap().len())
        .sum();
    assert!(before_last < 20, "{before_last}");
}

/// The pre-screen replayed on a stored search with the fake fitness (closeness to Swish on
/// [−3, 3]): a function of the form's values, which the features see, so the kNN predictions
/// must rank the children well; the replay counts what skipping would have saved.
#[test]
fn the_screen_predicts_the_fake_fitness_from_earlier_generations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let mut c = config(5);
    c.population_size = 16;
    c.children_per_generation = 12;
    c.stop.generations = Some(6);
    let mut search = Search::create(&path, c).unwrap();
    let mut executor = InProcessExecutor::new(2, |r: &EvalRequest| {
        let mut result = fake_result(r);
        result.wall_seconds = 2.0;
        result
    });
    search
        .run(&mut executor, &mut NoEvents, &RunOptions::default())
        .unwrap();
    let store = Store::open_read_only(&path).unwrap();
    let replay = pangaea_search::screen::replay(&store, 3, 0.25, Default::default()).unwrap();
    assert!(replay.predicted >= 30, "{replay:?}");
    let rho = replay.spearman.unwrap();
    assert!(rho > 0.5, "Spearman {rho}: {replay:?}");
    assert!(
        replay.skipped > 0 && replay.skipped <= replay.predicted / 4 + 6,
        "{replay:?}"
    );
    assert!(replay.seconds_skipped > 0.0 && replay.seconds_skipped < replay.seconds_total);
    // Skipping fewer never skips more.
    let none = pangaea_search::screen::replay(&store, 3, 0.0, Default::default()).unwrap();
    assert_eq!(none.skipped, 0);
    assert_eq!(none.spearman, replay.spearman);
}

/// A search with the pre-screen on (half of each generation's children skipped once 10 forms
/// are trained).
fn screening_config() -> SearchConfig {
    let mut c = config(9);
    c.population_size = 12;
    c.children_per_generation = 8;
    c.stop.generations = Some(5);
    c.screening = pangaea_search::Screening {
        skip_fraction: 0.5,
        k: 3,
        min_history: 10,
        network: false,
        own_network: false,
    };
    c
}

#[test]
fn screened_children_are_predicted_stored_and_never_trained() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let trained = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = trained.clone();
    let mut search = Search::create(&path, screening_config()).unwrap();
    // One worker: the executor is asked in the order the search submits.
    let mut executor = InProcessExecutor::new(1, move |r: &EvalRequest| {
        seen.lock()
            .unwrap()
            .push(r.label.clone().unwrap_or_default());
        fake_result(r)
    });
    let mut events = Vec::new();
    search
        .run(&mut executor, &mut events, &RunOptions::default())
        .unwrap();
    let store = Store::open_read_only(&path).unwrap();
    let candidates = store.candidates().unwrap();
    let screened: Vec<_> = candidates
        .iter()
        .filter(|c| c.state == CandidateState::Screened)
        .collect();
    assert!(screened.len() >= 8, "{} screened", screened.len());
    for c in &screened {
        assert!(c.generation > 0 && c.predicted.is_some() && c.fitness.is_none());
        assert!(c
            .reason
            .as_deref()
            .unwrap()
            .starts_with("screened: predicted fitness "));
        assert!(
            store.candidate_evaluations(c.id).unwrap().is_empty(),
            "{}",
            c.id
        );
    }
    // Every training run the executor saw is a stored evaluation of a non-screened candidate.
    let evaluations = store.evaluations().unwrap();
    assert_eq!(trained.lock().unwrap().len(), evaluations.len());
    // The children kept in a screened generation were predicted higher than the ones skipped.
    for g in 1..=4 {
        let of = |state: CandidateState| -> Vec<f64> {
            candidates
                .iter()
                .filter(|c| c.generation == g && c.state == state)
                .filter_map(|c| c.predicted)
                .collect()
        };
        let (skipped, kept) = (of(CandidateState::Screened), of(CandidateState::Evaluated));
        if let (Some(hi), Some(lo)) = (
            skipped.iter().copied().reduce(f64::max),
            kept.iter().copied().reduce(f64::min),
        ) {
            assert!(
                hi <= lo,
                "generation {g}: skipped {skipped:?}, kept {kept:?}"
            );
        }
    }
    let reported = events
        .iter()
        .filter(|e| matches!(e, SearchEvent::CandidateScreened { .. }))
        .count();
    assert_eq!(reported, screened.len());
    // Within a generation, children are trained in order of their prediction, best first.
    let candidate_of: std::collections::HashMap<String, i64> = evaluations
        .iter()
        .map(|e| (e.request().unwrap().label.unwrap(), e.candidate))
        .collect();
    let predicted_of = |id: i64| candidates.iter().find(|c| c.id == id).unwrap().predicted;
    let order: Vec<(usize, f64)> = trained
        .lock()
        .unwrap()
        .iter()
        .filter_map(|label| {
            let c = candidate_of[label];
            let generation = candidates.iter().find(|x| x.id == c).unwrap().generation;
            Some((generation, predicted_of(c)?))
        })
        .collect();
    assert!(order.len() > 10, "{order:?}");
    for w in order.windows(2) {
        assert!(
            w[0].0 != w[1].0 || w[0].1 >= w[1].1,
            "trained out of order: {order:?}"
        );
    }
}

#[test]
fn a_screening_search_resumed_after_interruptions_reaches_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("ref.db");
    assert_eq!(
        run(&reference, screening_config(), 2, None),
        StopReason::Generations
    );
    for (i, k) in [3, 17, 40].into_iter().enumerate() {
        let path = dir.path().join(format!("interrupted-{i}.db"));
        common::interrupt_and_resume(&path, screening_config(), fake_result, k, i as u64);
        assert_eq!(
            summary(&path),
            summary(&reference),
            "stopped every {k} evaluations"
        );
    }
}

/// A probe of "the search's network" for the tests: `scale` × the form's text length, and a
/// count of the forms it was asked about.
struct LengthProbe {
    scale: f64,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl pangaea_search::screen::NetworkProbe for LengthProbe {
    fn features(&self, form: &str) -> Result<Vec<f64>, String> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(vec![self.scale * form.len() as f64, 1.0])
    }
}

/// The stored predictions of a screening search, in candidate order.
fn predictions(path: &Path) -> Vec<Option<u64>> {
    let store = Store::open_read_only(path).unwrap();
    let candidates = store.candidates().unwrap();
    candidates
        .iter()
        .map(|c| c.predicted.map(f64::to_bits))
        .collect()
}

#[test]
fn the_own_network_features_come_from_the_probe_and_steer_the_screen() {
    let dir = tempfile::tempdir().unwrap();
    let mut own = screening_config();
    own.screening.own_network = true;
    // Without a probe the search refuses to start, and trains nothing.
    let refused = dir.path().join("refused.db");
    let mut search = Search::create(&refused, own.clone()).unwrap();
    let mut ex = InProcessExecutor::new(1, fake_result);
    let err = search
        .run(&mut ex, &mut NoEvents, &RunOptions::default())
        .unwrap_err();
    assert!(matches!(err, SearchError::Screen(_)), "{err}");
    assert!(err.to_string().contains("screening.own_network"), "{err}");
    assert!(Store::open_read_only(&refused)
        .unwrap()
        .evaluations()
        .unwrap()
        .is_empty());

    let with = |name: &str, scale: f64| {
        let path = dir.path().join(name);
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let probe = LengthProbe {
            scale,
            calls: calls.clone(),
        };
        let mut search = Search::create(&path, own.clone())
            .unwrap()
            .with_network_probe(Box::new(probe));
        let mut ex = InProcessExecutor::new(2, fake_result);
        search
            .run(&mut ex, &mut NoEvents, &RunOptions::default())
            .unwrap();
        (path, calls.load(std::sync::atomic::Ordering::SeqCst))
    };
    let reference = dir.path().join("outputs-only.db");
    run(&reference, screening_config(), 2, None);
    // Features that are the same for every form change no distance: the same search.
    let (flat, asked) = with("flat.db", 0.0);
    assert!(asked > 10, "the probe was asked about {asked} forms");
    assert_eq!(summary(&flat), summary(&reference));
    assert_eq!(predictions(&flat), predictions(&reference));
    // Features that dominate the distance choose other neighbours.
    let (steered, _) = with("steered.db", 1e3);
    assert_ne!(predictions(&steered), predictions(&reference));
}
