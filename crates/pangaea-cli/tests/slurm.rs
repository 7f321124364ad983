//! `pangaea search --executor slurm` (and `pangaea study` on Slurm) against a real Slurm cluster
//! (issue 5): start one with `scripts/slurm-cluster.sh start` and export the `SLURM_CONF` it
//! prints. `.ci/run` does so and sets `PANGAEA_REQUIRE_SLURM=1`, under which an unreachable
//! cluster fails these tests; without it, and without a cluster answering `sinfo`, each test says
//! why and returns.
//!
//! The searches are tiny (synthetic data, the tiny net, 64 training images), so the time goes
//! to Slurm's scheduling; the time-limit test waits for Slurm's one-minute minimum.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pangaea_search::{SlurmJobState, SlurmState, Store};
use pangaea_wire::Status;

mod common;
use common::{summary, Summary, TINY_TRAINING};

const PANGAEA: &str = env!("CARGO_BIN_EXE_pangaea");

/// The tiny training flags plus this file's search sizes.
fn tiny() -> Vec<&'static str> {
    let mut args = TINY_TRAINING.to_vec();
    args.extend([
        "--population-size",
        "3",
        "--children",
        "2",
        "--versions",
        "2",
        "--seed",
        "11",
        "--generations",
        "2",
    ]);
    args
}

/// Whether a cluster answers; panics when `PANGAEA_REQUIRE_SLURM` promised one and it does not.
fn cluster() -> bool {
    let required = std::env::var_os("PANGAEA_REQUIRE_SLURM").is_some();
    let answer = Command::new("sinfo").arg("--noheader").output();
    let why = match answer {
        Ok(out) if out.status.success() => return true,
        Ok(out) => format!(
            "`sinfo` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("`sinfo` could not run: {e}"),
    };
    assert!(
        !required,
        "PANGAEA_REQUIRE_SLURM is set but no Slurm cluster answers: {why}"
    );
    eprintln!(
        "NOTICE: no Slurm cluster ({why}); skipping (start one with `scripts/slurm-cluster.sh start`)"
    );
    false
}

/// A `[executor.slurm]` configuration file; `program` replaces the worker binary.
fn config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("slurm.toml");
    std::fs::write(
        &path,
        format!(
            "[executor]\nkind = \"slurm\"\n[executor.slurm]\npoll_seconds = 0.5\n\
             gres = \"gpu:1\"\nmax_jobs = 4\n{extra}\n"
        ),
    )
    .unwrap();
    path
}

