//! A small, learnable 10-class image task generated from a seed, for tests and demos.
//!
//! Class `k` is a sinusoidal stripe pattern at orientation `(k % 5) × 36°` with period about
//! 3 px (`k < 5`) or 6 px (`k ≥ 5`). Everything else is a nuisance drawn per image: the
//! stripes' phase (so position carries no information), a ±5 % jitter of the period, the
//! contrast, a brightness offset, a colour tint per channel, and uniform pixel noise. The class
//! lives only in the spatial pattern, so any channel count works and a small CNN with a few
//! 3×3 convolutions learns it to high accuracy in seconds, while the noise keeps it from being
//! trivially perfect. Random crops keep the label (the pattern is translation invariant);
//! horizontal flips do not (they turn 36° into 144°), so flips are off by default.

use std::f32::consts::PI;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, TrainTest};
use crate::error::DataError;
use crate::seed::derive_seed;

/// Class names of the synthetic task, by label.
pub const SYNTHETIC_CLASSES: [&str; 10] = [
    "fine-0deg",
    "fine-36deg",
    "fine-72deg",
    "fine-108deg",
    "fine-144deg",
    "coarse-0deg",
    "coarse-36deg",
    "coarse-72deg",
    "coarse-108deg",
    "coarse-144deg",
];

/// The stripe period, in pixels, of class `k`.
pub fn class_period(k: usize) -> f32 {
    if k < 5 {
        3.0
    } else {
        6.0
    }
}

/// The stripe orientation, in radians, of class `k`.
pub fn class_angle(k: usize) -> f32 {
    (k % 5) as f32 * PI / 5.0
}

/// How to generate the synthetic dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyntheticConfig {
    /// Training images. Default 5,000 (500 per class).
    pub train: usize,
    /// Test images. Default 1,000.
    pub test: usize,
    /// Channels per image. Default 3, like CIFAR.
    pub channels: usize,
    /// Rows per image, at least 8. Default 16: big enough for the coarse stripes to show
    /// orientation, small enough for a CPU to train on it in seconds.
    pub height: usize,
    /// Columns per image, at least 8. Default 16.
    pub width: usize,
    /// Half-width of the uniform pixel noise, in units of full intensity. Default 0.25: a
    /// nearest-pattern classifier still gets over 90 %, and a CNN has something to learn.
    pub noise: f32,
    /// The seed; the same configuration always gives the same bytes. Default 0.
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            train: 5_000,
            test: 1_000,
            channels: 3,
            height: 16,
            width: 16,
            noise: 0.25,
            seed: 0,
        }
    }
}

