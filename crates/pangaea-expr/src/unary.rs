//! Unary operators (docs/method.md §1): the 27 of PANGAEA's search space and the extras that let
//! every baseline be written as an expression.
//!
//! Each operator is defined once, as a function returning its value and exact derivative
//! together (`fn(x) -> (f(x), f'(x))`), generic over [`Float`]. The scalar methods
//! ([`Unary::eval`], [`Unary::deriv`]) and the array kernels of [`crate::Program`] both
//! dispatch to that one definition, so there is a single source of truth per operator.
//!
//! Formulas are the numerically stable ones (softplus, log_sigmoid, sigmoid, expm1), and nothing
//! is patched: `reciprocal(0)` is `inf`, `sqrt(-1)` is NaN. At kinks the derivative takes the
//! value of the right-hand piece for `x > 0` tests and 0 at exactly 0 for relu/abs.

use crate::float::Float;

/// SELU's scale λ.
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
/// SELU's α.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_2;
/// The ε of `log_abs(x) = ln(|x| + ε)`.
pub const LOG_ABS_EPS: f64 = 1e-7;
/// Leaky ReLU's negative slope.
pub const LEAKY_RELU_SLOPE: f64 = 0.01;

/// `y[i], dy[i] = f(x[i])` over the slices: a loop that calls the kernel directly, so it is
/// always inlined and the loop vectorized. (Passed as an `impl Fn`, the kernel went through a
/// `Fn::call` shim that the large multiversioned `Program` kernel did not inline for the longer
/// operators — `expm1`, `erf`, `softplus` ran 2–4× slower there than in a loop of their own.)
macro_rules! map_slice {
    ($x:ident, $y:ident, $dy:ident, $f:path) => {
        for i in 0..$x.len() {
            let (v, d) = $f($x[i]);
            $y[i] = v;
            $dy[i] = d;
        }
    };
}

/// `y[i] = f(x[i])` over the slices: the value alone, the derivative never computed (the kernel
/// is inlined, so its derivative half is dead code).
macro_rules! map_value {
    ($x:ident, $y:ident, $f:path) => {
        for i in 0..$x.len() {
            $y[i] = $f($x[i]).0;
        }
    };
}

macro_rules! unary_ops {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $core:literal, $f:ident; )*) => {
        /// A unary operator. The discriminant is the operator's stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Unary {
            $( $(#[$doc])* $variant, )*
        }

        impl Unary {
            /// Every unary operator, in code order.
            pub const ALL: &'static [Unary] = &[$(Unary::$variant),*];

            /// The operator's name in the text syntax.
            pub fn name(self) -> &'static str {
                match self { $(Unary::$variant => $name,)* }
            }

            /// Whether the operator is one of PANGAEA's 27 (searched by default); the others
            /// are the extras of docs/method.md §1, parseable but searched only when asked.
            pub fn is_core(self) -> bool {
                match self { $(Unary::$variant => $core,)* }
            }

            /// Looks an operator up by its text name.
            pub fn from_name(name: &str) -> Option<Unary> {
                match name { $($name => Some(Unary::$variant),)* _ => None }
            }

            /// The value and the derivative at `x`.
            #[inline(always)]
            pub fn value_deriv<F: Float>(self, x: F) -> (F, F) {
                match self { $(Unary::$variant => $f::<F, false>(x),)* }
            }

            /// Applies the operator to a whole slice: `y[i], dy[i] = f(x[i]), f'(x[i])`.
            ///
            /// The `match` sits outside the loop, so every operator gets its own tight loop
            /// that the compiler can unroll and vectorize.
            #[inline(always)]
            pub fn apply_slice<F: Float>(self, x: &[F], y: &mut [F], dy: &mut [F]) {
                let n = x.len();
                let (y, dy) = (&mut y[..n], &mut dy[..n]);
                match self {
                    $(Unary::$variant => map_slice!(x, y, dy, $f::<F, true>),)*
                }
            }

            /// Applies the operator to a whole slice, values only: `y[i] = f(x[i])`.
            #[inline(always)]
            pub fn value_slice<F: Float>(self, x: &[F], y: &mut [F]) {
                let n = x.len();
                let y = &mut y[..n];
                match self {
                    $(Unary::$variant => map_value!(x, y, $f::<F, true>),)*
                }
            }
        }
    };
}