/// A wrapper around `pangaea` for the compute nodes: `body` runs first, with `$3` the request
/// file, then the real worker replaces it.
fn wrapper(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("#!/bin/bash\n{body}\nexec {PANGAEA} \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn search(store: &Path) -> Command {
    let mut c = Command::new(PANGAEA);
    c.arg("search").arg("--store").arg(store).args(tiny());
    c
}

fn run(mut command: Command) -> String {
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

/// The local executor's answer for the same search, computed once per test that needs it.
fn local_reference(dir: &Path) -> Summary {
    let path = dir.join("local.db");
    run({
        let mut c = search(&path);
        c.arg("--workers=2");
        c
    });
    summary(&path)
}

/// Every task `squeue` still shows under the job names of a store's ledger.
fn squeue_tasks(names: &[String]) -> Vec<String> {
    let out = Command::new("squeue")
        .args(["--noheader", "--array", "--states=all", "--format=%i|%j"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('|'))
        .filter(|(_, name)| names.iter().any(|n| n == name.trim()))
        .map(|(id, _)| id.trim().to_owned())
        .collect()
}

#[test]
fn slurm_search_equals_the_local_search() {
    if !cluster() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slurm.db");
    let stderr = run({
        let mut c = search(&path);
        c.arg("--config").arg(config(dir.path(), ""));
        c
    });
    assert!(stderr.contains("search stopped (generations)"), "{stderr}");
    assert_eq!(summary(&path), local_reference(dir.path()));

    let store = Store::open_read_only(&path).unwrap();
    let evaluations = store.evaluations().unwrap();
    let jobs = store.slurm_jobs().unwrap();
    assert_eq!(jobs.len(), evaluations.len(), "{jobs:?}");
    // One array job per generation, every task done with its job id recorded.
    let mut per_batch: HashMap<i64, usize> = HashMap::new();
    for j in &jobs {
        assert_eq!(j.state, SlurmJobState::Done, "{j:?}");
        assert!(j.slurm_id().is_some(), "{j:?}");
        *per_batch.entry(j.batch).or_default() += 1;
    }
    assert_eq!(per_batch.len(), 3, "{per_batch:?}");
    for e in &evaluations {
        assert_eq!(e.attempts, Some(1));
    }
    // The run directory keeps nothing of stored evaluations but the batch scripts.
    let results = dir.path().join("slurm.slurm/results");
    assert_eq!(std::fs::read_dir(results).unwrap().count(), 0);
}

#[test]
fn a_worker_killed_mid_job_is_retried() {
    if !cluster() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // First attempt of each request: start the worker, stop it at once (so that it is
    // surely mid-job), then kill it with SIGKILL.
    let program = wrapper(
        dir.path(),
        "kill-once",
        &format!(
            "if [ ! -e \"$3.killed\" ]; then touch \"$3.killed\"; \
             {PANGAEA} \"$@\" & pid=$!; kill -STOP $pid; sleep 0.2; kill -9 $pid; \
             wait $pid; exit $?; fi"
        ),
    );
    let path = dir.path().join("slurm.db");
    let toml = format!("program = {program:?}\nmax_retries = 1");
    run({
        let mut c = search(&path);
        c.arg("--config").arg(config(dir.path(), &toml));
        c
    });
    assert_eq!(summary(&path), local_reference(dir.path()));
    let store = Store::open_read_only(&path).unwrap();
    let jobs = store.slurm_jobs().unwrap();
    for e in store.evaluations().unwrap() {
        assert_eq!(e.attempts, Some(2), "evaluation {}", e.id);
        let mine: Vec<_> = jobs.iter().filter(|j| j.evaluation == e.id).collect();
        assert_eq!(mine.len(), 2, "{mine:?}");
        assert_eq!(mine[0].state, SlurmJobState::Failed);
        assert_eq!(mine[0].slurm_state, Some(SlurmState::Failed), "{mine:?}");
        assert!(
            mine[0].reason.as_deref().unwrap().contains("status 137"),
            "{mine:?}"
        );
        assert_eq!(mine[1].state, SlurmJobState::Done);
        assert_ne!(mine[0].slurm_id(), mine[1].slurm_id());
    }
}

#[test]
fn a_job_over_its_time_limit_is_recorded_as_timeout() {
    if !cluster() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let program = wrapper(dir.path(), "sleeper", "sleep 600");
    let path = dir.path().join("slurm.db");
    // Slurm's least time limit is one minute: the task ends TIMEOUT after 60–90 s.
    let toml = format!("program = {program:?}\nmax_retries = 0\ntime_limit_seconds = 1");
    let config_path = config(dir.path(), &toml);
    // No ReLU baseline: the one evaluation is the candidate's.
    let text = std::fs::read_to_string(&config_path).unwrap();
    std::fs::write(&config_path, format!("baselines = []\n{text}")).unwrap();
    let start = Instant::now();
    let mut c = Command::new(PANGAEA);
    c.arg("search")
        .arg("--store")
        .arg(&path)
        .args(TINY_TRAINING)
        .args([
            "--population-size",
            "1",
            "--versions",
            "1",
            "--generations",
            "0",
        ])
        .arg("--config")
        .arg(&config_path);
    run(c);
    assert!(
        start.elapsed() < Duration::from_secs(240),
        "{:?}",
        start.elapsed()
    );
    let store = Store::open_read_only(&path).unwrap();
    let evaluations = store.evaluations().unwrap();
    assert_eq!(evaluations.len(), 1);
    let result = evaluations[0].result().unwrap().unwrap();
    assert_eq!(result.status, Status::Failed);
    assert_eq!(evaluations[0].fitness, None);
    let reason = result.reason.unwrap();
    assert!(reason.contains("ended TIMEOUT"), "{reason}");
    assert!(reason.contains("DUE TO TIME LIMIT"), "{reason}");
    let jobs = store.slurm_jobs().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].slurm_state, Some(SlurmState::Timeout));
}

#[test]
fn a_coordinator_killed_and_resumed_submits_no_duplicate_jobs() {
    if !cluster() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Slow tasks, so that the coordinator dies with jobs queued and running.
    let program = wrapper(dir.path(), "slow", "sleep 3");
    let path = dir.path().join("slurm.db");
    let config = config(dir.path(), &format!("program = {program:?}"));
    let mut kills = 0;
    let mut first = true;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        assert!(Instant::now() < deadline, "the search did not finish");
        let mut c = Command::new(PANGAEA);
        if first {
            c.arg("search")
                .arg("--store")
                .arg(&path)
                .args(tiny())
                .arg("--workers=2")
                .arg("--config")
                .arg(&config);
        } else {
            c.arg("search").arg("--resume").arg(&path);
        }
        first = false;
        let log = dir.path().join(format!("coordinator-{kills}.log"));
        let mut child = c
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Wait until tasks are in flight (submitted, not all collected), then SIGKILL.
        let mut in_flight = false;
        while child.try_wait().unwrap().is_none() && kills < 3 {
            std::thread::sleep(Duration::from_millis(300));
            let Ok(store) = Store::open_read_only(&path) else {
                continue;
            };
            let jobs = store.slurm_jobs().unwrap_or_default();
            if jobs
                .iter()
                .filter(|j| j.state == SlurmJobState::Submitted)
                .count()
                >= 2
            {
                in_flight = true;
                break;
            }
        }
        if in_flight && child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            child.wait().unwrap();
            kills += 1;
            continue;
        }
        let status = child.wait().unwrap();
        let stderr = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(status.success(), "{status}: {stderr}");
        break;
    }
    assert!(kills >= 1, "no kill landed");
    assert_eq!(summary(&path), local_reference(dir.path()));
    let store = Store::open_read_only(&path).unwrap();
    let jobs = store.slurm_jobs().unwrap();
    // Exactly one task per evaluation, all done: nothing was submitted twice.
    let evaluations = store.evaluations().unwrap();
    assert_eq!(jobs.len(), evaluations.len(), "{jobs:?}");
    for e in &evaluations {
        let mine: Vec<_> = jobs.iter().filter(|j| j.evaluation == e.id).collect();
        assert_eq!(mine.len(), 1, "evaluation {} ran as {mine:?}", e.id);
        assert_eq!(mine[0].state, SlurmJobState::Done);
    }
    // Slurm's own record agrees: as many tasks under these job names as ledger rows.
    let mut names: Vec<String> = jobs.iter().map(|j| j.job_name.clone()).collect();
    names.dedup();
    let mut seen = squeue_tasks(&names);
    seen.sort();
    let mut recorded: Vec<String> = jobs.iter().filter_map(|j| j.slurm_id()).collect();
    recorded.sort();
    assert_eq!(seen, recorded);
}

