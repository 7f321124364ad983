//! A dataset's vital statistics as a serializable summary (what `pangaea data info` prints).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, TrainTest};
use crate::normalize::channel_stats;
use pangaea_wire::DatasetName;

/// Counts, classes, per-class histogram and channel statistics of one dataset part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// The dataset's name (`cifar10/train`, …).
    pub name: String,
    /// Number of images.
    pub count: usize,
    /// Channels per image.
    pub channels: usize,
    /// Rows per image.
    pub height: usize,
    /// Columns per image.
    pub width: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// Class names, by label.
    pub class_names: Vec<String>,
    /// Images per class, by label.
    pub class_counts: Vec<usize>,
    /// Mean of each channel, in [0, 1] units.
    pub channel_mean: Vec<f64>,
    /// Population standard deviation of each channel, in [0, 1] units.
    pub channel_std: Vec<f64>,
}

impl DatasetInfo {
    /// Summarizes `dataset`.
    pub fn of(dataset: &Dataset) -> Self {
        let (channel_mean, channel_std) = channel_stats(dataset);
        DatasetInfo {
            name: dataset.name.clone(),
            count: dataset.len(),
            channels: dataset.channels,
            height: dataset.height,
            width: dataset.width,
            num_classes: dataset.num_classes,
            class_names: dataset.class_names.clone(),
            class_counts: dataset.class_counts(),
            channel_mean,
            channel_std,
        }
    }
}

/// The summary of a whole dataset: where it was read from, and both parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainTestInfo {
    /// Which dataset.
    pub dataset: DatasetName,
    /// The folder the files were read from; `None` for the generated synthetic set.
    pub location: Option<PathBuf>,
    /// The training set.
    pub train: DatasetInfo,
    /// The test set.
    pub test: DatasetInfo,
}

impl TrainTestInfo {
    /// Summarizes both parts of `data`.
    pub fn of(dataset: DatasetName, location: Option<PathBuf>, data: &TrainTest) -> Self {
        TrainTestInfo {
            dataset,
            location,
            train: DatasetInfo::of(&data.train),
            test: DatasetInfo::of(&data.test),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{generate, SyntheticConfig};

    #[test]
    fn info_counts_and_serializes() {
        let data = generate(&SyntheticConfig {
            train: 40,
            test: 20,
            ..SyntheticConfig::default()
        })
        .unwrap();
        let info = TrainTestInfo::of(DatasetName::Synthetic, None, &data);
        assert_eq!(info.train.count, 40);
        assert_eq!(info.train.class_counts, vec![4; 10]);
        assert_eq!(info.test.class_counts.iter().sum::<usize>(), 20);
        assert_eq!(info.train.channel_mean.len(), 3);
        assert!(info
            .train
            .channel_mean
            .iter()
            .all(|m| (0.3..0.7).contains(m)));
        let json = serde_json::to_string(&info).unwrap();
        assert!(json.contains("\"dataset\":\"synthetic\""), "{json}");
        let back: TrainTestInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back.train.class_counts, info.train.class_counts);
        assert_eq!(back.test.class_names, info.test.class_names);
        for (a, b) in back.train.channel_std.iter().zip(&info.train.channel_std) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }
}
