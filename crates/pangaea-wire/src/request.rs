//! [`EvalRequest`]: the complete, self-contained description of one training run.
//!
//! A request is plain data (serde, JSON on the wire) so the same bytes can go to an in-process
//! worker, a child process (`pangaea worker --request r.json`) or a cluster job. Every field has a
//! documented default, so a hand-written request only needs the activation, the architecture and
//! the dataset name; unknown fields are refused, so a typo never silently falls back to a default.
//!
//! Versioning: [`REQUEST_VERSION`] is the version this code writes. A reader accepts every version
//! up to its own and refuses a newer one with [`WireError::NewerVersion`] before looking at any
//! other field (a newer writer may have added fields this reader does not know).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::json::{JsonFile, WireError};
use crate::{Arch, DatasetName, DeviceSpec, Granularity, UnknownName};

/// The version of the [`EvalRequest`] format this code writes (and the newest it reads).
///
/// 1: the first format. 2: adds `device` (a version-1 request reads as `device = "auto"`).
pub const REQUEST_VERSION: u32 = 2;

/// One training run: activation, network, data, optimizer, schedule, what to record.
///
/// Defaults (docs/method.md §5): SGD with Nesterov momentum 0.9, learning rate 0.1, weight decay
/// 5e-4 on the weights and none on the activation parameters, cosine schedule, batch 128,
/// per-channel activation parameters, a 10 % validation split with augmentation on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalRequest {
    /// Format version; see [`REQUEST_VERSION`]. Default: the current version.
    pub version: u32,
    /// A free label echoed into the result (a candidate id, a file stem). Default: none.
    pub label: Option<String>,
    /// The activation: an expression (`alpha * x * sigmoid(beta * x)`) or a baseline name
    /// (`relu`, `prelu`, …). Default: `relu`.
    pub activation: String,
    /// How many parameter sets a parametric activation gets (docs/method.md §2). Default:
    /// `channel`.
    pub granularity: Granularity,
    /// The network: `tiny`, `wrn-10-4`, `resnet-v1-56`, `resnet-v2-56`, `all-cnn-c`.
    /// Default: `tiny`.
    pub architecture: Arch,
    /// Which data, which split, which subsets.
    pub dataset: DatasetSpec,
    /// SGD hyper-parameters.
    pub optimizer: OptimizerSpec,
    /// Learning-rate schedule and warm-up.
    pub schedule: ScheduleSpec,
    /// Number of passes over the training set. Default: 10.
    pub epochs: usize,
    /// Images per training step (also used for evaluation). Default: 128.
    pub batch_size: usize,
    /// Seed of everything random in the run: weight initialisation, batch order, augmentation.
    /// The same request with the same seed gives the same numbers on CPU. Default: 0.
    pub seed: u64,
    /// What the result records beyond the per-epoch metrics.
    pub record: RecordSpec,
    /// Where to train: `auto`, `cpu`, `flex`, `cuda:N` (see [`DeviceSpec`]). Default: `auto`.
    pub device: DeviceSpec,
}

impl Default for EvalRequest {
    fn default() -> Self {
        Self {
            version: REQUEST_VERSION,
            label: None,
            activation: "relu".to_owned(),
            granularity: Granularity::Channel,
            architecture: Arch::Tiny,
            dataset: DatasetSpec::default(),
            optimizer: OptimizerSpec::default(),
            schedule: ScheduleSpec::default(),
            epochs: 10,
            batch_size: 128,
            seed: 0,
            record: RecordSpec::default(),
            device: DeviceSpec::Auto,
        }
    }
}

/// The dataset, its train/validation split and the subsets a run uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatasetSpec {
    /// The dataset: `cifar10`, `cifar100`, `mnist`, `fashion-mnist`, `synthetic`.
    /// Default: `synthetic`.
    pub name: DatasetName,
    /// Directory holding the dataset files; `None` uses the data crate's default location for
    /// the dataset. Default: none.
    pub data_dir: Option<PathBuf>,
    /// Fraction of the training set held out for validation (stratified). Default: 0.1
    /// (CIFAR: 45,000 / 5,000, docs/method.md §3).
    pub validation_fraction: f64,
    /// Seed of the train/validation split, separate from the run seed so that every candidate
    /// of a search is measured on the same validation images. Default: 0.
    pub split_seed: u64,
    /// Use only N images of the training split, a stratified subset drawn with `split_seed`
    /// (quick runs). Default: all.
    pub limit_train: Option<usize>,
    /// Use only N images of the validation split, a stratified subset drawn with `split_seed`.
    /// Default: all.
    pub limit_val: Option<usize>,
    /// Train on the full training set (train + validation) instead of train minus validation,
    /// for final evaluations. Validation metrics are then measured on the held-out part as
    /// usual, which the network has seen: they are no longer a fair estimate. Default: false.
    pub train_on_full: bool,
    /// Measure the test set after the last epoch. Default: false.
    pub measure_test: bool,
    /// Pad-4 random crops and horizontal flips on training batches. Default: true.
    pub augment: bool,
}

