//! Special functions composed from tensor operations, so burn's autodiff differentiates them:
//! stable `expm1` and `erfc`, `sinc`, and the exponentially scaled Bessel functions.
//!
//! burn has no `expm1`, `erfc`, `i0e` or `i1e`. Each is built here from elementwise operations
//! whose every branch is evaluated on a *clamped* input, so the branch a `mask_where` discards
//! stays finite and its (zeroed) gradient cannot turn into NaN. The Chebyshev tables were
//! computed with `tools/fit_coefficients.py` (40-digit mpmath, interpolation at Chebyshev nodes,
//! truncated below 1e-11); in f32 the results are within a few ulps of the exact values.

#![expect(
    clippy::excessive_precision,
    reason = "the tables are printed with 17 significant digits by tools/fit_coefficients.py"
)]

use burn::tensor::Tensor;

/// eˣ − 1 without the cancellation of `exp(x) - 1` near 0.
///
/// For |x| < ½ a degree-9 Taylor polynomial in Horner form (truncation error < 3e-10 relative),
/// elsewhere `exp(x) - 1`, where the cancellation costs at most a factor ~1.6 in relative error.
pub fn expm1<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    const SMALL: f64 = 0.5;
    let small = x.clone().abs().lower_elem(SMALL);
    let c = x.clone().clamp(-SMALL, SMALL);
    // c·(1 + c/2·(1 + c/3·(1 + … (1 + c/9))))
    let mut p = c.clone().div_scalar(9.0).add_scalar(1.0);
    for k in (2..=8).rev() {
        p = p.mul(c.clone().div_scalar(k as f64)).add_scalar(1.0);
    }
    let poly = p.mul(c);
    let big = x.exp().sub_scalar(1.0);
    big.mask_where(small, poly)
}

/// Chebyshev series of erfc(x)·e^{x²} on [0, ∞) in t = (x − 2)/(x + 2).
const ERFC_SCALED: [f64; 17] = [
    3.7737609962585947e-1,
    -4.8250911965068072e-1,
    1.2232459533097704e-1,
    -1.7831149719276793e-2,
    3.2117365249439834e-4,
    3.5039525647961568e-4,
    -2.243880650620326e-5,
    -1.0537433119356064e-5,
    5.6713311326475526e-7,
    4.2976815766658763e-7,
    5.1049525128651408e-9,
    -1.8899699318179606e-8,
    -2.2427555298561929e-9,
    6.8552543705501846e-10,
    2.1487959525733993e-10,
    -5.515409718485674e-12,
    -1.3477495048063453e-11,
];

/// 1 − erf(x), with full relative accuracy in the right tail where `1 - erf(x)` cancels.
///
/// erfc(|x|) = e^{−x²}·h(|x|) with h from [`ERFC_SCALED`]; for x < 0, erfc(x) = 2 − erfc(|x|).
/// Beyond |x| = 10.5 the right tail is below half of f32's smallest subnormal: it is computed at
/// 10.5 (keeping every operation finite) and set to 0.
pub fn erfc<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    const FAR: f64 = 10.5;
    // |x| with slope +1 at 0 (burn's `abs` has slope 0 there, which would zero erfc′(0)).
    let negative = x.clone().lower_elem(0.0);
    let full = x.clone().mask_where(negative.clone(), x.neg());
    let beyond = full.clone().greater_elem(FAR);
    let a = full.clamp_max(FAR);
    let t = a.clone().sub_scalar(2.0).div(a.clone().add_scalar(2.0));
    let h = chebyshev(t, &ERFC_SCALED);
    // e^{−x²} as e^{−hi²}·e^{−(x − hi)(x + hi)}, hi = |x| rounded to 1/16: hi² is exact in f32
    // and the second exponent is small, so the rounding of x² (relative 6e-8, times x² ≈ 20 in
    // the exponent) does not reach the result.
    let hi = a.clone().mul_scalar(16.0).round().div_scalar(16.0).detach();
    let rest = a.clone().sub(hi.clone()).mul(a.add(hi.clone()));
    let right = hi
        .clone()
        .mul(hi)
        .neg()
        .exp()
        .mul(rest.neg().exp())
        .mul(h)
        .mask_fill(beyond, 0.0);
    right
        .clone()
        .mask_where(negative, right.neg().add_scalar(2.0))
}

