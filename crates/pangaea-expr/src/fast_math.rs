//! Vectorizable `f32` elementary functions: the fast path of the array kernels.
//!
//! The standard library's and libm's `f32` functions are calls the compiler cannot vectorize,
//! and libm's `erf` works in `f64`: measured one operator at a time (`cargo bench -p
//! pangaea-expr --bench eval -- operator_f32`), `erf(x)` ran at 47 M elements/s against
//! `sigmoid(x)`'s 570 M, and a training run of an activation built from them took up to three
//! times as long as ReLU's. Each function here is straight-line code — range reduction, a
//! polynomial, and `if`s that only choose between two computed values — so a loop over it
//! becomes SIMD code (AVX2+FMA where the CPU has it, see [`crate::Program`]).
//!
//! Each one is tested against the `f64` library function over its whole range, including
//! overflow, underflow, signed zeros, infinities and NaN (the tests below state the ulp bound
//! of each); the property tests of `tests/properties.rs` hold whole expressions evaluated with
//! them to the `f64` reference. The scalar reference path ([`crate::Unary::value_deriv`])
//! keeps the library functions.

/// log₂ e.
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two: `LN2_HI` has few enough bits that n·`LN2_HI` is exact for |n| < 2⁹.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Adding and subtracting 1.5·2²³ rounds an `f32` below 2²² to the nearest integer with SSE2
/// only (no `round` call).
const ROUND: f32 = 12_582_912.0;

/// x rounded to the nearest integer, as an `f32` (|x| < 2²²).
#[inline(always)]
fn round(x: f32) -> f32 {
    (x + ROUND) - ROUND
}

/// 2ⁿ as two factors, each a normal number for n in [−252, 254]: `a · s1 · s2` stays right where
/// 2ⁿ alone would overflow or be subnormal. `n` is an integer-valued `f32` (from [`round`]), or
/// NaN (then the factors are meaningless and the caller returns NaN).
///
/// The integer is read from the bits of n + 1.5·2²³, whose mantissa holds it (integer
/// arithmetic, which vectorizes): `n as i32` saturates, and that compiled to a scalar
/// conversion, two compares and two conditional moves per lane — 40 % of `exp`'s time.
#[inline(always)]
fn pow2_split(n: f32) -> (f32, f32) {
    let ni = (n + ROUND).to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    let n1 = ni >> 1;
    let n2 = ni.wrapping_sub(n1);
    (
        f32::from_bits((n1.wrapping_add(127) as u32) << 23),
        f32::from_bits((n2.wrapping_add(127) as u32) << 23),
    )
}

/// eʳ − 1 for |r| ≤ ln2/2 by its Taylor polynomial to r⁸ (the next term is below 10⁻⁹
/// relative), without the cancellation of eʳ − 1.
#[inline(always)]
fn expm1_reduced(r: f32) -> f32 {
    let p = 1.0 / 40_320.0f32;
    let p = p * r + 1.0 / 5_040.0;
    let p = p * r + 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    p * (r * r) + r
}

/// eˣ, Cephes-style: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for eʳ, and 2ⁿ
/// built in two steps so results in the subnormal range are still right. Within 2 ulp.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let xc = x.clamp(-104.0, 89.0);
    let n = round(xc * LOG2E);
    let r = xc - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let (s1, s2) = pow2_split(n);
    let v = y * s1 * s2;
    let v = if x > 88.722_84 { f32::INFINITY } else { v };
    if x.is_nan() {
        x
    } else {
        v
    }
}

