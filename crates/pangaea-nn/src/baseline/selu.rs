//! The `selu` baseline: λ·(x if x > 0 else α(eˣ − 1)) (Klambauer et al. 2017).
//!
//! Composed from tensor operations with the eˣ − 1 branch evaluated at min(x, 0): burn's own
//! version evaluates eˣ everywhere, and where that overflows (x > 88) the discarded branch's
//! zeroed gradient becomes 0·inf = NaN.

use burn::tensor::Tensor;
use pangaea_expr::Unary;

use crate::activation::unary;

/// Applies the baseline elementwise.
pub fn selu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    unary(Unary::Selu, x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_matches_unary, device, grid};

    #[test]
    fn matches_the_expression_operator() {
        let mut xs = grid(-12.0, 12.0, 241);
        xs.extend([0.0, -1e-3, 1e-3, 30.0, -30.0]);
        assert_matches_unary(selu, Unary::Selu, &xs, 1e-5);
    }

    #[test]
    fn gradient_is_finite_where_exp_overflows() {
        let x = Tensor::<1>::from_floats([100.0, -100.0, 0.0], &device().autodiff()).require_grad();
        let grads = selu(x.clone()).sum().backward();
        let g: Vec<f32> = x
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
    }
}
