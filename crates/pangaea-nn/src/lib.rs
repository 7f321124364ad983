//! The burn side of pangaea (DESIGN.md §3): the activation module that runs an expression with
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
//! - **Devices.** [`device::default_device`] picks flex (CPU), or Vulkan / CUDA with the
//!   `vulkan` / `cuda` features.
//!
//! # The activation module
//!
//! Every expression activation goes through one function, [`activation::apply`], written with
//! composed tensor operations — the reference a fused kernel must match (STYLE.md §5). Its
//! parameters are one `Param<Tensor<2>>` per site shaped `[units, n_params]` (units: channels,
//! or 1 per layer; columns in [`pangaea_expr::Expr::params`] order), or a single one for the
//! whole network under [`Granularity::Shared`]; all start at 1.0.
//!
//! # Architectures and their sizes
//!
//! | name | sites | weights (3 channels, 10 classes) | published |
//! |---|---|---|---|
//! | `tiny` | 4 | 61,338 | — (ours) |
//! | `wrn-10-4` | 7 | 1,198,810 | — (not in Zagoruyko & Komodakis's tables) |
//! | `resnet-v1-56` | 55 | 853,018 | 0.85M (He et al. 2016, Table 6) |
//! | `resnet-v2-56` | 55 | 1,663,338 | — (Keras example; its summary total 1,673,738 includes 10,400 BN moving statistics) |
//! | `all-cnn-c` | 9 | 1,369,738 | Springenberg et al. 2015, Table 2's layers (≈1.4M) |
//!
//! "Weights" are [`Net::num_weights`]: trainable scalars, without activation parameters and
//! without batch-norm running statistics. `tests/net.rs` pins them.
#![warn(missing_docs)]

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

pub use arch::Arch;
pub use baseline::Baseline;
pub use error::NnError;
pub use net::{Net, NetConfig, MIN_IMAGE_SIZE};
pub use pangaea_expr::Granularity;
pub use site_params::SiteParams;
pub use spec::ActivationSpec;
