//! `pangaea train`, `pangaea worker` and `pangaea bench train`: one training run from flags, a
//! TOML file or a request file, and the timing of training steps.
//!
//! Resolution happens in two stages (ARCHITECTURE.md, convention 13): flags and the optional TOML file are
//! merged into an [`EvalRequest`] and every name in it (activation, architecture, dataset) is
//! checked before any work starts; only then does training begin.

use pangaea_wire::JsonFile;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pangaea_train::{bench_train_step, run, BenchConfig, Silent, TrainEvent, TrainObserver};
use pangaea_wire::{
    Arch, DatasetName, DeviceSpec, EvalRequest, EvalResult, Granularity, ScheduleKind, Status,
};
use serde::Deserialize;

use crate::exit;
use crate::recipe_flags::RecipeFlags;

/// Train one network and report its validation (and test) accuracy.
///
/// Settings come from, in increasing precedence: the architecture's recipe (docs/method.md §5),
/// the `--config` TOML file (same names as the flags, with `_` for `-`), the flags.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Activation: an expression such as `alpha * x * sigmoid(beta * x)`, or a baseline name.
    #[arg(long)]
    act: Option<String>,
    #[command(flatten)]
    recipe: RecipeFlags,
    /// Seed of initialisation, batch order and augmentation.
    #[arg(long)]
    seed: Option<u64>,
    /// Also measure the test set after the last epoch.
    #[arg(long)]
    test: bool,
    /// TOML file with any of these settings (`batch_size = 64`, ...) and finer ones (momentum,
    /// factor, activation_weight_decay, augment, ...); flags override it, and the
    /// architecture's recipe fills in the rest.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Write the result JSON here (atomically).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The `--config` file: the flags' settings plus the request's finer ones; unknown keys are
/// errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainFile {
    dataset: Option<DatasetName>,
    arch: Option<Arch>,
    act: Option<String>,
    granularity: Option<Granularity>,
    epochs: Option<usize>,
    batch_size: Option<usize>,
    lr: Option<f64>,
    momentum: Option<f64>,
    nesterov: Option<bool>,
    schedule: Option<ScheduleKind>,
    milestones: Option<Vec<usize>>,
    factor: Option<f64>,
    warmup_epochs: Option<f64>,
    weight_decay: Option<f64>,
    activation_weight_decay: Option<f64>,
    seed: Option<u64>,
    limit_train: Option<usize>,
    limit_val: Option<usize>,
    test: Option<bool>,
    data_dir: Option<PathBuf>,
    validation_fraction: Option<f64>,
    split_seed: Option<u64>,
    train_on_full: Option<bool>,
    augment: Option<bool>,
    label: Option<String>,
    out: Option<PathBuf>,
}

impl TrainFile {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read config file `{}`", path.display()))?;
        let de = toml::Deserializer::new(&text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            exit::usage(format!(
                "in config file `{}`, field `{field}`: {}",
                path.display(),
                e.into_inner().to_string().trim_end()
            ))
        })
    }
}

