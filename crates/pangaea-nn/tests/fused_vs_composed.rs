//! The fused activation against its reference, the composed burn operations (ARCHITECTURE.md,
//! convention 6): values, dL/dx and dL/dθ, for every operator, for random expressions from the
//! search's own generator, for per-channel, per-layer and shared parameters, and for
//! non-finite inputs. Runs on every CPU backend of the build (flex; LibTorch with `tch`).

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use pangaea_expr::{mutate, parametrize, random_initial, Binary, Expr, Operators, Unary};
use pangaea_nn::activation::fused::{apply_fused, has_fused_kernels};
use pangaea_nn::activation::{apply, apply_composed};
use pangaea_nn::device::{resolve, Backend};
use pangaea_wire::DeviceSpec;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The CPU devices of this build, with autodiff.
fn devices() -> Vec<Device> {
    let mut out = vec![resolve(DeviceSpec::Flex).unwrap().device.autodiff()];
    let cpu = resolve(DeviceSpec::Cpu).unwrap();
    if cpu.backend == Backend::LibTorchCpu {
        out.push(cpu.device.autodiff());
    }
    out
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

/// Agreement of two f32 results: same NaN positions, equal infinities, else within
/// `rtol·scale + atol` where `scale` is the larger magnitude.
fn assert_close(what: &str, fused: &[f32], composed: &[f32], rtol: f32, atol: f32) {
    assert_eq!(fused.len(), composed.len(), "{what}: lengths");
    for (i, (&a, &b)) in fused.iter().zip(composed).enumerate() {
        let ok = if a.is_nan() || b.is_nan() {
            a.is_nan() && b.is_nan()
        } else if a.is_infinite() || b.is_infinite() {
            a == b
        } else {
            (a - b).abs() <= rtol * a.abs().max(b.abs()) + atol
        };
        assert!(ok, "{what}: element {i}: fused {a} vs composed {b}");
    }
}

/// Runs both paths on the same input and parameters (`units` rows) with the loss Σ w·y, and
/// compares y, dL/dx and dL/dθ.
fn compare(device: &Device, expr: &Expr, x: &[f32], shape: [usize; 4], units: usize, seed: u64) {
    assert!(has_fused_kernels(device, burn::tensor::DType::F32));
    let n = expr.params().len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let theta: Vec<f32> = (0..units * n)
        .map(|_| rand::Rng::random_range(&mut rng, 0.5f32..1.5))
        .collect();
    let weights = Tensor::<4>::random(shape, Distribution::Uniform(-1.0, 1.0), device);
    let run = |fused: bool| {
        let xt = Tensor::<4>::from_data(TensorData::new(x.to_vec(), shape), device).require_grad();
        let pt = (n > 0).then(|| {
            Tensor::<2>::from_data(TensorData::new(theta.clone(), [units, n]), device)
                .require_grad()
        });
        let y = if fused {
            apply_fused(expr, xt.clone(), pt.clone())
        } else {
            apply_composed(expr, xt.clone(), pt.clone())
        };
        let grads = (y.clone() * weights.clone()).sum().backward();
        let dx = xt.grad(&grads).map(values);
        let dp = pt.and_then(|p| p.grad(&grads)).map(values);
        (values(y), dx, dp)
    };
    let (yf, dxf, dpf) = run(true);
    let (yc, dxc, dpc) = run(false);
    let what = format!("`{expr}` ({units} units)");
    assert_close(&format!("{what} y"), &yf, &yc, 1e-4, 1e-5);
    match (dxf, dxc) {
        (Some(a), Some(b)) => assert_close(&format!("{what} dL/dx"), &a, &b, 1e-3, 1e-5),
        (a, b) => assert_eq!(a.is_some(), b.is_some(), "{what}: dL/dx present"),
    }
    match (dpf, dpc) {
        (Some(a), Some(b)) => assert_close(&format!("{what} dL/dθ"), &a, &b, 1e-3, 1e-4),
        (a, b) => assert_eq!(a.is_some(), b.is_some(), "{what}: dL/dθ present"),
    }
}

/// Inputs in ±[0.05, 3] (away from the kinks at 0), seeded.
fn inputs(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len)
        .map(|_| {
            let m: f32 = rand::Rng::random_range(&mut rng, 0.05..3.0);
            if rand::Rng::random_bool(&mut rng, 0.5) {
                m
            } else {
                -m
            }
        })
        .collect()
}

