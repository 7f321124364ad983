//! What crosses pangaea's process boundary, and nothing else: an [`EvalRequest`] goes to a
//! worker (a thread, a `pangaea worker` child process or a Slurm task) and an [`EvalResult`]
//! comes back, both as versioned JSON written atomically.
//!
//! This is the light crate every other one reads (serde only), in the way burn splits its
//! tensor API from the backends few crates compile: the search, the report and the CLI read
//! and write requests and results through it without compiling the training engine
//! (`pangaea-train`, which needs burn). It also holds the *typed* names a request refers to —
//! [`Arch`], [`DatasetName`], [`Granularity`] — so that an unknown name is refused where the
//! request is parsed, with the field it came from, rather than when a run starts.
//!
//! | type | what |
//! |---|---|
//! | [`EvalRequest`] | one training run: activation, granularity, architecture, data, optimizer, schedule, epochs, seed, what to record; [`EvalRequest::recipe`] gives an architecture's default recipe (docs/method.md §5) |
//! | [`EvalResult`] | how it ended ([`Status`] and reason), metrics per epoch, final validation and test metrics, the learned parameters at the recorded points, timings |
//! | [`WireError`] | why a request or result could not be read or written, naming the file and the field |
//!
//! Versioning: each type carries a `version`; a reader accepts every version up to its own and
//! refuses a newer one before looking at any other field ([`REQUEST_VERSION`],
//! [`RESULT_VERSION`]).
#![warn(missing_docs)]

mod arch;
mod dataset;
mod device;
mod granularity;
mod json;
mod name;
pub mod request;
pub mod result;

pub use arch::Arch;
pub use dataset::DatasetName;
pub use device::DeviceSpec;
pub use granularity::Granularity;
pub use json::{write_atomic, JsonFile, WireError};
pub use name::UnknownName;
pub use request::{
    DatasetSpec, EvalRequest, OptimizerSpec, RecipeError, RecordSpec, ScheduleKind, ScheduleSpec,
    DEFAULT_PARAM_POINTS, REQUEST_VERSION,
};
pub use result::{EpochRecord, EvalResult, ParamSnapshot, SiteRecord, Status, RESULT_VERSION};

#[doc(hidden)]
pub use serde as __serde;

/// Implements serde for a type through its `Display` and `FromStr`: a string in JSON and TOML,
/// parsed when read, a parse error becoming the deserializer's error with the `FromStr` error's
/// text. For the names that have one text form (`DeviceSpec`, the activation specs).
#[macro_export]
macro_rules! serde_as_text {
    ($ty:ty) => {
        impl $crate::__serde::Serialize for $ty {
            fn serialize<S: $crate::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let text = <String as $crate::__serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err($crate::__serde::de::Error::custom)
            }
        }
    };
}
