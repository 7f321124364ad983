//! Top-level command line: one `Subcommand` enum, each variant's `exec` calls a library.

use clap::{Parser, Subcommand};

/// Discover parametric activation functions (PANGAEA).
#[derive(Debug, Parser)]
#[command(name = "pangaea", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with activation-function expressions: show, eval, plot, random, mutate.
    #[command(subcommand)]
    Expr(crate::expr_cmd::ExprCommand),
    /// Download and inspect datasets: fetch, info.
    #[command(subcommand)]
    Data(crate::data_cmd::DataCommand),
    /// Train one network with an activation and report its validation (and test) accuracy.
    Train(Box<crate::train_cmd::TrainArgs>),
    /// Run one EvalRequest file and write its EvalResult (used by the process executor).
    ///
    /// Exits 0 whenever the result file was written, whatever the run's status (the file says
    /// ok, diverged, rejected or failed, and why); 2 when the request file cannot be read or
    /// parsed; 1 when the result cannot be written.
    Worker(crate::train_cmd::WorkerArgs),
    /// Time training steps.
    #[command(subcommand)]
    Bench(crate::train_cmd::BenchCommand),
    /// Run or resume an evolutionary search for activation functions (docs/method.md §3).
    Search(Box<crate::search_cmd::SearchArgs>),
    /// Export an activation as PyTorch or NumPy code, LaTeX or JSON.
    Export(crate::export_cmd::ExportArgs),
    /// Write an offline HTML report of a search store.
    Report(crate::report_cmd::ReportArgs),
    /// Retrain a search's top functions and baselines; compare test accuracy against ReLU.
    Final(crate::report_cmd::FinalArgs),
    /// Train given activations several times; compare test accuracy against ReLU.
    Compare(crate::report_cmd::CompareArgs),
    /// Measure the noise of one fitness evaluation: the spread over seeds under a search recipe.
    Noise(Box<crate::noise_cmd::NoiseArgs>),
    /// Train functions on a grid of architectures × datasets, several runs each; write the
    /// paper-style table (markdown, JSON, LaTeX) and an HTML page. Resumable.
    Study(Box<crate::study_cmd::StudyArgs>),
    /// Replay the kNN pre-screen on a stored search: Spearman correlation of predicted and
    /// trained fitness, training time it would have saved.
    Screen(crate::screen_cmd::ScreenArgs),
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Expr(cmd) => cmd.exec(),
        Command::Data(cmd) => cmd.exec(),
        Command::Train(args) => args.exec(),
        Command::Worker(args) => args.exec(),
        Command::Bench(cmd) => cmd.exec(),
        Command::Search(args) => args.exec(),
        Command::Export(args) => args.exec(),
        Command::Report(args) => args.exec(),
        Command::Final(args) => args.exec(),
        Command::Compare(args) => args.exec(),
        Command::Noise(args) => args.exec(),
        Command::Study(args) => args.exec(),
        Command::Screen(args) => args.exec(),
    };
    crate::exit::report(result)
}
