//! The one entry point that evaluates an expression on a batch of feature maps.
//!
//! Every expression activation of every model goes through [`apply`]. It takes the fused path
//! ([`super::fused`]: one autodiff node, the whole expression in one sweep) where the kernels
//! exist ([`super::fused::use_fused`]: flex and LibTorch's CPU device; a switch turns them off
//! for the whole process: [`super::fused::set_fused`], `PANGAEA_FUSED=0`), and the composed reference
//! [`apply_composed`] — one burn operation per node, differentiated by burn's autodiff —
//! everywhere else (ARCHITECTURE.md, conventions 5–6). Tests hold the fused path to the
//! composed one.

use burn::tensor::Tensor;
use pangaea_expr::{Expr, Op};

use super::fused::{apply_fused, use_fused};
use super::ops::{binary, unary};

/// Evaluates `expr` elementwise on `input` with per-unit parameters.
///
/// `params` holds one row per unit and one column per parameter of the expression, in the
/// order of [`Expr::params`] (α, β, γ — whichever occur). With one row, every element uses the
/// same values; with `channels` rows, row c applies to channel c. `None` is allowed only for an
/// expression without parameters.
///
/// # Shapes
///
/// - `input`: `[batch, channels, height, width]`
/// - `params`: `[units, n_params]` with `units` 1 or `channels`
/// - output: `[batch, channels, height, width]`
///
/// # Panics
///
/// If the expression has parameters and `params` is `None`, or `params` does not have
/// `expr.params().len()` columns, or its number of rows is neither 1 nor `channels`.
pub fn apply(expr: &Expr, input: Tensor<4>, params: Option<Tensor<2>>) -> Tensor<4> {
    check_params(expr, &input, params.as_ref());
    if use_fused(&input.device(), input.dtype()) {
        apply_fused(expr, input, params)
    } else {
        apply_composed(expr, input, params)
    }
}

/// The shape checks of [`apply`] (see its panics).
fn check_params(expr: &Expr, input: &Tensor<4>, params: Option<&Tensor<2>>) {
    let order = expr.params();
    let [_, channels, _, _] = input.dims();
    match params {
        None => assert!(
            order.is_empty(),
            "expression `{expr}` has parameters {order:?} but no parameter tensor was given"
        ),
        Some(p) => {
            let [units, n] = p.dims();
            assert_eq!(
                n,
                order.len(),
                "parameter tensor of `{expr}` has {n} columns, expected {} ({order:?})",
                order.len()
            );
            assert!(
                units == 1 || units == channels,
                "parameter tensor of `{expr}` has {units} rows, expected 1 or {channels} (channels)"
            );
        }
    }
}