impl Default for DatasetSpec {
    fn default() -> Self {
        Self {
            name: DatasetName::Synthetic,
            data_dir: None,
            validation_fraction: 0.1,
            split_seed: 0,
            limit_train: None,
            limit_val: None,
            train_on_full: false,
            measure_test: false,
            augment: true,
        }
    }
}

/// SGD with momentum, PyTorch semantics: no dampening, `d = g + wd·w`, `buf = μ·buf + d`,
/// update `d + μ·buf` with Nesterov, `buf` otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerSpec {
    /// Base learning rate (before schedule and warm-up). Default: 0.1 (docs/method.md §5).
    pub lr: f64,
    /// Momentum factor μ. Default: 0.9.
    pub momentum: f64,
    /// Nesterov momentum. Default: true.
    pub nesterov: bool,
    /// L2 weight decay on the network's weights. Default: 5e-4.
    pub weight_decay: f64,
    /// L2 weight decay on the activation parameters (α, β, γ). Default: 0: decaying them would
    /// pull every activation towards zero rather than towards its initial form.
    pub activation_weight_decay: f64,
}

impl Default for OptimizerSpec {
    fn default() -> Self {
        Self {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
            weight_decay: 5e-4,
            activation_weight_decay: 0.0,
        }
    }
}

/// Learning-rate schedule, with an optional linear warm-up before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleSpec {
    /// The decay rule. Default: cosine.
    pub kind: ScheduleKind,
    /// `step` only: epochs (0-based counts of finished epochs) at which the rate is multiplied
    /// by `factor`, as PyTorch's `MultiStepLR`. Default: none.
    pub milestones: Vec<usize>,
    /// `step` only: the multiplier applied at each milestone. Default: 0.1.
    pub factor: f64,
    /// Length of the linear warm-up in epochs (may be fractional), during which the rate rises
    /// from `lr / warmup_steps` to `lr`. Default: 0 (no warm-up).
    pub warmup_epochs: f64,
}

impl Default for ScheduleSpec {
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Cosine,
            milestones: Vec::new(),
            factor: 0.1,
            warmup_epochs: 0.0,
        }
    }
}

/// The shape of the learning-rate decay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Cosine annealing from `lr` to 0 over the steps after the warm-up, updated every step.
    #[default]
    Cosine,
    /// Multiply by `factor` at each milestone epoch.
    Step,
    /// Keep `lr`.
    Constant,
}

impl ScheduleKind {
    /// The wire name: `cosine`, `step` or `constant`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cosine => "cosine",
            Self::Step => "step",
            Self::Constant => "constant",
        }
    }
}

impl std::str::FromStr for ScheduleKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cosine" => Ok(Self::Cosine),
            "step" => Ok(Self::Step),
            "constant" => Ok(Self::Constant),
            other => Err(UnknownName {
                kind: "schedule",
                name: other.to_owned(),
                expected: "cosine, step, constant",
            }),
        }
    }
}

/// What a result records besides the per-epoch metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordSpec {
    /// Record the activation parameters at initialisation and at this many points spread evenly
    /// over the run's training steps, the last one at the end of training; 0 records none.
    /// A run with fewer steps than points records after every step. Default: 20, cheap since
    /// there are at most 3 values per channel.
    pub activation_param_points: usize,
    /// Read from version-1 requests (snapshots every n-th epoch) and ignored: snapshots are placed
    /// by `activation_param_points` now. Never written.
    #[serde(rename = "activation_params_every", skip_serializing)]
    pub legacy_activation_params_every: Option<usize>,
}

/// Default number of parameter snapshots per run ([`RecordSpec::activation_param_points`]).
pub const DEFAULT_PARAM_POINTS: usize = 20;

impl Default for RecordSpec {
    fn default() -> Self {
        Self {
            activation_param_points: DEFAULT_PARAM_POINTS,
            legacy_activation_params_every: None,
        }
    }
}

