//! The fast path against the reference (ARCHITECTURE.md, convention 6): the burn activation module — values and
//! autodiff gradients with respect to the input and to every parameter — against
//! `pangaea_expr::Program`, the scalar evaluator with exact derivatives, on the same inputs.
//!
//! Parameters differ per channel, so a mix-up of channels or parameter columns shows.

use burn::module::Param;
use burn::tensor::{Tensor, TensorData};
use pangaea_expr::{Binary, Expr, Param as P, Program, Unary, MAX_PARAMS};
use pangaea_nn::activation::{apply, ExprActivation};
use pangaea_nn::Granularity;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BATCH: usize = 2;
const CHANNELS: usize = 3;
const SIDE: usize = 5;
const PER_CHANNEL: usize = BATCH * SIDE * SIDE;

/// Whether `got` is within `atol + rtol·|want|` of `want` (NaN/NaN and equal infinities pass).
fn close(got: f64, want: f64, rtol: f64, atol: f64) -> bool {
    if got.is_nan() || want.is_nan() {
        return got.is_nan() && want.is_nan();
    }
    if got.is_infinite() || want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= atol + rtol * want.abs()
}

/// The channel of element `i` of a `[BATCH, CHANNELS, SIDE, SIDE]` tensor in row-major order.
fn channel_of(i: usize) -> usize {
    (i / (SIDE * SIDE)) % CHANNELS
}

/// Random inputs in ±[0.05, 3] (away from the kinks at 0) and per-channel parameters in
/// [0.5, 1.5].
fn inputs(rng: &mut ChaCha8Rng) -> (Vec<f32>, Vec<[f32; MAX_PARAMS]>) {
    let n = BATCH * CHANNELS * SIDE * SIDE;
    let xs = (0..n)
        .map(|_| {
            let m: f32 = rng.random_range(0.05..3.0);
            if rng.random_bool(0.5) {
                m
            } else {
                -m
            }
        })
        .collect();
    let params = (0..CHANNELS)
        .map(|_| std::array::from_fn(|_| rng.random_range(0.5..1.5)))
        .collect();
    (xs, params)
}

/// Compares the module with the reference on `xs` with per-channel parameters `pvals`.
#[track_caller]
fn check(expr: &Expr, xs: &[f32], pvals: &[[f32; MAX_PARAMS]], what: &str) {
    let device = pangaea_nn::device::default_device().autodiff();
    let order = expr.params();

    // Reference: evaluate each channel's elements with that channel's parameters.
    let program = Program::new(expr);
    let mut want_y = vec![0f32; xs.len()];
    let mut want_dx = vec![0f32; xs.len()];
    let mut want_dp = [[0f64; MAX_PARAMS]; CHANNELS];
    for c in 0..CHANNELS {
        let idx: Vec<usize> = (0..xs.len()).filter(|&i| channel_of(i) == c).collect();
        let cx: Vec<f32> = idx.iter().map(|&i| xs[i]).collect();
        let out = program.eval_f32(&cx, pvals[c]);
        for (k, &i) in idx.iter().enumerate() {
            want_y[i] = out.y[k];
            want_dx[i] = out.dy_dx[k];
            for p in &order {
                want_dp[c][p.index()] += out.dy_dparams[p.index()][k] as f64;
            }
        }
    }

    // Module: parameters [CHANNELS, n] with the columns in `expr.params()` order.
    let n = order.len();
    let x = Tensor::<4>::from_data(
        TensorData::new(xs.to_vec(), [BATCH, CHANNELS, SIDE, SIDE]),
        &device,
    )
    .require_grad();
    let params = (n > 0).then(|| {
        let flat: Vec<f32> = (0..CHANNELS)
            .flat_map(|c| order.iter().map(move |p| pvals[c][p.index()]))
            .collect();
        Tensor::<2>::from_data(TensorData::new(flat, [CHANNELS, n]), &device).require_grad()
    });
    let y = apply(expr, x.clone(), params.clone());
    assert_eq!(
        y.dims(),
        [BATCH, CHANNELS, SIDE, SIDE],
        "{what}: output shape"
    );
    let got_y: Vec<f32> = y.clone().into_data().try_into_vec_as::<f32>().unwrap();
    // An output that depends on neither x nor a parameter (`zero(x)`, `one(x)`) records no
    // graph: its gradients are all 0.
    let grads = y.is_tracked().then(|| y.sum().backward());
    let got_dx: Vec<f32> = grads
        .as_ref()
        .and_then(|g| x.grad(g))
        .map(|g| g.into_data().try_into_vec_as::<f32>().unwrap())
        .unwrap_or_else(|| vec![0.0; xs.len()]);

    for i in 0..xs.len() {
        let c = channel_of(i);
        assert!(
            close(got_y[i] as f64, want_y[i] as f64, 1e-5, 1e-6),
            "{what}: y at x = {} (params {:?}): module {}, reference {}",
            xs[i],
            pvals[c],
            got_y[i],
            want_y[i]
        );
        assert!(
            close(got_dx[i] as f64, want_dx[i] as f64, 2e-4, 1e-5),
            "{what}: dy/dx at x = {} (params {:?}): module {}, reference {}",
            xs[i],
            pvals[c],
            got_dx[i],
            want_dx[i]
        );
    }
    if let Some(params) = params {
        let got_dp: Vec<f32> = grads
            .as_ref()
            .and_then(|g| params.grad(g))
            .map(|g| g.into_data().try_into_vec_as::<f32>().unwrap())
            .unwrap_or_else(|| vec![0.0; CHANNELS * n]);
        for c in 0..CHANNELS {
            for (j, p) in order.iter().enumerate() {
                let got = got_dp[c * n + j] as f64;
                let want = want_dp[c][p.index()];
                assert!(
                    close(got, want, 2e-4, 1e-4 * PER_CHANNEL as f64),
                    "{what}: dy/d{} summed over channel {c}: module {got}, reference {want}",
                    p.name()
                );
            }
        }
    }
}