/// sin(x)/x, and its Taylor polynomial 1 − x²/6 + x⁴/120 for |x| < 1e-4 (as pangaea-expr
/// defines it).
pub fn sinc<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    const SMALL: f64 = 1e-4;
    let small = x.clone().abs().lower_elem(SMALL);
    let safe = x.clone().mask_fill(small.clone(), 1.0);
    let big = safe.clone().sin().div(safe);
    let c = x.clamp(-SMALL, SMALL);
    let c2 = c.clone().mul(c);
    let poly = c2
        .clone()
        .div_scalar(120.0)
        .sub_scalar(1.0 / 6.0)
        .mul(c2)
        .add_scalar(1.0);
    big.mask_where(small, poly)
}

/// Chebyshev series of e^{−x} I₀(x) on [0, 8] in t = x/4 − 1.
const I0E_LOW: [f64; 22] = [
    3.3839763720473804e-1,
    -3.046826723431984e-1,
    1.7162090152220878e-1,
    -9.4901097048047644e-2,
    4.9305284239670708e-2,
    -2.3737414805899469e-2,
    1.0546460394594998e-2,
    -4.3243099950505759e-3,
    1.6394756169413358e-3,
    -5.7637557453858237e-4,
    1.8850288509584166e-4,
    -5.7541950100821037e-5,
    1.6448448070728897e-5,
    -4.4167383584587506e-6,
    1.1173875391201037e-6,
    -2.6707938539406117e-7,
    6.0469950225419189e-8,
    -1.300025009986248e-8,
    2.6598237246823867e-9,
    -5.1897956016352629e-10,
    9.6758090353732369e-11,
    -1.7268262914415557e-11,
];

/// Chebyshev series of e^{−x} I₁(x)/x on [0, 8] in t = x/4 − 1.
const I1E_OVER_X_LOW: [f64; 21] = [
    1.2629359322181683e-1,
    -1.7641651835783406e-1,
    1.026436586898471e-1,
    -5.2945981208094991e-2,
    2.4726449030626517e-2,
    -1.0564084894626198e-2,
    4.1564229443128882e-3,
    -1.5135724506312531e-3,
    5.1228595616857577e-4,
    -1.6176081582589675e-4,
    4.7815651075500542e-5,
    -1.3273163656039436e-5,
    3.4702513081376785e-6,
    -8.5687202646954547e-7,
    2.0032947535521353e-7,
    -4.4450591287963281e-8,
    9.3815373864957718e-9,
    -1.8872497517228293e-9,
    3.625590281552117e-10,
    -6.6634897235020277e-11,
    1.1736186298890902e-11,
];

/// Chebyshev series of √x·e^{−x} I₀(x) on [8, ∞) in u = 16/x − 1.
const I0E_HIGH: [f64; 11] = [
    4.0224520550705442e-1,
    3.3691164782556941e-3,
    6.889758346916824e-5,
    2.8913705208347565e-6,
    2.0489185894690637e-7,
    2.2666689904981781e-8,
    3.3962320257083863e-9,
    4.9406023882249696e-10,
    1.1889147107846438e-11,
    -3.1499165279632414e-11,
    -1.3215811840447713e-11,
];

/// Chebyshev series of √x·e^{−x} I₁(x) on [8, ∞) in u = 16/x − 1.
const I1E_HIGH: [f64; 11] = [
    3.8928811750914006e-1,
    -9.7610974913614684e-3,
    -1.1058893876262372e-4,
    -3.8825648088776904e-6,
    -2.5122362378702089e-7,
    -2.6314688468895195e-8,
    -3.835380385964237e-9,
    -5.5897434621965838e-10,
    -1.8974958123505412e-11,
    3.2526035830154882e-11,
    1.4125807436613781e-11,
];

/// Where the Bessel series switch from the [0, 8] expansion to the asymptotic one.
const BESSEL_SPLIT: f64 = 8.0;

/// The two halves of a Bessel function: `low(t)` on [0, 8] with t = |x|/4 − 1, and
/// `high(u)/√|x|` on [8, ∞) with u = 16/|x| − 1. Returns (low series, high value, |x| > 8).
fn bessel_parts<const D: usize>(
    x: Tensor<D>,
    low: &[f64],
    high: &[f64],
) -> (Tensor<D>, Tensor<D>, Tensor<D, burn::tensor::Bool>) {
    let a = x.abs();
    let far = a.clone().greater_elem(BESSEL_SPLIT);
    let near = a.clone().clamp_max(BESSEL_SPLIT);
    let low = chebyshev(near.div_scalar(4.0).sub_scalar(1.0), low);
    let beyond = a.clamp_min(BESSEL_SPLIT);
    let u = beyond.clone().recip().mul_scalar(16.0).sub_scalar(1.0);
    let high = chebyshev(u, high).div(beyond.sqrt());
    (low, high, far)
}

