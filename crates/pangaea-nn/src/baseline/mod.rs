//! The baseline activations of the paper's tables (METHOD.md §5), one file each.
//!
//! The fixed ones are functions on burn's own tensor operations (faster than running them as
//! expressions); `elu`, `selu` and `elish` are composed so that their gradient stays finite where
//! eˣ overflows. The learnable ones are modules with their parameters.

mod apl;
mod elish;
mod elu;
mod gelu;
mod kind;
mod leaky_relu;
mod mish;
mod pau;
mod prelu;
mod relu;
mod selu;
mod sigmoid;
mod softplus;
mod softsign;
mod swish;
mod swish_beta;
mod tanh;

pub use apl::Apl;
pub use elish::elish;
pub use elu::elu;
pub use gelu::gelu;
pub use kind::{Baseline, APL_DEFAULT_HINGES};
pub use leaky_relu::leaky_relu;
pub use mish::mish;
pub use pau::{Pau, PAU_LEAKY_RELU_DENOMINATOR, PAU_LEAKY_RELU_NUMERATOR};
pub use prelu::{Prelu, PRELU_INIT};
pub use relu::relu;
pub use selu::selu;
pub use sigmoid::sigmoid;
pub use softplus::softplus;
pub use softsign::softsign;
pub use swish::swish;
pub use swish_beta::SwishBeta;
pub use tanh::tanh;
