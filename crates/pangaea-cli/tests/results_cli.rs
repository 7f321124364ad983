//! The results side of a real (tiny) search through the binary: `report`, `final`, `export` of
//! a stored candidate with its learned parameters, and `compare` without a search.

use std::path::Path;
use std::process::{Command, Output};

use pangaea_search::Store;

mod common;
use common::TINY_TRAINING;

fn pangaea(args: &[&str], dir: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_pangaea"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pangaea {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The rows of a `final`/`compare` table.json: (activation, origin, runs measured).
fn rows(table: &serde_json::Value) -> Vec<(String, String, usize)> {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["activation"].as_str().unwrap().to_owned(),
                r["origin"].as_str().unwrap().to_owned(),
                r["test_accuracies"].as_array().unwrap().len(),
            )
        })
        .collect()
}

#[test]
fn report_final_and_export_work_on_a_real_search_store() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut search = vec!["search", "--store", "run.db", "--workers", "2"];
    search.extend(TINY_TRAINING);
    search.extend([
        "--population-size",
        "3",
        "--children",
        "1",
        "--versions",
        "2",
        "--generations",
        "1",
        "--seed",
        "2",
    ]);
    let out = pangaea(&search, d);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("best functions ("), "{summary}");
    assert!(
        summary.contains("baseline") && summary.contains("relu(x)"),
        "{summary}"
    );

    let store = Store::open_read_only(&d.join("run.db")).unwrap();
    let top = store.top_forms(1).unwrap();
    let best = &top[0];
    assert_eq!(store.baselines().unwrap().len(), 1);

    // report: the page and the leaderboard name the best version.
    pangaea(&["report", "run.db", "--out", "report"], d);
    let html = std::fs::read_to_string(d.join("report/index.html")).unwrap();
    assert!(html.contains("ReLU's fitness (dashed)"));
    let leaderboard = std::fs::read_to_string(d.join("report/leaderboard.md")).unwrap();
    assert!(leaderboard.contains(&best.best.expr), "{leaderboard}");

    // final: the best form and ReLU, twice each, on the whole (synthetic) training set.
    pangaea(
        &[
            "final",
            "run.db",
            "--top",
            "1",
            "--runs",
            "2",
            "--baselines",
            "relu",
            "--workers",
            "2",
            "--out",
            "final",
        ],
        d,
    );
    let table = read_json(&d.join("final/table.json"));
    assert_eq!(
        rows(&table),
        vec![
            ("relu".to_owned(), "baseline".to_owned(), 2),
            (
                best.best.expr.clone(),
                format!("search candidate {}", best.candidate.id),
                2
            ),
        ]
    );
    let md = std::fs::read_to_string(d.join("final/table.md")).unwrap();
    assert!(
        md.contains("p vs ReLU (Welch)") && md.contains("(reference)"),
        "{md}"
    );

    // export: the stored candidate as PyTorch code, initialised to its learned parameters
    // (every version the search trains has at least one parameter).
    let reference = format!("run.db#{}", best.candidate.id);
    let code = pangaea(&["export", &reference, "--to", "pytorch"], d).stdout;
    let code = String::from_utf8(code).unwrap();
    assert!(code.contains("class Activation(nn.Module)"), "{code}");
    assert!(code.contains("LEARNED_PARAMS"), "{code}");
    assert!(code.contains("conv1.act"), "{code}");
}

#[test]
fn compare_trains_given_functions_several_times() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = [
        "compare",
        "--acts",
        "relu,alpha * x * sigmoid(beta * x)",
        "--runs",
        "2",
        "--workers",
        "2",
        "--out",
        "cmp",
        "--dataset",
        "synthetic",
        "--arch",
        "tiny",
        "--epochs",
        "1",
        "--limit-train",
        "64",
        "--batch-size",
        "32",
    ];
    pangaea(&args, d);
    let table = read_json(&d.join("cmp/table.json"));
    let rows = rows(&table);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, "relu");
    assert_eq!(rows[1].0, "alpha * x * sigmoid(beta * x)");
    assert!(rows.iter().all(|r| r.2 == 2), "{rows:?}");
}
