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
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Expr(cmd) => cmd.exec(),
        Command::Data(cmd) => cmd.exec(),
    };
    crate::exit::report(result)
}
