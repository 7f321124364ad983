//! The fixed (parameter-free) baselines of the paper's tables (docs/method.md §5).
//!
//! Each is the expression operator of the same name, computed with burn's own tensor
//! operations (faster than running it as an expression), except `elu`, `selu` and `elish`:
//! burn's versions evaluate eˣ everywhere, and where that overflows (x > 88) the discarded
//! branch's zeroed gradient becomes 0·inf = NaN, so those three are composed from tensor
//! operations with the eˣ − 1 branch evaluated at min(x, 0).

use burn::tensor::activation;
use burn::tensor::Tensor;
use pangaea_expr::{Unary, LEAKY_RELU_SLOPE};

use crate::activation::unary;

/// `relu`: max(x, 0), burn's fused ReLU.
pub fn relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::relu(x)
}

/// `leaky_relu`: x if x ≥ 0 else 0.01x (Maas et al. 2013), burn's fused leaky ReLU.
pub fn leaky_relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::leaky_relu(x, LEAKY_RELU_SLOPE)
}

/// `gelu`: x·Φ(x) with the exact erf (Hendrycks & Gimpel 2016), burn's GELU.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::gelu(x)
}

/// `swish`: x·σ(x) (Ramachandran et al. 2017), burn's SiLU.
pub fn swish<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::silu(x)
}

/// `mish`: x·tanh(softplus(x)) (Misra 2019), burn's Mish.
pub fn mish<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::mish(x)
}

/// `softplus`: log(1 + eˣ), burn's softplus (linear above 20).
pub fn softplus<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::softplus(x, 1.0)
}

/// `softsign`: x/(1 + |x|), burn's softsign.
pub fn softsign<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::softsign(x)
}

/// `tanh`: tanh x, burn's tanh.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::tanh(x)
}

/// `sigmoid`: σ(x) = 1/(1 + e⁻ˣ), burn's sigmoid.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::sigmoid(x)
}

/// `elu`: x if x > 0 else eˣ − 1 (Clevert et al. 2016), composed.
pub fn elu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    unary(Unary::Elu, x)
}

/// `selu`: λ·(x if x > 0 else α(eˣ − 1)) (Klambauer et al. 2017), composed.
pub fn selu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    unary(Unary::Selu, x)
}

/// `elish`: x·σ(x) if x ≥ 0 else (eˣ − 1)·σ(x) (Basirat & Roth 2018), composed.
pub fn elish<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    unary(Unary::Elish, x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_matches_unary, device, grid};

    type Baseline = fn(Tensor<1>) -> Tensor<1>;

    const ALL: [(Baseline, Unary); 12] = [
        (relu, Unary::Relu),
        (leaky_relu, Unary::LeakyRelu),
        (gelu, Unary::Gelu),
        (swish, Unary::Swish),
        (mish, Unary::Mish),
        (softplus, Unary::Softplus),
        (softsign, Unary::Softsign),
        (tanh, Unary::Tanh),
        (sigmoid, Unary::Sigmoid),
        (elu, Unary::Elu),
        (selu, Unary::Selu),
        (elish, Unary::Elish),
    ];

    #[test]
    fn each_matches_its_expression_operator() {
        let mut xs = grid(-12.0, 12.0, 241);
        xs.extend([0.0, -1e-3, 1e-3, 30.0, -30.0]);
        for (f, op) in ALL {
            assert_matches_unary(f, op, &xs, 1e-5);
        }
    }

    #[test]
    fn composed_gradients_are_finite_where_exp_overflows() {
        for (f, op) in &ALL[9..] {
            let x =
                Tensor::<1>::from_floats([100.0, -100.0, 0.0], &device().autodiff()).require_grad();
            let grads = f(x.clone()).sum().backward();
            let g: Vec<f32> = x
                .grad(&grads)
                .unwrap()
                .into_data()
                .try_into_vec_as::<f32>()
                .unwrap();
            assert!(g.iter().all(|v| v.is_finite()), "{op:?}: {g:?}");
        }
    }
}