/// eˣ − 1, accurate near 0: with x = n·ln2 + r, eˣ − 1 = 2ⁿ·(eʳ − 1) + (2ⁿ − 1), where eʳ − 1
/// comes from [`expm1_reduced`] and 2ⁿ − 1 is exact; for n > 24 the −1 no longer shows and it is
/// eˣ. Within 2 ulp.
#[inline(always)]
pub(crate) fn exp_m1(x: f32) -> f32 {
    // Below −18, eˣ − 1 rounds to −1.
    let xc = x.clamp(-18.0, 89.0);
    let n = round(xc * LOG2E);
    let r = xc - n * LN2_HI - n * LN2_LO;
    let p = expm1_reduced(r);
    let (s1, s2) = pow2_split(n);
    let small = {
        let s = s1 * s2;
        s * p + (s - 1.0)
    };
    let large = (p + 1.0) * s1 * s2;
    let v = if n > 24.0 { large } else { small };
    let v = if x > 88.722_84 { f32::INFINITY } else { v };
    // Keeps −0 and NaN.
    if (x == 0.0) | x.is_nan() {
        x
    } else {
        v
    }
}

/// ln x, Cephes-style: x = 2ᵉ·m with m in [√½, √2), ln m by a degree-9 polynomial in m − 1,
/// subnormals scaled up first. ln 0 = −∞, ln of a negative number or NaN is NaN. Within 2 ulp.
#[inline(always)]
pub(crate) fn ln(x: f32) -> f32 {
    let subnormal = x < f32::MIN_POSITIVE;
    let xs = if subnormal { x * 8_388_608.0 } else { x };
    let bits = xs.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127 - if subnormal { 23 } else { 0 };
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let above = m > std::f32::consts::SQRT_2;
    let m = if above { m * 0.5 } else { m };
    let e = (e + i32::from(above)) as f32;
    let f = m - 1.0;
    let z = f * f;
    let p = 7.037_683_6e-2f32;
    let p = p * f - 1.151_461e-1;
    let p = p * f + 1.167_699_9e-1;
    let p = p * f - 1.242_014_1e-1;
    let p = p * f + 1.424_932_3e-1;
    let p = p * f - 1.666_805_8e-1;
    let p = p * f + 2.000_071_5e-1;
    let p = p * f - 2.499_999_4e-1;
    let p = p * f + 3.333_333e-1;
    let y = p * f * z + e * LN2_LO - 0.5 * z;
    let v = f + y + e * LN2_HI;
    let v = if x == 0.0 { f32::NEG_INFINITY } else { v };
    let v = if x == f32::INFINITY { x } else { v };
    if (x < 0.0) | x.is_nan() {
        f32::NAN
    } else {
        v
    }
}

/// ln(1 + x), accurate near 0: with u = 1 + x rounded, ln(1 + x) = ln(u)·x/(u − 1), which
/// cancels u's rounding error (Goldberg, "What every computer scientist should know about
/// floating-point arithmetic", theorem 4). Within 3 ulp.
#[inline(always)]
pub(crate) fn ln_1p(x: f32) -> f32 {
    let u = 1.0 + x;
    let v = ln(u) * (x / (u - 1.0));
    let v = if u == 1.0 { x } else { v };
    if x == f32::INFINITY {
        x
    } else {
        v
    }
}

/// tanh x = (e^{2x} − 1)/(e^{2x} + 1) through [`exp_m1`], on |x| ≤ 10 (beyond, tanh rounds to
/// ±1). Within 3 ulp.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let a = x.abs().min(10.0);
    let e = exp_m1(a + a);
    let t = e / (e + 2.0);
    if x.is_nan() {
        x
    } else {
        t.copysign(x)
    }
}

/// e^{|x|}/2 for |x| > 88, where e^{|x|} overflows and e^{|x|}/2 may not: (h/2)·h with h =
/// e^{|x|/2}.
#[inline(always)]
fn half_exp_beyond_88(a: f32) -> f32 {
    let h = exp(0.5 * a);
    (0.5 * h) * h
}

/// sinh x = (E + E/(E + 1))/2 with E = e^{|x|} − 1, which has no cancellation near 0; e^{|x|}/2
/// past |x| = 88. Within 3 ulp.
#[inline(always)]
pub(crate) fn sinh(x: f32) -> f32 {
    let a = x.abs();
    let e = exp_m1(a.min(88.0));
    let v = 0.5 * (e + e / (e + 1.0));
    let v = if a > 88.0 { half_exp_beyond_88(a) } else { v };
    if x.is_nan() {
        x
    } else {
        v.copysign(x)
    }
}

