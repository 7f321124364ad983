//! Validity probes (docs/method.md §4): reject a candidate before any training when it is non-finite,
//! constant, or has zero gradient everywhere on a fixed probe set.
//!
//! The probe set is a grid over [−10, 10] in steps of 0.05 (so it contains 0 exactly, which
//! rejects functions with a pole there, like `1/x`) plus 256 standard-normal samples from a
//! fixed seed. The expression is probed at its initial parameters (all 1), where training starts.

use std::fmt;
use std::sync::OnceLock;

use rand::SeedableRng;
use rand_distr_normal::standard_normal;

use crate::expr::{Expr, Op};
use crate::param::{Param, MAX_PARAMS};
use crate::program::{Evaluated, Program};

/// The seed of the probe set's Gaussian samples. Changing it changes every fingerprint.
const PROBE_SEED: u64 = 0x5EED_AC71_0A7E;

/// The fixed probe inputs, sorted ascending.
pub fn probe_inputs() -> &'static [f64] {
    static INPUTS: OnceLock<Vec<f64>> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let mut xs: Vec<f64> = (0..=400).map(|i| (i as f64 - 200.0) / 20.0).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(PROBE_SEED);
        xs.extend((0..256).map(|_| standard_normal(&mut rng)));
        xs.sort_by(f64::total_cmp);
        xs
    })
}

/// Why an expression was rejected before training.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// The value is NaN or infinite at a probe input.
    NonFiniteValue {
        /// The first probe input where it happens.
        x: f64,
        /// The postfix index of the first node whose value is non-finite there.
        node: usize,
        /// That node's operator name.
        op: String,
    },
    /// dy/dx or dy/dθ is NaN or infinite at a probe input.
    NonFiniteGradient {
        /// The first probe input where it happens.
        x: f64,
        /// `x` or the parameter's name.
        with_respect_to: String,
    },
    /// The same value at every probe input.
    Constant {
        /// That value.
        value: f64,
    },
    /// dy/dx is zero at every probe input, so no gradient reaches the layers below.
    ZeroGradient,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::NonFiniteValue { x, node, op } => {
                write!(
                    f,
                    "non-finite value at x = {x} (first at node {node}, {op})"
                )
            }
            Rejection::NonFiniteGradient { x, with_respect_to } => {
                write!(
                    f,
                    "non-finite derivative with respect to {with_respect_to} at x = {x}"
                )
            }
            Rejection::Constant { value } => write!(f, "constant function (always {value})"),
            Rejection::ZeroGradient => f.write_str("zero gradient everywhere"),
        }
    }
}

impl Rejection {
    /// A short machine-readable code: `non_finite_value`, `non_finite_gradient`, `constant`,
    /// `zero_gradient`.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::NonFiniteValue { .. } => "non_finite_value",
            Rejection::NonFiniteGradient { .. } => "non_finite_gradient",
            Rejection::Constant { .. } => "constant",
            Rejection::ZeroGradient => "zero_gradient",
        }
    }
}

impl Expr {
    /// Probes the expression: `Ok(())` when it may be trained, else why not.
    pub fn validate(&self) -> Result<(), Rejection> {
        let xs = probe_inputs();
        let params = [1.0; MAX_PARAMS];
        let out = Program::new(self).eval_f64(xs, params);
        if let Some(i) = out.y.iter().position(|y| !y.is_finite()) {
            let (node, op) = self.first_non_finite_node(xs[i], params);
            return Err(Rejection::NonFiniteValue { x: xs[i], node, op });
        }
        judge(xs, &out, &self.params())
    }
}

/// The checks after the values are known to be finite; separate so each can be tested alone.
fn judge(xs: &[f64], out: &Evaluated<f64>, params: &[Param]) -> Result<(), Rejection> {
    if let Some(i) = out.dy_dx.iter().position(|d| !d.is_finite()) {
        return Err(Rejection::NonFiniteGradient {
            x: xs[i],
            with_respect_to: "x".into(),
        });
    }
    for &p in params {
        if let Some(i) = out.dy_dparams[p.index()]
            .iter()
            .position(|d| !d.is_finite())
        {
            return Err(Rejection::NonFiniteGradient {
                x: xs[i],
                with_respect_to: p.name().into(),
            });
        }
    }
    let (lo, hi) = out
        .y
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &y| {
            (lo.min(y), hi.max(y))
        });
    if hi - lo <= 1e-12 * (1.0 + hi.abs().max(lo.abs())) {
        return Err(Rejection::Constant { value: out.y[0] });
    }
    if out.dy_dx.iter().all(|&d| d == 0.0) {
        return Err(Rejection::ZeroGradient);
    }
    Ok(())
}

