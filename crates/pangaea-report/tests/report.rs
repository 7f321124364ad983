//! A report of a small search store built in the test: the files exist and hold the expected
//! pieces, and the page renders in a real headless browser (skipped with a notice when
//! chromium is not installed, unless PANGAEA_REQUIRE_BROWSER is set as in CI).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use pangaea_report::study::{run_study, write_study, CellSpec, StudyConfig};
use pangaea_report::{final_plan, write_report};
use pangaea_search::{fake_result, InProcessExecutor, NoEvents, RunOptions, Search, SearchConfig};
use pangaea_search::{Cache, CancelToken, StopRule, Store};
use pangaea_wire::{Arch, DatasetName, EvalRequest, EvalResult, ParamSnapshot, SiteRecord};

/// The fake fitness, plus recorded parameters: 2 sites × 4 channels drifting over 3 epochs, one
/// snapshot per epoch end as results written before snapshots carried their step (so the
/// report's fallback placement is exercised). Channel c of site s moves by
/// epoch·(0.05·(s+1) + 0.02·k)·(c − 0.5) for the k-th parameter: the median over the four
/// channels moves by epoch·(0.05·(s+1) + 0.02·k).
fn evaluate(request: &EvalRequest) -> EvalResult {
    let mut result = fake_result(request);
    let names = ["alpha", "beta", "gamma"];
    let used: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| request.activation.contains(n))
        .collect();
    if used.is_empty() {
        return result;
    }
    for epoch in 0..=3usize {
        let sites = (0..2)
            .map(|s| {
                let params: BTreeMap<String, Vec<f32>> = used
                    .iter()
                    .enumerate()
                    .map(|(k, n)| {
                        let v = (0..4)
                            .map(|c| {
                                1.0 + epoch as f32
                                    * (0.05 * (s + 1) as f32 + 0.02 * k as f32)
                                    * (c as f32 - 0.5)
                            })
                            .collect();
                        ((*n).to_owned(), v)
                    })
                    .collect();
                SiteRecord {
                    site: format!("block{s}.act"),
                    params,
                }
            })
            .collect();
        result.activation_params.push(ParamSnapshot {
            epoch,
            step: None,
            progress: None,
            sites,
        });
    }
    result
}

fn small_store(path: &Path) {
    let mut config = SearchConfig::quick();
    // One run per form (the quick preset re-evaluates; this store shows a single-run claim).
    config.reevaluation.top = 0;
    config.population_size = 8;
    config.children_per_generation = 4;
    config.versions_per_child = 2;
    config.stop = StopRule {
        generations: Some(2),
        evaluations: None,
        wall_seconds: None,
    };
    let mut search = Search::create(path, config).unwrap();
    let mut executor = InProcessExecutor::new(2, evaluate);
    search
        .run(&mut executor, &mut NoEvents, &RunOptions::default())
        .unwrap();
}

#[test]
fn report_of_a_small_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run.db");
    small_store(&db);
    let store = Store::open_read_only(&db).unwrap();
    let out = dir.path().join("report");
    let files = write_report(&store, &out).unwrap();

    let html = std::fs::read_to_string(&files.index).unwrap();
    for piece in [
        "<h2>Fitness over the search</h2>",
        // One run per form in this store: the page says the result is not confirmed.
        "Single-run claim, not confirmed",
        "ReLU's fitness (dashed): ",
        "<h2>Top functions</h2>",
        "<h2>Learned parameters of the best function</h2>",
        "<h2>Learned shapes</h2>",
        "<h2>Lineage of the best function</h2>",
        "initial population",
        "<svg",
        "block1.act",
    ] {
        assert!(html.contains(piece), "index.html lacks {piece:?}");
    }
    assert!(!html.contains("<script"), "the page must not need scripts");
    for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(
            !html.contains(external),
            "the page loads nothing from outside: {external}"
        );
    }
    let board = std::fs::read_to_string(&files.leaderboard).unwrap();
    let top = store.top_forms(1).unwrap();
    assert!(
        board.contains(&format!("| 1 | {} |", top[0].candidate.id)),
        "{board}"
    );
    assert!(out.join("fitness.svg").exists() && out.join("shapes.svg").exists());
    assert!(
        files.charts.iter().any(|c| c.ends_with("params-alpha.svg")),
        "{:?}",
        files.charts
    );
    // The best function is parametric (the fake fitness favours parameters): its shapes are
    // drawn per site at the learned values, next to the initial one.
    let learned = out.join("learned-1.svg");
    assert!(files.charts.contains(&learned), "{:?}", files.charts);
    let svg = std::fs::read_to_string(&learned).unwrap();
    for piece in ["initial (all 1)", "block0.act", "block1.act"] {
        assert!(svg.contains(piece), "learned-1.svg lacks {piece:?}");
    }
    for c in &files.charts {
        let svg = std::fs::read_to_string(c).unwrap();
        assert!(
            svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
            "{}",
            c.display()
        );
    }

    screenshot(&files.index, "report");
}