unary_ops! {
    /// 0.
    Zero = "zero", true, zero;
    /// 1.
    One = "one", true, one;
    /// The identity, x.
    X = "x", true, identity;
    /// −x.
    Neg = "neg", true, neg;
    /// |x|.
    Abs = "abs", true, abs;
    /// 1/x.
    Reciprocal = "reciprocal", true, reciprocal;
    /// x².
    Square = "square", true, square;
    /// eˣ.
    Exp = "exp", true, exp;
    /// erf(x).
    Erf = "erf", true, erf;
    /// 1 − erf(x).
    Erfc = "erfc", true, erfc;
    /// sinh x.
    Sinh = "sinh", true, sinh;
    /// cosh x.
    Cosh = "cosh", true, cosh;
    /// tanh x.
    Tanh = "tanh", true, tanh;
    /// eˣ − 1.
    Expm1 = "expm1", true, expm1;
    /// σ(x) = 1/(1 + e⁻ˣ).
    Sigmoid = "sigmoid", true, sigmoid;
    /// log σ(x) = −softplus(−x).
    LogSigmoid = "log_sigmoid", true, log_sigmoid;
    /// arcsinh x.
    Asinh = "asinh", true, asinh;
    /// arctan x.
    Atan = "atan", true, atan;
    /// e^{−|x|} I₀(x).
    BesselI0e = "bessel_i0e", true, bessel_i0e;
    /// e^{−|x|} I₁(x).
    BesselI1e = "bessel_i1e", true, bessel_i1e;
    /// max(x, 0).
    Relu = "relu", true, relu;
    /// x if x > 0 else eˣ − 1.
    Elu = "elu", true, elu;
    /// λ·(x if x > 0 else α(eˣ − 1)).
    Selu = "selu", true, selu;
    /// x·σ(x).
    Swish = "swish", true, swish;
    /// log(1 + eˣ).
    Softplus = "softplus", true, softplus;
    /// x/(1 + |x|).
    Softsign = "softsign", true, softsign;
    /// clip(0.2x + 0.5, 0, 1) (Keras 2).
    HardSigmoid = "hard_sigmoid", true, hard_sigmoid;
    /// x³.
    Cube = "cube", false, cube;
    /// √x.
    Sqrt = "sqrt", false, sqrt;
    /// e^{−x²}.
    Gauss = "gauss", false, gauss;
    /// ln(|x| + ε), ε = 1e-7.
    LogAbs = "log_abs", false, log_abs;
    /// sin x.
    Sin = "sin", false, sin;
    /// cos x.
    Cos = "cos", false, cos;
    /// min(x, 0).
    Minz = "minz", false, minz;
    /// sin(x)/x, 1 at 0.
    Sinc = "sinc", false, sinc;
    /// x·Φ(x) = x·(1 + erf(x/√2))/2 (exact GELU).
    Gelu = "gelu", false, gelu;
    /// x·tanh(softplus(x)).
    Mish = "mish", false, mish;
    /// x if x > 0 else 0.01x.
    LeakyRelu = "leaky_relu", false, leaky_relu;
    /// x·σ(x) if x ≥ 0 else (eˣ − 1)·σ(x).
    Elish = "elish", false, elish;
}

impl Unary {
    /// f(x).
    #[inline]
    pub fn eval<F: Float>(self, x: F) -> F {
        self.value_deriv(x).0
    }

    /// f′(x).
    #[inline]
    pub fn deriv<F: Float>(self, x: F) -> F {
        self.value_deriv(x).1
    }

    /// f(x) in f32.
    pub fn eval_f32(self, x: f32) -> f32 {
        self.eval(x)
    }

    /// f′(x) in f32.
    pub fn deriv_f32(self, x: f32) -> f32 {
        self.deriv(x)
    }

    /// f(x) in f64.
    pub fn eval_f64(self, x: f64) -> f64 {
        self.eval(x)
    }

    /// f′(x) in f64.
    pub fn deriv_f64(self, x: f64) -> f64 {
        self.deriv(x)
    }

    /// Whether the operator ignores its input (`zero`, `one`).
    pub fn is_constant(self) -> bool {
        matches!(self, Unary::Zero | Unary::One)
    }
}

impl std::fmt::Display for Unary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[inline(always)]
fn c<F: Float>(v: f64) -> F {
    F::from_f64(v)
}

#[inline(always)]
fn sig<F: Float, const FAST: bool>(x: F) -> F {
    sig_deriv::<F, FAST>(x).0
}