/// cosh x = e^{|x|}/2 + e^{−|x|}/2; e^{|x|}/2 past |x| = 88. Within 3 ulp.
#[inline(always)]
pub(crate) fn cosh(x: f32) -> f32 {
    let a = x.abs();
    let e = exp(a.min(88.0));
    let v = 0.5 * e + 0.5 / e;
    let v = if a > 88.0 { half_exp_beyond_88(a) } else { v };
    if x.is_nan() {
        x
    } else {
        v
    }
}

/// arcsinh x = sign(x)·ln(1 + |x| + x²/(1 + √(1 + x²))), which has no cancellation near 0;
/// ln|x| + ln 2 beyond 2¹² (where x² + 1 = x² and x² could overflow). Within 3 ulp.
#[inline(always)]
pub(crate) fn asinh(x: f32) -> f32 {
    let a = x.abs();
    let m = a.min(4096.0);
    let z = m * m;
    let near = ln_1p(m + z / (1.0 + (1.0 + z).sqrt()));
    let far = ln(a) + std::f32::consts::LN_2;
    let v = if a > 4096.0 { far } else { near };
    if x.is_nan() {
        x
    } else {
        v.copysign(x)
    }
}

// erf and erfc: the approximations of FreeBSD's s_erff.c (Sun's fdlibm converted to float by
// Ian Lance Taylor), evaluated on every region and selected, instead of branching:
//
// Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
// Developed at SunPro, a Sun Microsystems, Inc. business.
// Permission to use, copy, modify, and distribute this software is freely granted, provided
// that this notice is preserved.

/// erx = erf(1) rounded, the centre of the region [0.84375, 1.25).
const ERX: f32 = 8.450_629e-1;

/// erf(x) − x for |x| < 0.84375, as x·P(x²)/Q(x²).
#[inline(always)]
fn erf_small_excess(x: f32) -> f32 {
    let z = x * x;
    let r = 1.283_791_6e-1
        + z * (-3.250_421e-1 + z * (-2.848_175e-2 + z * (-5.770_270_2e-3 + z * -2.376_301_7e-5)));
    let s = 1.0
        + z * (3.979_172e-1
            + z * (6.502_225e-2 + z * (5.081_306e-3 + z * (1.324_947_4e-4 + z * -3.960_228e-6))));
    x * (r / s)
}

/// erf(|x|) − erx for |x| in [0.84375, 1.25), as P(s)/Q(s) with s = |x| − 1.
#[inline(always)]
fn erf_middle(a: f32) -> f32 {
    let s = a - 1.0;
    let p = -2.362_118_6e-3
        + s * (4.148_561e-1
            + s * (-3.722_078_8e-1
                + s * (3.183_466_2e-1
                    + s * (-1.108_947e-1 + s * (3.547_830_5e-2 + s * -2.166_375_5e-3)))));
    let q = 1.0
        + s * (1.064_208_8e-1
            + s * (5.403_979_4e-1
                + s * (7.182_865_6e-2
                    + s * (1.261_712_2e-1 + s * (1.363_708_4e-2 + s * 1.198_45e-2)))));
    p / q
}