/// A search with two rungs: the leaderboard names each form's rung, the fitness plot has a
/// series per rung, and the *Rungs* section measures how well each rung predicted the next
/// (the fake fitness ignores the training set, so every rung agrees perfectly with the next).
#[test]
fn report_of_a_store_with_rungs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rungs.db");
    let mut config = SearchConfig::standard();
    config.population_size = 8;
    config.children_per_generation = 4;
    config.versions_per_child = 2;
    config.stop = StopRule {
        generations: Some(1),
        evaluations: None,
        wall_seconds: None,
    };
    let mut search = Search::create(&db, config).unwrap();
    search
        .run(
            &mut InProcessExecutor::new(2, fake_result),
            &mut NoEvents,
            &RunOptions::default(),
        )
        .unwrap();
    let store = Store::open_read_only(&db).unwrap();
    let agreement = pangaea_search::rungs::agreement(&store).unwrap();
    let pairs: Vec<(usize, usize)> = agreement.iter().map(|a| (a.from, a.to)).collect();
    assert_eq!(pairs, [(0, 1), (1, 2), (0, 2)]);
    assert!(agreement[0].versions >= 3, "{agreement:?}");
    assert_eq!(agreement[0].accuracy, Some(1.0));
    assert_eq!(agreement[0].loss, Some(1.0));
    let out = dir.path().join("report");
    let files = write_report(&store, &out).unwrap();
    let html = std::fs::read_to_string(&files.index).unwrap();
    for piece in [
        "<h2>Rungs</h2>",
        "rung 0",
        "rung 2 (full recipe)",
        "<th>rung</th>",
    ] {
        assert!(html.contains(piece), "index.html lacks {piece:?}");
    }
    let rungs = std::fs::read_to_string(out.join("rungs.md")).unwrap();
    assert!(rungs.contains("| 0 | 1 | "), "{rungs}");
    assert!(rungs.contains("| 1.00 | 1.00 |"), "{rungs}");
    let board = std::fs::read_to_string(&files.leaderboard).unwrap();
    assert!(
        board.contains("| rung |") && board.contains("| full |"),
        "{board}"
    );
}

/// Renders the page with headless chromium into a PNG and checks it is a real image.
fn screenshot(index: &Path, name: &str) {
    let browser = ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(browser) = browser else {
        // CI installs chromium and sets PANGAEA_REQUIRE_BROWSER=1: there, a missing browser
        // is a failure, not a skip.
        assert!(
            std::env::var_os("PANGAEA_REQUIRE_BROWSER").is_none(),
            "PANGAEA_REQUIRE_BROWSER is set but neither chromium nor chromium-browser runs"
        );
        eprintln!("NOTICE: chromium not found; skipping the headless-browser check of the {name}");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let png = std::env::temp_dir().join(format!("pangaea-{name}-screenshot.png"));
    let _ = std::fs::remove_file(&png);
    let status = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,2000")
        .arg(format!("file://{}", index.display()))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
    // Keep a copy of the page next to the screenshot for people to look at.
    let keep = std::env::temp_dir().join(format!("pangaea-{name}-example"));
    let _ = std::fs::remove_dir_all(&keep);
    std::fs::create_dir_all(&keep).unwrap();
    for entry in std::fs::read_dir(index.parent().unwrap()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), keep.join(entry.file_name())).unwrap();
    }
    eprintln!("screenshot: {}", png.display());
}

