//! The activation module: expressions evaluated with composed tensor operations, and the sites
//! that run an expression or a baseline.

mod apply;
mod expr_activation;
pub mod fused;
mod ops;
mod site;
pub mod special;

pub use apply::{apply, apply_composed};
pub use expr_activation::{init_params, ExprActivation};
pub use ops::{binary, unary};
pub use site::{Activation, ActivationContext, ActivationKind, FixedActivation, SiteBuilder};
