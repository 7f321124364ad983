//! A whole network: an architecture with every activation replaced by the candidate.

use std::cell::RefCell;
use std::collections::HashSet;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::activation::{Activation, ActivationContext, SiteBuilder};
use crate::arch::{AllCnnC, ResNetV1, ResNetV2, Tiny, Wrn};
use crate::{ActivationSpec, Arch, Granularity, NnError, SiteParams};

/// The smallest image side the architectures accept (global average pooling makes any size
/// from here up work).
pub const MIN_IMAGE_SIZE: usize = 8;

/// Everything that determines a network's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConfig {
    /// The architecture.
    pub arch: Arch,
    /// Channels of the input images: 1 for MNIST, 3 for CIFAR.
    pub in_channels: usize,
    /// Height = width of the input images (28 for MNIST, 32 for CIFAR; at least
    /// [`MIN_IMAGE_SIZE`]).
    pub image_size: usize,
    /// Number of classes, the width of the logits.
    pub num_classes: usize,
    /// What runs at every activation site.
    pub activation: ActivationSpec,
    /// How many parameter sets an expression activation learns (ignored by baselines).
    pub granularity: Granularity,
}

impl NetConfig {
    /// Checks the sizes.
    ///
    /// # Errors
    ///
    /// [`NnError::Config`] naming the field when `in_channels` or `num_classes` is 0, or
    /// `image_size` is below [`MIN_IMAGE_SIZE`].
    pub fn validate(&self) -> Result<(), NnError> {
        let check = |field, value: usize, min: usize| {
            if value >= min {
                Ok(())
            } else {
                Err(NnError::Config {
                    field,
                    value,
                    expected: format!("expected at least {min}"),
                })
            }
        };
        check("in_channels", self.in_channels, 1)?;
        check("num_classes", self.num_classes, 1)?;
        check("image_size", self.image_size, MIN_IMAGE_SIZE)
    }

    /// Builds the network with its weights and parameters on `device` — an autodiff device
    /// (`device.autodiff()`) for training. Weights are drawn from the device's generator: call
    /// `device.seed(seed)` first for a reproducible initialisation.
    ///
    /// # Errors
    ///
    /// As [`NetConfig::validate`].
    pub fn try_init(&self, device: &Device) -> Result<Net, NnError> {
        self.validate()?;
        let sites = SiteBuilder::new(self.activation.clone(), self.granularity, device);
        let (c, k) = (self.in_channels, self.num_classes);
        let body = match self.arch {
            Arch::Tiny => Body::Tiny(Tiny::new(c, k, &sites, device)),
            Arch::Wrn10_4 => Body::Wrn(Wrn::new(c, k, &sites, device)),
            Arch::ResNetV1_56 => Body::ResNetV1(ResNetV1::new(9, c, k, &sites, device)),
            Arch::ResNetV1_20 => Body::ResNetV1(ResNetV1::new(3, c, k, &sites, device)),
            Arch::ResNetV2_56 => Body::ResNetV2(ResNetV2::new(c, k, &sites, device)),
            Arch::AllCnnC => Body::AllCnnC(AllCnnC::new(c, self.image_size, k, &sites, device)),
        };
        Ok(Net {
            body,
            shared: sites.shared_params(),
            config: self.clone(),
        })
    }

    /// [`NetConfig::try_init`] for a configuration known to be valid.
    ///
    /// # Panics
    ///
    /// With the [`NnError`] message when the configuration is invalid.
    pub fn init(&self, device: &Device) -> Net {
        self.try_init(device).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The architecture-specific part of a [`Net`].
#[derive(Module, Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per network, never in a collection; burn's Module derive cannot box a variant"
)]
enum Body {
    Tiny(Tiny),
    Wrn(Wrn),
    ResNetV1(ResNetV1),
    ResNetV2(ResNetV2),
    AllCnnC(AllCnnC),
}

/// A network built by [`NetConfig::init`].
#[derive(Module, Debug)]
pub struct Net {
    body: Body,
    /// The single parameter tensor of every site under [`Granularity::Shared`].
    shared: Option<Param<Tensor<2>>>,
    #[module(skip)]
    config: NetConfig,
}