/// `final` retrains the store's top forms (each as its best version) and the baselines, ReLU
/// first, with the search's recipe but on the whole training set, measuring the test set.
#[test]
fn the_final_plan_uses_the_whole_training_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run.db");
    small_store(&db);
    let store = Store::open_read_only(&db).unwrap();
    let config = store.config().unwrap();
    assert!(config.training.dataset.limit_train.is_some());
    let plan = final_plan(&store, 2, 3, &["swish".into(), "relu".into()], 7, |_| {}).unwrap();
    let top = store.top_forms(2).unwrap();
    let names: Vec<&str> = plan.activations.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "relu",
            "swish",
            top[0].best.expr.as_str(),
            top[1].best.expr.as_str()
        ]
    );
    assert_eq!(plan.runs.len(), 12);
    for (i, run) in plan.runs.iter().enumerate() {
        let r = &run.request;
        assert_eq!(run.activation, i / 3);
        assert_eq!(r.seed, 7 + (i % 3) as u64);
        assert_eq!(r.dataset.limit_train, None);
        assert_eq!(r.dataset.limit_val, None);
        assert!(r.dataset.train_on_full && r.dataset.measure_test);
        assert_eq!(r.epochs, config.training.epochs);
        assert_eq!(r.architecture, config.training.architecture);
    }
}

/// A study of the small store's top functions against ReLU in two cells, run in-process with
/// the fake fitness standing in for training (test accuracy from the fitness and the seed):
/// the store's functions resolve to their best versions, and the page renders in chromium.
#[test]
fn a_study_of_a_search_s_functions_renders_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run.db");
    small_store(&db);
    let store = Store::open_read_only(&db).unwrap();
    let top = store.top_forms(3).unwrap();
    let cell = |arch| {
        CellSpec::new(
            arch,
            DatasetName::Synthetic,
            serde_json::json!({ "epochs": 3 }),
        )
    };
    let config = StudyConfig {
        title: "transfer of a small search".to_owned(),
        runs: 3,
        functions: vec![
            "relu".to_owned(),
            format!("{}#top2", db.display()),
            // The third best, by id; the first again, which is dropped as a repeat.
            format!("{}#{}", db.display(), top[2].candidate.id),
            format!("{}#{}", db.display(), top[0].candidate.id),
        ],
        cells: vec![cell(Arch::Tiny), cell(Arch::ResNetV1_20)],
        ..StudyConfig::default()
    };
    let plan = config.plan().unwrap();
    let names: Vec<&str> = plan
        .functions
        .iter()
        .map(|f| f.activation.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "relu",
            &top[0].best.expr,
            &top[1].best.expr,
            &top[2].best.expr
        ]
    );
    assert_eq!(
        plan.functions[3].origin,
        format!("{} candidate {}", db.display(), top[2].candidate.id)
    );
    let mut executor = InProcessExecutor::new(2, |request: &EvalRequest| {
        let mut request = request.clone();
        if request.activation == "relu" {
            request.activation = "relu(x)".to_owned();
        }
        let mut result = evaluate(&request);
        result.test_accuracy = result
            .val_accuracy
            .map(|a| 0.9 * a + 0.002 * request.seed as f64);
        result
    });
    let cache = Cache::open(&dir.path().join("study.db")).unwrap();
    let study = run_study(
        plan,
        &mut executor,
        &cache,
        &CancelToken::new(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(study.finished(), 4 * 2 * 3);
    let files = write_study(&study, &dir.path().join("study")).unwrap();
    let html = std::fs::read_to_string(&files.index).unwrap();
    for piece in [
        "<h2>General or specialised</h2>",
        "<h2>Runs per cell</h2>",
        "<h2>Learned parameters</h2>",
        "block1.act",
    ] {
        assert!(html.contains(piece), "index.html lacks {piece:?}");
    }
    let tex = std::fs::read_to_string(dir.path().join("study/table.tex")).unwrap();
    assert!(tex.contains("\\toprule"), "{tex}");
    screenshot(&files.index, "study");
}
