//! The two floating-point precisions every operator is evaluated in.
//!
//! Operators are written once, generically over [`Float`], and instantiated for `f32` and `f64`.
//! Special functions without a good `f32` formula of their own (erf, erfc, the scaled Bessel
//! functions) are computed in `f64` and rounded, which keeps `f32` within 1e-6 relative of the
//! true value.

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A floating-point type the expression language can be evaluated in (`f32` or `f64`).
pub trait Float:
    Copy
    + Debug
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Converts from `f64`, rounding to nearest.
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// |x|.
    fn abs(self) -> Self;
    /// eˣ.
    fn exp(self) -> Self;
    /// eˣ − 1, accurate near 0.
    fn exp_m1(self) -> Self;
    /// ln x.
    fn ln(self) -> Self;
    /// ln(1 + x), accurate near 0.
    fn ln_1p(self) -> Self;
    /// √x.
    fn sqrt(self) -> Self;
    /// xʸ.
    fn powf(self, y: Self) -> Self;
    /// sin x.
    fn sin(self) -> Self;
    /// cos x.
    fn cos(self) -> Self;
    /// sinh x.
    fn sinh(self) -> Self;
    /// cosh x.
    fn cosh(self) -> Self;
    /// tanh x.
    fn tanh(self) -> Self;
    /// arcsinh x.
    fn asinh(self) -> Self;
    /// arctan x.
    fn atan(self) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    /// The complementary error function 1 − erf x, accurate for large x.
    fn erfc(self) -> Self;
    /// e^{−|x|} I₀(x).
    fn bessel_i0e(self) -> Self;
    /// e^{−|x|} I₁(x).
    fn bessel_i1e(self) -> Self;
    /// Whether the value is neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// Whether the value is NaN.
    fn is_nan(self) -> bool;
    /// The larger of two values (NaN-propagating is not required).
    fn max(self, other: Self) -> Self;
    /// The smaller of two values.
    fn min(self, other: Self) -> Self;

    /// eˣ by a branch-free polynomial that the compiler vectorizes (the fast path of the
    /// array kernels). Within 2 ulp of [`Float::exp`] for `f32`, including overflow to `inf`,
    /// underflow to 0 and NaN; `f64` simply uses `exp`.
    fn exp_fast(self) -> Self;

    /// [`Float::exp_fast`] when `FAST`, else [`Float::exp`]: lets one operator definition serve
    /// both the scalar reference and the array fast path.
    #[inline(always)]
    fn exp_with<const FAST: bool>(self) -> Self {
        if FAST {
            self.exp_fast()
        } else {
            self.exp()
        }
    }
}

macro_rules! impl_float {
    ($t:ty, $erf:path, $erfc:path, $exp_fast:path) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                <$t>::exp_m1(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn powf(self, y: Self) -> Self {
                <$t>::powf(self, y)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline(always)]
            fn sinh(self) -> Self {
                <$t>::sinh(self)
            }
            #[inline(always)]
            fn cosh(self) -> Self {
                <$t>::cosh(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn asinh(self) -> Self {
                <$t>::asinh(self)
            }
            #[inline(always)]
            fn atan(self) -> Self {
                <$t>::atan(self)
            }
            #[inline(always)]
            fn erf(self) -> Self {
                $erf(self as f64) as $t
            }
            #[inline(always)]
            fn erfc(self) -> Self {
                $erfc(self as f64) as $t
            }
            #[inline(always)]
            fn bessel_i0e(self) -> Self {
                crate::special::bessel_i0e(self as f64) as $t
            }
            #[inline(always)]
            fn bessel_i1e(self) -> Self {
                crate::special::bessel_i1e(self as f64) as $t
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn exp_fast(self) -> Self {
                $exp_fast(self)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                if self >= other {
                    self
                } else {
                    other
                }
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                if self <= other {
                    self
                } else {
                    other
                }
            }
        }
    };
}

impl_float!(f32, libm::erf, libm::erfc, exp_f32_fast);
impl_float!(f64, libm::erf, libm::erfc, f64::exp);

/// Cephes-style `expf`: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for eʳ, and 2ⁿ
/// built in two steps so results in the subnormal range are still right. Written without
/// branches or library calls so that a loop over it becomes SIMD code even on baseline x86-64.
#[inline(always)]
fn exp_f32_fast(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Rounds to nearest with SSE2 only: adding 1.5·2²³ pushes the fraction out of the mantissa.
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(-104.0, 89.0);
    let n = (xc * LOG2E + ROUND) - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // 2ⁿ = 2^{n/2} · 2^{n − n/2}, each factor a normal number for n in [−150, 128].
    let ni = n as i32;
    let n1 = ni >> 1;
    let n2 = ni - n1;
    let s1 = f32::from_bits(((n1 + 127) as u32) << 23);
    let s2 = f32::from_bits(((n2 + 127) as u32) << 23);
    let v = y * s1 * s2;
    let v = if x > 88.722_84 { f32::INFINITY } else { v };
    if x.is_nan() {
        x
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_within_two_ulp_of_std() {
        let mut worst = 0u32;
        let mut x = -110.0f32;
        while x < 95.0 {
            let want = x.exp();
            let got = exp_f32_fast(x);
            if want.is_infinite() || want == 0.0 {
                assert_eq!(got, want, "exp({x})");
            } else if want >= f32::MIN_POSITIVE {
                worst = worst.max(got.to_bits().abs_diff(want.to_bits()));
            } else {
                // Subnormal results: absolute error within one subnormal step.
                assert!((got - want).abs() <= 2.0 * f32::from_bits(1), "exp({x})");
            }
            x += 0.001_3;
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert!(exp_f32_fast(f32::NAN).is_nan());
        assert_eq!(exp_f32_fast(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32_fast(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32_fast(0.0), 1.0);
    }
}
