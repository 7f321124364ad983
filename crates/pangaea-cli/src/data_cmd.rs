//! `pangaea data`: download datasets and summarize them.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use pangaea_data::location::DATA_DIR_ENV;
use pangaea_data::{
    fetch, load_located, resolve_data_root, Cifar100Labels, DataError, DatasetName, FetchEvent,
    FetchOptions, LoadOptions, SyntheticConfig, TrainTestInfo,
};

/// Download and inspect datasets.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download a dataset from its official address into the data folder, verifying its
    /// SHA-256; a failed or interrupted download leaves existing data untouched.
    Fetch(FetchArgs),
    /// Show a dataset's image counts, classes, per-class histogram and channel mean/std.
    Info(InfoArgs),
}

impl DataCommand {
    /// Runs the subcommand.
    pub fn exec(self) -> anyhow::Result<()> {
        match self {
            DataCommand::Fetch(args) => args.exec(),
            DataCommand::Info(args) => args.exec(),
        }
    }
}

/// Arguments of `pangaea data fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The dataset: cifar10, cifar100, mnist or fashion-mnist.
    #[arg(value_parser = parse_name)]
    name: DatasetName,
    /// Data folder [default: $PANGAEA_DATA, else ~/.cache/pangaea/data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Base address of a mirror to download from instead [default: $PANGAEA_DATA_MIRROR].
    #[arg(long, value_name = "URL")]
    mirror: Option<String>,
    /// Download again even when the dataset is already there.
    #[arg(long)]
    force: bool,
}

/// Arguments of `pangaea data info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The dataset: cifar10, cifar100, mnist, fashion-mnist or synthetic.
    #[arg(value_parser = parse_name)]
    name: DatasetName,
    /// Data folder [default: $PANGAEA_DATA, else ~/.cache/pangaea/data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// CIFAR-100 classes: the 100 fine ones or the 20 coarse superclasses.
    #[arg(long, value_enum, default_value_t = LabelsArg::Fine)]
    labels: LabelsArg,
    /// Seed of the synthetic dataset.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// CIFAR-100 label choice on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LabelsArg {
    Fine,
    Coarse,
}

fn parse_name(s: &str) -> Result<DatasetName, String> {
    s.parse()
        .map_err(|e: pangaea_wire::UnknownName| e.to_string())
}

/// Converts a library error, marking the caller's mistakes as usage errors (exit 2).
fn to_anyhow(err: DataError) -> anyhow::Error {
    if err.is_usage() {
        crate::exit::usage(err)
    } else {
        anyhow::Error::new(err)
    }
}

impl FetchArgs {
    fn exec(self) -> anyhow::Result<()> {
        if self.name == DatasetName::Synthetic {
            return Err(to_anyhow(DataError::NotFetchable(self.name)));
        }
        let root = resolve_data_root(self.data_dir.as_deref()).ok_or_else(|| {
            crate::exit::usage(format!(
                "no data folder: give --data-dir or set ${DATA_DIR_ENV}"
            ))
        })?;
        let mut options = FetchOptions::from_env();
        if self.mirror.is_some() {
            options.mirror = self.mirror;
        }
        options.force = self.force;
        let mut progress = Progress::new(std::io::stderr().is_terminal());
        let dir = fetch(self.name, &root, &options, &mut |e| progress.on_event(e));
        progress.finish();
        let dir = dir.map_err(to_anyhow)?;
        println!("{} is in {}", self.name, dir.display());
        Ok(())
    }
}

/// Shows fetch events: a byte progress bar on a terminal, one line per step otherwise.
struct Progress {
    tty: bool,
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(tty: bool) -> Self {
        Progress { tty, bar: None }
    }

    fn on_event(&mut self, event: &FetchEvent<'_>) {
        match event {
            FetchEvent::AlreadyPresent { path } => {
                eprintln!("already present: {}", path.display());
            }
            FetchEvent::Start { url, total } => {
                if self.tty {
                    let bar = match total {
                        Some(n) => ProgressBar::new(*n),
                        None => ProgressBar::new_spinner(),
                    };
                    if let Ok(style) = ProgressStyle::with_template(
                        "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
                    ) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar.set_message(file_name(url).to_owned());
                    self.bar = Some(bar);
                } else {
                    eprintln!("downloading {url}");
                }
            }
            FetchEvent::Progress { done, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(*done);
                }
            }
            FetchEvent::Verified { url } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                eprintln!("verified {} (sha256)", file_name(url));
            }
            FetchEvent::Unpacking { file } => eprintln!("unpacking {file}"),
            // `Installed` is reported by the caller's final line; the enum is non-exhaustive.
            _ => {}
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}

fn file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

impl InfoArgs {
    fn exec(self) -> anyhow::Result<()> {
        let report = self.report()?;
        let mut stdout = std::io::stdout().lock();
        match writeln!(stdout, "{report}") {
            // A closed pipe (`pangaea data info … | head`) is not a failure.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            result => Ok(result?),
        }
    }

