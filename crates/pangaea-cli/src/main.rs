//! The `pangaea` binary: a thin layer of clap structs over the library crates.

mod app;
mod data_cmd;
mod exit;
mod expr_cmd;
mod plot;

fn main() {
    std::process::exit(app::run());
}
