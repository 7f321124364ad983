//! Helpers shared by the unit tests.

use burn::tensor::{Device, Tensor};
use pangaea_expr::Unary;

/// The device the tests run on: the build's default (flex, or LibTorch's CPU in a `tch` build).
pub fn device() -> Device {
    crate::device::default_device()
}

/// `n` equally spaced points from `lo` to `hi` inclusive.
pub fn grid(lo: f32, hi: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| lo + (hi - lo) * i as f32 / (n - 1) as f32)
        .collect()
}

/// Whether `got` is within `atol + rtol·|want|` of `want` (equal infinities and NaN/NaN pass).
pub fn close(got: f32, want: f32, rtol: f32, atol: f32) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return want == got;
    }
    (got - want).abs() <= atol + rtol * want.abs()
}

/// Asserts [`close`] elementwise, naming the first mismatch.
#[track_caller]
pub fn assert_close(got: &[f32], want: &[f32], rtol: f32, atol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            close(g, w, rtol, atol),
            "{what}: element {i}: got {g}, want {w} (rtol {rtol}, atol {atol})"
        );
    }
}

/// Asserts that a tensor function matches a pangaea-expr operator's value on `xs`.
#[track_caller]
pub fn assert_matches_unary(f: fn(Tensor<1>) -> Tensor<1>, op: Unary, xs: &[f32], rtol: f32) {
    let x = Tensor::<1>::from_floats(xs, &device());
    let got: Vec<f32> = f(x).into_data().try_into_vec_as::<f32>().unwrap();
    let want: Vec<f32> = xs.iter().map(|&v| op.eval_f64(v as f64) as f32).collect();
    assert_close(&got, &want, rtol, 1e-6, op.name());
}
