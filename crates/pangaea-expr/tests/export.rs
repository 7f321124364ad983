//! The exported Python code computes what pangaea computes.
//!
//! The NumPy export of every operator (plain, and with parameters on its input and output) and
//! of random parametric expressions is run by `python3` on a grid of inputs and compared with
//! `Program::eval_f64`. Points where pangaea's value is not finite are skipped, but there the
//! NumPy value must not be finite either. The PyTorch export is checked for syntax with
//! `python3 -m py_compile` (torch itself is not needed for that). Both tests print a notice and
//! pass when python3 or NumPy is missing.

use std::process::Command;

use pangaea_expr::export::{to_numpy, to_pytorch, LearnedParams};
use pangaea_expr::{
    mutate, parametrize, random_initial, Binary, Expr, MutationWeights, OperatorSet,
};
use pangaea_expr::{Program, Unary};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn python_with_numpy() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        // CI installs NumPy and sets PANGAEA_REQUIRE_NUMPY=1: there, missing is a failure.
        assert!(
            std::env::var_os("PANGAEA_REQUIRE_NUMPY").is_none(),
            "PANGAEA_REQUIRE_NUMPY is set but `python3 -c 'import numpy'` fails"
        );
        eprintln!("NOTICE: python3 with numpy not found; skipping the NumPy export check");
    }
    ok
}

fn cases() -> Vec<Expr> {
    let mut cases = Vec::new();
    for &u in Unary::ALL {
        let plain = Expr::unary(u, Expr::x());
        cases.push(plain.clone());
        cases.push(Expr::parse(&format!("alpha * {}(beta * x)", u.name())).unwrap());
    }
    for &b in Binary::ALL {
        cases.push(Expr::parse(&format!("{}(alpha * x, tanh(x) + gamma * 1)", b.name())).unwrap());
    }
    let ops = OperatorSet {
        unary: Unary::ALL.iter().map(|u| u.name().to_owned()).collect(),
        binary: Binary::ALL.iter().map(|b| b.name().to_owned()).collect(),
    }
    .resolve()
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..30 {
        let mut e = random_initial(&ops, &mut rng);
        for _ in 0..2 {
            if let Ok(outcome) = mutate(&e, &ops, 9, &MutationWeights::default(), &mut rng) {
                e = outcome.expr;
            }
        }
        cases.extend(parametrize(&e, 1, 3, &mut rng));
    }
    cases
}

fn grid() -> Vec<f64> {
    let mut xs: Vec<f64> = (-120..=120).map(|i| f64::from(i) * 0.1013).collect();
    xs.extend([
        0.0, -0.0, 5e-5, -5e-5, 1e-9, 35.0, -35.0, 200.0, -200.0, 750.0, -750.0,
    ]);
    xs
}

const PARAMS: [f64; 3] = [0.8, 1.3, -0.6];

#[test]
fn numpy_export_matches_program_for_every_operator_and_random_expressions() {
    if !python_with_numpy() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cases = cases();
    let xs = grid();
    let xs_text: Vec<String> = xs.iter().map(|x| format!("{x:?}")).collect();
    for (k, e) in cases.iter().enumerate() {
        std::fs::write(dir.join(format!("m{k}.py")), to_numpy(e)).unwrap();
    }
    let driver = format!(
        "import importlib, sys\n\
         sys.path.insert(0, {dir:?})\n\
         xs = [{xs}]\n\
         for k in range({n}):\n    \
             m = importlib.import_module('m%d' % k)\n    \
             ys = m.activation(xs, {a:?}, {b:?}, {c:?})\n    \
             print(' '.join(repr(float(v)) for v in ys))\n",
        dir = dir.display().to_string(),
        xs = xs_text.join(", "),
        n = cases.len(),
        a = PARAMS[0],
        b = PARAMS[1],
        c = PARAMS[2],
    );
    let out = Command::new("python3")
        .args(["-c", &driver])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len());
    let mut compared = 0;
    for (e, line) in cases.iter().zip(&lines) {
        let got: Vec<f64> = line.split(' ').map(|v| v.parse().unwrap()).collect();
        let want = Program::new(e).eval_f64(&xs, PARAMS).y;
        for ((x, w), g) in xs.iter().zip(&want).zip(&got) {
            if !w.is_finite() {
                assert!(!g.is_finite(), "{e} at x = {x}: pangaea {w}, numpy {g}");
                continue;
            }
            let tol = 1e-9 * w.abs().max(g.abs()) + 1e-12;
            assert!(
                (w - g).abs() <= tol,
                "{e} at x = {x}: pangaea {w}, numpy {g}"
            );
            compared += 1;
        }
    }
    assert!(
        compared > cases.len() * xs.len() / 2,
        "too few finite points: {compared}"
    );
}

#[test]
fn pytorch_export_compiles() {
    if !python_with_numpy() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let learned = LearnedParams {
        epoch: 2,
        sites: vec![("block1.act1".into(), vec![("alpha".into(), vec![0.5, 2.0])])],
    };
    let mut paths = Vec::new();
    for (k, e) in cases().iter().enumerate() {
        let path = dir.join(format!("t{k}.py"));
        std::fs::write(&path, to_pytorch(e, Some(&learned).filter(|_| k % 2 == 0))).unwrap();
        paths.push(path);
    }
    py_compile(&paths);
}

fn py_compile(paths: &[std::path::PathBuf]) {
    let out = Command::new("python3")
        .args(["-m", "py_compile"])
        .args(paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