impl RecordSpec {
    /// The global step counts (1-based, steps finished) after which a snapshot is taken in a run
    /// of `total_steps` steps: `points` steps spread evenly, the last one `total_steps`, without
    /// repeats (fewer than `points` when the run is shorter).
    pub fn snapshot_steps(&self, total_steps: usize) -> Vec<usize> {
        let points = self.activation_param_points;
        if points == 0 || total_steps == 0 {
            return Vec::new();
        }
        let mut steps: Vec<usize> = (1..=points)
            .map(|k| (k * total_steps).div_ceil(points))
            .collect();
        steps.dedup();
        steps
    }
}

impl EvalRequest {
    /// The default request for an architecture: docs/method.md §5's recipe for its learning rate
    /// and weight decay (ResNets 1e-4, All-CNN-C lr 0.01 and 1e-3, WRN-10-4 0.1 and 5e-4), and
    /// for `tiny` a recipe of ours tuned for quick runs of a few epochs: lr 0.1, batch 32, no
    /// augmentation (one epoch of 10,000 Fashion-MNIST images: 84 % validation accuracy without,
    /// 76 % with).
    pub fn recipe(architecture: Arch) -> Self {
        let mut request = Self {
            architecture,
            ..Self::default()
        };
        let o = &mut request.optimizer;
        match architecture {
            Arch::ResNetV1_56 | Arch::ResNetV1_20 | Arch::ResNetV2_56 => o.weight_decay = 1e-4,
            Arch::AllCnnC => {
                o.lr = 0.01;
                o.weight_decay = 1e-3;
            }
            Arch::Tiny => {
                o.lr = 0.1;
                request.batch_size = 32;
                request.dataset.augment = false;
            }
            Arch::Wrn10_4 => {}
        }
        request
    }

    /// Checks the values that serde cannot: positive sizes, fractions in range, finite rates.
    ///
    /// The architecture and dataset are typed, so serde has checked them; the activation text
    /// is checked when the run starts, by the crate that owns the baselines and expressions.
    pub fn check(&self) -> Result<(), WireError> {
        let bad = |field: &str, expected: &str| {
            Err(WireError::Field {
                field: field.to_owned(),
                expected: expected.to_owned(),
            })
        };
        if self.version > REQUEST_VERSION {
            return Err(WireError::NewerVersion {
                what: "request",
                found: self.version,
                supported: REQUEST_VERSION,
            });
        }
        if self.activation.trim().is_empty() {
            return bad("activation", "an expression or a baseline name");
        }
        if self.epochs == 0 {
            return bad("epochs", "at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "at least 1");
        }
        let d = &self.dataset;
        if !(d.validation_fraction > 0.0 && d.validation_fraction < 1.0) {
            return bad("dataset.validation_fraction", "a fraction in (0, 1)");
        }
        if d.limit_train == Some(0) {
            return bad("dataset.limit_train", "at least 1 when given");
        }
        if d.limit_val == Some(0) {
            return bad("dataset.limit_val", "at least 1 when given");
        }
        let o = &self.optimizer;
        for (field, value) in [
            ("optimizer.lr", o.lr),
            ("optimizer.momentum", o.momentum),
            ("optimizer.weight_decay", o.weight_decay),
            (
                "optimizer.activation_weight_decay",
                o.activation_weight_decay,
            ),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return bad(field, "a finite number ≥ 0");
            }
        }
        let s = &self.schedule;
        if !(s.factor.is_finite() && s.factor > 0.0) {
            return bad("schedule.factor", "a finite number > 0");
        }
        if !(s.warmup_epochs.is_finite() && s.warmup_epochs >= 0.0) {
            return bad("schedule.warmup_epochs", "a finite number ≥ 0");
        }
        if s.milestones.windows(2).any(|w| w[0] >= w[1]) {
            return bad("schedule.milestones", "strictly increasing epochs");
        }
        Ok(())
    }
}

impl JsonFile for EvalRequest {
    const WHAT: &'static str = "request";
    const VERSION: u32 = REQUEST_VERSION;

