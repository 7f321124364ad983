//! Per-channel statistics and the normalization they define.
//!
//! Pixels are first scaled to [0, 1] (`v / 255`), then shifted and scaled per channel:
//! `(v / 255 - mean[c]) / std[c]`. The statistics come from the *training split* only, so no
//! information from the validation or test images leaks into training.

use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::DataError;

/// Exact per-channel mean and (population) standard deviation of a dataset's pixels, in
/// units of full intensity ([0, 1]). Computed from a 256-bin histogram per channel, so the
/// result does not depend on summation order. An empty dataset gives mean 0 and std 0.
pub fn channel_stats(dataset: &Dataset) -> (Vec<f64>, Vec<f64>) {
    let plane = dataset.height * dataset.width;
    let mut hist = vec![[0u64; 256]; dataset.channels];
    if plane > 0 {
        for image in dataset.images.chunks_exact(dataset.image_len().max(1)) {
            for (c, channel) in image.chunks_exact(plane).enumerate() {
                let h = &mut hist[c];
                for &v in channel {
                    h[usize::from(v)] += 1;
                }
            }
        }
    }
    let mut means = Vec::with_capacity(dataset.channels);
    let mut stds = Vec::with_capacity(dataset.channels);
    for h in &hist {
        let n: u64 = h.iter().sum();
        if n == 0 {
            means.push(0.0);
            stds.push(0.0);
            continue;
        }
        let sum: f64 = h
            .iter()
            .enumerate()
            .map(|(v, &k)| v as f64 * k as f64)
            .sum();
        let mean = sum / n as f64;
        let var: f64 = h
            .iter()
            .enumerate()
            .map(|(v, &k)| (v as f64 - mean).powi(2) * k as f64)
            .sum::<f64>()
            / n as f64;
        means.push(mean / 255.0);
        stds.push(var.sqrt() / 255.0);
    }
    (means, stds)
}

/// Per-channel normalization: `x = (v / 255 - mean[c]) / std[c]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Mean of each channel, in [0, 1] units.
    pub mean: Vec<f32>,
    /// Standard deviation of each channel, in [0, 1] units; never zero.
    pub std: Vec<f32>,
}

/// Lookup table: the normalized value of every byte, per channel.
pub type NormalizationTable = Vec<[f32; 256]>;

impl Normalization {
    /// The normalization defined by `dataset`'s channel statistics (pass the training split).
    /// A channel with zero spread (constant, or an empty dataset) gets std 1 so it only shifts.
    pub fn from_dataset(dataset: &Dataset) -> Self {
        let (mean, std) = channel_stats(dataset);
        Normalization {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: std
                .iter()
                .map(|&s| if s > 0.0 { s as f32 } else { 1.0 })
                .collect(),
        }
    }

    /// Only the scaling to [0, 1]: mean 0 and std 1 for `channels` channels.
    pub fn unit(channels: usize) -> Self {
        Normalization {
            mean: vec![0.0; channels],
            std: vec![1.0; channels],
        }
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    /// Checks that mean and std have `channels` finite entries each, std positive.
    pub fn check(&self, channels: usize) -> Result<(), DataError> {
        if self.mean.len() != channels || self.std.len() != channels {
            return Err(DataError::config(
                "normalization",
                format!(
                    "{} means and {} stds for {channels} channels",
                    self.mean.len(),
                    self.std.len()
                ),
            ));
        }
        if let Some(c) = (0..channels)
            .find(|&c| !(self.mean[c].is_finite() && self.std[c].is_finite() && self.std[c] > 0.0))
        {
            return Err(DataError::config(
                "normalization",
                format!(
                    "channel {c} has mean {} and std {}; need finite values and std > 0",
                    self.mean[c], self.std[c]
                ),
            ));
        }
        Ok(())
    }

    /// The normalized value of every byte value, per channel.
    pub fn table(&self) -> NormalizationTable {
        self.mean
            .iter()
            .zip(&self.std)
            .map(|(&m, &s)| std::array::from_fn(|v| (v as f32 / 255.0 - m) / s))
            .collect()
    }

    /// Normalizes one C×H×W image into `out` (same length).
    ///
    /// # Panics
    /// When the lengths differ or are not a multiple of the channel count.
    pub fn apply(&self, image: &[u8], out: &mut [f32]) {
        assert_eq!(
            image.len(),
            out.len(),
            "normalize: image has {} bytes but output has {} slots",
            image.len(),
            out.len()
        );
        let plane = image.len() / self.channels().max(1);
        assert_eq!(
            plane * self.channels(),
            image.len(),
            "normalize: {} bytes are not {} equal channel planes",
            image.len(),
            self.channels()
        );
        for c in 0..self.channels() {
            let (m, s) = (self.mean[c], self.std[c]);
            for (o, &v) in out[c * plane..(c + 1) * plane]
                .iter_mut()
                .zip(&image[c * plane..(c + 1) * plane])
            {
                *o = (f32::from(v) / 255.0 - m) / s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_channel() -> Dataset {
        // Channel 0 takes 0 and 255 equally often; channel 1 is constant 51.
        Dataset::new(
            "t",
            2,
            1,
            2,
            1,
            vec!["x".into()],
            vec![0, 255, 51, 51, 255, 0, 51, 51],
            vec![0, 0],
        )
        .unwrap()
    }

    #[test]
    fn stats_are_exact() {
        let (mean, std) = channel_stats(&two_channel());
        assert_eq!(mean, vec![0.5, 0.2]);
        assert_eq!(std, vec![0.5, 0.0]);
    }

    #[test]
    fn normalized_training_data_has_zero_mean_unit_std() {
        let d = two_channel();
        let norm = Normalization::from_dataset(&d);
        assert_eq!(norm.std[1], 1.0, "constant channel keeps std 1");
        let mut out = vec![0.0; 4];
        norm.apply(d.image(0), &mut out);
        assert_eq!(out, vec![-1.0, 1.0, 0.0, 0.0]);
        let table = norm.table();
        assert_eq!(table[0][255], 1.0);
        assert_eq!(table[1][51], 0.0);
    }

    #[test]
    fn check_rejects_bad_values() {
        assert!(Normalization::unit(3).check(3).is_ok());
        assert!(Normalization::unit(3).check(1).is_err());
        let bad = Normalization {
            mean: vec![0.0],
            std: vec![0.0],
        };
        assert!(bad.check(1).unwrap_err().to_string().contains("channel 0"));
    }
}
