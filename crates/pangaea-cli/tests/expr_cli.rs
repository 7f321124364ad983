//! `pangaea expr` end to end, through the binary.

use std::process::{Command, Output};

fn pangaea(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pangaea"))
        .args(args)
        .output()
        .expect("the pangaea binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn eval_prints_one_json_object_with_nulls_for_non_finite() {
    let o = pangaea(&[
        "expr",
        "eval",
        "alpha * x * sigmoid(beta * x)",
        "--x",
        "-2,-1,0,1.5",
        "--param",
        "alpha=0.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["expr"], "alpha * x * sigmoid(beta * x)");
    assert_eq!(v["params"]["alpha"], 0.5);
    assert_eq!(v["params"]["beta"], 1.0);
    assert_eq!(v["x"].as_array().unwrap().len(), 4);
    // y(1.5) = 0.5 · 1.5 · σ(1.5)
    let want = 0.5 * 1.5 / (1.0 + (-1.5f64).exp());
    assert!((v["y"][3].as_f64().unwrap() - want).abs() < 1e-12);
    assert_eq!(v["dy_dparams"]["beta"].as_array().unwrap().len(), 4);
    let keys: Vec<&str> = [
        "\"expr\"",
        "\"params\"",
        "\"x\"",
        "\"y\"",
        "\"dy_dx\"",
        "\"dy_dparams\"",
    ]
    .to_vec();
    let text = stdout(&o);
    let positions: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "field order: {text}"
    );

    let o = pangaea(&[
        "expr",
        "eval",
        "reciprocal(x)",
        "--x",
        "0,2",
        "--precision",
        "f32",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["y"][0].is_null());
    assert_eq!(v["y"][1], 0.5);
}

#[test]
fn parse_errors_exit_2_with_the_position() {
    let o = pangaea(&["expr", "show", "max(tanh(x), x"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("expected ')', found end of input at 14"),
        "{err}"
    );
    assert!(err.contains("max(tanh(x), x\n"), "{err}");
    let o = pangaea(&["expr", "eval", "tanh(x)", "--x", "1", "--param", "beta=2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no parameter beta"));
}

#[test]
fn show_reports_canonical_form_and_verdict() {
    let o = pangaea(&["expr", "show", "max(x, 0)"]);
    let out = stdout(&o);
    assert!(out.contains("canonical    max(0, x)"), "{out}");
    assert!(out.contains("validity     ok"), "{out}");
    let o = pangaea(&["expr", "show", "reciprocal(x)", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["rejection"]["code"], "non_finite_value");
    let relu: serde_json::Value =
        serde_json::from_str(&stdout(&pangaea(&["expr", "show", "relu(x)", "--json"]))).unwrap();
    let max: serde_json::Value =
        serde_json::from_str(&stdout(&pangaea(&["expr", "show", "max(x, 0)", "--json"]))).unwrap();
    assert_eq!(relu["fingerprint"], max["fingerprint"]);
}

#[test]
fn random_and_mutate_are_seeded() {
    let a = stdout(&pangaea(&["expr", "random", "--seed", "4", "--count", "5"]));
    let b = stdout(&pangaea(&["expr", "random", "--seed", "4", "--count", "5"]));
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 5);
    for line in a.lines() {
        assert!(line.parse::<pangaea_expr::Expr>().is_ok(), "{line}");
    }
    let m = pangaea(&[
        "expr",
        "mutate",
        "tanh(x) + x",
        "--seed",
        "1",
        "--op",
        "insert",
        "--count",
        "3",
    ]);
    assert!(m.status.success(), "{}", stderr(&m));
    for line in stdout(&m).lines() {
        let (child, detail) = line.split_once('\t').unwrap();
        assert!(detail.starts_with("insert"), "{detail}");
        // tanh(x) + x has 4 nodes; an insert adds one (unary) or two (binary).
        let size = child.parse::<pangaea_expr::Expr>().unwrap().size();
        assert!(size == 5 || size == 6, "{child}");
    }
    let o = pangaea(&["expr", "mutate", "x", "--op", "remove"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn plot_writes_an_svg() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.svg");
    let o = pangaea(&[
        "expr",
        "plot",
        "swish(x)",
        "-o",
        path.to_str().unwrap(),
        "--range",
        "-3,3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("swish(x)"));
    let o = pangaea(&[
        "expr",
        "plot",
        "swish(x)",
        "-o",
        path.to_str().unwrap(),
        "--range",
        "3,-3",
    ]);
    assert_eq!(o.status.code(), Some(2));
}
