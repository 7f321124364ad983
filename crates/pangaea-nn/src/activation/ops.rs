//! Every operator of the expression language as composed tensor operations.
//!
//! Each arm is written to give exactly pangaea-expr's value *and* derivative, including at the
//! kinks (docs/method.md §1; `pangaea_expr::Unary`): where a piecewise operator tests `x > 0`, so does
//! the mask here, so burn's autodiff takes the same branch the scalar reference does. Stable
//! formulas are used where the naive ones lose accuracy (softplus, log_sigmoid, expm1, erfc,
//! GELU through erfc, the Bessel functions); nothing is patched: `reciprocal(0)` is inf and
//! `sqrt(-1)` NaN, as in the reference.

use burn::tensor::activation;
use burn::tensor::Tensor;
use pangaea_expr::{Binary, Unary, LEAKY_RELU_SLOPE, LOG_ABS_EPS, SELU_ALPHA, SELU_LAMBDA};

use super::special::{bessel_i0e, bessel_i1e, erfc, expm1, sinc};

/// 1/√2.
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Applies a unary operator elementwise.
pub fn unary<const D: usize>(op: Unary, x: Tensor<D>) -> Tensor<D> {
    match op {
        Unary::Zero => x.zeros_like(),
        Unary::One => x.ones_like(),
        Unary::X => x,
        Unary::Neg => x.neg(),
        Unary::Abs => x.abs(),
        Unary::Reciprocal => x.recip(),
        Unary::Square => x.clone().mul(x),
        Unary::Exp => x.exp(),
        Unary::Erf => x.erf(),
        Unary::Erfc => erfc(x),
        Unary::Sinh => x.sinh(),
        Unary::Cosh => x.cosh(),
        Unary::Tanh => x.tanh(),
        Unary::Expm1 => expm1(x),
        Unary::Sigmoid => activation::sigmoid(x),
        Unary::LogSigmoid => activation::log_sigmoid(x),
        Unary::Asinh => x.asinh(),
        Unary::Atan => x.atan(),
        Unary::BesselI0e => bessel_i0e(x),
        Unary::BesselI1e => bessel_i1e(x),
        Unary::Relu => activation::relu(x),
        Unary::Elu => {
            let positive = x.clone().greater_elem(0.0);
            negative_expm1(x.clone()).mask_where(positive, x)
        }
        Unary::Selu => {
            let positive = x.clone().greater_elem(0.0);
            negative_expm1(x.clone())
                .mul_scalar(SELU_ALPHA)
                .mask_where(positive, x)
                .mul_scalar(SELU_LAMBDA)
        }
        Unary::Swish => x.clone().mul(activation::sigmoid(x)),
        // burn's softplus is log1p(exp(x)) below a threshold of 20 and x above it: the same
        // value as the reference's max(x, 0) + log1p(e^{-|x|}) in f32, and σ(0) = ½ at 0.
        Unary::Softplus => activation::softplus(x, 1.0),
        Unary::Softsign => x.clone().div(x.abs().add_scalar(1.0)),
        // Masks rather than `clamp`, whose gradient passes at the bounds: the reference's slope is
        // 0 at v = 0 and v = 1.
        Unary::HardSigmoid => {
            let v = x.mul_scalar(0.2).add_scalar(0.5);
            let low = v.clone().lower_equal_elem(0.0);
            let high = v.clone().greater_equal_elem(1.0);
            v.mask_fill(low, 0.0).mask_fill(high, 1.0)
        }
        Unary::Cube => x.clone().mul(x.clone()).mul(x),
        Unary::Sqrt => x.sqrt(),
        Unary::Gauss => x.clone().mul(x).neg().exp(),
        Unary::LogAbs => x.abs().add_scalar(LOG_ABS_EPS).log(),
        Unary::Sin => x.sin(),
        Unary::Cos => x.cos(),
        Unary::Minz => {
            let non_negative = x.clone().greater_equal_elem(0.0);
            x.mask_fill(non_negative, 0.0)
        }
        Unary::Sinc => sinc(x),
        // Φ(x) = erfc(−x/√2)/2: accurate for very negative x, where 1 + erf(x/√2) cancels.
        Unary::Gelu => x
            .clone()
            .mul(erfc(x.mul_scalar(-FRAC_1_SQRT_2)))
            .mul_scalar(0.5),
        Unary::Mish => x.clone().mul(activation::softplus(x, 1.0).tanh()),
        Unary::LeakyRelu => {
            let positive = x.clone().greater_elem(0.0);
            x.clone()
                .mul_scalar(LEAKY_RELU_SLOPE)
                .mask_where(positive, x)
        }
        Unary::Elish => {
            let non_negative = x.clone().greater_equal_elem(0.0);
            let s = activation::sigmoid(x.clone());
            negative_expm1(x.clone()).mask_where(non_negative, x).mul(s)
        }
    }
}

/// eˣ − 1 for the x ≤ 0 branch of a piecewise operator, evaluated at min(x, 0) so that the
/// discarded side never overflows: e^{large} = inf there would make its zeroed gradient NaN.
fn negative_expm1<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    expm1(x.clamp_max(0.0))
}

/// Applies a binary operator elementwise; shapes broadcast.
///
/// `max`/`min` send the whole gradient to the left argument on ties, and give NaN when either
/// argument is NaN (IEEE 754-2019 `maximum`/`minimum`), as the reference does.
pub fn binary<const D: usize>(op: Binary, a: Tensor<D>, b: Tensor<D>) -> Tensor<D> {
    match op {
        Binary::Add => a.add(b),
        Binary::Sub => a.sub(b),
        Binary::Mul => a.mul(b),
        Binary::Div => a.div(b),
        Binary::Pow => a.powf(b),
        Binary::Max => {
            let left = a.clone().greater_equal(b.clone());
            select(left, a, b)
        }
        Binary::Min => {
            let left = a.clone().lower_equal(b.clone());
            select(left, a, b)
        }
    }
}

/// `where(mask, a, b)` for operands that may broadcast against each other, NaN where either is.
fn select<const D: usize>(
    mask: Tensor<D, burn::tensor::Bool>,
    a: Tensor<D>,
    b: Tensor<D>,
) -> Tensor<D> {
    let shape = mask.shape();
    let (a, b) = (a.expand(shape.clone()), b.expand(shape));
    let nan = a.clone().is_nan().bool_or(b.clone().is_nan());
    let either = a.clone().add(b.clone());
    b.mask_where(mask, a).mask_where(nan, either)
}