/// The reference: [`apply`] as composed burn operations, one per node, differentiated by
/// burn's autodiff.
///
/// Subtrees that do not depend on x (under `zero(…)`, `one(…)`, parameters only) are computed
/// once at the shape of a parameter column, `[1, units, 1, 1]`, and broadcast, not per element.
///
/// # Panics
///
/// As [`apply`].
pub fn apply_composed(expr: &Expr, input: Tensor<4>, params: Option<Tensor<2>>) -> Tensor<4> {
    check_params(expr, &input, params.as_ref());
    let order = expr.params();
    let columns: Vec<Tensor<4>> = match params {
        None => Vec::new(),
        Some(p) => {
            let [units, n] = p.dims();
            (0..n)
                .map(|j| p.clone().narrow(1, j, 1).reshape([1, units, 1, 1]))
                .collect()
        }
    };
    // The column of each parameter, by parameter index.
    let mut column_of = [usize::MAX; 3];
    for (j, p) in order.iter().enumerate() {
        column_of[p.index()] = j;
    }

    let nodes = expr.nodes();
    // Which nodes the output depends on: the operand of `zero`/`one` is never computed.
    let mut needed = vec![false; nodes.len()];
    needed[nodes.len() - 1] = true;
    // How many needed parents read each node, so the last reader takes the tensor.
    let mut readers = vec![0usize; nodes.len()];
    for i in (0..nodes.len()).rev() {
        if !needed[i] {
            continue;
        }
        match nodes[i].op {
            Op::X => {}
            Op::Unary(op, _) if op.is_constant() => {}
            Op::Unary(_, c) => {
                needed[c] = true;
                readers[c] += 1;
            }
            Op::Binary(_, l, r) => {
                needed[l] = true;
                needed[r] = true;
                readers[l] += 1;
                readers[r] += 1;
            }
        }
    }
    let mut values: Vec<Option<Tensor<4>>> = Vec::with_capacity(nodes.len());
    let mut take = |values: &mut Vec<Option<Tensor<4>>>, i: usize| -> Tensor<4> {
        readers[i] -= 1;
        let value = if readers[i] == 0 {
            values[i].take()
        } else {
            values[i].clone()
        };
        value.expect("a needed node is computed before its readers")
    };
    for (i, node) in nodes.iter().enumerate() {
        if !needed[i] {
            values.push(None);
            continue;
        }
        let value = match node.op {
            Op::X => input.clone(),
            // A constant ignores its operand: a [1, 1, 1, 1] tensor, broadcast where it is used.
            Op::Unary(op, _) if op.is_constant() => {
                unary(op, Tensor::zeros([1, 1, 1, 1], &input.device()))
            }
            Op::Unary(op, c) => unary(op, take(&mut values, c)),
            Op::Binary(op, l, r) => {
                let a = take(&mut values, l);
                let b = take(&mut values, r);
                binary(op, a, b)
            }
        };
        let value = match node.param {
            Some(p) => value.mul(columns[column_of[p.index()]].clone()),
            None => value,
        };
        values.push(Some(value));
    }
    let root = values
        .pop()
        .flatten()
        .expect("an expression has at least one node");
    if root.dims() == input.dims() {
        root
    } else {
        // The whole expression is constant in x: broadcast it over the input.
        root.expand(input.shape())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::device;

    fn input() -> Tensor<4> {
        Tensor::from_floats([[[[-1.0, 2.0]], [[0.5, -3.0]]]], &device())
    }

    #[test]
    fn constant_subtrees_broadcast_over_the_input() {
        let expr: Expr = "alpha * one(tanh(x)) + zero(x)".parse().unwrap();
        let params = Tensor::<2>::from_floats([[2.0], [5.0]], &device());
        let y: Vec<f32> = apply(&expr, input(), Some(params))
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert_eq!(y, [2.0, 2.0, 5.0, 5.0]);
    }

    #[test]
    fn one_row_of_parameters_applies_to_every_channel() {
        let expr: Expr = "beta * x".parse().unwrap();
        let params = Tensor::<2>::from_floats([[3.0]], &device());
        let y: Vec<f32> = apply(&expr, input(), Some(params))
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert_eq!(y, [-3.0, 6.0, 1.5, -9.0]);
    }

    #[test]
    #[should_panic = "parameter tensor of `alpha * x` has 2 columns, expected 1 ([Alpha])"]
    fn wrong_number_of_columns_panics() {
        let expr: Expr = "alpha * x".parse().unwrap();
        let _ = apply(&expr, input(), Some(Tensor::ones([2, 2], &device())));
    }

    #[test]
    #[should_panic = "parameter tensor of `alpha * x` has 3 rows, expected 1 or 2 (channels)"]
    fn wrong_number_of_rows_panics() {
        let expr: Expr = "alpha * x".parse().unwrap();
        let _ = apply(&expr, input(), Some(Tensor::ones([3, 1], &device())));
    }

    #[test]
    #[should_panic = "expression `alpha * x` has parameters [Alpha] but no parameter tensor was given"]
    fn missing_parameters_panic() {
        let expr: Expr = "alpha * x".parse().unwrap();
        let _ = apply(&expr, input(), None);
    }
}
