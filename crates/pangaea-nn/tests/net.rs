//! Whole networks: shapes, sizes, sites, activation parameters and their gradients, and the
//! training/evaluation modes.

use std::collections::HashSet;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Distribution, Tensor};
use pangaea_nn::{ActivationSpec, Arch, Baseline, Granularity, Net, NetConfig, NnError};

/// The device's random generator belongs to the whole process (weights are drawn from it), so
/// tests that seed it must not run while another test draws from it: every test of this file
/// holds this lock.
fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn config(arch: Arch, activation: &str, granularity: Granularity) -> NetConfig {
    NetConfig {
        arch,
        in_channels: 3,
        image_size: 32,
        num_classes: 10,
        activation: ActivationSpec::parse(activation).unwrap(),
        granularity,
    }
}

fn images(device: &Device, batch: usize, channels: usize, side: usize) -> Tensor<4> {
    Tensor::random(
        [batch, channels, side, side],
        Distribution::Normal(0.0, 1.0),
        device,
    )
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

/// Weights (not activation parameters) for 3 channels and 10 classes, and the number of sites.
const SIZES: [(Arch, usize, usize); 6] = [
    (Arch::Tiny, 61_338, 4),
    (Arch::Wrn10_4, 1_198_810, 7),
    (Arch::ResNetV1_56, 853_018, 55),
    (Arch::ResNetV1_20, 269_722, 19),
    (Arch::ResNetV2_56, 1_663_338, 55),
    (Arch::AllCnnC, 1_369_738, 9),
];

#[test]
fn every_architecture_has_its_shape_size_and_sites() {
    let _rng = rng_lock();
    let device = pangaea_nn::device::default_device();
    for (arch, weights, sites) in SIZES {
        let net = config(arch, "relu", Granularity::Channel).init(&device);
        let logits = net.valid().forward(images(&device, 2, 3, 32));
        assert_eq!(logits.dims(), [2, 10], "{arch}");
        assert!(values(logits).iter().all(|v| v.is_finite()), "{arch}");
        assert_eq!(net.num_weights(), weights, "{arch}: weights");
        assert_eq!(net.num_activation_params(), 0, "{arch}");
        let names: Vec<String> = net.sites().iter().map(|s| s.site().to_string()).collect();
        assert_eq!(names.len(), sites, "{arch}: sites {names:?}");
        let unique: HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), sites, "{arch}: site names repeat: {names:?}");
    }
}

#[test]
fn architectures_take_mnist_sized_and_small_inputs() {
    let _rng = rng_lock();
    let device = pangaea_nn::device::default_device();
    for arch in [Arch::Tiny, Arch::AllCnnC, Arch::Wrn10_4] {
        for side in [28, 8] {
            let mut c = config(arch, "relu", Granularity::Channel);
            c.in_channels = 1;
            c.image_size = side;
            c.num_classes = 4;
            let net = c.init(&device);
            let logits = net.valid().forward(images(&device, 2, 1, side));
            assert_eq!(logits.dims(), [2, 4], "{arch} at {side}×{side}");
        }
    }
}

#[test]
fn site_names_follow_the_blocks() {
    let _rng = rng_lock();
    let device = pangaea_nn::device::default_device();
    let names = |arch| -> Vec<String> {
        config(arch, "relu", Granularity::Channel)
            .init(&device)
            .sites()
            .iter()
            .map(|s| s.site().to_string())
            .collect()
    };
    assert_eq!(
        names(Arch::Wrn10_4),
        [
            "stage1.block0.act1",
            "stage1.block0.act2",
            "stage2.block0.act1",
            "stage2.block0.act2",
            "stage3.block0.act1",
            "stage3.block0.act2",
            "head.act"
        ]
    );
    let v1 = names(Arch::ResNetV1_56);
    assert_eq!(v1[0], "stem.act");
    assert_eq!(v1[54], "stage3.block8.act2");
    let v2 = names(Arch::ResNetV2_56);
    assert_eq!(
        &v2[..3],
        ["stem.act", "stage1.block0.act2", "stage1.block0.act3"]
    );
    assert_eq!(v2[54], "head.act");
    assert_eq!(
        names(Arch::Tiny),
        ["conv1.act", "conv2.act", "conv3.act", "conv4.act"]
    );
}