    /// The text (or JSON) that `exec` prints.
    fn report(&self) -> anyhow::Result<String> {
        let options = LoadOptions {
            data_dir: self.data_dir.clone(),
            cifar100_labels: match self.labels {
                LabelsArg::Fine => Cifar100Labels::Fine,
                LabelsArg::Coarse => Cifar100Labels::Coarse,
            },
            synthetic: SyntheticConfig {
                seed: self.seed,
                ..SyntheticConfig::default()
            },
        };
        let loaded = load_located(self.name, &options).map_err(to_anyhow)?;
        let info = TrainTestInfo::of(self.name, loaded.location, &loaded.data);
        if self.json {
            Ok(serde_json::to_string_pretty(&info)?)
        } else {
            Ok(render_text(&info))
        }
    }
}

/// The human-readable summary.
fn render_text(info: &TrainTestInfo) -> String {
    let (train, test) = (&info.train, &info.test);
    let mut out = String::new();
    let _ = writeln!(out, "dataset   {}", info.dataset);
    let location = info.location.as_ref().map_or_else(
        || "generated (no files)".to_owned(),
        |p| p.display().to_string(),
    );
    let _ = writeln!(out, "location  {location}");
    let _ = writeln!(
        out,
        "images    {}×{}×{} (C×H×W, u8)",
        train.channels, train.height, train.width
    );
    let _ = writeln!(out, "classes   {}", train.num_classes);
    let _ = writeln!(out);
    let _ = writeln!(out, "part    images  channel mean          channel std");
    for part in [train, test] {
        let label = part.name.rsplit('/').next().unwrap_or(&part.name);
        let _ = writeln!(
            out,
            "{label:<6} {:>7}  {:<20}  {}",
            part.count,
            numbers(&part.channel_mean),
            numbers(&part.channel_std)
        );
    }
    let _ = writeln!(out);
    let width = train
        .class_names
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        out,
        "label  {:<width$}  {:>7}  {:>7}",
        "class", "train", "test"
    );
    for (k, name) in train.class_names.iter().enumerate() {
        let _ = writeln!(
            out,
            "{k:>5}  {name:<width$}  {:>7}  {:>7}",
            train.class_counts.get(k).copied().unwrap_or(0),
            test.class_counts.get(k).copied().unwrap_or(0)
        );
    }
    out.truncate(out.trim_end().len());
    out
}

fn numbers(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.4}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(subcommand)]
        cmd: DataCommand,
    }

    fn parse(args: &[&str]) -> Result<DataCommand, clap::Error> {
        Wrapper::try_parse_from(std::iter::once("data").chain(args.iter().copied())).map(|w| w.cmd)
    }

    #[test]
    fn names_are_parsed_and_unknown_ones_rejected() {
        let DataCommand::Info(args) = parse(&["info", "fashion-mnist", "--json"]).unwrap() else {
            panic!("expected info");
        };
        assert_eq!(args.name, DatasetName::FashionMnist);
        assert!(args.json);
        let err = parse(&["fetch", "imagenet"]).unwrap_err();
        assert!(
            err.to_string().contains("unknown dataset `imagenet`"),
            "{err}"
        );
        let DataCommand::Fetch(args) =
            parse(&["fetch", "cifar10", "--data-dir", "/d", "--force"]).unwrap()
        else {
            panic!("expected fetch");
        };
        assert_eq!(args.data_dir, Some(PathBuf::from("/d")));
        assert!(args.force);
    }

    #[test]
    fn synthetic_info_as_text_and_json() {
        let DataCommand::Info(args) = parse(&["info", "synthetic"]).unwrap() else {
            panic!("expected info");
        };
        let text = args.report().unwrap();
        assert!(text.contains("dataset   synthetic"), "{text}");
        assert!(text.contains("images    3×16×16"), "{text}");
        assert!(
            text.lines().any(|l| l.starts_with("train     5000  0.")),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l.starts_with("test      1000  0.")),
            "{text}"
        );
        assert!(
            text.contains("    9  coarse-144deg      500      100"),
            "{text}"
        );

        let DataCommand::Info(args) =
            parse(&["info", "synthetic", "--json", "--seed", "3"]).unwrap()
        else {
            panic!("expected info");
        };
        let json: serde_json::Value = serde_json::from_str(&args.report().unwrap()).unwrap();
        assert_eq!(json["dataset"], "synthetic");
        assert_eq!(json["train"]["count"], 5000);
        assert_eq!(json["test"]["class_counts"][0], 100);
    }

    #[test]
    fn fetching_synthetic_is_a_usage_error() {
        let DataCommand::Fetch(args) =
            parse(&["fetch", "synthetic", "--data-dir", "/nonexistent"]).unwrap()
        else {
            panic!("expected fetch");
        };
        let err = args.exec().unwrap_err();
        assert!(
            err.chain().any(|e| e.is::<crate::exit::UsageError>()),
            "{err:#}"
        );
    }

    #[test]
    fn missing_dataset_says_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let DataCommand::Info(args) = parse(&[
            "info",
            "cifar100",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .unwrap() else {
            panic!("expected info");
        };
        let err = format!("{:#}", args.report().unwrap_err());
        assert!(err.contains("cifar-100-binary"), "{err}");
        assert!(err.contains("pangaea data fetch cifar100"), "{err}");
    }
}