impl SyntheticConfig {
    fn check(&self) -> Result<(), DataError> {
        if self.channels == 0 || self.channels > 64 {
            return Err(DataError::config(
                "synthetic channels",
                format!("{} is not in 1..=64", self.channels),
            ));
        }
        if self.height < 8 || self.width < 8 || self.height > 1024 || self.width > 1024 {
            return Err(DataError::config(
                "synthetic image size",
                format!(
                    "{}×{} is not within 8..=1024 on each side",
                    self.height, self.width
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.noise) {
            return Err(DataError::config(
                "synthetic noise",
                format!("{} is not in [0, 1]", self.noise),
            ));
        }
        let per_image = self.channels * self.height * self.width;
        if self
            .train
            .checked_add(self.test)
            .and_then(|n| n.checked_mul(per_image))
            .is_none_or(|bytes| bytes > (1 << 34))
        {
            return Err(DataError::config(
                "synthetic size",
                format!(
                    "{} + {} images of {per_image} bytes exceed 16 GiB",
                    self.train, self.test
                ),
            ));
        }
        Ok(())
    }
}

/// Generates the synthetic train and test sets. Labels cycle through the classes
/// (`i % 10`), so the classes are balanced; each image draws its nuisances from its own seeded
/// stream, so image `i` does not depend on how many images are generated.
pub fn generate(config: &SyntheticConfig) -> Result<TrainTest, DataError> {
    config.check()?;
    Ok(TrainTest {
        train: generate_part(config, "synthetic/train", config.train, 0)?,
        test: generate_part(config, "synthetic/test", config.test, 1)?,
    })
}

fn generate_part(
    config: &SyntheticConfig,
    name: &str,
    count: usize,
    part: u64,
) -> Result<Dataset, DataError> {
    let (c, h, w) = (config.channels, config.height, config.width);
    let mut images = vec![0u8; count * c * h * w];
    let mut labels = Vec::with_capacity(count);
    for (i, image) in images.chunks_exact_mut(c * h * w).enumerate() {
        let class = i % SYNTHETIC_CLASSES.len();
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(config.seed, &[part, i as u64]));
        draw_image(class, config, &mut rng, image);
        labels.push(class as u16);
    }
    Dataset::new(
        name,
        c,
        h,
        w,
        SYNTHETIC_CLASSES.len(),
        SYNTHETIC_CLASSES.iter().map(|s| (*s).to_owned()).collect(),
        images,
        labels,
    )
}

/// Draws one image of class `class` into `out` (C×H×W bytes).
fn draw_image(class: usize, config: &SyntheticConfig, rng: &mut impl Rng, out: &mut [u8]) {
    let (h, w) = (config.height, config.width);
    let angle = class_angle(class);
    let period = class_period(class) * rng.random_range(0.95f32..1.05);
    let phase = rng.random_range(0.0f32..2.0 * PI);
    let contrast = rng.random_range(0.25f32..0.45);
    let brightness = rng.random_range(-0.1f32..0.1);
    let (kx, ky) = (
        angle.cos() * 2.0 * PI / period,
        angle.sin() * 2.0 * PI / period,
    );
    for plane in out.chunks_exact_mut(h * w) {
        let tint = rng.random_range(0.5f32..1.0);
        for (p, px) in plane.iter_mut().enumerate() {
            let (y, x) = ((p / w) as f32, (p % w) as f32);
            let wave = (kx * x + ky * y + phase).cos();
            let noise = if config.noise > 0.0 {
                rng.random_range(-config.noise..=config.noise)
            } else {
                0.0
            };
            let v = 0.5 + brightness + contrast * tint * wave + noise;
            *px = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SyntheticConfig {
        SyntheticConfig {
            train: 200,
            test: 50,
            ..SyntheticConfig::default()
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = generate(&small()).unwrap();
        let b = generate(&small()).unwrap();
        assert_eq!(a, b);
        let c = generate(&SyntheticConfig { seed: 1, ..small() }).unwrap();
        assert_ne!(a.train.images, c.train.images);
        assert_eq!(a.train.labels, c.train.labels);
    }

    #[test]
    fn image_i_does_not_depend_on_the_count() {
        let a = generate(&small()).unwrap();
        let b = generate(&SyntheticConfig {
            train: 20,
            ..small()
        })
        .unwrap();
        assert_eq!(&a.train.images[..b.train.images.len()], &b.train.images[..]);
    }

    #[test]
    fn shape_and_balance_follow_the_config() {
        let cfg = SyntheticConfig {
            train: 30,
            test: 10,
            channels: 1,
            height: 8,
            width: 12,
            ..SyntheticConfig::default()
        };
        let d = generate(&cfg).unwrap();
        assert_eq!(
            (d.train.channels, d.train.height, d.train.width),
            (1, 8, 12)
        );
        assert_eq!(d.train.images.len(), 30 * 96);
        assert_eq!(d.train.class_counts(), vec![3; 10]);
        assert_eq!(d.test.len(), 10);
    }

    #[test]
    fn bad_configs_are_errors() {
        for cfg in [
            SyntheticConfig {
                channels: 0,
                ..small()
            },
            SyntheticConfig {
                height: 4,
                ..small()
            },
            SyntheticConfig {
                noise: 2.0,
                ..small()
            },
            SyntheticConfig {
                train: usize::MAX,
                ..small()
            },
        ] {
            let err = generate(&cfg).unwrap_err();
            assert!(err.is_usage(), "{err}");
        }
    }
}