impl TrainArgs {
    /// Merges recipe, file and flags into a request whose names are all checked.
    fn resolve(self) -> anyhow::Result<(EvalRequest, Option<PathBuf>)> {
        let file = match &self.config {
            Some(path) => TrainFile::read(path)?,
            None => TrainFile::default(),
        };
        let missing = |name: &str| {
            exit::usage(format!(
                "missing --{name} (or `{name}` in the --config file)"
            ))
        };
        let arch = self
            .recipe
            .arch
            .or(file.arch)
            .ok_or_else(|| missing("arch"))?;
        let dataset = self
            .recipe
            .dataset
            .or(file.dataset)
            .ok_or_else(|| missing("dataset"))?;
        let act = self.act.or(file.act).ok_or_else(|| missing("act"))?;

        let mut r = EvalRequest::recipe(arch);
        r.activation = act;
        r.dataset.name = dataset;
        r.label = file.label;
        // The file's settings, then the flags'.
        macro_rules! set {
            ($target:expr, $value:expr) => {
                if let Some(v) = $value {
                    $target = v;
                }
            };
        }
        set!(r.granularity, file.granularity);
        set!(r.epochs, file.epochs);
        set!(r.batch_size, file.batch_size);
        set!(r.seed, file.seed);
        set!(r.optimizer.lr, file.lr);
        set!(r.optimizer.momentum, file.momentum);
        set!(r.optimizer.nesterov, file.nesterov);
        set!(r.optimizer.weight_decay, file.weight_decay);
        set!(
            r.optimizer.activation_weight_decay,
            file.activation_weight_decay
        );
        set!(r.schedule.kind, file.schedule);
        set!(r.schedule.milestones, file.milestones);
        set!(r.schedule.factor, file.factor);
        set!(r.schedule.warmup_epochs, file.warmup_epochs);
        set!(r.dataset.validation_fraction, file.validation_fraction);
        set!(r.dataset.split_seed, file.split_seed);
        set!(r.dataset.train_on_full, file.train_on_full);
        set!(r.dataset.augment, file.augment);
        set!(r.dataset.measure_test, file.test);
        r.dataset.limit_train = file.limit_train;
        r.dataset.limit_val = file.limit_val;
        r.dataset.data_dir = file.data_dir;
        self.recipe.apply(&mut r);
        set!(r.seed, self.seed);
        if self.test {
            r.dataset.measure_test = true;
        }
        let out = self.out.or(file.out);

        r.check().map_err(exit::usage)?;
        check_activation(&r.activation)?;
        Ok((r, out))
    }

    /// Runs `pangaea train`.
    pub fn exec(self) -> anyhow::Result<()> {
        let (request, out) = self.resolve()?;
        let mut progress = Progress::new(std::io::stderr().is_terminal());
        let result = run(&request, &mut progress);
        progress.finish();
        if let Some(path) = &out {
            result
                .write(path)
                .with_context(|| format!("failed to write the result to `{}`", path.display()))?;
        }
        println!("{}", summary(&result));
        match result.status {
            Status::Ok | Status::Diverged => Ok(()),
            Status::Rejected => Err(exit::usage(reason(&result))),
            Status::Failed => Err(anyhow::anyhow!(reason(&result))),
        }
    }
}

/// Checks that an activation is a baseline name or an expression, so a typo is a usage error
/// before any work (architecture and dataset names are typed and checked by the parser).
pub fn check_activation(activation: &str) -> anyhow::Result<()> {
    pangaea_nn::ActivationSpec::parse(activation).map_err(exit::usage)?;
    Ok(())
}

/// An error and its sources, joined with `: ` (a usage error keeps only the text).
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn reason(result: &EvalResult) -> String {
    format!(
        "{} run: {}",
        result.status.name(),
        result.reason.as_deref().unwrap_or("no reason given")
    )
}

/// The one-line summary printed at the end of a run.
fn summary(r: &EvalResult) -> String {
    match r.status {
        Status::Ok => {
            let mut line = format!(
                "ok: {} val_accuracy {:.4} val_loss {:.4}",
                r.activation,
                r.val_accuracy.unwrap_or(f64::NAN),
                r.val_loss.unwrap_or(f64::NAN)
            );
            if let Some(test) = r.test_accuracy {
                line.push_str(&format!(" test_accuracy {test:.4}"));
            }
            line.push_str(&format!(
                " ({} epoch{}, {:.1} s, {:.0} images/s)",
                r.epochs.len(),
                if r.epochs.len() == 1 { "" } else { "s" },
                r.wall_seconds,
                r.images_per_second
            ));
            line
        }
        status => format!(
            "{}: {} ({})",
            status.name(),
            r.activation,
            r.reason.as_deref().unwrap_or("no reason given")
        ),
    }
}