const SHAPE: [usize; 4] = [3, 4, 5, 6];

fn len() -> usize {
    SHAPE.iter().product()
}

#[test]
fn every_unary_operator_matches_per_channel_and_per_layer() {
    for device in devices() {
        for (k, &u) in Unary::ALL.iter().enumerate() {
            // Keep the argument where every operator is finite and smooth enough to compare:
            // β·x/4 stays in ±0.75·1.5, inside the domains of sqrt (via abs), log_abs, etc.
            let text = match u {
                Unary::Sqrt | Unary::LogAbs => {
                    format!("alpha * {}(beta * abs(x) + 1) + gamma * x", u.name())
                }
                _ => format!("alpha * {}(beta * x) + gamma * x", u.name()),
            };
            let expr: Expr = text.parse().unwrap();
            let x = inputs(len(), k as u64);
            compare(&device, &expr, &x, SHAPE, SHAPE[1], k as u64);
            compare(&device, &expr, &x, SHAPE, 1, k as u64 + 100);
        }
    }
}

/// Planes of 256 elements and more are evaluated where they lie, shorter ones gathered per
/// channel: both layouts, per channel and per layer.
#[test]
fn large_and_small_planes_match() {
    let expr: Expr = "alpha * x * sigmoid(beta * abs(x)) + gamma * tanh(x)"
        .parse()
        .unwrap();
    for device in devices() {
        for shape in [[2, 3, 16, 17], [4, 5, 2, 2], [1, 2, 40, 40]] {
            let x = inputs(shape.iter().product(), 21);
            compare(&device, &expr, &x, shape, shape[1], 5);
            compare(&device, &expr, &x, shape, 1, 6);
        }
    }
}

#[test]
fn every_binary_operator_matches() {
    for device in devices() {
        for (k, &b) in Binary::ALL.iter().enumerate() {
            let text = match b {
                // A positive base for pow.
                Binary::Pow => "alpha * pow(sigmoid(x) + 1, beta * tanh(x))".to_owned(),
                Binary::Div => "alpha * div(x, beta * (abs(x) + 1))".to_owned(),
                _ => format!("alpha * {}(x, beta * tanh(x))", b.name()),
            };
            let expr: Expr = text.parse().unwrap();
            let x = inputs(len(), 50 + k as u64);
            compare(&device, &expr, &x, SHAPE, SHAPE[1], k as u64);
        }
    }
}

/// Expressions the search itself would train: random initial forms and their mutants,
/// parametrized as the search does, kept when they pass the validity probes.
#[test]
fn random_expressions_from_the_generator_match() {
    let ops = Operators::default();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut checked = 0;
    for device in devices() {
        let mut tried = 0;
        while checked < 40 && tried < 2_000 {
            tried += 1;
            let mut form = random_initial(&ops, &mut rng);
            if tried % 2 == 0 {
                if let Ok(out) = mutate(&form, &ops, 12, &Default::default(), &mut rng) {
                    form = out.expr;
                }
            }
            if form.validate().is_err() {
                continue;
            }
            for version in parametrize(&form, 1, 3, &mut rng) {
                let x = inputs(len(), tried);
                // Skip forms that overflow on these inputs in f32 (the probes use f64).
                let y = pangaea_expr::Program::new(&version).values(&x, [1.5f32; 3]);
                if y.iter().any(|v| !v.is_finite() || v.abs() > 1e6) {
                    continue;
                }
                compare(&device, &version, &x, SHAPE, SHAPE[1], tried);
                checked += 1;
            }
        }
        assert!(checked >= 40, "only {checked} random expressions checked");
        checked = 0;
    }
}

