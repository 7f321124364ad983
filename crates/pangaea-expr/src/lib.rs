//! The activation-function language of pangaea (docs/method.md §1–§4).
//!
//! An [`Expr`] is a tree of [`Unary`] and [`Binary`] operators over the input x, with up to three
//! learnable [`Param`]eters (α, β, γ) on its edges. This crate parses and prints expressions,
//! evaluates them with exact derivatives ([`Program`]), gives them an identity (canonical form
//! and behavioural fingerprint), rejects invalid ones cheaply ([`probe`]), and generates and
//! mutates them for the search ([`generate`], [`mutation`], [`parametrize`]). It has no
//! deep-learning dependency, so it builds and tests in seconds.
#![warn(missing_docs)]

mod binary;
mod canonical;
pub mod export;
mod expr;
mod fast_math;
mod float;
pub mod generate;
pub mod mutation;
mod param;
pub mod parametrize;
mod parse;
mod print;
pub mod probe;
mod program;
pub mod special;
mod unary;

pub use binary::Binary;
pub use canonical::{fnv1a, Fingerprint};
pub use expr::{Expr, Node, Op, Tree, MAX_DEPTH};
pub use float::Float;
pub use generate::{random_initial, OperatorSet, Operators};
pub use mutation::{mutate, Mutation, MutationOutcome, MutationWeights};
pub use param::{Param, MAX_PARAMS, PARAM_INIT};
pub use parametrize::parametrize;
pub use parse::ParseError;
pub use probe::Rejection;
pub use program::{Evaluated, Outputs, Program, Scratch, CHUNK};
pub use unary::{Unary, LEAKY_RELU_SLOPE, LOG_ABS_EPS, SELU_ALPHA, SELU_LAMBDA};
