//! The `gelu` baseline: x·Φ(x) with the exact erf (Hendrycks & Gimpel 2016), burn's GELU.

use burn::tensor::activation;
use burn::tensor::Tensor;

/// Applies the baseline elementwise.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::gelu(x)
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
        assert_matches_unary(gelu, Unary::Gelu, &xs, 1e-5);
    }
}
