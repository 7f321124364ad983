//! [`RecipeFlags`]: the training flags every command that trains shares (`train`, `compare`,
//! `final`, and `search` for its evaluation recipe), defined once and flattened into each.
//!
//! A flag that is given overrides the field of the request it applies to; a flag that is not
//! given leaves the field as the command's base recipe has it (an architecture's recipe for
//! `train` and `compare`, the preset or TOML file for `search`, the search's own recipe for
//! `final`).

use std::path::PathBuf;

use clap::Args;
use pangaea_wire::{Arch, DatasetName, DeviceSpec, EvalRequest, Granularity, ScheduleKind};

/// Training settings shared by the commands that train.
#[derive(Debug, Clone, Default, PartialEq, Args)]
pub struct RecipeFlags {
    /// Dataset: cifar10, cifar100, mnist, fashion-mnist, synthetic.
    #[arg(long)]
    pub dataset: Option<DatasetName>,
    /// Folder holding the datasets (default: $PANGAEA_DATA, then the user cache).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Architecture: tiny, wrn-10-4, resnet-v1-56, resnet-v1-20, resnet-v2-56, all-cnn-c.
    #[arg(long)]
    pub arch: Option<Arch>,
    /// Activation parameters per channel, per layer, or shared by the network: channel, layer,
    /// shared.
    #[arg(long)]
    pub granularity: Option<Granularity>,
    /// Epochs to train.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Images per step.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Base learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// L2 weight decay on the weights (never on the activation parameters).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Learning-rate schedule: cosine, step or constant.
    #[arg(long)]
    pub schedule: Option<ScheduleKind>,
    /// Milestone epochs of the step schedule, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub milestones: Option<Vec<usize>>,
    /// Linear warm-up length in epochs (fractions allowed).
    #[arg(long)]
    pub warmup_epochs: Option<f64>,
    /// Train on a stratified subset of N training images.
    #[arg(long, value_name = "N")]
    pub limit_train: Option<usize>,
    /// Validate on a stratified subset of N validation images.
    #[arg(long, value_name = "N")]
    pub limit_val: Option<usize>,
    /// Pad-4 crops and flips on training batches (the default of most recipes).
    #[arg(long, overrides_with = "no_augment")]
    pub augment: bool,
    /// No augmentation.
    #[arg(long, overrides_with = "augment")]
    pub no_augment: bool,
    /// Where to train: auto (a GPU when the build has one and it answers, else the CPU), cpu,
    /// flex (the pure-Rust CPU backend), cuda, cuda:N.
    #[arg(long)]
    pub device: Option<DeviceSpec>,
    /// Record the activation parameters at initialisation and at N points spread over each
    /// run's training steps (default 20; 0 records none).
    #[arg(long, value_name = "N")]
    pub param_points: Option<usize>,
}

impl RecipeFlags {
    /// Whether any flag was given.
    pub fn any(&self) -> bool {
        *self != RecipeFlags::default()
    }

    /// The augmentation setting the flags ask for, if any.
    fn augmentation(&self) -> Option<bool> {
        match (self.augment, self.no_augment) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }

    /// Overrides the fields of `request` whose flags were given.
    pub fn apply(&self, request: &mut EvalRequest) {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *target = v.clone();
            }
        }
        let RecipeFlags {
            dataset,
            data_dir,
            arch,
            granularity,
            epochs,
            batch_size,
            lr,
            weight_decay,
            schedule,
            milestones,
            warmup_epochs,
            limit_train,
            limit_val,
            augment: _,
            no_augment: _,
            device,
            param_points,
        } = self;
        let d = &mut request.dataset;
        set(&mut d.name, dataset);
        if data_dir.is_some() {
            d.data_dir = data_dir.clone();
        }
        if limit_train.is_some() {
            d.limit_train = *limit_train;
        }
        if limit_val.is_some() {
            d.limit_val = *limit_val;
        }
        set(&mut d.augment, &self.augmentation());
        set(&mut request.architecture, arch);
        set(&mut request.granularity, granularity);
        set(&mut request.epochs, epochs);
        set(&mut request.batch_size, batch_size);
        set(&mut request.optimizer.lr, lr);
        set(&mut request.optimizer.weight_decay, weight_decay);
        set(&mut request.schedule.kind, schedule);
        set(&mut request.schedule.milestones, milestones);
        set(&mut request.schedule.warmup_epochs, warmup_epochs);
        set(&mut request.device, device);
        set(&mut request.record.activation_param_points, param_points);
    }

    /// The flags given, as `--name value` words (for the title of a table whose recipe was
    /// overridden).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut push = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                parts.push(format!("--{name} {v}"));
            }
        };
        push("dataset", self.dataset.map(|d| d.to_string()));
        push("arch", self.arch.map(|a| a.to_string()));
        push("granularity", self.granularity.map(|g| g.to_string()));
        push("epochs", self.epochs.map(|e| e.to_string()));
        push("batch-size", self.batch_size.map(|b| b.to_string()));
        push("lr", self.lr.map(|v| v.to_string()));
        push("weight-decay", self.weight_decay.map(|v| v.to_string()));
        push("schedule", self.schedule.map(|s| s.name().to_owned()));
        push(
            "milestones",
            self.milestones
                .as_ref()
                .map(|m| m.iter().map(usize::to_string).collect::<Vec<_>>().join(",")),
        );
        push("warmup-epochs", self.warmup_epochs.map(|v| v.to_string()));
        push("limit-train", self.limit_train.map(|v| v.to_string()));
        push("limit-val", self.limit_val.map(|v| v.to_string()));
        push("device", self.device.map(|d| d.to_string()));
        push("param-points", self.param_points.map(|n| n.to_string()));
        push(
            "data-dir",
            self.data_dir.as_ref().map(|p| p.display().to_string()),
        );
        let mut text = parts.join(" ");
        match self.augmentation() {
            Some(true) => text.push_str(" --augment"),
            Some(false) => text.push_str(" --no-augment"),
            None => {}
        }
        text.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        recipe: RecipeFlags,
    }

    fn flags(line: &[&str]) -> RecipeFlags {
        let mut argv = vec!["test"];
        argv.extend_from_slice(line);
        Cli::try_parse_from(argv).unwrap().recipe
    }

    #[test]
    fn given_flags_override_and_the_others_keep_the_base() {
        let f = flags(&[
            "--dataset",
            "mnist",
            "--arch",
            "all-cnn-c",
            "--epochs",
            "4",
            "--milestones",
            "2,3",
            "--schedule",
            "step",
            "--no-augment",
            "--limit-train",
            "500",
        ]);
        assert!(f.any());
        let mut r = EvalRequest::recipe(Arch::Tiny);
        let before = r.clone();
        f.apply(&mut r);
        assert_eq!(r.dataset.name, DatasetName::Mnist);
        assert_eq!(r.architecture, Arch::AllCnnC);
        assert_eq!(r.epochs, 4);
        assert_eq!(r.schedule.kind, ScheduleKind::Step);
        assert_eq!(r.schedule.milestones, vec![2, 3]);
        assert!(!r.dataset.augment);
        assert_eq!(r.dataset.limit_train, Some(500));
        // Not given: kept.
        assert_eq!(r.optimizer.lr, before.optimizer.lr);
        assert_eq!(r.batch_size, before.batch_size);
        assert_eq!(r.dataset.limit_val, before.dataset.limit_val);
        assert!(f.describe().contains("--epochs 4"), "{}", f.describe());
        assert!(f.describe().ends_with("--no-augment"), "{}", f.describe());
    }

    #[test]
    fn no_flag_changes_nothing() {
        let f = flags(&[]);
        assert!(!f.any());
        let mut r = EvalRequest::recipe(Arch::Wrn10_4);
        let before = r.clone();
        f.apply(&mut r);
        assert_eq!(r, before);
        assert_eq!(f.describe(), "");
    }

    #[test]
    fn the_last_of_augment_and_no_augment_wins() {
        let mut r = EvalRequest::recipe(Arch::Tiny);
        flags(&["--no-augment", "--augment"]).apply(&mut r);
        assert!(r.dataset.augment);
        flags(&["--augment", "--no-augment"]).apply(&mut r);
        assert!(!r.dataset.augment);
    }

    #[test]
    fn unknown_names_are_refused_by_the_parser() {
        let mut argv = vec!["test", "--arch", "vgg"];
        let err = Cli::try_parse_from(&argv).unwrap_err().to_string();
        assert!(err.contains("vgg") && err.contains("wrn-10-4"), "{err}");
        argv = vec!["test", "--dataset", "imagenet"];
        let err = Cli::try_parse_from(&argv).unwrap_err().to_string();
        assert!(err.contains("imagenet"), "{err}");
        argv = vec!["test", "--granularity", "pixel"];
        assert!(Cli::try_parse_from(&argv).is_err());
    }
}