/// σ(x) and σ′(x) = σ(x)(1 − σ(x)), stable on both sides and branch-free (so the slice loops
/// vectorize): with e = e^{−|x|} and r = 1/(1 + e), σ(x) is r for x ≥ 0 and e·r for x < 0, and
/// σ′(x) = e·r² without the cancellation of 1 − σ(x). e^{large} is never computed.
#[inline(always)]
fn sig_deriv<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let e = (-x.abs()).exp_with::<FAST>();
    let r = F::ONE / (F::ONE + e);
    let s = if x >= F::ZERO { r } else { e * r };
    (s, e * r * r)
}

#[inline(always)]
fn softplus_value<F: Float, const FAST: bool>(x: F) -> F {
    // log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|})
    x.max(F::ZERO) + (-x.abs()).exp_with::<FAST>().ln_1p_with::<FAST>()
}

#[inline(always)]
fn zero<F: Float, const FAST: bool>(_x: F) -> (F, F) {
    (F::ZERO, F::ZERO)
}
#[inline(always)]
fn one<F: Float, const FAST: bool>(_x: F) -> (F, F) {
    (F::ONE, F::ZERO)
}
#[inline(always)]
fn identity<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (x, F::ONE)
}
#[inline(always)]
fn neg<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (-x, -F::ONE)
}
#[inline(always)]
fn abs<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let d = if x > F::ZERO {
        F::ONE
    } else if x < F::ZERO {
        -F::ONE
    } else {
        F::ZERO
    };
    (x.abs(), d)
}
#[inline(always)]
fn reciprocal<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let r = F::ONE / x;
    (r, -(r * r))
}
#[inline(always)]
fn square<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (x * x, c::<F>(2.0) * x)
}
#[inline(always)]
fn exp<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let e = x.exp_with::<FAST>();
    (e, e)
}
#[inline(always)]
fn erf<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (
        x.erf_with::<FAST>(),
        c::<F>(std::f64::consts::FRAC_2_SQRT_PI) * (-(x * x)).exp_with::<FAST>(),
    )
}
#[inline(always)]
fn erfc<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (
        x.erfc_with::<FAST>(),
        -c::<F>(std::f64::consts::FRAC_2_SQRT_PI) * (-(x * x)).exp_with::<FAST>(),
    )
}
#[inline(always)]
fn sinh<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (x.sinh_with::<FAST>(), x.cosh_with::<FAST>())
}
#[inline(always)]
fn cosh<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (x.cosh_with::<FAST>(), x.sinh_with::<FAST>())
}
#[inline(always)]
fn tanh<F: Float, const FAST: bool>(x: F) -> (F, F) {
    // sech² x rather than 1 − tanh² x, which cancels to 0 (or one ulp of 1) where tanh x rounds
    // to ±1 while its slope is still 1e-7 or so.
    let s = F::ONE / x.cosh_with::<FAST>();
    (x.tanh_with::<FAST>(), s * s)
}
#[inline(always)]
fn expm1<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (x.exp_m1_with::<FAST>(), x.exp_with::<FAST>())
}
#[inline(always)]
fn sigmoid<F: Float, const FAST: bool>(x: F) -> (F, F) {
    sig_deriv::<F, FAST>(x)
}
#[inline(always)]
fn log_sigmoid<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (-softplus_value::<F, FAST>(-x), sig::<F, FAST>(-x))
}
#[inline(always)]
fn asinh<F: Float, const FAST: bool>(x: F) -> (F, F) {
    // 1/√(x² + 1), written so x² cannot overflow: for |x| > 1 it is 1/(|x|·√(1 + 1/x²)).
    let a = x.abs();
    let d = if a > F::ONE {
        let r = F::ONE / a;
        r / (F::ONE + r * r).sqrt()
    } else {
        F::ONE / (x * x + F::ONE).sqrt()
    };
    (x.asinh_with::<FAST>(), d)
}
#[inline(always)]
fn atan<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (x.atan(), F::ONE / (F::ONE + x * x))
}
#[inline(always)]
fn bessel_i0e<F: Float, const FAST: bool>(x: F) -> (F, F) {
    // d/dx e^{−|x|} I₀(x) = i1e(x) − sign(x)·i0e(x)
    let i0 = x.bessel_i0e();
    let i1 = x.bessel_i1e();
    let s = abs::<F, FAST>(x).1;
    (i0, i1 - s * i0)
}
#[inline(always)]
fn bessel_i1e<F: Float, const FAST: bool>(x: F) -> (F, F) {
    // d/dx e^{−|x|} I₁(x) = i0e(x) − i1e(x)/x − sign(x)·i1e(x), and 1/2 at 0
    let i1 = x.bessel_i1e();
    if x == F::ZERO {
        return (i1, c(0.5));
    }
    let i0 = x.bessel_i0e();
    let s = abs::<F, FAST>(x).1;
    (i1, i0 - i1 / x - s * i1)
}
#[inline(always)]
fn relu<F: Float, const FAST: bool>(x: F) -> (F, F) {
    if x > F::ZERO {
        (x, F::ONE)
    } else {
        (F::ZERO, F::ZERO)
    }
}
#[inline(always)]
fn elu<F: Float, const FAST: bool>(x: F) -> (F, F) {
    if x > F::ZERO {
        (x, F::ONE)
    } else {
        (x.exp_m1_with::<FAST>(), x.exp_with::<FAST>())
    }
}
#[inline(always)]
fn selu<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let l = c::<F>(SELU_LAMBDA);
    if x > F::ZERO {
        (l * x, l)
    } else {
        let a = c::<F>(SELU_ALPHA);
        (
            l * a * x.exp_m1_with::<FAST>(),
            l * a * x.exp_with::<FAST>(),
        )
    }
}
#[inline(always)]
fn swish<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let (s, ds) = sig_deriv::<F, FAST>(x);
    (x * s, s + x * ds)
}
#[inline(always)]
fn softplus<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (softplus_value::<F, FAST>(x), sig::<F, FAST>(x))
}
#[inline(always)]
fn softsign<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let d = F::ONE + x.abs();
    (x / d, F::ONE / (d * d))
}
#[inline(always)]
fn hard_sigmoid<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let v = c::<F>(0.2) * x + c::<F>(0.5);
    if v <= F::ZERO {
        (F::ZERO, F::ZERO)
    } else if v >= F::ONE {
        (F::ONE, F::ZERO)
    } else {
        (v, c(0.2))
    }
}
#[inline(always)]
fn cube<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (x * x * x, c::<F>(3.0) * x * x)
}
#[inline(always)]
fn sqrt<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let r = x.sqrt();
    (r, c::<F>(0.5) / r)
}
#[inline(always)]
fn gauss<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let g = (-(x * x)).exp_with::<FAST>();
    (g, c::<F>(-2.0) * x * g)
}
#[inline(always)]
fn log_abs<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let a = x.abs() + c(LOG_ABS_EPS);
    (a.ln_with::<FAST>(), abs::<F, FAST>(x).1 / a)
}
#[inline(always)]
fn sin<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (x.sin(), x.cos())
}
#[inline(always)]
fn cos<F: Float, const FAST: bool>(x: F) -> (F, F) {
    (x.cos(), -x.sin())
}
#[inline(always)]
fn minz<F: Float, const FAST: bool>(x: F) -> (F, F) {
    if x < F::ZERO {
        (x, F::ONE)
    } else {
        (F::ZERO, F::ZERO)
    }
}
#[inline(always)]
fn sinc<F: Float, const FAST: bool>(x: F) -> (F, F) {
    if x.abs() < c(1e-4) {
        // Taylor series: 1 − x²/6 + x⁴/120, derivative −x/3 + x³/30.
        let x2 = x * x;
        (
            F::ONE - x2 / c(6.0) + x2 * x2 / c(120.0),
            -x / c(3.0) + x2 * x / c(30.0),
        )
    } else {
        let (s, co) = (x.sin(), x.cos());
        (s / x, (x * co - s) / (x * x))
    }
}
#[inline(always)]
fn gelu<F: Float, const FAST: bool>(x: F) -> (F, F) {
    // Φ(x) = erfc(−x/√2)/2 stays accurate for very negative x, where 1 + erf would cancel.
    let cdf = c::<F>(0.5) * (-(x * c(std::f64::consts::FRAC_1_SQRT_2))).erfc_with::<FAST>();
    let pdf = c::<F>(0.398_942_280_401_432_7) * (c::<F>(-0.5) * x * x).exp_with::<FAST>();
    (x * cdf, cdf + x * pdf)
}
#[inline(always)]
fn mish<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let sp = softplus_value::<F, FAST>(x);
    let t = sp.tanh_with::<FAST>();
    // sech² rather than 1 − t², as in tanh.
    let s = F::ONE / sp.cosh_with::<FAST>();
    (x * t, t + x * (s * s) * sig::<F, FAST>(x))
}
#[inline(always)]
fn leaky_relu<F: Float, const FAST: bool>(x: F) -> (F, F) {
    if x > F::ZERO {
        (x, F::ONE)
    } else {
        let s = c::<F>(LEAKY_RELU_SLOPE);
        (s * x, s)
    }
}
#[inline(always)]
fn elish<F: Float, const FAST: bool>(x: F) -> (F, F) {
    let (s, ds) = sig_deriv::<F, FAST>(x);
    if x >= F::ZERO {
        (x * s, s + x * ds)
    } else {
        let em1 = x.exp_m1_with::<FAST>();
        (em1 * s, x.exp_with::<FAST>() * s + em1 * ds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pangaea_has_27_core_operators() {
        assert_eq!(Unary::ALL.iter().filter(|u| u.is_core()).count(), 27);
    }

    #[test]
    fn names_round_trip() {
        for &u in Unary::ALL {
            assert_eq!(Unary::from_name(u.name()), Some(u));
        }
    }

    #[test]
    fn values_worked_by_hand() {
        // selu(-1) = λ·α·(e⁻¹ − 1) = 1.0507·1.6733·(−0.63212) = −1.11133
        assert!((Unary::Selu.eval(-1.0f64) + 1.111_330_737_812_562_6).abs() < 1e-12);
        // softplus(−800) underflows to 0 without overflow; softplus(800) = 800.
        assert_eq!(Unary::Softplus.eval(-800.0f64), 0.0);
        assert_eq!(Unary::Softplus.eval(800.0f64), 800.0);
        assert_eq!(Unary::LogSigmoid.eval(-800.0f64), -800.0);
        assert_eq!(Unary::Reciprocal.eval(0.0f64), f64::INFINITY);
        assert!(Unary::Sqrt.eval(-1.0f64).is_nan());
        assert_eq!(Unary::HardSigmoid.eval(1.0f64), 0.7);
        assert_eq!(Unary::Sinc.eval(0.0f64), 1.0);
        // gelu(1) = Φ(1) = 0.841344746...
        assert!((Unary::Gelu.eval(1.0f64) - 0.841_344_746_068_542_9).abs() < 1e-12);
        assert!((Unary::Gelu.eval(-10.0f32)).abs() < 1e-20);
        // mish(1) = tanh(ln(1+e)) = 0.865098...
        assert!((Unary::Mish.eval(1.0f64) - 0.865_098_388_267_310_3).abs() < 1e-12);
    }

    #[test]
    fn f32_fast_slice_path_matches_scalar_reference() {
        let xs: Vec<f32> = (-400..=400).map(|i| i as f32 * 0.051).collect();
        let mut y = vec![0.0; xs.len()];
        let mut dy = vec![0.0; xs.len()];
        let close = |a: f32, b: f32| {
            a == b
                || (a.is_nan() && b.is_nan())
                || (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-30
        };
        for &u in Unary::ALL {
            u.apply_slice(&xs, &mut y, &mut dy);
            for (i, &x) in xs.iter().enumerate() {
                let (v, d) = u.value_deriv(x);
                assert!(close(v, y[i]), "{u}({x}): reference {v}, fast {}", y[i]);
                // These derivatives are sums of terms of order 1 that cancel near a zero of the
                // derivative (mish′ at −1.19, gelu′ at −0.75, swish′ at −1.28): there the two
                // paths agree only to the terms' rounding, an absolute 1e-7·(1 + |x|).
                let cancels = matches!(
                    u,
                    Unary::Mish | Unary::Gelu | Unary::Swish | Unary::Elish | Unary::Sinc
                );
                let near = cancels && (d - dy[i]).abs() <= 1e-7 * (1.0 + x.abs());
                assert!(
                    close(d, dy[i]) || near,
                    "{u}'({x}): reference {d}, fast {}",
                    dy[i]
                );
            }
        }
    }

    #[test]
    fn slice_path_equals_scalar_path() {
        let xs: Vec<f64> = (-40..=40).map(|i| i as f64 * 0.37).collect();
        let mut y = vec![0.0; xs.len()];
        let mut dy = vec![0.0; xs.len()];
        for &u in Unary::ALL {
            u.apply_slice(&xs, &mut y, &mut dy);
            for (i, &x) in xs.iter().enumerate() {
                let (v, d) = u.value_deriv(x);
                assert!(
                    v.to_bits() == y[i].to_bits() || (v.is_nan() && y[i].is_nan()),
                    "{u}({x})"
                );
                assert!(
                    d.to_bits() == dy[i].to_bits() || (d.is_nan() && dy[i].is_nan()),
                    "{u}'({x})"
                );
            }
        }
    }
}