/// Draws a progress bar on a terminal; prints one line per epoch either way (on stderr).
struct Progress {
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Progress {
    fn new(tty: bool) -> Self {
        let bar = tty.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar
        });
        Self { bar, epochs: 0 }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl TrainObserver for Progress {
    fn on_event(&mut self, event: &TrainEvent<'_>) {
        match *event {
            TrainEvent::RunStarted {
                epochs,
                batches_per_epoch,
                train_images,
                val_images,
                num_weights,
                device,
            } => {
                self.epochs = epochs;
                if let Some(bar) = &self.bar {
                    bar.set_length((epochs * batches_per_epoch) as u64);
                }
                self.line(format!(
                    "training on {train_images} images, validating on {val_images}; \
                     {num_weights} weights; {device}"
                ));
            }
            TrainEvent::EpochStarted { .. } => {}
            TrainEvent::BatchFinished {
                epoch,
                loss,
                accuracy,
                images_per_second,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                    bar.set_message(format!(
                        "epoch {epoch}/{} loss {loss:.3} acc {:.1}% {images_per_second:.0} img/s",
                        self.epochs,
                        100.0 * accuracy
                    ));
                }
            }
            TrainEvent::Validating { epoch } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("epoch {epoch}/{} validating", self.epochs));
                }
            }
            TrainEvent::EpochFinished { record } => self.line(format!(
                "epoch {}/{}: train loss {:.4} acc {:.2}% | val loss {:.4} acc {:.2}% | lr {:.4} | {:.1} s",
                record.epoch,
                self.epochs,
                record.train_loss,
                100.0 * record.train_accuracy,
                record.val_loss,
                100.0 * record.val_accuracy,
                record.lr,
                record.seconds
            )),
            TrainEvent::Testing => {
                if let Some(bar) = &self.bar {
                    bar.set_message("measuring the test set");
                }
            }
        }
    }
}

/// Run one EvalRequest file and write its EvalResult (the executor's child process).
///
/// Exit status: 0 whenever a result file was written, whatever the run's status (`ok`,
/// `diverged`, `rejected`, `failed`: the file says which and why); 2 when the request file
/// cannot be read or parsed (the error names the file and field, and no result is written);
/// 1 when the result cannot be written.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The EvalRequest JSON file.
    #[arg(long)]
    request: PathBuf,
    /// Where to write the EvalResult JSON (atomically: temporary name, then rename).
    #[arg(long)]
    result: PathBuf,
}

impl WorkerArgs {
    /// Runs `pangaea worker`.
    pub fn exec(self) -> anyhow::Result<()> {
        let request = EvalRequest::read(&self.request).map_err(|e| exit::usage(chain(&e)))?;
        let result = run(&request, &mut Silent);
        result.write(&self.result).with_context(|| {
            format!("failed to write the result to `{}`", self.result.display())
        })?;
        eprintln!("{}", summary(&result));
        Ok(())
    }
}

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Median time of a training step (forward + backward + optimizer update) on synthetic
    /// 3×32×32 data, with ReLU and with a 5-node parametric expression.
    Train(BenchTrainArgs),
}

impl BenchCommand {
    /// Runs the benchmark.
    pub fn exec(self) -> anyhow::Result<()> {
        match self {
            BenchCommand::Train(args) => args.exec(),
        }
    }
}

/// The parametric expression `pangaea bench train` times besides ReLU: 5 nodes (x·α, x,
/// abs·β, sigmoid, ×), two parameters per channel — the shape of a typical PANGAEA candidate.
pub const BENCH_EXPRESSION: &str = "alpha * x * sigmoid(beta * abs(x))";

/// Arguments of `pangaea bench train`.
#[derive(Debug, Args)]
pub struct BenchTrainArgs {
    /// Architecture: tiny, wrn-10-4, resnet-v1-56, resnet-v1-20, resnet-v2-56, all-cnn-c.
    #[arg(long, default_value = "wrn-10-4")]
    arch: Arch,
    /// Images per step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Timed steps (after one untimed warm-up step).
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Activations to time (repeatable); default: relu and the 5-node expression
    /// `alpha * x * sigmoid(beta * abs(x))`.
    #[arg(long = "act")]
    acts: Vec<String>,
    /// Where to run: auto, cpu, flex, cuda, cuda:N.
    #[arg(long, default_value = "auto")]
    device: DeviceSpec,
    /// Print one JSON object per activation (for scripts: bench/side_by_side.py) instead of
    /// text.
    #[arg(long)]
    json: bool,
}

