//! The `sigmoid` baseline: σ(x) = 1/(1 + e⁻ˣ), burn's sigmoid.

use burn::tensor::activation;
use burn::tensor::Tensor;

/// Applies the baseline elementwise.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::sigmoid(x)
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
        assert_matches_unary(sigmoid, Unary::Sigmoid, &xs, 1e-5);
    }
}
