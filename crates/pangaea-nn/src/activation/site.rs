//! One activation site of a network: whatever the [`ActivationSpec`] says runs there.

use std::cell::RefCell;
use std::collections::BTreeMap;

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Device, Tensor};

use super::expr_activation::{init_params, ExprActivation};
use crate::baseline::{
    self, Apl, BaselineKind, FixedBaseline, LearnableBaseline, Pau, Prelu, SwishBeta,
};
use crate::{ActivationSpec, Granularity, SiteParams};

/// A parameter-free baseline. Built only from a [`FixedBaseline`], so a learnable baseline
/// cannot end up here.
#[derive(Module, Debug)]
pub struct FixedActivation {
    #[module(skip)]
    baseline: FixedBaseline,
}

impl FixedActivation {
    /// The activation of `baseline`.
    pub fn new(baseline: FixedBaseline) -> FixedActivation {
        FixedActivation { baseline }
    }

    /// Applies the baseline.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self.baseline {
            FixedBaseline::Relu => baseline::relu(x),
            FixedBaseline::LeakyRelu => baseline::leaky_relu(x),
            FixedBaseline::Elu => baseline::elu(x),
            FixedBaseline::Selu => baseline::selu(x),
            FixedBaseline::Gelu => baseline::gelu(x),
            FixedBaseline::Swish => baseline::swish(x),
            FixedBaseline::Mish => baseline::mish(x),
            FixedBaseline::Softplus => baseline::softplus(x),
            FixedBaseline::Softsign => baseline::softsign(x),
            FixedBaseline::Tanh => baseline::tanh(x),
            FixedBaseline::Sigmoid => baseline::sigmoid(x),
            FixedBaseline::Elish => baseline::elish(x),
        }
    }
}

/// What runs at a site.
#[derive(Module, Debug)]
pub enum ActivationKind {
    /// An expression with its parameters.
    Expr(ExprActivation),
    /// A parameter-free baseline.
    Fixed(FixedActivation),
    /// PReLU.
    Prelu(Prelu),
    /// Swish with a learned β.
    SwishBeta(SwishBeta),
    /// A Padé activation unit.
    Pau(Pau),
    /// An adaptive piecewise linear unit.
    Apl(Apl),
}

/// What every site needs at forward time besides its input: the network-wide parameters under
/// [`Granularity::Shared`], and where to record its output when asked
/// ([`crate::Net::forward_recording`]).
#[derive(Debug, Clone, Default)]
pub struct ActivationContext {
    /// The shared `[1, n_params]` parameters, when the network has them.
    pub shared: Option<Tensor<2>>,
    /// When set, every site appends its output here, in forward order.
    pub record: Option<RefCell<Vec<Tensor<4>>>>,
}

/// One activation site: its name and what runs there.
#[derive(Module, Debug)]
pub struct Activation {
    site: String,
    kind: ActivationKind,
}

impl Activation {
    /// The site's name, e.g. `stage1.block0.act1`.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// What runs at the site.
    pub fn kind(&self) -> &ActivationKind {
        &self.kind
    }

    /// Applies the activation.
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch, channels, height, width]`, output the same.
    pub fn forward(&self, x: Tensor<4>, ctx: &ActivationContext) -> Tensor<4> {
        let y = match &self.kind {
            ActivationKind::Expr(a) => a.forward(x, ctx.shared.as_ref()),
            ActivationKind::Fixed(a) => a.forward(x),
            ActivationKind::Prelu(a) => a.forward(x),
            ActivationKind::SwishBeta(a) => a.forward(x),
            ActivationKind::Pau(a) => a.forward(x),
            ActivationKind::Apl(a) => a.forward(x),
        };
        if let Some(record) = &ctx.record {
            record.borrow_mut().push(y.clone());
        }
        y
    }

    /// The site's learned parameters (`shared`: the network's shared tensor, if any).
    pub fn params(&self, shared: Option<&Param<Tensor<2>>>) -> SiteParams {
        let params = match &self.kind {
            ActivationKind::Expr(a) => a.params(shared),
            ActivationKind::Fixed(_) => BTreeMap::new(),
            ActivationKind::Prelu(a) => a.params(),
            ActivationKind::SwishBeta(a) => a.params(),
            ActivationKind::Pau(a) => a.params(),
            ActivationKind::Apl(a) => a.params(),
        };
        SiteParams {
            site: self.site.clone(),
            params,
        }
    }

    /// The ids of the site's own activation parameters (not the shared tensor's).
    pub fn param_ids(&self) -> Vec<ParamId> {
        match &self.kind {
            ActivationKind::Expr(a) => a.param_ids(),
            ActivationKind::Fixed(_) => Vec::new(),
            ActivationKind::Prelu(a) => a.param_ids(),
            ActivationKind::SwishBeta(a) => a.param_ids(),
            ActivationKind::Pau(a) => a.param_ids(),
            ActivationKind::Apl(a) => a.param_ids(),
        }
    }
}

/// Makes the activation of every site of one network from one spec.
#[derive(Debug, Clone)]
pub struct SiteBuilder {
    spec: ActivationSpec,
    granularity: Granularity,
    device: Device,
}

impl SiteBuilder {
    /// A builder for `spec` at `granularity` (which applies to expressions only), creating
    /// parameters on `device`.
    pub fn new(spec: ActivationSpec, granularity: Granularity, device: &Device) -> SiteBuilder {
        SiteBuilder {
            spec,
            granularity,
            device: device.clone(),
        }
    }

    /// The activation of the site named `site`, whose input has `channels` channels.
    pub fn site(&self, site: impl Into<String>, channels: usize) -> Activation {
        let device = &self.device;
        let kind = match &self.spec {
            ActivationSpec::Expr(e) => ActivationKind::Expr(ExprActivation::new(
                e.clone(),
                self.granularity,
                channels,
                device,
            )),
            ActivationSpec::Baseline(b) => match b.kind() {
                BaselineKind::Fixed(f) => ActivationKind::Fixed(FixedActivation::new(f)),
                BaselineKind::Learnable(l) => match l {
                    LearnableBaseline::Prelu => ActivationKind::Prelu(Prelu::new(channels, device)),
                    LearnableBaseline::SwishBeta => {
                        ActivationKind::SwishBeta(SwishBeta::new(channels, device))
                    }
                    LearnableBaseline::Pau => ActivationKind::Pau(Pau::new(device)),
                    LearnableBaseline::Apl { hinges } => {
                        ActivationKind::Apl(Apl::new(channels, hinges, device))
                    }
                },
            },
        };
        Activation {
            site: site.into(),
            kind,
        }
    }

    /// The network-wide parameter tensor: `Some` for an expression with parameters under
    /// [`Granularity::Shared`], `None` otherwise.
    pub fn shared_params(&self) -> Option<Param<Tensor<2>>> {
        match (&self.spec, self.granularity) {
            (ActivationSpec::Expr(e), Granularity::Shared) => init_params(e, 1, &self.device),
            _ => None,
        }
    }
}
