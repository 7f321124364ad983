//! The two floating-point precisions every operator is evaluated in.
//!
//! Operators are written once, generically over [`Float`], and instantiated for `f32` and `f64`.
//! In the scalar reference, special functions without a good `f32` formula of their own (erf,
//! erfc, the scaled Bessel functions) are computed in `f64` and rounded, which keeps `f32` within
//! 1e-6 relative of the true value; the array kernels' `f32` fast path uses the vectorizable
//! functions of [`crate::fast_math`] (the `*_with::<FAST>` methods choose).

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::fast_math;

/// Declares `name<const FAST: bool>(self)`: `self.fast()` when `FAST`, else `self.exact()`.
macro_rules! with_fast {
    ($($(#[$doc:meta])* $name:ident: $fast:ident, $exact:ident;)*) => {
        $(
            $(#[$doc])*
            #[inline(always)]
            fn $name<const FAST: bool>(self) -> Self {
                if FAST {
                    self.$fast()
                } else {
                    self.$exact()
                }
            }
        )*
    };
}

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

    /// The vectorizable `f32` kernels of [`crate::fast_math`] (the array kernels' fast path),
    /// chosen by `FAST`; `f64`, and `FAST = false` (the scalar reference), use the library
    /// functions above. `exp_fast`: within 2 ulp of [`Float::exp`] for `f32`, including overflow
    /// to `inf`, underflow to 0 and NaN; the others within 2–3 ulp (their tests say which).
    fn exp_fast(self) -> Self;
    /// See [`Float::exp_fast`].
    fn exp_m1_fast(self) -> Self;
    /// See [`Float::exp_fast`].
    fn ln_fast(self) -> Self;
    /// See [`Float::exp_fast`].
    fn ln_1p_fast(self) -> Self;
    /// See [`Float::exp_fast`].
    fn tanh_fast(self) -> Self;
    /// See [`Float::exp_fast`].
    fn sinh_fast(self) -> Self;
    /// See [`Float::exp_fast`].
    fn cosh_fast(self) -> Self;
    /// See [`Float::exp_fast`].
    fn asinh_fast(self) -> Self;
    /// See [`Float::exp_fast`].
    fn erf_fast(self) -> Self;
    /// See [`Float::exp_fast`].
    fn erfc_fast(self) -> Self;

    with_fast! {
        /// [`Float::exp_fast`] when `FAST`, else [`Float::exp`]: lets one operator definition
        /// serve both the scalar reference and the array fast path.
        exp_with: exp_fast, exp;
        /// [`Float::exp_m1_fast`] when `FAST`, else [`Float::exp_m1`].
        exp_m1_with: exp_m1_fast, exp_m1;
        /// [`Float::ln_fast`] when `FAST`, else [`Float::ln`].
        ln_with: ln_fast, ln;
        /// [`Float::ln_1p_fast`] when `FAST`, else [`Float::ln_1p`].
        ln_1p_with: ln_1p_fast, ln_1p;
        /// [`Float::tanh_fast`] when `FAST`, else [`Float::tanh`].
        tanh_with: tanh_fast, tanh;
        /// [`Float::sinh_fast`] when `FAST`, else [`Float::sinh`].
        sinh_with: sinh_fast, sinh;
        /// [`Float::cosh_fast`] when `FAST`, else [`Float::cosh`].
        cosh_with: cosh_fast, cosh;
        /// [`Float::asinh_fast`] when `FAST`, else [`Float::asinh`].
        asinh_with: asinh_fast, asinh;
        /// [`Float::erf_fast`] when `FAST`, else [`Float::erf`].
        erf_with: erf_fast, erf;
        /// [`Float::erfc_fast`] when `FAST`, else [`Float::erfc`].
        erfc_with: erfc_fast, erfc;
    }
}

macro_rules! impl_float {
    ($t:ty, $erf:path, $erfc:path, fast: {$($fast:ident: $kernel:path),* $(,)?}) => {
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
            $(
                #[inline(always)]
                fn $fast(self) -> Self {
                    $kernel(self)
                }
            )*
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

impl_float!(f32, libm::erf, libm::erfc, fast: {
    exp_fast: fast_math::exp,
    exp_m1_fast: fast_math::exp_m1,
    ln_fast: fast_math::ln,
    ln_1p_fast: fast_math::ln_1p,
    tanh_fast: fast_math::tanh,
    sinh_fast: fast_math::sinh,
    cosh_fast: fast_math::cosh,
    asinh_fast: fast_math::asinh,
    erf_fast: fast_math::erf,
    erfc_fast: fast_math::erfc,
});
impl_float!(f64, libm::erf, libm::erfc, fast: {
    exp_fast: f64::exp,
    exp_m1_fast: f64::exp_m1,
    ln_fast: f64::ln,
    ln_1p_fast: f64::ln_1p,
    tanh_fast: f64::tanh,
    sinh_fast: f64::sinh,
    cosh_fast: f64::cosh,
    asinh_fast: f64::asinh,
    erf_fast: libm::erf,
    erfc_fast: libm::erfc,
});
