//! Statistics of a search's own network at initialisation, on one training batch: the
//! pre-screen's "network" features that need the training engine (docs/method.md §3, the
//! pre-screen; AQuaSurF's features of the network at initialisation).
//!
//! [`InitProbe::new`] loads the request's dataset once and keeps its first shuffled training
//! batch; [`InitProbe::features`] builds the request's network with a candidate activation
//! (weights from the request's seed, parameters at their initial value), runs that batch forwards
//! and the cross-entropy backwards, and returns
//!
//! - log10 of the root mean square of every activation site's output, in forward order;
//! - log10 of the root mean square of the gradient of every weight matrix or kernel (rank ≥ 2:
//!   convolutions and the classifier; not biases, batch-norm scales or activation parameters),
//!   in module order;
//! - log10 of the initial loss.
//!
//! Each is clipped to ±[`CLIP`] (NaN and +∞ count as `CLIP`, a zero spread as −`CLIP`). Always
//! computed on `flex` (pure Rust, in every build, deterministic), so every build and every
//! resumed search gets the same features for the same form. The weights are drawn once, in
//! [`InitProbe::new`], and copied into every form's network: the device's random generator
//! belongs to the whole process, so drawing them again per form would make the features depend
//! on whatever else draws from it meanwhile.

use std::collections::HashSet;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use pangaea_nn::{ActivationSpec, NetConfig};
use pangaea_wire::{DeviceSpec, EvalRequest};

use crate::data::prepare;
use crate::step::{batch_tensors, cross_entropy};

/// log10 spreads are clipped to ±`CLIP`.
pub const CLIP: f64 = 8.0;

/// One batch of a request's training data and the network to probe with it.
pub struct InitProbe {
    /// The network's shape, with ReLU as a placeholder activation.
    config: NetConfig,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    device: Device,
    /// Every float parameter that is not an activation parameter (weights, biases, batch-norm
    /// scales, shifts and running statistics), in module order, drawn with the request's seed.
    weights: Vec<TensorData>,
}

impl InitProbe {
    /// Loads `request`'s dataset (as a run of it would: same split, limits and normalisation)
    /// and takes the first batch of its first shuffled epoch.
    ///
    /// # Errors
    ///
    /// A message naming what is wrong: the request's fields, the dataset (missing files, too
    /// few images), non-square images.
    pub fn new(request: &EvalRequest) -> Result<InitProbe, String> {
        request.check().map_err(|e| e.to_string())?;
        let data = prepare(&request.dataset, request.batch_size, request.seed)?;
        if data.height != data.width {
            return Err(format!(
                "images of {}×{} are not square; the networks take square images",
                data.height, data.width
            ));
        }
        let device = pangaea_nn::device::resolve(DeviceSpec::Flex)
            .map_err(|e| e.to_string())?
            .device
            .autodiff();
        let batch = data
            .train
            .epoch(0)
            .next()
            .ok_or("the training set has no full batch")?;
        let (images, labels) = batch_tensors(batch, &device);
        let config = NetConfig {
            arch: request.architecture,
            in_channels: data.channels,
            image_size: data.height,
            num_classes: data.num_classes,
            activation: ActivationSpec::parse("relu").expect("a baseline"),
            granularity: request.granularity,
        };
        device.seed(request.seed);
        let net = config.try_init(&device).map_err(|e| e.to_string())?;
        let mut drawn = DrawnWeights {
            skip: net.activation_param_ids(),
            values: Vec::new(),
        };
        net.visit(&mut drawn);
        Ok(InitProbe {
            config,
            images,
            labels,
            device,
            weights: drawn.values,
        })
    }

    /// The features of `activation` (a baseline name or an expression), as the module
    /// documentation lists them: sites, then weight gradients, then the loss.
    ///
    /// # Errors
    ///
    /// When `activation` does not parse or the network cannot be built with it.
    pub fn features(&self, activation: &str) -> Result<Vec<f64>, String> {
        let mut config = self.config.clone();
        config.activation = ActivationSpec::parse(activation).map_err(|e| e.to_string())?;
        let net = config.try_init(&self.device).map_err(|e| e.to_string())?;
        let skip = net.activation_param_ids();
        // The weights drawn in `new`, not these: the same for every form.
        let mut copy = CopyWeights {
            skip: &skip,
            values: &self.weights,
            next: 0,
            mismatch: None,
        };
        let net = net.map(&mut copy);
        if copy.next < self.weights.len() && copy.mismatch.is_none() {
            copy.mismatch = Some("fewer weights than were drawn".into());
        }
        if let Some(m) = copy.mismatch {
            return Err(format!(
                "the network with `{activation}` has other weights: {m}"
            ));
        }
        let (logits, outputs) = net.forward_recording(self.images.clone());
        let mut out: Vec<f64> = outputs.into_iter().map(log_rms).collect();
        let loss = cross_entropy(logits, self.labels.clone());
        let loss_value = f64::from(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let mut reader = WeightGradients {
            skip,
            grads: &grads,
            out: Vec::new(),
        };
        net.visit(&mut reader);
        out.extend(reader.out);
        out.push(clip(loss_value.log10()));
        Ok(out)
    }
}

/// log10 of a tensor's root mean square, clipped (a tensor holding a NaN or an infinity counts
/// as [`CLIP`]). Computed as max|t| · rms(t / max|t|), so that squaring large values (a loud
/// form) does not overflow f32.
fn log_rms<const D: usize>(t: Tensor<D>) -> f64 {
    let magnitude = t.clone().abs();
    // A NaN anywhere makes the sum NaN (a maximum may skip it).
    if f64::from(magnitude.clone().sum().into_scalar::<f32>()).is_nan() {
        return CLIP;
    }
    let peak = magnitude.max();
    let peak_value = f64::from(peak.clone().into_scalar::<f32>());
    if !peak_value.is_finite() || peak_value == 0.0 {
        return clip(peak_value.log10());
    }
    let scaled = t.div(peak.unsqueeze());
    let mean_square = f64::from(scaled.powi_scalar(2).mean().into_scalar::<f32>());
    clip(peak_value.log10() + 0.5 * mean_square.log10())
}

/// Clipped to ±[`CLIP`]; NaN and +∞ count as `CLIP`, −∞ (a zero spread) as −`CLIP`.
fn clip(v: f64) -> f64 {
    if v.is_nan() {
        CLIP
    } else {
        v.clamp(-CLIP, CLIP)
    }
}

/// Reads the float parameters that are not activation parameters, in module order.
struct DrawnWeights {
    skip: HashSet<ParamId>,
    values: Vec<TensorData>,
}

impl ModuleVisitor for DrawnWeights {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if !self.skip.contains(&param.id) {
            self.values.push(param.val().into_data());
        }
    }
}

