//! The baseline activations of the paper's tables (docs/method.md §5): the fixed ones in
//! `fixed.rs`, each learnable one (a module with its parameters) in a file of its own.

mod apl;
mod fixed;
mod kind;
mod pau;
mod prelu;
mod swish_beta;

pub use apl::Apl;
pub use fixed::{
    elish, elu, gelu, leaky_relu, mish, relu, selu, sigmoid, softplus, softsign, swish, tanh,
};
pub use kind::{Baseline, BaselineKind, FixedBaseline, LearnableBaseline, APL_DEFAULT_HINGES};
pub use pau::{Pau, PAU_LEAKY_RELU_DENOMINATOR, PAU_LEAKY_RELU_NUMERATOR};
pub use prelu::{Prelu, PRELU_INIT};
pub use swish_beta::SwishBeta;