    fn validate(&self) -> Result<(), WireError> {
        self.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_every_field() {
        let mut request = EvalRequest {
            label: Some("cand-17".into()),
            activation: "alpha * x * sigmoid(beta * x)".into(),
            granularity: Granularity::Layer,
            architecture: Arch::Wrn10_4,
            epochs: 3,
            batch_size: 64,
            seed: 42,
            ..EvalRequest::default()
        };
        request.dataset.name = DatasetName::Cifar10;
        request.dataset.data_dir = Some("/data/cifar".into());
        request.dataset.limit_train = Some(500);
        request.dataset.measure_test = true;
        request.schedule.kind = ScheduleKind::Step;
        request.schedule.milestones = vec![1, 2];
        request.schedule.warmup_epochs = 0.5;
        request.optimizer.activation_weight_decay = 1e-5;
        request.device = DeviceSpec::Cuda(1);
        let text = request.to_json();
        assert_eq!(EvalRequest::from_json(&text).unwrap(), request);
    }

    #[test]
    fn a_minimal_request_takes_the_documented_defaults() {
        let request = EvalRequest::from_json(r#"{"activation": "tanh"}"#).unwrap();
        assert_eq!(request.activation, "tanh");
        assert_eq!(request.optimizer.momentum, 0.9);
        assert!(request.optimizer.nesterov);
        assert_eq!(request.optimizer.activation_weight_decay, 0.0);
        assert_eq!(request.schedule.kind, ScheduleKind::Cosine);
        assert_eq!(request.granularity, Granularity::Channel);
        assert_eq!(request.version, REQUEST_VERSION);
    }

    #[test]
    fn a_version_1_request_reads_with_the_automatic_device() {
        let request = EvalRequest::from_json(r#"{"version": 1, "activation": "relu"}"#).unwrap();
        assert_eq!(request.device, DeviceSpec::Auto);
        assert_eq!(request.version, 1);
    }

    #[test]
    fn a_version_1_record_field_still_reads_and_is_not_written_back() {
        let request = EvalRequest::from_json(
            r#"{"version": 1, "activation": "relu", "record": {"activation_params_every": 2}}"#,
        )
        .unwrap();
        assert_eq!(request.record.legacy_activation_params_every, Some(2));
        assert_eq!(request.record.activation_param_points, DEFAULT_PARAM_POINTS);
        assert!(!request.to_json().contains("activation_params_every"));
    }

    #[test]
    fn snapshot_steps_spread_the_points_evenly_and_end_at_the_last_step() {
        let record = |points| RecordSpec {
            activation_param_points: points,
            ..RecordSpec::default()
        };
        assert_eq!(record(4).snapshot_steps(100), [25, 50, 75, 100]);
        assert_eq!(record(3).snapshot_steps(10), [4, 7, 10]);
        // A run shorter than the number of points: every step, once.
        assert_eq!(record(20).snapshot_steps(5), [1, 2, 3, 4, 5]);
        assert!(record(0).snapshot_steps(100).is_empty());
        assert!(record(20).snapshot_steps(0).is_empty());
        for total in 1..200 {
            let steps = record(20).snapshot_steps(total);
            assert_eq!(steps.len(), total.min(20), "{total}");
            assert_eq!(*steps.last().unwrap(), total);
            assert!(steps.windows(2).all(|w| w[0] < w[1]), "{total}: {steps:?}");
        }
    }

    #[test]
    fn a_newer_version_is_refused_before_its_unknown_fields() {
        let err = EvalRequest::from_json(r#"{"version": 99, "brand_new_field": 1}"#).unwrap_err();
        assert!(
            matches!(err, WireError::NewerVersion { found: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("version 99"), "{err}");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let err =
            EvalRequest::from_json(r#"{"optimizer": {"lr": 0.1, "nesterow": true}}"#).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("nesterow"), "{text}");
    }

    #[test]
    fn a_wrong_type_names_the_field_path() {
        let err = EvalRequest::from_json(r#"{"dataset": {"limit_train": "many"}}"#).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("dataset.limit_train"), "{text}");
    }

    #[test]
    fn bad_values_name_the_field() {
        let err = EvalRequest::from_json(r#"{"epochs": 0}"#).unwrap_err();
        assert!(err.to_string().contains("`epochs`"), "{err}");
        let err =
            EvalRequest::from_json(r#"{"dataset": {"validation_fraction": 1.5}}"#).unwrap_err();
        assert!(
            err.to_string().contains("dataset.validation_fraction"),
            "{err}"
        );
        let err = EvalRequest::from_json(r#"{"schedule": {"milestones": [5, 3]}}"#).unwrap_err();
        assert!(err.to_string().contains("schedule.milestones"), "{err}");
    }

    #[test]
    fn unknown_architecture_and_dataset_names_are_refused_with_their_field() {
        let err = EvalRequest::from_json(r#"{"architecture": "vgg-16"}"#).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("vgg-16") && text.contains("architecture"),
            "{text}"
        );
        let err = EvalRequest::from_json(r#"{"dataset": {"name": "imagenet"}}"#).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("imagenet") && text.contains("dataset.name"),
            "{text}"
        );
    }

    #[test]
    fn every_architecture_has_a_recipe_that_passes_its_checks() {
        for arch in Arch::ALL {
            let r = EvalRequest::recipe(arch);
            assert_eq!(r.architecture, arch);
            r.check().unwrap();
        }
        assert_eq!(EvalRequest::recipe(Arch::AllCnnC).optimizer.lr, 0.01);
        assert_eq!(
            EvalRequest::recipe(Arch::ResNetV2_56)
                .optimizer
                .weight_decay,
            1e-4
        );
        assert_eq!(EvalRequest::recipe(Arch::Tiny).batch_size, 32);
    }

    #[test]
    fn granularity_and_schedule_names_parse() {
        assert_eq!("layer".parse::<Granularity>().unwrap(), Granularity::Layer);
        assert!("per-layer".parse::<Granularity>().is_err());
        assert_eq!("step".parse::<ScheduleKind>().unwrap(), ScheduleKind::Step);
        assert_eq!(ScheduleKind::Constant.name(), "constant");
    }
}

/// Why a table of request fields does not make a valid request: the field and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipeError {
    /// The dotted field inside the table (`optimizer.lr`), empty for the table as a whole.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl EvalRequest {
    /// This request with `fields` written over it, recursing into tables: `{ "dataset":
    /// { "limit_train": 1000 } }` changes that one field and keeps the rest. The fields a
    /// caller sets for each run itself (`owned`, such as `activation` or `seed`) are refused.
    /// Errors name the field inside `fields` (`dataset.limit_train`).
    pub fn with_fields(
        &self,
        fields: &serde_json::Map<String, serde_json::Value>,
        owned: &[&str],
    ) -> Result<EvalRequest, RecipeError> {
        for name in owned {
            if fields.contains_key(*name) {
                return Err(RecipeError {
                    field: (*name).to_owned(),
                    message: "set for each run by pangaea, not in a recipe".to_owned(),
                });
            }
        }
        let mut value = serde_json::to_value(self).expect("a request serializes");
        merge(&mut value, fields);
        // The merged text is ours, not the user's: name the field, not a line and column of it.
        EvalRequest::from_json(&value.to_string()).map_err(|e| match e {
            WireError::Json { field, message, .. } => RecipeError {
                field: field.trim_start_matches('.').to_owned(),
                message,
            },
            WireError::Field { field, expected } => RecipeError {
                field,
                message: format!("expected {expected}"),
            },
            other => RecipeError {
                field: String::new(),
                message: other.to_string(),
            },
        })
    }
}

/// Writes `patch`'s fields over `base`'s, recursing into tables.
fn merge(base: &mut serde_json::Value, patch: &serde_json::Map<String, serde_json::Value>) {
    let serde_json::Value::Object(b) = base else {
        *base = serde_json::Value::Object(patch.clone());
        return;
    };
    for (k, v) in patch {
        match (b.get_mut(k), v) {
            (Some(slot), serde_json::Value::Object(p)) if slot.is_object() => merge(slot, p),
            _ => {
                b.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod with_fields_tests {
    use super::*;

    #[test]
    fn fields_merge_into_tables_and_errors_name_the_field() {
        let base = EvalRequest::recipe(Arch::Tiny);
        let fields = serde_json::json!({ "epochs": 3, "dataset": { "limit_train": 500 } });
        let r = base
            .with_fields(fields.as_object().unwrap(), &["seed"])
            .unwrap();
        assert_eq!(r.epochs, 3);
        assert_eq!(r.dataset.limit_train, Some(500));
        // The rest of the table is kept.
        assert_eq!(r.dataset.name, base.dataset.name);
        assert_eq!(r.optimizer, base.optimizer);
        let bad = serde_json::json!({ "dataset": { "limit_train": "many" } });
        let e = base.with_fields(bad.as_object().unwrap(), &[]).unwrap_err();
        assert_eq!(e.field, "dataset.limit_train");
        let owned = serde_json::json!({ "seed": 1 });
        let e = base
            .with_fields(owned.as_object().unwrap(), &["seed"])
            .unwrap_err();
        assert_eq!(e.field, "seed");
        let unknown = serde_json::json!({ "epoch": 1 });
        let e = base
            .with_fields(unknown.as_object().unwrap(), &[])
            .unwrap_err();
        assert!(e.message.contains("epoch"), "{e:?}");
    }
}
