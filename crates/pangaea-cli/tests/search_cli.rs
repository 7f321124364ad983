//! `pangaea search` with the local executor and real `pangaea worker` processes on tiny
//! synthetic-data evaluations, and its argument handling.

use std::process::Command;

use pangaea_search::{CandidateState, ResultSource, Store};
use pangaea_wire::Status;

mod common;
use common::TINY_TRAINING;

fn pangaea() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pangaea"))
}

/// Runs a command that must succeed: its output, or a failed test showing its stderr.
trait Succeed {
    fn succeed(&mut self) -> std::process::Output;
}

impl Succeed for Command {
    fn succeed(&mut self) -> std::process::Output {
        let out = self.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// The tiny training flags plus this file's search sizes.
fn tiny() -> Vec<&'static str> {
    let mut args = TINY_TRAINING.to_vec();
    args.extend([
        "--population-size",
        "2",
        "--children",
        "1",
        "--versions",
        "1",
        "--seed",
        "5",
    ]);
    args
}

#[test]
fn local_executor_trains_with_real_workers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let out = pangaea()
        .arg("search")
        .arg("--store")
        .arg(&path)
        .args(tiny())
        .args([
            "--generations",
            "1",
            "--workers",
            "2",
            "--time-limit",
            "300",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("search stopped (generations)"), "{stderr}");
    let store = Store::open_read_only(&path).unwrap();
    let evaluations = store.evaluations().unwrap();
    assert!(evaluations.len() >= 3, "{}", evaluations.len());
    for e in &evaluations {
        assert_eq!(e.source, Some(ResultSource::Executor));
        let result = e.result().unwrap().unwrap();
        assert!(
            matches!(result.status, Status::Ok | Status::Diverged),
            "{:?}: {:?}",
            result.status,
            result.reason
        );
        if result.status == Status::Ok {
            assert_eq!(result.train_images, 64);
            assert_eq!(result.val_accuracy, e.fitness);
        }
    }
    assert_eq!(store.final_population().unwrap().len(), 2);
    assert!(
        !dir.path()
            .join("run.work")
            .read_dir()
            .unwrap()
            .any(|_| true),
        "work files cleaned"
    );
}

#[test]
fn the_time_limit_fails_evaluations_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    pangaea()
        .arg("search")
        .arg("--store")
        .arg(&path)
        .args(tiny())
        .args(["--generations", "0", "--time-limit", "0.01"])
        .succeed();
    let store = Store::open_read_only(&path).unwrap();
    for e in store.evaluations().unwrap() {
        assert_eq!(e.status.as_deref(), Some("failed"));
        assert!(
            e.reason.as_deref().unwrap().contains("time limit"),
            "{:?}",
            e.reason
        );
    }
    for c in store.candidates().unwrap() {
        assert!(c.state != CandidateState::Evaluated || c.fitness.is_none());
    }
}

