//! The `leaky_relu` baseline: x if x ≥ 0 else 0.01x, burn's fused leaky ReLU (Maas et al. 2013).

use burn::tensor::activation;
use burn::tensor::Tensor;
use pangaea_expr::LEAKY_RELU_SLOPE;

/// Applies the baseline elementwise.
pub fn leaky_relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::leaky_relu(x, LEAKY_RELU_SLOPE)
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
        assert_matches_unary(leaky_relu, Unary::LeakyRelu, &xs, 1e-5);
    }
}
