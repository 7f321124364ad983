//! The burn side of pangaea (ARCHITECTURE.md §3): the activation module that runs an expression with
//! learnable per-site parameters, the named baselines, and the architectures whose every
//! activation is replaced by the candidate.
//!
//! ```no_run
//! use pangaea_nn::{device, ActivationSpec, Arch, Granularity, NetConfig};
//!
//! let config = NetConfig {
//!     arch: Arch::Tiny,
//!     in_channels: 3,
//!     image_size: 32,
//!     num_classes: 10,
//!     activation: ActivationSpec::parse("alpha * x * sigmoid(beta * x)").unwrap(),
//!     granularity: Granularity::Channel,
//! };
//! let device = device::default_device().autodiff();
//! let net = config.init(&device);
//! let logits = net.forward(burn::Tensor::zeros([2, 3, 32, 32], &device));
//! ```
//!
//! # Training and evaluation in burn 0.22
//!
//! burn 0.22 has no backend type parameter: a tensor's [`Device`](burn::tensor::Device) says
//! where it runs *and* whether autodiff records it.
//!
//! - **Training.** Build the network on an autodiff device, `config.init(&device.autodiff())`:
//!   its parameters then require gradients. Create each batch on the same autodiff device
//!   (`Tensor::from_data(data, &ad_device)`). Batch norm uses batch statistics and updates its
//!   running statistics, and dropout drops, exactly when the *input's* device is autodiff and
//!   the layer's training flag is on (`input.device().is_autodiff() && training.is_enabled()`,
//!   burn-nn `BatchNorm::forward`, `Dropout::forward`). `loss.backward()` returns the gradients;
//!   `GradientsParams::from_grads(grads, &net)` and `optimizer.step(lr, net, grads)` update it.
//! - **Evaluation.** `let eval = net.valid();` returns a copy without autodiff and with every
//!   training flag off; feed it batches on the plain device (`device.inner()` or the device
//!   before `.autodiff()`): batch norm uses its running statistics, dropout is the identity.
//!   `valid` borrows, so training continues with the original `net`. (`Module::train` turns a
//!   validation copy back into a trainable one; keeping the original is simpler.)
//! - **Activation parameters apart from the weights.** [`Net::activation_param_ids`] gives the
//!   ids of every activation parameter tensor. To exclude them from weight decay, split the
//!   gradients: `GradientsParams::from_params(&mut grads, &net, &ids)` takes theirs out, and
//!   two optimizers (with and without decay) each step the net with their share — burn skips
//!   parameters without a gradient.
//! - **Reproducibility.** Weights are drawn from the device's generator: `device.seed(seed)`
//!   before `init`. Dropout draws from it too.
//! - **Devices.** [`device::resolve`] turns a request's `--device` into a device of the
//!   backends this build has (flex always; LibTorch with `tch`); [`device::default_device`]
//!   picks flex (CPU), or LibTorch / Vulkan / CUDA with the
//!   `vulkan` / `cuda` features.
//!
//! # The activation module
//!
//! Every expression activation goes through one function, [`activation::apply`], written with
//! composed tensor operations — the reference a fused kernel must match (ARCHITECTURE.md, convention 5). Its
//! parameters are one `Param<Tensor<2>>` per site shaped `[units, n_params]` (units: channels,
//! or 1 per layer; columns in [`pangaea_expr::Expr::params`] order), or a single one for the
//! whole network under [`Granularity::Shared`]; all start at 1.0.
//!
//! # Architectures and their sizes
//!
//! `tiny`, `wrn-10-4`, `resnet-v1-56`, `resnet-v2-56`, `all-cnn-c` ([`Arch`]). Their weight
//! counts next to the published figures are in one table, ARCHITECTURE.md ("pangaea-nn");
//! `tests/net.rs` pins them. "Weights" are [`Net::num_weights`]: trainable scalars, without
//! activation parameters and without batch-norm running statistics.
#![warn(missing_docs)]
// burn 0.22 deprecates its LibTorch backend (in favour of CubeCL, which cannot be built offline
// here); the backend-extension macro expands `LibTorch` outside our items, so only a crate-level
// allow reaches it.
#![cfg_attr(feature = "tch", allow(deprecated))]

pub mod activation;
pub mod arch;
pub mod baseline;
pub mod device;
mod error;
mod net;
mod site_params;
mod spec;
#[cfg(test)]
mod testutil;

pub use baseline::Baseline;
pub use error::NnError;
pub use net::{Net, NetConfig, MIN_IMAGE_SIZE};
pub use pangaea_wire::{Arch, Granularity};
pub use site_params::SiteParams;
pub use spec::ActivationSpec;