/// The module's values of a parameter-free expression, without autodiff.
fn apply_values(expr: &Expr, xs: &[f32]) -> Vec<f32> {
    let x = Tensor::<4>::from_data(
        TensorData::new(xs.to_vec(), [BATCH, CHANNELS, SIDE, SIDE]),
        &pangaea_nn::device::default_device(),
    );
    apply(expr, x, None)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap()
}

/// `alpha * u(beta * x)`: the operator with a parameter on its input and its output edge.
fn parametric_unary(u: Unary) -> Expr {
    Expr::unary(u, Expr::x().with_param(Some(P::Beta))).with_param(Some(P::Alpha))
}

#[test]
fn every_unary_operator_matches_the_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for &u in Unary::ALL {
        let (mut xs, params) = inputs(&mut rng);
        if u == Unary::Sqrt {
            xs.iter_mut().for_each(|x| *x = x.abs());
        }
        check(&parametric_unary(u), &xs, &params, u.name());
        check(&Expr::unary(u, Expr::x()), &xs, &params, u.name());
    }
}

#[test]
fn unary_operators_at_their_kinks_and_tails() {
    // Exactly 0 (relu, abs, minz, elu, selu, leaky_relu, elish, sinc, softplus choose a branch
    // there), the Bessel split at 8, and far tails.
    let xs: Vec<f32> = [
        0.0, -0.0, 1e-5, -1e-5, 7.999, 8.0, 8.001, -8.0, 12.0, -12.0, 2.5, -2.5, 30.0, -30.0,
    ]
    .into_iter()
    .cycle()
    .take(BATCH * CHANNELS * SIDE * SIDE)
    .collect();
    let ones = vec![[1.0; MAX_PARAMS]; CHANNELS];
    for &u in Unary::ALL {
        if matches!(
            u,
            Unary::Reciprocal
                | Unary::LogAbs
                | Unary::Sqrt
                | Unary::Exp
                | Unary::Sinh
                | Unary::Cosh
        ) {
            // Poles and overflow at these points: compared on ordinary inputs above.
            continue;
        }
        check(
            &Expr::unary(u, Expr::x()),
            &xs,
            &ones,
            &format!("{u} at kinks"),
        );
    }
}

#[test]
fn every_binary_operator_matches_the_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for &b in Binary::ALL {
        // A positive left operand (pow needs one), a signed right one.
        let left = Expr::unary(Unary::Softplus, Expr::x()).with_param(Some(P::Alpha));
        let right = Expr::unary(Unary::Tanh, Expr::x().with_param(Some(P::Gamma)))
            .with_param(Some(P::Beta));
        let (xs, params) = inputs(&mut rng);
        check(&Expr::binary(b, left, right), &xs, &params, b.name());
        // Ties: max(x, x) and min(x, x) send the gradient left, as the reference does.
        check(
            &Expr::binary(b, Expr::x(), Expr::x()),
            &xs,
            &params,
            b.name(),
        );
        // NaN on either side (sqrt of a negative) propagates through every operator.
        let nan_left = Expr::binary(b, Expr::unary(Unary::Sqrt, Expr::x()), Expr::x());
        let nan_right = Expr::binary(b, Expr::x(), Expr::unary(Unary::Sqrt, Expr::x()));
        for e in [nan_left, nan_right] {
            let values = apply_values(&e, &xs);
            let want = Program::new(&e).eval_f32(&xs, [1.0; MAX_PARAMS]).y;
            for (i, (&got, &want)) in values.iter().zip(&want).enumerate() {
                assert!(
                    close(got as f64, want as f64, 1e-6, 1e-7),
                    "{e} at x = {}: module {got}, reference {want}",
                    xs[i]
                );
            }
        }
    }
}