#[test]
fn expression_parameters_per_granularity() {
    let _rng = rng_lock();
    let device = pangaea_nn::device::default_device();
    let expr = "alpha * x * sigmoid(beta * x)";
    let relu = config(Arch::Wrn10_4, "relu", Granularity::Channel).init(&device);
    // WRN-10-4 site widths: 16, 64 | 64, 128 | 128, 256 | 256.
    let channels = 16 + 64 + 64 + 128 + 128 + 256 + 256;
    for (g, expected) in [
        (Granularity::Channel, 2 * channels),
        (Granularity::Layer, 2 * 7),
        (Granularity::Shared, 2),
    ] {
        let net = config(Arch::Wrn10_4, expr, g).init(&device);
        assert_eq!(net.num_activation_params(), expected, "{g}");
        assert_eq!(net.num_weights(), relu.num_weights(), "{g}");
        let ids = net.activation_param_ids();
        assert_eq!(
            ids.len(),
            if g == Granularity::Shared { 1 } else { 7 },
            "{g}"
        );
        let records = net.activation_params();
        assert_eq!(records.len(), 7);
        for r in &records {
            assert_eq!(r.params.keys().collect::<Vec<_>>(), ["alpha", "beta"]);
            let units = r.params["alpha"].len();
            assert_eq!(units == 1, g != Granularity::Channel, "{g} {}", r.site);
            assert!(r.params.values().flatten().all(|&v| v == 1.0));
        }
    }
}

#[test]
fn baselines_report_their_parameters() {
    let _rng = rng_lock();
    let device = pangaea_nn::device::default_device();
    for b in Baseline::ALL {
        let net = config(Arch::Tiny, &b.to_string(), Granularity::Channel).init(&device);
        let logits = net.valid().forward(images(&device, 2, 3, 16));
        assert!(values(logits).iter().all(|v| v.is_finite()), "{b}");
        let records = net.activation_params();
        let first = &records[0].params; // conv1.act: 16 channels
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        let expected: &[&str] = match b {
            Baseline::Prelu => &["alpha"],
            Baseline::SwishBeta => &["beta"],
            Baseline::Pau => &["a0", "a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4"],
            Baseline::Apl { .. } => &["a1", "a2", "b1", "b2"],
            _ => &[],
        };
        assert_eq!(keys, expected, "{b}");
        let units = if b == Baseline::Pau { 1 } else { 16 };
        assert!(first.values().all(|v| v.len() == units), "{b}");
        assert_eq!(
            net.activation_param_ids().is_empty(),
            !b.is_learnable(),
            "{b}"
        );
    }
}

/// Adds `delta` to element `index` of the parameter tensor `id`.
struct Nudge {
    id: ParamId,
    index: usize,
    delta: f32,
}

impl ModuleMapper for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if param.id != self.id {
            return param;
        }
        let (index, delta) = (self.index, self.delta);
        param.map(|t| {
            let shape = t.shape();
            let device = t.device();
            let mut bump = vec![0f32; shape.num_elements()];
            bump[index] = delta;
            let bump = Tensor::<1>::from_floats(bump.as_slice(), &device).reshape(shape);
            t.add(bump)
        })
    }
}

/// The seeds of the finite-difference check.
const SEEDS: std::ops::Range<u64> = 0..6;

/// Reads the gradients of the given parameter tensors, whatever their rank.
struct GradReader<'a> {
    grads: &'a GradientsParams,
    ids: &'a HashSet<ParamId>,
    found: Vec<(ParamId, Vec<f32>)>,
}

impl ModuleVisitor for GradReader<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.ids.contains(&param.id) {
            let g = self.grads.get::<D>(param.id).expect("a gradient");
            self.found.push((param.id, values(g)));
        }
    }
}

