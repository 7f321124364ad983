//! One training run of pangaea: an [`EvalRequest`] in, an [`EvalResult`] out.
//!
//! The wire types ([`request`], [`result`]) and the learning-rate [`schedule`] are plain Rust and
//! always compiled; the training engine (burn, the networks, the datasets) sits behind the
//! default `engine` feature, so the search can read and write requests and results without
//! building burn (DESIGN.md, "The flow of data").
#![warn(missing_docs)]

pub mod request;
pub mod result;
pub mod schedule;
pub mod wire;

pub mod events;

#[cfg(feature = "engine")]
pub mod bench;
#[cfg(feature = "engine")]
mod data;
#[cfg(feature = "engine")]
pub mod optimizer;
#[cfg(feature = "engine")]
mod run;
#[cfg(feature = "engine")]
mod step;

#[cfg(feature = "engine")]
pub use bench::{bench_train_step, BenchConfig, BenchError, BenchReport};
pub use events::{Silent, TrainEvent, TrainObserver};
#[cfg(feature = "engine")]
pub use run::run;

pub use request::{
    DatasetSpec, EvalRequest, Granularity, OptimizerSpec, RecordSpec, ScheduleKind, ScheduleSpec,
    REQUEST_VERSION,
};
pub use result::{EpochRecord, EvalResult, ParamSnapshot, SiteRecord, Status, RESULT_VERSION};
pub use schedule::LrSchedule;
pub use wire::WireError;
