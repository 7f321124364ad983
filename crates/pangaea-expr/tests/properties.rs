//! Property tests of the expression language (STYLE.md house style 7): print→parse round trip,
//! derivatives against finite differences, the fast evaluator against a plain recursive
//! reference, canonical form, fingerprints and mutations.

use pangaea_expr::mutation::{apply, Mutation};
use pangaea_expr::{Binary, Expr, Operators, Param, Program, Tree, Unary};
use proptest::prelude::*;
use rand::SeedableRng;

fn unary() -> impl Strategy<Value = Unary> {
    prop::sample::select(Unary::ALL.to_vec())
}

fn binary() -> impl Strategy<Value = Binary> {
    prop::sample::select(Binary::ALL.to_vec())
}

fn param() -> impl Strategy<Value = Option<Param>> {
    prop_oneof![
        6 => Just(None),
        1 => Just(Some(Param::Alpha)),
        1 => Just(Some(Param::Beta)),
        1 => Just(Some(Param::Gamma)),
    ]
}

/// Random trees of up to ~24 nodes over every operator, with parameters on random edges.
fn tree() -> impl Strategy<Value = Tree> {
    let leaf = param().prop_map(Tree::X);
    leaf.prop_recursive(5, 24, 2, |inner| {
        prop_oneof![
            (unary(), param(), inner.clone()).prop_map(|(u, p, c)| Tree::Unary(u, p, Box::new(c))),
            (binary(), param(), inner.clone(), inner).prop_map(|(b, p, l, r)| Tree::Binary(
                b,
                p,
                Box::new(l),
                Box::new(r)
            )),
        ]
    })
}

fn expr() -> impl Strategy<Value = Expr> {
    tree().prop_map(|t| Expr::from_tree(&t))
}

/// The reference evaluator: a plain recursive walk with forward-mode dual numbers, one input at
/// a time, in f64. Tangents that are structurally zero (the direction does not occur below) are
/// `None`, as in the fast path. Returns (value, [d/dx, d/dα, d/dβ, d/dγ]).
fn reference(t: &Tree, x: f64, params: [f64; 3]) -> (f64, [Option<f64>; 4]) {
    let (mut v, mut d) = match t {
        Tree::X(_) => (x, [Some(1.0), None, None, None]),
        Tree::Unary(u, _, c) => {
            let (cv, cd) = reference(c, x, params);
            let (fv, fd) = u.value_deriv(cv);
            let zero = u.is_constant();
            (fv, cd.map(|t| if zero { None } else { t.map(|t| fd * t) }))
        }
        Tree::Binary(b, _, l, r) => {
            let (av, ad) = reference(l, x, params);
            let (cv, cd) = reference(r, x, params);
            let (fv, ga, gb) = b.value_grad(av, cv);
            let d = std::array::from_fn(|k| match (ad[k], cd[k]) {
                (None, None) => None,
                (Some(a), None) => Some(ga * a),
                (None, Some(c)) => Some(gb * c),
                (Some(a), Some(c)) => Some(ga * a + gb * c),
            });
            (fv, d)
        }
    };
    if let Some(p) = t.param() {
        let pv = params[p.index()];
        for dk in d.iter_mut() {
            *dk = dk.map(|t| t * pv);
        }
        let own = &mut d[1 + p.index()];
        *own = Some(own.unwrap_or(0.0) + v);
        v *= pv;
    }
    (v, d)
}

