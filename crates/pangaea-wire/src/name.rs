//! [`UnknownName`]: the one error of the typed names ([`crate::Arch`], [`crate::DatasetName`],
//! [`crate::Granularity`], [`crate::ScheduleKind`]).

/// A name that is none of the known ones of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}` (expected one of {expected})")]
pub struct UnknownName {
    /// What kind of name: `architecture`, `dataset`, `granularity`, `schedule`.
    pub kind: &'static str,
    /// The text that was given.
    pub name: String,
    /// The accepted names, comma-separated.
    pub expected: &'static str,
}
