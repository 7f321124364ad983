//! `pangaea worker`, `pangaea train` and `pangaea bench train` through the binary, on the tiny
//! network and a few hundred synthetic images.

use pangaea_wire::JsonFile;
use std::path::Path;
use std::process::{Command, Output};

use pangaea_wire::{Arch, DatasetName, EvalRequest, EvalResult, Status};

fn pangaea(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pangaea"))
        .args(args)
        .output()
        .expect("the pangaea binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn quick_request(activation: &str) -> EvalRequest {
    let mut r = EvalRequest::recipe(Arch::Tiny);
    r.activation = activation.to_owned();
    r.dataset.name = DatasetName::Synthetic;
    r.dataset.limit_train = Some(256);
    r.dataset.limit_val = Some(100);
    r.batch_size = 32;
    r.epochs = 2;
    r.label = Some("cand-1".into());
    r
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `pangaea worker --request REQ --result OUT`.
fn worker(req: &Path, out: &Path) -> Output {
    pangaea(&[
        "worker",
        "--request",
        path_str(req),
        "--result",
        path_str(out),
    ])
}

#[test]
fn worker_runs_a_request_file_and_writes_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("req.json");
    let out = dir.path().join("out.json");
    quick_request("alpha * x * sigmoid(beta * x)")
        .write(&req)
        .unwrap();
    let output = worker(&req, &out);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let result = EvalResult::read(&out).unwrap();
    assert_eq!(result.status, Status::Ok, "{:?}", result.reason);
    assert_eq!(result.label.as_deref(), Some("cand-1"));
    assert_eq!(result.epochs.len(), 2);
    assert!(result.val_accuracy.unwrap() > 0.2);
    // Initialisation and 20 points spread over the run (fewer if it has fewer steps).
    let steps = result.activation_params.last().unwrap().step.unwrap();
    assert_eq!(result.activation_params.len(), 1 + steps.min(20));
    // Only the result is left beside the request: no temporary file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn worker_writes_a_result_for_a_bad_candidate_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("req.json");
    let out = dir.path().join("out.json");
    quick_request("sigmoid(x").write(&req).unwrap();
    let output = worker(&req, &out);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let result = EvalResult::read(&out).unwrap();
    assert_eq!(result.status, Status::Rejected);
    assert!(result.reason.unwrap().contains("sigmoid(x"));
}

#[test]
fn worker_refuses_a_bad_request_file_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("bad-request.json");
    let out = dir.path().join("out.json");
    std::fs::write(
        &req,
        r#"{"activation": "relu", "dataset": {"limit_train": -5}}"#,
    )
    .unwrap();
    let output = worker(&req, &out);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("bad-request.json") && stderr.contains("dataset.limit_train"),
        "{stderr}"
    );
    assert!(!out.exists());

    std::fs::write(&req, r#"{"version": 7, "activation": "relu"}"#).unwrap();
    let output = worker(&req, &out);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("version 7"));
}

#[test]
fn train_prints_a_summary_and_writes_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let output = pangaea(&[
        "train",
        "--dataset",
        "synthetic",
        "--arch",
        "tiny",
        "--act",
        "relu",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--limit-train",
        "128",
        "--limit-val",
        "64",
        "--out",
        path_str(&out),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("ok: relu val_accuracy"), "{stdout}");
    assert!(text(&output.stderr).contains("epoch 1/1"));
    let result = EvalResult::read(&out).unwrap();
    assert_eq!(result.train_images, 128);
}

#[test]
fn train_with_an_unknown_architecture_is_a_usage_error() {
    let output = pangaea(&[
        "train",
        "--dataset",
        "synthetic",
        "--arch",
        "vgg",
        "--act",
        "relu",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("vgg"));
}

#[test]
fn bench_train_times_relu_and_the_expression() {
    let output = pangaea(&[
        "bench",
        "train",
        "--arch",
        "tiny",
        "--batch-size",
        "8",
        "--steps",
        "2",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("relu"), "{stdout}");
    assert!(stdout.contains("(5 nodes)"), "{stdout}");
    assert_eq!(stdout.matches("median").count(), 2, "{stdout}");
}

/// The same run with the fused activation (the default on the CPU) and with the composed
/// reference (`PANGAEA_FUSED=0`): the numbers agree to rounding, epoch by epoch.
#[test]
fn fused_and_composed_training_runs_agree() {
    let dir = tempfile::tempdir().unwrap();
    let mut request = quick_request("alpha * x * sigmoid(beta * abs(x))");
    request.epochs = 2;
    let req = dir.path().join("req.json");
    request.write(&req).unwrap();
    let run = |fused: &str| {
        let out = dir.path().join(format!("r{fused}.json"));
        let output = Command::new(env!("CARGO_BIN_EXE_pangaea"))
            .args([
                "worker",
                "--request",
                path_str(&req),
                "--result",
                path_str(&out),
            ])
            .env("PANGAEA_FUSED", fused)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
        EvalResult::read(&out).unwrap()
    };
    let (fused, composed) = (run("1"), run("0"));
    assert_eq!(fused.status, Status::Ok, "{:?}", fused.reason);
    assert_eq!(composed.status, Status::Ok, "{:?}", composed.reason);
    for (f, c) in fused.epochs.iter().zip(&composed.epochs) {
        let rel = (f.train_loss - c.train_loss).abs() / c.train_loss;
        assert!(
            rel < 1e-2,
            "epoch {}: train loss {} vs {}",
            f.epoch,
            f.train_loss,
            c.train_loss
        );
    }
    let (f, c) = (fused.val_accuracy.unwrap(), composed.val_accuracy.unwrap());
    assert!((f - c).abs() <= 0.05, "val accuracy {f} vs {c}");
    let alpha =
        |r: &EvalResult| r.activation_params.last().unwrap().sites[0].params["alpha"].clone();
    for (a, b) in alpha(&fused).iter().zip(&alpha(&composed)) {
        assert!((a - b).abs() < 1e-2, "learned alpha {a} vs {b}");
    }
}
