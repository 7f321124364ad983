//! `pangaea study` through the binary with real tiny training: killed with SIGKILL in the
//! middle and started again, it trains only the runs that had not finished and writes the
//! tables and the page; bad configurations are refused with the field named.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Two cells of the tiny net on synthetic data (one and two epochs), ReLU and a parametric
/// function, three runs each: 12 runs of about a second.
const STUDY: &str = r#"
title = "kill test"
runs = 3
functions = ["relu", "alpha * x * sigmoid(beta * x)"]

[executor]
kind = "local"
workers = 1
time_limit_seconds = 600

[[cells]]
name = "one epoch"
architecture = "tiny"
dataset = "synthetic"
recipe = { epochs = 1, batch_size = 32, dataset = { limit_train = 64, limit_val = 32 } }

[[cells]]
name = "two epochs"
architecture = "tiny"
dataset = "synthetic"
recipe = { epochs = 2, batch_size = 32, dataset = { limit_train = 64, limit_val = 32 } }
"#;
const RUNS: usize = 12;

fn study(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pangaea"));
    c.args(["study", "--config", "study.toml", "--out", "out"])
        .current_dir(dir);
    c
}

/// Finished runs in the study's results file.
fn finished(dir: &Path) -> usize {
    let path = dir.join("out/study.db");
    if !path.exists() {
        return 0;
    }
    let Ok(conn) = rusqlite::Connection::open(&path) else {
        return 0;
    };
    conn.query_row("SELECT COUNT(*) FROM results", [], |r| r.get::<_, i64>(0))
        .map_or(0, |n| n as usize)
}

#[test]
fn a_killed_study_resumes_with_only_the_unfinished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("study.toml"), STUDY).unwrap();
    let mut child = study(d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while finished(d) < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no run finished in 5 minutes"
        );
        assert!(child.try_wait().unwrap().is_none(), "the study ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = finished(d);
    assert!(
        (3..RUNS).contains(&before),
        "{before} runs finished before the kill"
    );

    let out = study(d).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{before} of {RUNS} runs already finished")),
        "{stderr}"
    );
    let todo = RUNS - before;
    let trained = stderr
        .lines()
        .filter(|l| l.starts_with('[') && l.contains(&format!("/{todo}] ")))
        .count();
    assert_eq!(
        trained, todo,
        "only the unfinished runs train again:\n{stderr}"
    );
    assert_eq!(finished(d), RUNS);

    let table: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/table.json")).unwrap()).unwrap();
    assert_eq!(
        table["cells"],
        serde_json::json!(["one epoch", "two epochs"])
    );
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        for entry in row["entries"].as_array().unwrap() {
            assert_eq!(
                entry["test_accuracies"].as_array().unwrap().len(),
                3,
                "{row}"
            );
        }
    }
    for file in [
        "table.md",
        "table.tex",
        "index.html",
        "study.toml",
        "runs-1.svg",
    ] {
        assert!(d.join("out").join(file).is_file(), "{file}");
    }
    let page = std::fs::read_to_string(d.join("out/index.html")).unwrap();
    assert!(page.contains("alpha * x * sigmoid(beta * x)</code> in one epoch"));

    // A third start trains nothing.
    let out = study(d).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{RUNS} of {RUNS} runs already finished")),
        "{stderr}"
    );
    assert!(!stderr.lines().any(|l| l.starts_with('[')), "{stderr}");
}

#[test]
fn bad_configurations_are_refused_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        (
            STUDY.replace("epochs = 2,", "epochs = \"two\","),
            "cells[1].recipe",
        ),
        (STUDY.replace("\"relu\", ", ""), "`functions`"),
        (
            STUDY.replace(
                "\"synthetic\"\nrecipe = { epochs = 2",
                "\"imagenet\"\nrecipe = { epochs = 2",
            ),
            "cells[1].dataset",
        ),
        (STUDY.replace("x * sigmoid", "x * sigmoid(("), "sigmoid(("),
        (
            STUDY
                .replace("kind = \"local\"", "kind = \"fake\"")
                .replace("time_limit_seconds = 600\n", ""),
            "searches only",
        ),
        (
            STUDY.replace(
                "kind = \"local\"\nworkers = 1\ntime_limit_seconds = 600",
                "kind = \"slurm\"\n[executor.slurm]\ntime_limit_seconds = 0",
            ),
            "time_limit_seconds",
        ),
    ];
    for (text, needle) in cases {
        std::fs::write(d.join("study.toml"), &text).unwrap();
        let out = study(d).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{needle}: {stderr}");
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
        assert!(
            !d.join("out/study.db").exists(),
            "nothing is written for a bad configuration"
        );
    }
    // Missing data names the cell.
    std::fs::write(
        d.join("study.toml"),
        STUDY.replace(
            "\"synthetic\"\nrecipe = { epochs = 2",
            "\"cifar10\"\nrecipe = { epochs = 2",
        ),
    )
    .unwrap();
    let out = study(d)
        .args(["--data-dir", d.join("no-data").to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cell `two epochs`"), "{stderr}");
}