/// Writes [`DrawnWeights`]' values back in the same order; a missing one or a shape that
/// differs is recorded in `mismatch`, and the parameter is left as it is.
struct CopyWeights<'a> {
    skip: &'a HashSet<ParamId>,
    values: &'a [TensorData],
    next: usize,
    mismatch: Option<String>,
}

impl ModuleMapper for CopyWeights<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if self.skip.contains(&param.id) || self.mismatch.is_some() {
            return param;
        }
        let Some(data) = self.values.get(self.next) else {
            self.mismatch = Some("more weights than were drawn".into());
            return param;
        };
        self.next += 1;
        if *data.shape() != param.shape() {
            self.mismatch = Some(format!(
                "shape {:?} where {:?} was drawn",
                param.shape(),
                data.shape()
            ));
            return param;
        }
        param.map(|t| Tensor::from_data(data.clone(), &t.device()).require_grad())
    }
}

/// Reads log10 RMS of the gradient of every weight of rank ≥ 2 that is not an activation
/// parameter, in module order (a missing gradient counts as a zero one).
struct WeightGradients<'g> {
    skip: HashSet<ParamId>,
    grads: &'g GradientsParams,
    out: Vec<f64>,
}

impl ModuleVisitor for WeightGradients<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if D < 2 || self.skip.contains(&param.id) {
            return;
        }
        self.out.push(match self.grads.get::<D>(param.id) {
            Some(g) => log_rms(g),
            None => -CLIP,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use pangaea_wire::{Arch, DatasetSpec};

    fn request() -> EvalRequest {
        EvalRequest {
            architecture: Arch::Tiny,
            batch_size: 16,
            dataset: DatasetSpec {
                limit_train: Some(200),
                limit_val: Some(20),
                ..DatasetSpec::default()
            },
            ..EvalRequest::default()
        }
    }

    #[test]
    fn features_are_fixed_per_function_and_see_the_signal() {
        let probe = InitProbe::new(&request()).unwrap();
        let relu = probe.features("relu").unwrap();
        // tiny: 4 sites, 4 convolution kernels and the classifier, the loss.
        assert_eq!(relu.len(), 4 + 5 + 1, "{relu:?}");
        assert_eq!(relu, probe.features("relu").unwrap(), "deterministic");
        // Another thread drawing from the process's generator all the while (as other tests
        // and a training run in the same process do) changes nothing.
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                // Stopped before anything below can panic, so the scope always ends.
                let flex = pangaea_nn::device::resolve(DeviceSpec::Flex)
                    .unwrap()
                    .device;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    flex.seed(99);
                    let _ = Tensor::<2>::random([64, 64], Distribution::Default, &flex);
                }
            });
            let again: Vec<_> = (0..5).map(|_| probe.features("relu")).collect();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            for f in again {
                assert_eq!(relu, f.unwrap(), "while another thread draws");
            }
        });
        assert_eq!(
            relu,
            probe.features("max(x, 0)").unwrap(),
            "the same function as an expression"
        );
        // Batch norm feeds every site N(0, 1)-like inputs: ReLU's output RMS is about 0.7.
        assert!(
            relu[..4].iter().all(|v| (v - 0.7f64.log10()).abs() < 0.1),
            "{relu:?}"
        );
        // A loss near ln 10 at initialisation.
        assert!((relu[9] - 10f64.ln().log10()).abs() < 0.15, "{relu:?}");
        // A loud function (e^{3x}: an RMS of e^{4.5} on N(0, 1)) shows at the first site, with
        // a finite spread where its mean square would overflow f32, and in the loss.
        let loud = probe
            .features("exp(x) * exp(x) * exp(x)")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(loud[0] > 3.0 && loud[0] < CLIP, "{loud:?}");
        assert!(loud[9] > relu[9] + 0.5, "{loud:?}");
        assert_ne!(loud[4..9], relu[4..9], "other weight gradients");
        // A function that is 0 everywhere passes no signal and no gradient; the logits are the
        // classifier's small initial biases, so the loss is close to ln 10.
        let quiet = probe.features("x - x").unwrap_or_else(|e| panic!("{e}"));
        assert!(quiet[..9].iter().all(|v| *v == -CLIP), "{quiet:?}");
        assert!((quiet[9] - 10f64.ln().log10()).abs() < 0.02, "{quiet:?}");
        assert!(probe.features("not a function(").is_err());
    }

    #[test]
    fn a_bad_request_is_an_error_that_names_it() {
        let mut r = request();
        r.dataset.limit_train = Some(3);
        let err = InitProbe::new(&r).err().unwrap();
        assert!(err.contains("fewer than one batch"), "{err}");
    }
}
