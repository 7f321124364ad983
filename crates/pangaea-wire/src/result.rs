//! [`EvalResult`]: what one training run produced.
//!
//! Other tools (the search, reports, scripts) read these field names; they are pinned by a test
//! (`pinned_json_field_names`) and may only change together with [`RESULT_VERSION`].
//!
//! A diverged, rejected or failed run is a result with a [`Status`] and a `reason`, never a
//! process error (ARCHITECTURE.md, convention 8). Metrics that were not measured are `null`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::json::JsonFile;

/// The version of the [`EvalResult`] format this code writes (and the newest it reads).
pub const RESULT_VERSION: u32 = 1;

/// The outcome of one training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalResult {
    /// Format version; see [`RESULT_VERSION`].
    pub version: u32,
    /// The request's label, echoed.
    pub label: Option<String>,
    /// How the run ended.
    pub status: Status,
    /// Why, when `status` is not `ok`: the parse error, the epoch and batch of the non-finite
    /// loss, the failure. `null` when ok.
    pub reason: Option<String>,
    /// The activation as trained: canonical text of the expression, or the baseline name.
    pub activation: String,
    /// Validation accuracy after the last epoch, a fraction in [0, 1]; `null` when the run did
    /// not finish.
    pub val_accuracy: Option<f64>,
    /// Mean validation cross-entropy after the last epoch; `null` when the run did not finish.
    pub val_loss: Option<f64>,
    /// Test accuracy after the last epoch, a fraction in [0, 1]; `null` unless the request asked
    /// for it (`dataset.measure_test`) and the run finished.
    pub test_accuracy: Option<f64>,
    /// Mean test cross-entropy, like `test_accuracy`.
    pub test_loss: Option<f64>,
    /// The epoch (1-based) in which the loss became non-finite; `null` unless diverged.
    pub diverged_epoch: Option<usize>,
    /// One record per finished epoch, in order.
    pub epochs: Vec<EpochRecord>,
    /// The activation parameters at the recorded points of training (epoch 0 = initialisation).
    /// Empty for activations without parameters.
    pub activation_params: Vec<ParamSnapshot>,
    /// Wall time of the whole run in seconds: data loading, network construction, training,
    /// evaluation.
    pub wall_seconds: f64,
    /// Training throughput: training images processed divided by the seconds spent in training
    /// steps (forward, backward, optimizer), excluding evaluation.
    pub images_per_second: f64,
    /// The compute device, in words (`flex (CPU)`).
    pub device: String,
    /// Number of trainable scalars in the network, activation parameters excluded.
    pub num_weights: usize,
    /// Number of trainable activation parameter scalars (α, β, γ over all sites and channels).
    pub num_activation_params: usize,
    /// Images in the training set the run used (after `limit_train`).
    pub train_images: usize,
    /// Images in the validation set the run used (after `limit_val`).
    pub val_images: usize,
    /// Images in the test set, when it was measured.
    pub test_images: Option<usize>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Trained for every epoch; the metrics are valid.
    Ok,
    /// The training or validation loss became non-finite; fitness is the worst (docs/method.md §4).
    Diverged,
    /// The activation was refused before training (it does not parse, or names nothing known).
    Rejected,
    /// Something else went wrong (missing data, a bad architecture name, an internal error).
    Failed,
}

impl Status {
    /// The wire name: `ok`, `diverged`, `rejected`, `failed`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Diverged => "diverged",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }
}

/// Metrics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training cross-entropy over the epoch's batches (train mode, augmented data).
    pub train_loss: f64,
    /// Training accuracy over the epoch's batches, a fraction in [0, 1].
    pub train_accuracy: f64,
    /// Validation cross-entropy after the epoch (eval mode).
    pub val_loss: f64,
    /// Validation accuracy after the epoch, a fraction in [0, 1].
    pub val_accuracy: f64,
    /// Learning rate at the epoch's first step (after warm-up and schedule).
    pub lr: f64,
    /// Seconds the epoch took, training and validation.
    pub seconds: f64,
}

/// The activation parameters of every site at one point of training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSnapshot {
    /// Finished epochs at the time of the snapshot: 0 = initialisation (and any snapshot taken
    /// inside the first epoch).
    pub epoch: usize,
    /// Training steps finished at the time of the snapshot: 0 = initialisation. Absent (None) in
    /// results written before snapshots were spread over steps, which took them at epoch ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// Fraction of the run's training steps finished, in [0, 1]; absent in older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// One entry per activation site, in network order.
    pub sites: Vec<SiteRecord>,
}

impl ParamSnapshot {
    /// Fraction of training done at this snapshot: `progress` when recorded, else (older results,
    /// one snapshot per epoch end) `epoch / epochs`.
    pub fn progress_of(&self, epochs: usize) -> f64 {
        self.progress
            .unwrap_or_else(|| self.epoch as f64 / epochs.max(1) as f64)
    }
}