impl BenchTrainArgs {
    fn exec(self) -> anyhow::Result<()> {
        let acts = if self.acts.is_empty() {
            vec!["relu".to_owned(), BENCH_EXPRESSION.to_owned()]
        } else {
            self.acts
        };
        for act in &acts {
            pangaea_nn::ActivationSpec::parse(act).map_err(exit::usage)?;
        }
        if self.batch_size == 0 || self.steps == 0 {
            return Err(exit::usage("--batch-size and --steps must be at least 1"));
        }
        let backend = pangaea_nn::device::resolve(self.device).map_err(exit::usage)?;
        if !self.json {
            println!(
                "{}: batch {} of 3×32×32, {} timed steps after 1 warm-up, {}",
                self.arch, self.batch_size, self.steps, backend.backend
            );
        }
        for act in &acts {
            let mut config = BenchConfig::new(self.arch, act, self.batch_size, self.steps);
            config.device = self.device;
            let report = bench_train_step(&config).map_err(exit::usage)?;
            if self.json {
                let line = serde_json::json!({
                    "benchmark": "step",
                    "architecture": self.arch,
                    "batch_size": self.batch_size,
                    "activation": report.activation,
                    "device": report.device,
                    "warmup_seconds": report.warmup_seconds,
                    "step_seconds": report.step_seconds,
                    "median_seconds": report.median_seconds(),
                });
                println!("{line}");
                continue;
            }
            let nodes = match pangaea_nn::ActivationSpec::parse(act) {
                Ok(pangaea_nn::ActivationSpec::Expr(e)) => format!(" ({} nodes)", e.nodes().len()),
                _ => String::new(),
            };
            let steps: Vec<String> = report
                .step_seconds
                .iter()
                .map(|s| format!("{s:.3}"))
                .collect();
            println!(
                "{:<40} median {:.3} s/step ({:.0} images/s); warm-up {:.3} s; steps [{}]",
                format!("{}{nodes}", report.activation),
                report.median_seconds(),
                self.batch_size as f64 / report.median_seconds(),
                report.warmup_seconds,
                steps.join(", ")
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: TrainArgs,
    }

    fn args(line: &[&str]) -> TrainArgs {
        let mut argv = vec!["train"];
        argv.extend_from_slice(line);
        Cli::try_parse_from(argv).unwrap().args
    }

    #[test]
    fn flags_override_the_file_which_overrides_the_recipe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            "dataset = \"synthetic\"\narch = \"tiny\"\nact = \"tanh\"\nepochs = 7\nlr = 0.3\n\
             milestones = [2, 4]\nschedule = \"step\"\n",
        )
        .unwrap();
        let (r, out) = args(&["--config", path.to_str().unwrap(), "--lr", "0.2", "--test"])
            .resolve()
            .unwrap();
        assert_eq!(r.activation, "tanh");
        assert_eq!(r.epochs, 7);
        assert_eq!(r.optimizer.lr, 0.2);
        assert_eq!(r.schedule.kind, ScheduleKind::Step);
        assert_eq!(r.schedule.milestones, vec![2, 4]);
        assert!(r.dataset.measure_test);
        assert_eq!(r.batch_size, EvalRequest::recipe(Arch::Tiny).batch_size);
        assert!(out.is_none());
    }

    #[test]
    fn a_bad_toml_names_the_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "dataset = \"synthetic\"\nepochs = \"many\"\n").unwrap();
        let err = args(&["--config", path.to_str().unwrap()])
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.toml") && err.contains("`epochs`"),
            "{err}"
        );
        std::fs::write(&path, "dataset = \"synthetic\"\nepoch = 3\n").unwrap();
        let err = args(&["--config", path.to_str().unwrap()])
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(err.contains("epoch"), "{err}");
    }

    #[test]
    fn missing_and_unknown_names_are_usage_errors() {
        let err = args(&["--arch", "tiny", "--act", "relu"])
            .resolve()
            .unwrap_err();
        assert!(err.to_string().contains("--dataset"), "{err}");
        assert!(err.is::<exit::UsageError>());
        let err = args(&["--arch", "tiny", "--act", "tanh(", "--dataset", "synthetic"])
            .resolve()
            .unwrap_err();
        assert!(err.is::<exit::UsageError>(), "{err}");
        let err = Cli::try_parse_from(["train", "--arch", "vgg", "--act", "relu"]).unwrap_err();
        assert!(err.to_string().contains("vgg"), "{err}");
    }
}