/// The largest magnitude of any node's value at `x` (in f64): where it leaves f32's range, f32
/// evaluation legitimately overflows.
fn max_intermediate(t: &Tree, x: f64, params: [f64; 3]) -> f64 {
    let own = reference(t, x, params).0.abs();
    let below = match t {
        Tree::X(_) => 0.0,
        Tree::Unary(_, _, c) => max_intermediate(c, x, params),
        Tree::Binary(_, _, l, r) => {
            max_intermediate(l, x, params).max(max_intermediate(r, x, params))
        }
    };
    if own.is_nan() {
        f64::INFINITY
    } else {
        own.max(below)
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    // Non-finite on both sides counts as agreement: inf·0 versus inf·(a rounding-sized tangent)
    // gives NaN on one path and ±inf on the other.
    if !a.is_finite() || !b.is_finite() {
        return !a.is_finite() && !b.is_finite();
    }
    (a - b).abs() <= rel * (1.0 + a.abs().max(b.abs()))
}

const XS: [f64; 9] = [-3.7, -1.3, -0.45, -0.02, 0.3, 0.9, 1.7, 2.6, 4.1];
const PARAMS: [f64; 3] = [1.3, 0.7, -0.9];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn print_then_parse_gives_back_the_expression(e in expr()) {
        let text = e.to_string();
        let back: Expr = text.parse().map_err(|err: pangaea_expr::ParseError| {
            TestCaseError::fail(format!("{text}: {err}"))
        })?;
        prop_assert_eq!(&back, &e, "{}", text);
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn fast_evaluator_matches_the_reference(t in tree()) {
        let e = Expr::from_tree(&t);
        let p = Program::new(&e);
        let out = p.eval_f64(&XS, PARAMS);
        for (i, &x) in XS.iter().enumerate() {
            // 1e-9: the fast path may use fused multiply-adds (AVX2+FMA) where the reference does
            // not, which differs in the last bits after cancellation.
            let (v, d) = reference(&t, x, PARAMS);
            let d = d.map(|t| t.unwrap_or(0.0));
            prop_assert!(close(out.y[i], v, 1e-9), "{e} at {x}: y {} vs {}", out.y[i], v);
            prop_assert!(close(out.dy_dx[i], d[0], 1e-9), "{e} at {x}: dx {} vs {}", out.dy_dx[i], d[0]);
            for k in 0..3 {
                prop_assert!(close(out.dy_dparams[k][i], d[1 + k], 1e-9),
                    "{e} at {x}: d{} {} vs {}", Param::ALL[k], out.dy_dparams[k][i], d[1 + k]);
            }
        }
    }

    #[test]
    fn f32_evaluation_tracks_f64(t in tree()) {
        let e = Expr::from_tree(&t);
        // ln(|x| + 1e-7) near |x| = 1 is far too ill-conditioned for f32 to track f64.
        prop_assume!(!e.unary_ops().any(|u| u == Unary::LogAbs));
        let p = Program::new(&e);
        let xs32: Vec<f32> = XS.iter().map(|&x| x as f32).collect();
        let out32 = p.eval_f32(&xs32, [1.3, 0.7, -0.9]);
        let out64 = p.eval_f64(&xs32.iter().map(|&x| x as f64).collect::<Vec<_>>(),
            [1.3f32 as f64, 0.7f32 as f64, -0.9f32 as f64]);
        for (i, x) in XS.iter().enumerate() {
            let (a, b) = (out32.y[i] as f64, out64.y[i]);
            // Only compare where f64 is well inside f32's range and not ill-conditioned.
            let inside = max_intermediate(&t, *x as f32 as f64, [1.3f32 as f64, 0.7f32 as f64, -0.9f32 as f64]) < 1e30;
            if inside && b.is_finite() && b.abs() < 1e30 && b.abs() > 1e-30 && out64.dy_dx[i].abs() < 1e3 {
                prop_assert!((a - b).abs() <= 1e-2 * (1.0 + b.abs()), "{e} at {x}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn derivatives_match_central_differences(e in expr()) {
        // sin, cos and sinc of an argument that grows exponentially (sin(sinh(sinh(x)))) oscillate
        // faster than any difference step can follow; they are checked operator by operator and
        // against the reference evaluator instead.
        // log_abs(x/x) = ln(1 + 1e-7) is as ill-conditioned: a last-bit change of its argument
        // changes it by 1e-9 relative to 1e-7.
        prop_assume!(!e.unary_ops().any(|u| matches!(u, Unary::Sin | Unary::Cos | Unary::Sinc | Unary::LogAbs)));
        let p = Program::new(&e);
        let out = p.eval_f64(&XS, PARAMS);
        let h = 1e-6;
        for (i, &x) in XS.iter().enumerate() {
            let f = |x: f64, params: [f64; 3]| p.values(&[x], params)[0];
            let fd = (f(x + h, PARAMS) - f(x - h, PARAMS)) / (2.0 * h);
            // Skip points near kinks, poles and overflow, where differences mean nothing.
            let smooth = |a: f64, b: f64, c: f64| {
                let second = (a - 2.0 * b + c).abs() / (h * h);
                a.is_finite() && b.is_finite() && c.is_finite() && b.abs() < 1e6 && second < 1e4
            };
            let (lo, mid, hi) = (f(x - h, PARAMS), f(x, PARAMS), f(x + h, PARAMS));
            // A difference is trusted only where a step ten times larger gives the same slope
            // (chaotic compositions such as sin of a huge argument fail this and are skipped).
            let fd10 = (f(x + 10.0 * h, PARAMS) - f(x - 10.0 * h, PARAMS)) / (20.0 * h);
            // …and where the slope is gentle on the scale of the step (no oscillation finer than h).
            let gentle = |d: f64| d.abs() * h <= 1e-3 * (1.0 + mid.abs());
            if smooth(lo, mid, hi) && close(fd, fd10, 1e-3) && gentle(out.dy_dx[i]) {
                prop_assert!(close(out.dy_dx[i], fd, 1e-4), "{e} d/dx at {x}: {} vs {fd}", out.dy_dx[i]);
            }
            for k in 0..3 {
                let mut plus = PARAMS;
                plus[k] += h;
                let mut minus = PARAMS;
                minus[k] -= h;
                let (lo, hi) = (f(x, minus), f(x, plus));
                let fd = (hi - lo) / (2.0 * h);
                let mut plus10 = PARAMS;
                plus10[k] += 10.0 * h;
                let mut minus10 = PARAMS;
                minus10[k] -= 10.0 * h;
                let fd10 = (f(x, plus10) - f(x, minus10)) / (20.0 * h);
                if smooth(lo, mid, hi) && close(fd, fd10, 1e-3) && gentle(out.dy_dparams[k][i]) {
                    prop_assert!(close(out.dy_dparams[k][i], fd, 1e-4),
                        "{e} d/d{} at {x}: {} vs {fd}", Param::ALL[k], out.dy_dparams[k][i]);
                }
            }
        }
    }

    #[test]
    fn canonical_form_is_idempotent_and_keeps_the_function(e in expr()) {
        let c = e.canonical();
        prop_assert_eq!(c.canonical(), c.clone());
        // The canonical form computes the same function (parameters renamed consistently, so
        // compare with all parameters equal).
        let same = [1.1, 1.1, 1.1];
        let a = Program::new(&e).values(&XS, same);
        let b = Program::new(&c).values(&XS, same);
        for (i, x) in XS.iter().enumerate() {
            prop_assert!(close(a[i], b[i], 1e-9) || (a[i].is_nan() || b[i].is_nan()),
                "{e} → {c} at {x}: {} vs {}", a[i], b[i]);
        }
    }

    #[test]
    fn equal_canonical_forms_have_equal_fingerprints(a in expr(), b in expr()) {
        let (ca, cb) = (a.canonical(), b.canonical());
        if ca == cb {
            prop_assert_eq!(a.fingerprint(), b.fingerprint());
        }
        prop_assert_eq!(ca.fingerprint(), ca.canonical().fingerprint());
    }

    #[test]
    fn every_mutation_gives_a_parseable_expression_within_the_limit(
        e in expr(), seed in any::<u64>(), max_size in 1usize..30,
    ) {
        let ops = Operators::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let form = e.without_params();
        let w = pangaea_expr::mutation::applicable(&form, &ops, max_size.max(form.size()), &Default::default());
        for m in Mutation::ALL {
            let allowed = match m {
                Mutation::Insert => w.insert > 0.0,
                Mutation::Remove => w.remove > 0.0,
                Mutation::Change => w.change > 0.0,
                Mutation::Regenerate => w.regenerate > 0.0,
            };
            if !allowed {
                continue;
            }
            let limit = max_size.max(form.size());
            let out = apply(m, &form, &ops, limit, &mut rng);
            prop_assert!(out.expr.size() <= limit, "{m} of {form} gave {} > {limit}", out.expr);
            let text = out.expr.to_string();
            prop_assert_eq!(text.parse::<Expr>().ok(), Some(out.expr.clone()));
        }
    }
}

#[test]
fn every_operator_derivative_matches_central_differences() {
    let h = 1e-6;
    for &u in Unary::ALL {
        for i in -60..=60 {
            let x = i as f64 * 0.173 + 0.011;
            let (lo, hi) = (u.eval(x - h), u.eval(x + h));
            if !lo.is_finite() || !hi.is_finite() {
                continue;
            }
            let fd = (hi - lo) / (2.0 * h);
            let d = u.deriv(x);
            // Skip the kinks of piecewise operators (hard_sigmoid at ±2.5).
            let kink = matches!(u, Unary::HardSigmoid) && (x.abs() - 2.5).abs() < 1e-3;
            assert!(
                kink || close(d, fd, 1e-5),
                "{u}'({x}) = {d}, finite difference {fd}"
            );
        }
    }
    for &b in Binary::ALL {
        for (x, y) in [(0.7, 1.3), (2.1, -0.4), (1.5, 0.5), (-0.8, 3.0), (3.0, 3.5)] {
            let (ga, gb) = b.deriv(x, y);
            let fa = (b.eval(x + h, y) - b.eval(x - h, y)) / (2.0 * h);
            let fb = (b.eval(x, y + h) - b.eval(x, y - h)) / (2.0 * h);
            if fa.is_finite() {
                assert!(close(ga, fa, 1e-5), "d{b}/da at ({x},{y}): {ga} vs {fa}");
            }
            if fb.is_finite() {
                assert!(close(gb, fb, 1e-5), "d{b}/db at ({x},{y}): {gb} vs {fb}");
            }
        }
    }
}

#[test]
fn special_functions_meet_the_accuracy_targets_in_f32() {
    // Against the f64 values: 1e-5 relative in f32 (the f64 values are checked against mpmath in
    // the special module's own tests).
    for i in -200..=200 {
        let x = i as f64 * 0.07;
        for u in [
            Unary::Erf,
            Unary::Erfc,
            Unary::BesselI0e,
            Unary::BesselI1e,
            Unary::Softplus,
            Unary::LogSigmoid,
            Unary::Expm1,
        ] {
            let want = u.eval(x as f32 as f64);
            let got = u.eval(x as f32) as f64;
            assert!(
                (got - want).abs() <= 1e-5 * want.abs() + 1e-30,
                "{u}({x}): {got} vs {want}"
            );
        }
    }
}
