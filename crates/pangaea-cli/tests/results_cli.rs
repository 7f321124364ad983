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
    // The same values as a JSON map per site, for loading into a network by hand.
    let doc = pangaea(&["export", &reference, "--to", "json"], d).stdout;
    let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    let sites = doc["learned"]["sites"].as_object().unwrap();
    let site = &sites["conv1.act"];
    let names: Vec<&String> = site.as_object().unwrap().keys().collect();
    assert!(!names.is_empty(), "{doc}");
    for (name, values) in site.as_object().unwrap() {
        let values = values.as_array().unwrap();
        assert!(
            !values.is_empty() && values.iter().all(|v| v.is_f64()),
            "{name}: {values:?}"
        );
    }
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

/// `noise` trains under a search recipe (here the quick preset's with the training flags
/// applied) and writes the spread per activation and the difference of two single runs.
#[test]
fn noise_measures_the_spread_of_the_search_fitness() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = [
        "noise",
        "--acts",
        "relu,alpha * x * sigmoid(beta * x)",
        "--runs",
        "3",
        "--workers",
        "2",
        "--out",
        "noise",
        "--dataset",
        "synthetic",
        "--epochs",
        "1",
        "--limit-train",
        "64",
        "--limit-val",
        "48",
        "--batch-size",
        "32",
    ];
    let out = pangaea(&args, d);
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("std of the difference of two single runs"),
        "{md}"
    );
    assert_eq!(
        md,
        std::fs::read_to_string(d.join("noise/noise.md")).unwrap()
    );
    let report = read_json(&d.join("noise/noise.json"));
    assert_eq!(report["metric"], "val_accuracy");
    assert_eq!(report["val_images"], 48);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["activation"], "relu");
    for r in rows {
        assert_eq!(r["values"].as_array().unwrap().len(), 3, "{r}");
        assert!(r["summary"]["std"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(report["pairs"].as_array().unwrap().len(), 1);
    assert!(report["binomial_floor"].as_f64().unwrap() > 0.0);
    // One run cannot measure a spread: a usage error, exit 2, nothing trained.
    let bad = Command::new(env!("CARGO_BIN_EXE_pangaea"))
        .args(["noise", "--runs", "1", "--out", "bad"])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--runs"));
    assert!(
        !d.join("bad").exists(),
        "nothing is written for a usage error"
    );
}
