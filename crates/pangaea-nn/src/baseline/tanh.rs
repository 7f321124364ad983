//! The `tanh` baseline: tanh x, burn's tanh.

use burn::tensor::activation;
use burn::tensor::Tensor;

/// Applies the baseline elementwise.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::tanh(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_matches_unary, grid};
    use pangaea_expr::Unary;

    #[test]
    fn matches_the_expression_operator() {
        let mut xs = grid(-12.0, 12.0, 241);
        xs.extend([0.0, -1e-3, 1e-3, 30.0, -30.0]);
        assert_matches_unary(tanh, Unary::Tanh, &xs, 1e-5);
    }
}