#[test]
fn bad_settings_and_resume_misuse_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let out = pangaea()
        .args(["search", "--fake-fitness", "--max-params", "7", "--store"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_params"));
    assert!(!path.exists());
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "population_size = 4\n[selection]\nkind = \"tournament\"\nsise = 2\n",
    )
    .unwrap();
    let out = pangaea()
        .args(["search", "--config"])
        .arg(&config)
        .arg("--store")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sise") && stderr.contains("c.toml"),
        "{stderr}"
    );
    let out = pangaea()
        .args([
            "search",
            "--fake-fitness",
            "--generations",
            "1",
            "--population-size",
            "4",
        ])
        .arg("--store")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = pangaea()
        .args(["search", "--seed", "9", "--resume"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
}

/// Ctrl-C (SIGINT to the coordinator) stops a local search cleanly: the workers are killed, no
/// evaluation is stored as failed because of it, the exit status is 1 with the resume command,
/// and `--resume` finishes the search. A missing store is a usage error.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_local_search_cleanly_and_resume_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let child = pangaea()
        .arg("search")
        .arg("--store")
        .arg(&path)
        .args(tiny())
        .args(["--generations", "1", "--workers", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until an evaluation is in flight (its request file exists), then interrupt.
    let work = dir.path().join("run.work");
    let started = std::time::Instant::now();
    while !work.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        assert!(started.elapsed().as_secs() < 120, "no evaluation started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let store = Store::open_read_only(&path).unwrap();
    let evaluations = store.evaluations().unwrap();
    assert!(
        evaluations
            .iter()
            .all(|e| e.status.as_deref() != Some("failed")),
        "an interrupted evaluation was stored as failed"
    );
    assert!(evaluations.iter().any(|e| !e.is_finished()));
    drop(store);
    pangaea().arg("search").arg("--resume").arg(&path).succeed();
    let store = Store::open_read_only(&path).unwrap();
    assert!(store.evaluations().unwrap().iter().all(|e| e.is_finished()));
    assert_eq!(store.last_finished_generation().unwrap(), Some(1));
    let out = pangaea()
        .args(["search", "--resume"])
        .arg(dir.path().join("absent.db"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.db"));
}

/// `pangaea screen` replays the kNN pre-screen on a stored search (here a fake-fitness search
/// of 6 generations, whose fitness the features predict well) and bad arguments are usage
/// errors.
#[test]
fn screen_replays_the_pre_screen_on_a_stored_search() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("run.db");
    pangaea()
        .args([
            "search",
            "--fake-fitness",
            "--seed",
            "2",
            "--population-size",
            "16",
        ])
        .args(["--children", "12", "--generations", "6", "--store"])
        .arg(&store)
        .succeed();
    let out = pangaea()
        .args(["screen", "--k", "3", "--skip", "0.25", "--json"])
        .arg(&store)
        .succeed();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["predicted"].as_u64().unwrap() >= 30, "{r}");
    assert!(r["spearman"].as_f64().unwrap() > 0.5, "{r}");
    assert!(r["skipped"].as_u64().unwrap() > 0, "{r}");
    // With the network features too: the same children, a different measurement.
    let out = pangaea()
        .args(["screen", "--k", "3", "--network", "--json"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(out.status.success());
    let n: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(n["predicted"], r["predicted"], "{n}");
    assert!(n["spearman"].as_f64().is_some(), "{n}");
    let text = pangaea().arg("screen").arg(&store).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Spearman correlation of prediction and fitness: "),
        "{text}"
    );
    for bad in [["--k", "0"], ["--skip", "1.5"]] {
        let out = pangaea()
            .arg("screen")
            .args(bad)
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

/// A search that really trains (tiny net, synthetic data), with a cheaper rung (successive
/// halving), re-evaluation and the pre-screen (with the random network's features and the
/// search's own network's) on, killed with SIGKILL once evaluations have been stored and
/// resumed, reaches the same candidates, predictions, evaluations, fitness bits and final
/// population as the same search run without a kill (training on the CPU is deterministic).
/// `pangaea screen --own-network` then replays the screen on the store.
#[test]
fn a_real_search_killed_and_resumed_reaches_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("search.toml");
    std::fs::write(
        &config,
        "[reevaluation]\ntop = 1\nruns = 2\n[screening]\nskip_fraction = 0.5\nk = 1\nmin_history = 2\nnetwork = true\nown_network = true\n\
         [fidelity]\npromote_fraction = 0.5\n[[fidelity.rungs]]\ndataset = { limit_train = 32 }\n",
    )
    .unwrap();
    let search = |path: &std::path::Path| {
        let mut c = pangaea();
        c.arg("search")
            .arg("--store")
            .arg(path)
            .arg("--config")
            .arg(&config)
            .args(TINY_TRAINING)
            .args([
                "--population-size",
                "3",
                "--children",
                "2",
                "--versions",
                "1",
            ])
            .args(["--seed", "5", "--generations", "3", "--workers", "2"]);
        c
    };
    let reference = dir.path().join("reference.db");
    search(&reference).succeed();
    let store = Store::open_read_only(&reference).unwrap();
    let screened = store
        .candidates()
        .unwrap()
        .iter()
        .filter(|c| c.state == CandidateState::Screened)
        .count();
    assert!(screened > 0, "the pre-screen skipped nothing");
    let evaluations = store.evaluations().unwrap();
    let baseline = store.baselines().unwrap()[0].id;
    let at = |rung: usize| {
        evaluations
            .iter()
            .filter(|e| e.rung == rung && e.replicate == 0 && e.candidate != baseline)
            .count()
    };
    assert!(
        at(0) > 0 && at(1) > 0 && at(1) < at(0),
        "{} {}",
        at(0),
        at(1)
    );
    for e in &evaluations {
        let limit = e.request().unwrap().dataset.limit_train;
        assert_eq!(limit, Some(if e.rung == 0 { 32 } else { 64 }), "{e:?}");
    }
    drop(store);
    let out = pangaea()
        .args(["screen", "--k", "1", "--own-network", "--json"])
        .arg(&reference)
        .succeed();
    let replay: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(replay["predicted"].as_u64().unwrap() > 0, "{replay}");

    let path = dir.path().join("killed.db");
    let mut child = search(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let finished = |path: &std::path::Path| {
        Store::open_read_only(path)
            .and_then(|s| s.finished_evaluations())
            .unwrap_or(0)
    };
    let started = std::time::Instant::now();
    while finished(&path) < 5 {
        assert!(
            started.elapsed().as_secs() < 300,
            "nothing stored in 5 minutes"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the search ended first"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    pangaea().args(["search", "--resume"]).arg(&path).succeed();
    assert_eq!(common::summary(&path), common::summary(&reference));
}

/// The own-network pre-screen loads the search's dataset before anything runs: without it the
/// search stops at once with an error that names the network, the dataset and the setting, and
/// stores no evaluation.
#[test]
fn the_own_network_screen_without_its_dataset_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("run.db");
    let out = pangaea()
        .args([
            "search",
            "--fake-fitness",
            "--dataset",
            "mnist",
            "--data-dir",
        ])
        .arg(dir.path().join("no-data"))
        .args(["--screen-skip", "0.25", "--screen-own-network", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("own_network") && err.contains("mnist") && err.contains("no-data"),
        "{err}"
    );
    if store.exists() {
        let s = Store::open_read_only(&store).unwrap();
        assert!(s.evaluations().unwrap().is_empty());
    }
}