#[test]
fn written_expressions_match_the_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for text in [
        "alpha * x * sigmoid(beta * x)",
        "max(x, alpha * erf(beta * x)) + gamma * bessel_i0e(x)",
        "pow(sigmoid(x), alpha * 1) * tanh(beta * x)",
        "alpha * one(x) + x",
        "zero(tanh(x)) + alpha * x",
        "gamma * one(x)",
        "min(elu(alpha * x), beta * softsign(x)) - log_sigmoid(gamma * x)",
        "atan(x) * bessel_i1e(alpha * x) / (1 + square(beta * x))",
    ] {
        let expr: Expr = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        let (xs, params) = inputs(&mut rng);
        check(&expr, &xs, &params, text);
    }
}

#[test]
fn random_expressions_match_the_reference() {
    // Operators that are finite and smooth enough on ±3 in every composition.
    let unary = [
        Unary::Tanh,
        Unary::Sigmoid,
        Unary::Swish,
        Unary::Softplus,
        Unary::Erf,
        Unary::Atan,
        Unary::Relu,
        Unary::Elu,
        Unary::Selu,
        Unary::Softsign,
        Unary::Asinh,
        Unary::Neg,
        Unary::Abs,
        Unary::Gelu,
        Unary::Mish,
        Unary::Gauss,
        Unary::Sin,
        Unary::BesselI0e,
        Unary::BesselI1e,
        Unary::LeakyRelu,
        Unary::Elish,
        Unary::Minz,
        Unary::HardSigmoid,
        Unary::LogSigmoid,
        Unary::Erfc,
        Unary::Expm1,
        Unary::Sinc,
        Unary::Square,
    ];
    let binary = [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Max,
        Binary::Min,
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for _ in 0..40 {
        fn grow(rng: &mut ChaCha8Rng, depth: usize, u: &[Unary], b: &[Binary]) -> Expr {
            let e = if depth == 0 || rng.random_bool(0.25) {
                Expr::x()
            } else if rng.random_bool(0.6) {
                let op = u[rng.random_range(0..u.len())];
                Expr::unary(op, grow(rng, depth - 1, u, b))
            } else {
                let op = b[rng.random_range(0..b.len())];
                let l = grow(rng, depth - 1, u, b);
                let r = grow(rng, depth - 1, u, b);
                Expr::binary(op, l, r)
            };
            let p = match rng.random_range(0..6) {
                0 => Some(P::Alpha),
                1 => Some(P::Beta),
                2 => Some(P::Gamma),
                _ => None,
            };
            e.with_param(p)
        }
        let expr = grow(&mut rng, 3, &unary, &binary);
        let (xs, params) = inputs(&mut rng);
        check(&expr, &xs, &params, &expr.to_string());
    }
}

#[test]
fn module_granularities_hold_their_parameters() {
    let device = pangaea_nn::device::default_device();
    let expr: Expr = "alpha * x * sigmoid(beta * x)".parse().unwrap();
    let channel = ExprActivation::new(expr.clone(), Granularity::Channel, 4, &device);
    let layer = ExprActivation::new(expr.clone(), Granularity::Layer, 4, &device);
    let shared = ExprActivation::new(expr.clone(), Granularity::Shared, 4, &device);
    assert_eq!(channel.param_tensor().unwrap().dims(), [4, 2]);
    assert_eq!(layer.param_tensor().unwrap().dims(), [1, 2]);
    assert!(shared.param_tensor().is_none());
    assert_eq!(channel.params(None)["alpha"], [1.0; 4]);
    assert_eq!(layer.params(None)["beta"], [1.0]);
    // Shared: the values come from the network's tensor.
    let net_params = Param::from_tensor(Tensor::<2>::from_floats([[2.0, 3.0]], &device));
    assert_eq!(shared.params(Some(&net_params))["beta"], [3.0]);
    // All three compute the same function at the initial (all-ones) parameters.
    let x = Tensor::<4>::from_floats(
        [[[[-1.0, 0.5]], [[2.0, -3.0]], [[0.0, 1.0]], [[4.0, -0.2]]]],
        &device,
    );
    let ones = Tensor::<2>::ones([1, 2], &device);
    let a: Vec<f32> = channel
        .forward(x.clone(), None)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    let b: Vec<f32> = layer
        .forward(x.clone(), None)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    let c: Vec<f32> = shared
        .forward(x, Some(&ones))
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
}