/// erfc(a) for a ≥ 1.25 (any a ≥ 0 gives a finite number): e^{−a² − 0.5625 + R(1/a²)/S(1/a²)}/a,
/// with a² split as z² + (a − z)(a + z), z being a with its last 13 bits cleared, so z² is exact
/// and the exponent's rounding does not grow with a². Underflows to 0 past a ≈ 10.05.
#[inline(always)]
fn erfc_tail(a: f32) -> f32 {
    let s = 1.0 / (a * a);
    let near = a < 1.0 / 0.35;
    let (r, big_s) = if near {
        (
            -9.864_944e-3
                + s * (-6.938_586e-1
                    + s * (-1.055_862_6e1
                        + s * (-6.237_533e1
                            + s * (-1.623_966_7e2
                                + s * (-1.846_050_9e2 + s * (-8.128_744e1 + s * -9.814_329)))))),
            1.0 + s
                * (1.965_127_2e1
                    + s * (1.376_577_6e2
                        + s * (4.345_659e2
                            + s * (6.453_873e2
                                + s * (4.290_081_5e2
                                    + s * (1.086_35e2
                                        + s * (6.570_249_6 + s * -6.042_441_4e-2))))))),
        )
    } else {
        (
            -9.864_943e-3
                + s * (-7.992_833e-1
                    + s * (-1.775_795_6e1
                        + s * (-1.606_363_8e2
                            + s * (-6.375_664_7e2 + s * (-1.025_095_1e3 + s * -4.835_192e2))))),
            1.0 + s
                * (3.033_806e1
                    + s * (3.257_925e2
                        + s * (1.536_729_6e3
                            + s * (3.199_858_2e3
                                + s * (2.553_050_3e3
                                    + s * (4.745_285_4e2 + s * -2.244_095_2e1)))))),
        )
    };
    let z = f32::from_bits(a.to_bits() & 0xffff_e000);
    exp(-z * z - 0.5625) * exp((z - a) * (z + a) + r / big_s) / a
}

/// The value of the s_erff.c region |x| = `a` falls in (below 0.84375, below 1.25, beyond),
/// each region already evaluated, so the choice is a blend, not a branch; NaN passes through.
#[inline(always)]
fn by_region(x: f32, a: f32, small: f32, middle: f32, tail: f32) -> f32 {
    let v = if a < 0.843_75 {
        small
    } else if a < 1.25 {
        middle
    } else {
        tail
    };
    if x.is_nan() {
        x
    } else {
        v
    }
}

/// erf x. Within 2 ulp.
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let a = x.abs();
    let small = x + erf_small_excess(x);
    let middle = (ERX + erf_middle(a)).copysign(x);
    // erfc(a) is below half an ulp of 1 past a = 4: erf rounds to ±1, and the tail is not
    // evaluated where it could overflow or be NaN (a = ∞).
    let tail = (1.0 - erfc_tail(a.clamp(1.25, 4.0))).copysign(x);
    by_region(x, a, small, middle, tail)
}