/// e^{−|x|} I₀(x), the exponentially scaled modified Bessel function of order 0.
pub fn bessel_i0e<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let (low, high, far) = bessel_parts(x, &I0E_LOW, &I0E_HIGH);
    low.mask_where(far, high)
}

/// e^{−|x|} I₁(x), the exponentially scaled modified Bessel function of order 1 (odd in x).
///
/// Near 0 it is x·g(|x|) with g = i1e(x)/x from the series, which keeps full relative accuracy
/// for small |x| and the exact slope ½ at 0.
pub fn bessel_i1e<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let (low, high, far) = bessel_parts(x.clone(), &I1E_OVER_X_LOW, &I1E_HIGH);
    let low = low.mul(x.clone());
    let high = high.mul(x.sign());
    low.mask_where(far, high)
}

/// Σ cₖ Tₖ(t) by Clenshaw's recurrence; `t` must lie in [−1, 1].
fn chebyshev<const D: usize>(t: Tensor<D>, coeffs: &[f64]) -> Tensor<D> {
    let n = coeffs.len();
    assert!(
        n >= 2,
        "a Chebyshev series needs at least two coefficients, got {n}"
    );
    let two_t = t.clone().mul_scalar(2.0);
    // b_{n-1} = c_{n-1}; b_{n-2} = 2t·c_{n-1} + c_{n-2}
    let mut b2 = t.zeros_like().add_scalar(coeffs[n - 1]);
    let mut b1 = two_t
        .clone()
        .mul_scalar(coeffs[n - 1])
        .add_scalar(coeffs[n - 2]);
    for &c in coeffs[1..n - 2].iter().rev() {
        let b0 = two_t.clone().mul(b1.clone()).sub(b2).add_scalar(c);
        b2 = b1;
        b1 = b0;
    }
    // f = c₀ + t·b₁ − b₂
    t.mul(b1).sub(b2).add_scalar(coeffs[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_close, device, grid};
    use pangaea_expr::Unary;

    fn check(f: fn(Tensor<1>) -> Tensor<1>, op: Unary, xs: &[f32], rtol: f32) {
        let device = device();
        let x = Tensor::<1>::from_floats(xs, &device);
        let got: Vec<f32> = f(x).into_data().try_into_vec_as::<f32>().unwrap();
        let want: Vec<f32> = xs.iter().map(|&v| op.eval_f64(v as f64) as f32).collect();
        assert_close(&got, &want, rtol, 1e-30, &format!("{op}"));
    }

    #[test]
    fn expm1_matches_near_zero_and_far() {
        let mut xs = grid(-20.0, 20.0, 401);
        xs.extend([1e-7, -1e-7, 3e-4, -0.4999, 0.5, 0.5001, 80.0]);
        check(expm1, Unary::Expm1, &xs, 2e-7);
    }

    #[test]
    fn erfc_has_relative_accuracy_in_both_tails() {
        let mut xs = grid(-6.0, 9.0, 601);
        xs.extend([
            0.0,
            1e-6,
            10.4,
            10.6,
            12.0,
            -12.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ]);
        check(erfc, Unary::Erfc, &xs, 1e-6);
    }

    #[test]
    fn sinc_is_one_at_zero_and_sin_over_x_elsewhere() {
        let mut xs = grid(-30.0, 30.0, 601);
        xs.extend([0.0, 5e-5, -5e-5, 1e-4]);
        check(sinc, Unary::Sinc, &xs, 1e-6);
    }

    #[test]
    fn bessel_functions_match_to_a_few_ulps() {
        let mut xs = grid(-40.0, 40.0, 801);
        xs.extend([0.0, 1e-6, -1e-6, 7.999, 8.0, 8.001, 200.0, -1e4]);
        check(bessel_i0e, Unary::BesselI0e, &xs, 1e-6);
        check(bessel_i1e, Unary::BesselI1e, &xs, 1e-6);
    }
}