impl Expr {
    /// The first node (in postfix order) whose value is non-finite at `x`.
    fn first_non_finite_node(&self, x: f64, params: [f64; MAX_PARAMS]) -> (usize, String) {
        let mut vals = Vec::with_capacity(self.size());
        for (i, n) in self.nodes().iter().enumerate() {
            let (v, op) = match n.op {
                Op::X => (x, "x".to_string()),
                Op::Unary(u, c) => (u.eval(vals[c]), u.name().to_string()),
                Op::Binary(b, l, r) => (b.eval(vals[l], vals[r]), b.name().to_string()),
            };
            let v = n.param.map_or(v, |p: Param| v * params[p.index()]);
            if !v.is_finite() {
                return (i, op);
            }
            vals.push(v);
        }
        (self.root(), "?".into())
    }
}

/// A standard-normal sampler (Box–Muller), kept here so the probe set does not depend on the
/// sampling algorithm of a distributions crate, which could change between versions.
mod rand_distr_normal {
    use rand::Rng;

    pub fn standard_normal(rng: &mut impl Rng) -> f64 {
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(s: &str) -> Result<(), Rejection> {
        s.parse::<Expr>().unwrap().validate()
    }

    #[test]
    fn probe_set_is_fixed_and_contains_zero() {
        let xs = probe_inputs();
        assert_eq!(xs.len(), 401 + 256);
        assert!(xs.contains(&0.0));
        assert_eq!(xs[0].min(-10.0), xs[0]);
    }

    #[test]
    fn accepts_ordinary_functions() {
        for s in [
            "relu(x)",
            "x * sigmoid(x)",
            "alpha * tanh(beta * x)",
            "elu(x) + abs(x)",
        ] {
            assert_eq!(verdict(s), Ok(()), "{s}");
        }
    }

    #[test]
    fn rejects_with_reasons() {
        match verdict("reciprocal(x)") {
            Err(Rejection::NonFiniteValue { x, node, op }) => {
                assert_eq!(x, 0.0);
                assert_eq!(node, 1);
                assert_eq!(op, "reciprocal");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            verdict("exp(exp(exp(x)))"),
            Err(Rejection::NonFiniteValue { .. })
        ));
        assert!(matches!(
            verdict("sqrt(abs(x))"),
            Err(Rejection::NonFiniteGradient { .. })
        ));
        assert_eq!(verdict("tanh(0)"), Err(Rejection::Constant { value: 0.0 }));
        assert_eq!(verdict("x - x"), Err(Rejection::Constant { value: 0.0 }));
        assert!(matches!(
            verdict("sqrt(x)"),
            Err(Rejection::NonFiniteValue { .. })
        ));
        let r = verdict("reciprocal(x)").unwrap_err();
        assert_eq!(
            r.to_string(),
            "non-finite value at x = 0 (first at node 1, reciprocal)"
        );
        assert_eq!(r.code(), "non_finite_value");
    }

    #[test]
    fn zero_gradient_everywhere_is_rejected() {
        // A step function: varying values, zero slope everywhere on the probe set.
        let xs = [-1.0, 0.5, 2.0];
        let out = Evaluated {
            y: vec![0.0, 1.0, 1.0],
            dy_dx: vec![0.0; 3],
            dy_dparams: [vec![0.0; 3], vec![0.0; 3], vec![0.0; 3]],
        };
        assert_eq!(judge(&xs, &out, &[]), Err(Rejection::ZeroGradient));
        let mut sloped = out.clone();
        sloped.dy_dx[1] = 0.5;
        assert_eq!(judge(&xs, &sloped, &[]), Ok(()));
        sloped.dy_dparams[1][2] = f64::NAN;
        assert_eq!(
            judge(&xs, &sloped, &[Param::Beta]),
            Err(Rejection::NonFiniteGradient {
                x: 2.0,
                with_respect_to: "beta".into()
            })
        );
    }
}
