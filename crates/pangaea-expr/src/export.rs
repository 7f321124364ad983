//! Exporting an expression for use outside pangaea: NumPy and PyTorch code, LaTeX, JSON.
//!
//! The Python targets come from one emitter with two small backends ([`to_numpy`],
//! [`to_pytorch`]), so a function behaves the same in both and the same as [`crate::Program`]
//! (an integration test runs the NumPy code against `Program::eval_f64` for every operator).

mod json;
mod latex;
mod python;

pub use json::to_json;
pub use latex::to_latex;
pub use python::{to_numpy, to_pytorch, LearnedParams, SiteParams};
