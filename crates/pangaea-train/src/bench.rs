//! Timing of training steps (forward + backward + optimizer update) on synthetic data, for
//! `pangaea bench train`: the same [`train_step`] a run uses, so the figure is what training
//! costs.

use std::time::Instant;

use burn::tensor::{Distribution, Int, Tensor, TensorData};
use pangaea_nn::{ActivationSpec, NetConfig};
use pangaea_wire::{Arch, DeviceSpec, Granularity, OptimizerSpec};

use crate::optimizer::SgdOptimizer;
use crate::step::train_step;

/// What to time.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchConfig {
    /// The network.
    pub architecture: Arch,
    /// Activation text: a baseline name or an expression.
    pub activation: String,
    /// Parameter granularity of an expression activation.
    pub granularity: Granularity,
    /// Images per step.
    pub batch_size: usize,
    /// Timed steps, after one untimed warm-up step.
    pub steps: usize,
    /// Channels of the synthetic images (3 like CIFAR).
    pub channels: usize,
    /// Side of the synthetic square images (32 like CIFAR).
    pub image_size: usize,
    /// Classes of the synthetic labels.
    pub num_classes: usize,
    /// Seed of the weights and the synthetic data.
    pub seed: u64,
    /// Where to run.
    pub device: DeviceSpec,
}

impl BenchConfig {
    /// CIFAR-shaped synthetic data (3×32×32, 10 classes), seed 0.
    pub fn new(architecture: Arch, activation: &str, batch_size: usize, steps: usize) -> Self {
        Self {
            architecture,
            activation: activation.to_owned(),
            granularity: Granularity::Channel,
            batch_size,
            steps,
            channels: 3,
            image_size: 32,
            num_classes: 10,
            seed: 0,
            device: DeviceSpec::Auto,
        }
    }
}

/// The measured step times.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// The activation as built: baseline name or canonical expression text.
    pub activation: String,
    /// Seconds of the untimed warm-up step (allocation, first-touch, thread start-up).
    pub warmup_seconds: f64,
    /// Seconds of each timed step.
    pub step_seconds: Vec<f64>,
    /// Trainable scalars of the network, activation parameters excluded.
    pub num_weights: usize,
    /// The backend it ran on, in words.
    pub device: String,
}

impl BenchReport {
    /// Median of the timed steps (the mean of the middle two for an even count).
    pub fn median_seconds(&self) -> f64 {
        let mut s = self.step_seconds.clone();
        s.sort_by(f64::total_cmp);
        match s.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => s[n / 2],
            n => 0.5 * (s[n / 2 - 1] + s[n / 2]),
        }
    }
}

/// Why a benchmark could not start.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The activation is not known.
    #[error(transparent)]
    Network(#[from] pangaea_nn::NnError),
    /// A size is zero.
    #[error("bad value for `{field}`: expected at least 1")]
    Zero {
        /// The field.
        field: &'static str,
    },
}

/// Times `config.steps` training steps after one warm-up step.
pub fn bench_train_step(config: &BenchConfig) -> Result<BenchReport, BenchError> {
    for (field, value) in [
        ("batch_size", config.batch_size),
        ("steps", config.steps),
        ("channels", config.channels),
        ("image_size", config.image_size),
        ("num_classes", config.num_classes),
    ] {
        if value == 0 {
            return Err(BenchError::Zero { field });
        }
    }
    let activation = ActivationSpec::parse(&config.activation)?;
    let resolved = pangaea_nn::device::resolve(config.device)?;
    let device = resolved.device.autodiff();
    device.seed(config.seed);
    let net_config = NetConfig {
        arch: config.architecture,
        in_channels: config.channels,
        image_size: config.image_size,
        num_classes: config.num_classes,
        activation: activation.clone(),
        granularity: config.granularity,
    };
    let mut net = net_config.init(&device);
    let num_weights = net.num_weights();
    let ids = net.activation_param_ids().into_iter().collect();
    let mut optim = SgdOptimizer::new(&OptimizerSpec::default(), ids);
    let shape = [
        config.batch_size,
        config.channels,
        config.image_size,
        config.image_size,
    ];
    let images = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let labels: Vec<i64> = (0..config.batch_size)
        .map(|i| (i % config.num_classes) as i64)
        .collect();
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [config.batch_size]), &device);
    let mut times = Vec::with_capacity(config.steps + 1);
    for _ in 0..=config.steps {
        let start = Instant::now();
        let (next, _) = train_step(net, &mut optim, 0.01, images.clone(), labels.clone());
        net = next;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(BenchReport {
        activation: activation.to_string(),
        warmup_seconds: times[0],
        step_seconds: times[1..].to_vec(),
        num_weights,
        device: resolved.backend.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let mut report = BenchReport {
            activation: "relu".into(),
            warmup_seconds: 9.0,
            step_seconds: vec![3.0, 1.0, 2.0],
            num_weights: 0,
            device: "flex (CPU)".into(),
        };
        assert_eq!(report.median_seconds(), 2.0);
        report.step_seconds.push(10.0);
        assert_eq!(report.median_seconds(), 2.5);
    }

    #[test]
    fn a_tiny_bench_runs_and_times_every_step() {
        let mut config = BenchConfig::new(Arch::Tiny, "alpha * x * sigmoid(beta * x)", 8, 2);
        config.image_size = 16;
        let report = bench_train_step(&config).unwrap();
        assert_eq!(report.step_seconds.len(), 2);
        assert!(report.step_seconds.iter().all(|&s| s > 0.0));
        assert!(report.num_weights > 0);
    }

    #[test]
    fn bad_names_are_errors() {
        let config = BenchConfig::new(Arch::Tiny, "tanh(", 8, 1);
        assert!(bench_train_step(&config).is_err());
        let config = BenchConfig::new(Arch::Tiny, "relu", 0, 1);
        assert!(matches!(
            bench_train_step(&config),
            Err(BenchError::Zero {
                field: "batch_size"
            })
        ));
    }
}