/// Shared parameters: one `[1, n]` tensor feeding two sites, so its gradient is the sum of both
/// sites' contributions.
#[test]
fn shared_parameters_accumulate_over_sites() {
    let expr: Expr = "alpha * x * sigmoid(beta * x)".parse().unwrap();
    for device in devices() {
        let x = inputs(len(), 3);
        let run = |fused: bool| {
            let xt =
                Tensor::<4>::from_data(TensorData::new(x.clone(), SHAPE), &device).require_grad();
            let p = Tensor::<2>::from_floats([[1.2, 0.8]], &device).require_grad();
            let f = |t: Tensor<4>| {
                if fused {
                    apply_fused(&expr, t, Some(p.clone()))
                } else {
                    apply_composed(&expr, t, Some(p.clone()))
                }
            };
            let y = f(f(xt.clone()));
            let grads = y.sum().backward();
            (
                values(xt.grad(&grads).unwrap()),
                values(p.grad(&grads).unwrap()),
            )
        };
        let (dxf, dpf) = run(true);
        let (dxc, dpc) = run(false);
        assert_close("shared dL/dx", &dxf, &dxc, 1e-3, 1e-5);
        assert_close("shared dL/dθ", &dpf, &dpc, 1e-3, 1e-4);
    }
}

/// Non-finite inputs give the same non-finite outputs and gradients on both paths.
#[test]
fn non_finite_inputs_agree() {
    let exprs = [
        "alpha * x * sigmoid(beta * x)",
        "alpha * tanh(x) + beta * relu(x)",
        "alpha * max(x, beta * x)",
    ];
    for device in devices() {
        for text in exprs {
            let expr: Expr = text.parse().unwrap();
            let mut x = inputs(len(), 9);
            x[0] = f32::NAN;
            x[7] = f32::INFINITY;
            x[31] = f32::NEG_INFINITY;
            let n = expr.params().len();
            let run = |fused: bool| {
                let xt = Tensor::<4>::from_data(TensorData::new(x.clone(), SHAPE), &device)
                    .require_grad();
                let p = Tensor::<2>::ones([SHAPE[1], n], &device).require_grad();
                let y = if fused {
                    apply_fused(&expr, xt.clone(), Some(p.clone()))
                } else {
                    apply_composed(&expr, xt.clone(), Some(p.clone()))
                };
                let grads = y.clone().sum().backward();
                (values(y), values(xt.grad(&grads).unwrap()))
            };
            let (yf, dxf) = run(true);
            let (yc, dxc) = run(false);
            // At the NaN input only values are compared: burn's composed max/min send a number
            // back through a NaN comparison, the fused path the exact derivative's NaN (the loss
            // is NaN either way, and the run ends as diverged).
            for (what, f, c, at) in [
                ("y", &yf, &yc, &[0usize, 7, 31][..]),
                ("dL/dx", &dxf, &dxc, &[7, 31][..]),
            ] {
                for &i in at {
                    let (a, b) = (f[i], c[i]);
                    assert!(
                        (a.is_nan() && b.is_nan()) || a == b,
                        "`{text}` {what}[{i}]: fused {a} vs composed {b}"
                    );
                }
            }
            // The finite elements are unaffected.
            assert_close(&format!("`{text}` y"), &yf[40..], &yc[40..], 1e-4, 1e-5);
        }
    }
}

/// The fused path gives the same bits whatever the number of threads (per-plane sums are added
/// in plane order; on LibTorch the tasks run on OpenMP's pool), and `apply` takes it on every
/// CPU backend.
#[test]
fn fused_results_are_deterministic_and_apply_takes_the_fused_path() {
    let expr: Expr = "alpha * x * sigmoid(beta * abs(x))".parse().unwrap();
    let shape = [16, 8, 7, 7];
    let x = inputs(shape.iter().product(), 11);
    for device in devices() {
        let run = |threads: usize| {
            pangaea_nn::activation::fused::set_kernel_threads(threads);
            {
                let xt = Tensor::<4>::from_data(TensorData::new(x.clone(), shape), &device)
                    .require_grad();
                let p = Tensor::<2>::ones([8, 2], &device)
                    .mul_scalar(1.1)
                    .require_grad();
                let y = apply(&expr, xt.clone(), Some(p.clone()));
                let grads = y.clone().powi_scalar(2).sum().backward();
                let fused = apply_fused(&expr, xt.clone(), Some(p.clone()));
                let composed = apply_composed(&expr, xt, Some(p.clone()));
                let result = (values(y), values(p.grad(&grads).unwrap()));
                (result, values(fused), values(composed))
            }
        };
        let (one, fused, composed) = run(1);
        assert_eq!(one.0, fused, "apply did not take the fused path");
        assert_ne!(one.0, composed, "the two paths round differently somewhere");
        assert_eq!(one, run(3).0);
        assert_eq!(one, run(1).0);
    }
    pangaea_nn::activation::fused::set_kernel_threads(0);
}