/// The parameters of one activation site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRecord {
    /// Site name as the network gives it (`block1.act2`).
    pub site: String,
    /// Parameter name (`alpha`, `beta`, `gamma`, or a baseline's own) → one value per channel
    /// (a single value for layer and shared granularity).
    pub params: BTreeMap<String, Vec<f32>>,
}

impl EvalResult {
    /// A result for a run that never trained (rejected or failed before the first step).
    pub fn not_run(
        label: Option<String>,
        activation: &str,
        status: Status,
        reason: String,
    ) -> Self {
        Self {
            version: RESULT_VERSION,
            label,
            status,
            reason: Some(reason),
            activation: activation.to_owned(),
            val_accuracy: None,
            val_loss: None,
            test_accuracy: None,
            test_loss: None,
            diverged_epoch: None,
            epochs: Vec::new(),
            activation_params: Vec::new(),
            wall_seconds: 0.0,
            images_per_second: 0.0,
            device: String::new(),
            num_weights: 0,
            num_activation_params: 0,
            train_images: 0,
            val_images: 0,
            test_images: None,
        }
    }
}

impl JsonFile for EvalResult {
    const WHAT: &'static str = "result";
    const VERSION: u32 = RESULT_VERSION;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> EvalResult {
        let mut params = BTreeMap::new();
        params.insert("alpha".to_owned(), vec![1.0, 1.25]);
        EvalResult {
            version: RESULT_VERSION,
            label: Some("c1".into()),
            status: Status::Ok,
            reason: None,
            activation: "alpha * x".into(),
            val_accuracy: Some(0.5),
            val_loss: Some(1.5),
            test_accuracy: None,
            test_loss: None,
            diverged_epoch: None,
            epochs: vec![EpochRecord {
                epoch: 1,
                train_loss: 2.0,
                train_accuracy: 0.25,
                val_loss: 1.5,
                val_accuracy: 0.5,
                lr: 0.1,
                seconds: 3.0,
            }],
            activation_params: vec![ParamSnapshot {
                epoch: 0,
                step: Some(0),
                progress: Some(0.0),
                sites: vec![SiteRecord {
                    site: "act1".into(),
                    params,
                }],
            }],
            wall_seconds: 4.0,
            images_per_second: 100.0,
            device: "flex (CPU)".into(),
            num_weights: 1000,
            num_activation_params: 2,
            train_images: 300,
            val_images: 100,
            test_images: None,
        }
    }

    #[test]
    fn json_round_trip() {
        let result = example();
        assert_eq!(EvalResult::from_json(&result.to_json()).unwrap(), result);
    }

    /// Other tools read these names: changing one is a format change (bump RESULT_VERSION).
    #[test]
    fn pinned_json_field_names() {
        let expected = r#"{
  "version": 1,
  "label": "c1",
  "status": "ok",
  "reason": null,
  "activation": "alpha * x",
  "val_accuracy": 0.5,
  "val_loss": 1.5,
  "test_accuracy": null,
  "test_loss": null,
  "diverged_epoch": null,
  "epochs": [
    {
      "epoch": 1,
      "train_loss": 2.0,
      "train_accuracy": 0.25,
      "val_loss": 1.5,
      "val_accuracy": 0.5,
      "lr": 0.1,
      "seconds": 3.0
    }
  ],
  "activation_params": [
    {
      "epoch": 0,
      "step": 0,
      "progress": 0.0,
      "sites": [
        {
          "site": "act1",
          "params": {
            "alpha": [
              1.0,
              1.25
            ]
          }
        }
      ]
    }
  ],
  "wall_seconds": 4.0,
  "images_per_second": 100.0,
  "device": "flex (CPU)",
  "num_weights": 1000,
  "num_activation_params": 2,
  "train_images": 300,
  "val_images": 100,
  "test_images": null
}
"#;
        assert_eq!(example().to_json(), expected);
        assert_eq!(EvalResult::from_json(expected).unwrap(), example());
        // Results written before snapshots carried their step still read; their progress
        // comes from the epoch.
        let older = expected.replace("      \"step\": 0,\n      \"progress\": 0.0,\n", "");
        let snapshot = &EvalResult::from_json(&older).unwrap().activation_params[0];
        assert_eq!((snapshot.step, snapshot.progress), (None, None));
        assert_eq!(snapshot.progress_of(1), 0.0);
    }

    #[test]
    fn status_names() {
        for status in [
            Status::Ok,
            Status::Diverged,
            Status::Rejected,
            Status::Failed,
        ] {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.name()));
        }
    }

    #[test]
    fn a_newer_result_is_refused() {
        let text = example()
            .to_json()
            .replace("\"version\": 1", "\"version\": 2");
        let err = EvalResult::from_json(&text).unwrap_err();
        assert!(
            matches!(err, crate::WireError::NewerVersion { found: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_result_file_round_trips_through_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        example().write(&path).unwrap();
        assert_eq!(EvalResult::read(&path).unwrap(), example());
        let err = EvalResult::read(&dir.path().join("absent.json")).unwrap_err();
        assert!(err.to_string().contains("absent.json"), "{err}");
    }
}
