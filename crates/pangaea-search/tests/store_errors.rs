//! A damaged or misused store gives an error that says what is wrong and where, never a panic,
//! and leaves what was written before intact.

use pangaea_search::{
    fake_result, CandidateState, ExecutorConfig, FinishedEvaluation, InProcessExecutor, NoEvents,
    ResultSource, RunOptions, Search, SearchConfig, SearchError, StopRule, Store,
};

fn config() -> SearchConfig {
    SearchConfig {
        seed: 3,
        population_size: 4,
        children_per_generation: 2,
        versions_per_child: 1,
        stop: StopRule {
            generations: Some(1),
            ..StopRule::default()
        },
        executor: ExecutorConfig::Fake { workers: 1 },
        ..SearchConfig::default()
    }
}

fn finished_search(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("run.db");
    let mut search = Search::create(&path, config()).unwrap();
    search
        .run(
            &mut InProcessExecutor::new(1, fake_result),
            &mut NoEvents,
            &RunOptions::default(),
        )
        .unwrap();
    path
}

#[test]
fn storing_a_result_twice_is_refused_and_keeps_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = finished_search(dir.path());
    let mut store = Store::open(&path).unwrap();
    let first = store.evaluations().unwrap().remove(1);
    let mut result = first.result().unwrap().unwrap();
    result.val_accuracy = Some(0.123);
    let again = FinishedEvaluation {
        id: first.id,
        fitness: Some(0.123),
        result,
        wall_seconds: 1.0,
        attempts: 1,
        source: ResultSource::Executor,
    };
    let err = store.record_evaluation(&again).unwrap_err();
    assert!(
        matches!(err, SearchError::NotPending { evaluation, .. } if evaluation == first.id),
        "{err}"
    );
    assert!(err.to_string().contains("not pending"), "{err}");
    assert!(!err.is_usage());
    let kept = store.evaluation(first.id).unwrap().unwrap();
    assert_eq!(kept.fitness, first.fitness);
    assert_eq!(kept.result_json, first.result_json);
    // An id that does not exist is refused the same way.
    let unknown = FinishedEvaluation {
        id: 10_000,
        ..again
    };
    assert!(matches!(
        store.record_evaluation(&unknown),
        Err(SearchError::NotPending {
            evaluation: 10_000,
            ..
        })
    ));
}

#[test]
fn a_lineage_cycle_and_an_unknown_candidate_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = finished_search(dir.path());
    let child = {
        let store = Store::open_read_only(&path).unwrap();
        let child = store
            .candidates()
            .unwrap()
            .into_iter()
            .find(|c| c.parent.is_some())
            .expect("generation 1 has children");
        let err = store.lineage(9_999).unwrap_err();
        assert!(
            matches!(
                err,
                SearchError::NoCandidate {
                    candidate: 9_999,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.is_usage());
        child
    };
    // Damage the store by hand: the parent's parent is the child.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE candidates SET parent_id = ?1 WHERE id = ?2",
        [child.id, child.parent.unwrap()],
    )
    .unwrap();
    drop(conn);
    let store = Store::open_read_only(&path).unwrap();
    let err = store.lineage(child.id).unwrap_err();
    assert!(
        matches!(err, SearchError::LineageCycle { candidate, .. } if candidate == child.id),
        "{err}"
    );
    assert!(err.to_string().contains("cycle"), "{err}");
}

#[test]
fn an_unparsable_stored_expression_names_its_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let mut c = config();
    c.stop.generations = Some(2);
    let mut search = Search::create(&path, c).unwrap();
    // Stop once every evaluation of generation 0 (the baseline and 4 forms) is stored, before
    // the generation ends.
    let options = RunOptions {
        stop_after_evaluations: Some(1 + 4),
        ..RunOptions::default()
    };
    search
        .run(
            &mut InProcessExecutor::new(1, fake_result),
            &mut NoEvents,
            &options,
        )
        .unwrap();
    drop(search);
    let parent = {
        let store = Store::open_read_only(&path).unwrap();
        assert_eq!(store.last_finished_generation().unwrap(), None);
        store
            .candidates()
            .unwrap()
            .into_iter()
            .find(|c| c.state == CandidateState::Pending)
            .unwrap()
    };
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE candidates SET expr = 'tanh((' WHERE id = ?1",
        [parent.id],
    )
    .unwrap();
    drop(conn);
    let mut search = Search::resume(&path).unwrap();
    let err = search
        .run(
            &mut InProcessExecutor::new(1, fake_result),
            &mut NoEvents,
            &RunOptions::default(),
        )
        .unwrap_err();
    match &err {
        SearchError::BadStoredExpression { candidate, .. } => assert_eq!(*candidate, parent.id),
        other => panic!("expected an unparsable-expression error, got {other}"),
    }
}

#[test]
fn a_missing_file_and_a_file_that_is_not_a_store_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let err = Store::open_read_only(&missing).unwrap_err();
    assert!(matches!(err, SearchError::NoStore { .. }), "{err}");
    assert!(err.is_usage());
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "these are notes, not a database").unwrap();
    let err = Store::open_read_only(&text).unwrap_err();
    assert!(matches!(err, SearchError::NotAStore { .. }), "{err}");
    assert!(err.is_usage());
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "these are notes, not a database"
    );
}