/// erfc x = 1 − erf x, accurate where it is small (large x). Within 3 ulp.
#[inline(always)]
pub(crate) fn erfc(x: f32) -> f32 {
    let a = x.abs();
    let excess = erf_small_excess(x);
    // Below ¼, 1 − erf x directly; from ¼ to 0.84375 (x > 0) half of the 1 is taken first, which
    // is exact and keeps more bits.
    let small = if x < 0.25 {
        1.0 - (x + excess)
    } else {
        0.5 - (x - 0.5 + excess)
    };
    let m = erf_middle(a);
    let middle = if x > 0.0 {
        1.0 - ERX - m
    } else {
        1.0 + (ERX + m)
    };
    // Past a = 10.06 erfc(a) underflows to 0 (and 2 − it is 2); the clamp keeps a = ∞ finite.
    let t = erfc_tail(a.clamp(1.25, 11.0));
    let tail = if x > 0.0 { t } else { 2.0 - t };
    by_region(x, a, small, middle, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in ulp between `got` and the correctly rounded `want` (computed in f64): for
    /// results in the subnormal range, in units of the smallest subnormal.
    fn ulp(got: f32, want: f64) -> u32 {
        let w = want as f32;
        if w.is_nan() {
            return if got.is_nan() { 0 } else { u32::MAX };
        }
        if got == w {
            return 0;
        }
        if got.is_nan() || got.is_infinite() || w.is_infinite() || (got < 0.0) != (w < 0.0) {
            return u32::MAX;
        }
        got.abs().to_bits().abs_diff(w.abs().to_bits())
    }

    /// Every f32 from `lo` to `hi` in steps of about `step`, plus the edges of the format.
    fn points(lo: f32, hi: f32, step: f32) -> Vec<f32> {
        let mut xs = Vec::new();
        let mut x = lo;
        while x < hi {
            xs.push(x);
            x += step;
        }
        for v in [
            0.0f32, -0.0, 1e-30, -1e-30, 1e-40, -1e-40, 1e-7, -1e-7, 1e-3, -1e-3,
        ] {
            xs.push(v);
        }
        xs
    }

    /// Checks `fast` against the f64 function `exact` over `xs`: within `max_ulp`, and the same
    /// infinities, NaNs and signs of zero.
    fn check(name: &str, fast: fn(f32) -> f32, exact: fn(f64) -> f64, xs: &[f32], max_ulp: u32) {
        let mut worst = (0u32, 0.0f32);
        for &x in xs {
            let want = exact(f64::from(x));
            let got = fast(x);
            if want == 0.0 && (want as f32) == 0.0 {
                assert_eq!(got, 0.0, "{name}({x:e}) = {got:e}, want 0");
                assert_eq!(
                    got.is_sign_negative(),
                    want.is_sign_negative(),
                    "{name}({x:e}): sign of zero"
                );
                continue;
            }
            let d = ulp(got, want);
            assert!(
                d <= max_ulp,
                "{name}({x:e}) = {got:e}, want {want:e} ({d} ulp)"
            );
            if d > worst.0 {
                worst = (d, x);
            }
        }
        for (x, want) in [
            (f32::NAN, f64::NAN),
            (f32::INFINITY, exact(f64::INFINITY)),
            (f32::NEG_INFINITY, exact(f64::NEG_INFINITY)),
        ] {
            let got = fast(x);
            assert!(
                (got.is_nan() && want.is_nan()) || f64::from(got) == want,
                "{name}({x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn exp_within_2_ulp() {
        check("exp", exp, f64::exp, &points(-110.0, 95.0, 0.0013), 2);
    }

    #[test]
    fn exp_m1_within_2_ulp() {
        check(
            "exp_m1",
            exp_m1,
            f64::exp_m1,
            &points(-25.0, 95.0, 0.0011),
            2,
        );
        check("exp_m1", exp_m1, f64::exp_m1, &points(-1.0, 1.0, 1.3e-5), 2);
    }

    #[test]
    fn ln_within_2_ulp() {
        let mut xs = points(0.0, 100.0, 0.0007);
        xs.extend((0..4000).map(|i| f32::from_bits(1 + i * 530_000)));
        xs.retain(|&x| x >= 0.0);
        xs.extend([-1.0, -1e-20]);
        check("ln", ln, f64::ln, &xs, 2);
    }

    #[test]
    fn ln_1p_within_3_ulp() {
        let mut xs = points(-0.9999, 50.0, 0.0007);
        xs.extend(points(-0.01, 0.01, 1.1e-6));
        xs.extend((0..2000).map(|i| f32::from_bits(0x3400_0000 + i * 500_000)));
        xs.extend([-1.0, -2.0]);
        check("ln_1p", ln_1p, f64::ln_1p, &xs, 3);
    }

    #[test]
    fn tanh_within_3_ulp() {
        check("tanh", tanh, f64::tanh, &points(-12.0, 12.0, 0.0003), 3);
    }

    #[test]
    fn sinh_and_cosh_within_3_ulp() {
        let xs = points(-92.0, 92.0, 0.0013);
        check("sinh", sinh, f64::sinh, &xs, 3);
        check("cosh", cosh, f64::cosh, &xs, 3);
    }

    #[test]
    fn asinh_within_3_ulp() {
        let mut xs = points(-30.0, 30.0, 0.0007);
        xs.extend((0..3000).map(|i| f32::from_bits(i * 700_000)));
        xs.extend((0..3000).map(|i| -f32::from_bits(i * 700_000)));
        xs.retain(|x| x.is_finite());
        check("asinh", asinh, f64::asinh, &xs, 3);
    }

    #[test]
    fn erf_and_erfc_within_3_ulp() {
        let xs = points(-12.0, 12.0, 0.000_37);
        check("erf", erf, libm::erf, &xs, 2);
        check("erfc", erfc, libm::erfc, &xs, 3);
    }
}