/// Checks burn's gradient of a fixed random projection of the logits with respect to every
/// activation parameter tensor against central finite differences, on the tiny network.
fn finite_differences(activation: &str, granularity: Granularity, seed: u64) {
    let device = pangaea_nn::device::default_device().autodiff();
    device.seed(seed);
    let mut c = config(Arch::Tiny, activation, granularity);
    c.image_size = 8;
    // Batch norm in its evaluation form (`freeze` turns the training flags off; every tensor
    // then requires gradients again): normalising by the statistics of a 2×2 map of 2 images
    // makes the loss so curved that central differences need steps below f32's resolution.
    let net = c.init(&device).freeze().set_require_grad(true);
    let x = images(&device, 2, 3, 8);
    let w = Tensor::<2>::random([2, 10], Distribution::Normal(0.0, 1.0), &device);
    let loss = |net: &Net| net.forward(x.clone()).mul(w.clone()).sum();

    let grads = loss(&net).backward();
    let grads = GradientsParams::from_grads(grads, &net);
    let ids = net.activation_param_ids();
    assert!(!ids.is_empty());
    let mut reader = GradReader {
        grads: &grads,
        ids: &ids,
        found: Vec::new(),
    };
    net.visit(&mut reader);
    assert_eq!(
        reader.found.len(),
        ids.len(),
        "a gradient for every parameter tensor"
    );
    let h = 1e-2f32;
    for (id, g) in reader.found {
        // A few entries of each tensor: the first, the last, one in between.
        for index in [0, g.len() / 2, g.len() - 1] {
            let plus = loss(&net.clone().map(&mut Nudge {
                id,
                index,
                delta: h,
            }));
            let minus = loss(&net.clone().map(&mut Nudge {
                id,
                index,
                delta: -h,
            }));
            let fd = (plus.into_scalar::<f32>() - minus.into_scalar::<f32>()) / (2.0 * h);
            let ad = g[index];
            assert!(
                (fd - ad).abs() <= 1e-2 * ad.abs().max(fd.abs()) + 2e-3,
                "{activation} ({granularity}, seed {seed}): entry {index}: autodiff {ad}, finite differences {fd}"
            );
        }
    }
}

#[test]
fn activation_parameter_gradients_match_finite_differences() {
    let _rng = rng_lock();
    for seed in SEEDS {
        finite_differences(
            "alpha * x * sigmoid(beta * x) + gamma * tanh(x)",
            Granularity::Channel,
            seed,
        );
        finite_differences(
            "alpha * elu(beta * x) + gamma * erf(x)",
            Granularity::Layer,
            seed,
        );
        finite_differences("alpha * x * sigmoid(beta * x)", Granularity::Shared, seed);
        finite_differences("pau", Granularity::Channel, seed);
        finite_differences("swish_beta", Granularity::Channel, seed);
    }
}

#[test]
fn parameters_differ_by_channel_after_one_update() {
    let _rng = rng_lock();
    let device = pangaea_nn::device::default_device().autodiff();
    device.seed(3);
    let net = config(
        Arch::Tiny,
        "alpha * x * sigmoid(beta * x)",
        Granularity::Channel,
    )
    .init(&device);
    let before = net.activation_params();
    let loss = net
        .forward(images(&device, 4, 3, 8))
        .mul(Tensor::random(
            [4, 10],
            Distribution::Normal(0.0, 1.0),
            &device,
        ))
        .sum();
    let mut grads = loss.backward();
    // Only the activation parameters, as an optimizer without weight decay would get them.
    let ids: Vec<ParamId> = net.activation_param_ids().into_iter().collect();
    let act_grads = GradientsParams::from_params(&mut grads, &net, &ids);
    assert_eq!(act_grads.len(), ids.len());
    let mut sgd = SgdConfig::new().init();
    let weights_before = weight_values(&net);
    let net = sgd.step(0.1, net, act_grads);
    let after = net.activation_params();
    for (b, a) in before.iter().zip(&after) {
        for (name, values) in &a.params {
            assert!(b.params[name].iter().all(|&v| v == 1.0));
            let distinct: HashSet<u32> = values.iter().map(|v| v.to_bits()).collect();
            assert!(
                distinct.len() > 1,
                "{} {name}: all channels still equal: {values:?}",
                a.site
            );
        }
    }
    // The weights had no gradients in this step, so they did not move.
    assert_eq!(weight_values(&net), weights_before);
}