impl Net {
    /// The configuration the network was built from.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Logits for a batch of images.
    ///
    /// Batch normalisation and dropout behave as in training when `images` lives on an autodiff
    /// device (and the module has not been frozen); on the plain device of a [`Module::valid`]
    /// copy they behave as in evaluation. See the crate documentation.
    ///
    /// # Shapes
    ///
    /// - `images`: `[batch, in_channels, height, width]`
    /// - output: `[batch, num_classes]`
    ///
    /// # Panics
    ///
    /// If `images` does not have `in_channels` channels.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_with(images, None).0
    }

    /// [`Net::forward`] that also returns every site's output, in forward order (one per
    /// [`Net::sites`] entry, or more where a site runs twice): for statistics of the network at
    /// initialisation.
    pub fn forward_recording(&self, images: Tensor<4>) -> (Tensor<2>, Vec<Tensor<4>>) {
        let (logits, outputs) = self.forward_with(images, Some(RefCell::new(Vec::new())));
        (logits, outputs.map(RefCell::into_inner).unwrap_or_default())
    }

    fn forward_with(
        &self,
        images: Tensor<4>,
        record: Option<RefCell<Vec<Tensor<4>>>>,
    ) -> (Tensor<2>, Option<RefCell<Vec<Tensor<4>>>>) {
        let [_, channels, _, _] = images.dims();
        assert_eq!(
            channels, self.config.in_channels,
            "images have {channels} channels, the network ({}) expects {}",
            self.config.arch, self.config.in_channels
        );
        let ctx = ActivationContext {
            shared: self.shared.as_ref().map(|p| p.val()),
            record,
        };
        let logits = match &self.body {
            Body::Tiny(n) => n.forward(images, &ctx),
            Body::Wrn(n) => n.forward(images, &ctx),
            Body::ResNetV1(n) => n.forward(images, &ctx),
            Body::ResNetV2(n) => n.forward(images, &ctx),
            Body::AllCnnC(n) => n.forward(images, &ctx),
        };
        (logits, ctx.record)
    }

    /// The activation sites, in forward order.
    pub fn sites(&self) -> Vec<&Activation> {
        match &self.body {
            Body::Tiny(n) => n.sites(),
            Body::Wrn(n) => n.sites(),
            Body::ResNetV1(n) => n.sites(),
            Body::ResNetV2(n) => n.sites(),
            Body::AllCnnC(n) => n.sites(),
        }
    }

    /// The learned activation parameters of every site, in forward order (reads them back to
    /// the host). Under [`Granularity::Shared`] every site reports the shared values.
    pub fn activation_params(&self) -> Vec<SiteParams> {
        self.sites()
            .into_iter()
            .map(|site| site.params(self.shared.as_ref()))
            .collect()
    }

    /// The ids of every activation parameter tensor (expression parameters, shared or per site,
    /// and the learnable baselines' own), so an optimizer can treat them apart from the weights.
    pub fn activation_param_ids(&self) -> HashSet<ParamId> {
        self.sites()
            .into_iter()
            .flat_map(|site| site.param_ids())
            .chain(self.shared.as_ref().map(|p| p.id))
            .collect()
    }

    /// The number of trainable activation-parameter scalars.
    pub fn num_activation_params(&self) -> usize {
        let shared = self.shared.as_ref().map_or(0, |p| p.shape().num_elements());
        self.sites()
            .into_iter()
            .map(|site| site.num_params())
            .sum::<usize>()
            + shared
    }

    /// The number of trainable scalars that are not activation parameters (convolution and
    /// linear weights and biases, batch-norm scales and shifts; not the batch-norm running
    /// statistics, which [`Module::num_params`] counts too).
    pub fn num_weights(&self) -> usize {
        let mut counter = TrainableCounter::default();
        self.visit(&mut counter);
        counter.count - self.num_activation_params()
    }
}

/// Counts the scalars of every float parameter except running statistics.
///
/// burn visits a [`RunningState`](burn::module::RunningState) (batch norm's `running_mean` and
/// `running_var`) like a parameter, and its `is_active` flag is crate-private, so the running
/// statistics are told apart by their field names, which are burn-nn's `running_*`.
#[derive(Default)]
struct TrainableCounter {
    path: Vec<String>,
    count: usize,
}

impl ModuleVisitor for TrainableCounter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let running = self
            .path
            .last()
            .is_some_and(|field| field.starts_with("running_"));
        if !running {
            self.count += param.lazy_shape().num_elements();
        }
    }
}