#[test]
fn ctrl_c_cancels_the_jobs_and_resume_finishes_the_search() {
    if !cluster() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let program = wrapper(dir.path(), "slow", "sleep 5");
    let path = dir.path().join("slurm.db");
    let child = search(&path)
        .arg("--config")
        .arg(config(dir.path(), &format!("program = {program:?}")))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no task was submitted");
        std::thread::sleep(Duration::from_millis(200));
        let submitted = Store::open_read_only(&path)
            .and_then(|s| s.slurm_jobs())
            .map(|jobs| jobs.iter().any(|j| j.state == SlurmJobState::Submitted))
            .unwrap_or(false);
        if submitted {
            break;
        }
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let jobs = Store::open_read_only(&path).unwrap().slurm_jobs().unwrap();
    assert!(!jobs.is_empty());
    for j in &jobs {
        assert_eq!(j.state, SlurmJobState::Cancelled, "{j:?}");
    }
    // Slurm cancelled them: none is still queued or running.
    let names: Vec<String> = jobs.iter().map(|j| j.job_name.clone()).collect();
    let out = Command::new("squeue")
        .args(["--noheader", "--array", "--format=%j|%T"])
        .output()
        .unwrap();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (name, state) = line.split_once('|').unwrap();
        assert!(
            !names.iter().any(|n| n == name.trim()) || state.trim() == "COMPLETING",
            "still in the queue: {line}"
        );
    }
    run({
        let mut c = Command::new(PANGAEA);
        c.arg("search").arg("--resume").arg(&path);
        c
    });
    assert_eq!(summary(&path), local_reference(dir.path()));
}

/// `pangaea study` on the cluster: every run goes out as an array task with its ledger in the
/// study's results file, the table equals the same study run by local workers (training on
/// the CPU is deterministic), and a second start submits nothing.
#[test]
fn a_study_on_slurm_equals_the_local_study() {
    if !cluster() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let study = |executor: &str| {
        format!(
            "runs = 2\nfunctions = [\"relu\", \"alpha * tanh(beta * x)\"]\n{executor}\n\
             [[cells]]\narchitecture = \"tiny\"\ndataset = \"synthetic\"\n\
             recipe = {{ epochs = 1, batch_size = 32, dataset = {{ limit_train = 64, limit_val = 32 }} }}\n"
        )
    };
    std::fs::write(
        d.join("slurm.toml"),
        study("[executor]\nkind = \"slurm\"\n[executor.slurm]\npoll_seconds = 0.5\ngres = \"gpu:1\"\nmax_jobs = 4"),
    )
    .unwrap();
    std::fs::write(
        d.join("local.toml"),
        study("[executor]\nkind = \"local\"\nworkers = 2\ntime_limit_seconds = 600"),
    )
    .unwrap();
    let run_study = |config: &str, out: &str| {
        let mut c = Command::new(PANGAEA);
        c.args(["study", "--config", config, "--out", out])
            .current_dir(d);
        run(c)
    };
    run_study("slurm.toml", "slurm");
    run_study("local.toml", "local");
    let accuracies = |out: &str| {
        let table: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join(out).join("table.json")).unwrap())
                .unwrap();
        table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["entries"][0]["test_accuracies"].clone())
            .collect::<Vec<_>>()
    };
    let on_slurm = accuracies("slurm");
    assert_eq!(on_slurm, accuracies("local"));
    assert!(
        on_slurm.iter().all(|a| a.as_array().unwrap().len() == 2),
        "{on_slurm:?}"
    );

    let ledger = pangaea_search::SlurmLedger::open(&d.join("slurm/study.db")).unwrap();
    let jobs = ledger.jobs().unwrap();
    assert_eq!(jobs.len(), 4, "{jobs:?}");
    assert!(jobs
        .iter()
        .all(|j| j.state == SlurmJobState::Done && j.slurm_id().is_some()));

    let stderr = run_study("slurm.toml", "slurm");
    assert!(stderr.contains("4 of 4 runs already finished"), "{stderr}");
    assert_eq!(ledger.jobs().unwrap().len(), 4, "nothing submitted again");
}