/// The values of every float tensor of the network that is not an activation parameter.
fn weight_values(net: &Net) -> Vec<Vec<f32>> {
    struct Collect {
        skip: HashSet<ParamId>,
        values: Vec<Vec<f32>>,
    }
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if !self.skip.contains(&param.id) {
                self.values.push(values(param.val()));
            }
        }
    }
    let mut collect = Collect {
        skip: net.activation_param_ids(),
        values: Vec::new(),
    };
    net.visit(&mut collect);
    collect.values
}

#[test]
fn training_and_evaluation_modes() {
    let _rng = rng_lock();
    let device = pangaea_nn::device::default_device().autodiff();
    device.seed(5);
    let net = config(Arch::AllCnnC, "relu", Granularity::Channel).init(&device);
    let x = images(&device, 2, 3, 12);
    // Dropout is active on the autodiff device: two forwards differ.
    let a = values(net.forward(x.clone()));
    let b = values(net.forward(x.clone()));
    assert_ne!(a, b);
    // The validation copy on the plain device is deterministic.
    let eval = net.valid();
    let plain = x.clone().without_autodiff();
    assert!(!plain.device().is_autodiff());
    let c = values(eval.forward(plain.clone()));
    let d = values(eval.forward(plain));
    assert_eq!(c, d);

    // Batch norm: training-mode forwards move the running statistics that evaluation uses.
    let tiny = config(Arch::Tiny, "relu", Granularity::Channel).init(&device);
    let x = images(&device, 4, 3, 8).mul_scalar(3.0).add_scalar(2.0);
    let eval_before = values(tiny.valid().forward(x.clone().without_autodiff()));
    let _ = tiny.forward(x.clone());
    let eval_after = values(tiny.valid().forward(x.without_autodiff()));
    assert_ne!(eval_before, eval_after);
}

#[test]
fn invalid_configs_are_errors_that_name_the_field() {
    let _rng = rng_lock();
    let mut c = config(Arch::Tiny, "relu", Granularity::Channel);
    c.image_size = 4;
    let err = c
        .try_init(&pangaea_nn::device::default_device())
        .unwrap_err();
    assert_eq!(
        err,
        NnError::Config {
            field: "image_size",
            value: 4,
            expected: "expected at least 8".to_string()
        }
    );
    assert_eq!(
        err.to_string(),
        "network config field `image_size` is 4: expected at least 8"
    );
    c.image_size = 32;
    c.num_classes = 0;
    assert!(matches!(
        c.validate(),
        Err(NnError::Config {
            field: "num_classes",
            ..
        })
    ));
}

#[test]
#[should_panic = "images have 1 channels, the network (tiny) expects 3"]
fn wrong_channel_count_panics() {
    let _rng = rng_lock();
    let device = pangaea_nn::device::default_device();
    let net = config(Arch::Tiny, "relu", Granularity::Channel).init(&device);
    let _ = net.forward(images(&device, 1, 1, 8));
}

#[test]
fn configs_round_trip_through_json() {
    let _rng = rng_lock();
    let c = config(
        Arch::ResNetV2_56,
        "alpha * tanh(beta * x)",
        Granularity::Layer,
    );
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<NetConfig>(&json).unwrap(), c);
}

#[test]
fn forward_recording_returns_every_site_output_and_the_same_logits() {
    let _rng = rng_lock();
    let device = pangaea_nn::device::default_device();
    for (arch, _, sites) in [SIZES[0], SIZES[1], SIZES[3]] {
        device.seed(3);
        let net = config(arch, "relu", Granularity::Channel).init(&device);
        let x = images(&device, 2, 3, 32);
        let plain = values(net.forward(x.clone()));
        let (logits, outputs) = net.forward_recording(x);
        assert_eq!(values(logits), plain, "{arch}: recording changes nothing");
        assert_eq!(outputs.len(), sites, "{arch}: one output per site");
        for (site, y) in net.sites().iter().zip(outputs) {
            let [batch, ..] = y.dims();
            assert_eq!(batch, 2, "{arch} {}", site.site());
            assert!(
                values(y).iter().all(|v| *v >= 0.0),
                "{arch} {}: the recorded tensor is the ReLU's output",
                site.site()
            );
        }
    }
}
