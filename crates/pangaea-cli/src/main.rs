//! The `pangaea` binary: a thin layer of clap structs over the library crates.

mod app;
mod data_cmd;
mod exit;
mod export_cmd;
mod expr_cmd;
mod plot;
mod report_cmd;
mod search_cmd;
mod train_cmd;

fn main() {
    std::process::exit(app::run());
}
