//! The training engine of pangaea: [`run`] trains the network an
//! [`EvalRequest`](pangaea_wire::EvalRequest) describes and returns an
//! [`EvalResult`](pangaea_wire::EvalResult).
//!
//! The request and result types live in `pangaea-wire`, which the search, the report and the
//! CLI read without compiling burn; this crate is what few compile: burn, the networks
//! (`pangaea-nn`) and the datasets (`pangaea-data`). Progress goes to a [`TrainObserver`] as
//! [`TrainEvent`]s; [`bench_train_step`] times training steps for `pangaea bench train`;
//! [`InitProbe`] measures a network at initialisation for the search's pre-screen.
#![warn(missing_docs)]

pub mod bench;
mod data;
mod events;
pub mod init_probe;
pub mod optimizer;
mod run;
mod schedule;
mod step;

pub use bench::{bench_train_step, BenchConfig, BenchError, BenchReport};
pub use events::{Silent, TrainEvent, TrainObserver};
pub use init_probe::InitProbe;
pub use run::run;
pub use schedule::LrSchedule;
