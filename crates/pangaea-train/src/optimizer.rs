//! SGD with (Nesterov) momentum and PyTorch semantics, with its own weight decay for the
//! activation parameters.
//!
//! burn-optim's `Sgd` with `dampening = 0` computes exactly PyTorch's step: `d = g + wd·w`,
//! `buf = d` on the first step and `buf = μ·buf + d` after, update `d + μ·buf` (Nesterov) or
//! `buf`, then `w -= lr · update`. Activation parameters get a second parameter group (burn's
//! `ModuleOptimizer::with_group`) with the same momentum and their own weight decay (default 0,
//! docs/method.md §2). The test below pins two steps against hand-computed PyTorch numbers.

use burn::module::{Module, ParamGroup, ParamId};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};

use pangaea_wire::OptimizerSpec;

/// The optimizer of one run: SGD over the network's weights and activation parameters.
#[derive(Clone)]
pub struct SgdOptimizer {
    inner: ModuleOptimizer,
}

impl SgdOptimizer {
    /// Builds the optimizer; `activation_params` are the ids that get
    /// `spec.activation_weight_decay` instead of `spec.weight_decay`.
    pub fn new(spec: &OptimizerSpec, activation_params: Vec<ParamId>) -> Self {
        let config = |decay: f64| {
            SgdConfig::new()
                .with_weight_decay((decay > 0.0).then(|| WeightDecayConfig::new(decay as f32)))
                .with_momentum((spec.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(spec.momentum)
                        .with_dampening(0.0)
                        .with_nesterov(spec.nesterov)
                }))
        };
        let mut inner = config(spec.weight_decay).init();
        if !activation_params.is_empty() {
            inner = inner.with_group(
                ParamGroup::from_ids(activation_params),
                config(spec.activation_weight_decay).build(),
                None,
            );
        }
        Self { inner }
    }

    /// One update of every parameter that has a gradient in `grads`, at learning rate `lr`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        self.inner.step(lr, module, grads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{Device, Tensor};

    #[derive(Module, Debug)]
    struct Toy {
        weight: Param<Tensor<1>>,
        alpha: Param<Tensor<1>>,
    }

    fn values(t: Tensor<1>) -> Vec<f32> {
        t.into_data().try_into_vec_as::<f32>().unwrap()
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "got {got:?}, want {want:?}");
        }
    }

    /// Loss = Σ weight·x + Σ alpha², lr 0.5, μ 0.9 Nesterov, wd 0.1 on `weight`, 0 on `alpha`.
    /// Expected values computed by hand with torch.optim.SGD's update rule:
    ///
    /// weight (g = x = [3, 0.5], w0 = [1, -2]):
    ///   step 1: d = [3.1, 0.3], buf = d, upd = 1.9·d = [5.89, 0.57], w1 = [-1.945, -2.285]
    ///   step 2: d = [2.8055, 0.2715], buf = [5.5955, 0.5415], upd = [7.84145, 0.75885],
    ///           w2 = [-5.865725, -2.664425]
    /// alpha (g = 2a, a0 = 2, no decay):
    ///   step 1: d = 4, buf = 4, upd = 7.6, a1 = -1.8
    ///   step 2: d = -3.6, buf = 0.9·4 - 3.6 = 0, upd = -3.6, a2 = 0
    #[test]
    fn two_steps_match_pytorch_sgd_nesterov() {
        let device = Device::default().autodiff();
        let mut toy = Toy {
            weight: Param::from_tensor(Tensor::from_floats([1.0, -2.0], &device)),
            alpha: Param::from_tensor(Tensor::from_floats([2.0], &device)),
        };
        let spec = OptimizerSpec {
            lr: 0.5,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.1,
            activation_weight_decay: 0.0,
        };
        let mut optim = SgdOptimizer::new(&spec, vec![toy.alpha.id]);
        let x = Tensor::<1>::from_floats([3.0, 0.5], &device);
        let mut seen = Vec::new();
        for _ in 0..2 {
            let loss =
                (toy.weight.val() * x.clone()).sum() + (toy.alpha.val() * toy.alpha.val()).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &toy);
            toy = optim.step(0.5, toy, grads);
            seen.push((values(toy.weight.val()), values(toy.alpha.val())));
        }
        assert_close(&seen[0].0, &[-1.945, -2.285]);
        assert_close(&seen[0].1, &[-1.8]);
        assert_close(&seen[1].0, &[-5.865725, -2.664425]);
        assert_close(&seen[1].1, &[0.0]);
    }

    /// Same toy with decay on the activation parameters too and plain (non-Nesterov) momentum:
    /// alpha: step 1 d = 4 + 0.5·2 = 5, buf = 5, a1 = 2 - 0.5·5 = -0.5;
    ///        step 2 d = -1 - 0.25 = -1.25, buf = 4.5 - 1.25 = 3.25, a2 = -0.5 - 1.625 = -2.125.
    #[test]
    fn activation_weight_decay_and_plain_momentum() {
        let device = Device::default().autodiff();
        let mut toy = Toy {
            weight: Param::from_tensor(Tensor::from_floats([0.0], &device)),
            alpha: Param::from_tensor(Tensor::from_floats([2.0], &device)),
        };
        let spec = OptimizerSpec {
            lr: 0.5,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 0.0,
            activation_weight_decay: 0.5,
        };
        let mut optim = SgdOptimizer::new(&spec, vec![toy.alpha.id]);
        let mut alphas = Vec::new();
        for _ in 0..2 {
            let loss = toy.weight.val().sum() + (toy.alpha.val() * toy.alpha.val()).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &toy);
            toy = optim.step(0.5, toy, grads);
            alphas.push(values(toy.alpha.val())[0]);
        }
        assert_close(&alphas, &[-0.5, -2.125]);
    }
}
