//! The errors of pangaea-nn.

use pangaea_expr::ParseError;

/// What can go wrong when describing a network from user input.
///
/// Programmer errors (a tensor of the wrong rank handed to a layer) panic instead; everything a
/// user can type — an activation, an architecture name, a granularity, an image size — comes
/// back as one of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NnError {
    /// The activation text is neither a baseline name nor a valid expression.
    #[error("activation `{text}` is not a baseline name and not an expression: {source}")]
    Activation {
        /// The text that was given.
        text: String,
        /// Why it does not parse as an expression (with the byte offset in `text`).
        #[source]
        source: ParseError,
    },
    /// `apl:S` with an S that is not a positive integer.
    #[error("activation `{text}`: the number of APL hinges after `apl:` must be an integer ≥ 1")]
    AplHinges {
        /// The text that was given.
        text: String,
    },
    /// An unknown baseline name (where only a baseline is accepted).
    #[error("unknown baseline `{name}` (expected relu, leaky_relu, elu, selu, gelu, swish, mish, softplus, softsign, tanh, sigmoid, elish, prelu, swish_beta, pau, apl or apl:S)")]
    Baseline {
        /// The name that was given.
        name: String,
    },
    /// The requested device is not available in this build or on this machine.
    #[error("device `{spec}` is not available: {reason}")]
    Device {
        /// The device as requested (`cuda:1`).
        spec: String,
        /// Why.
        reason: String,
    },
    /// A network configuration field out of range.
    #[error("network config field `{field}` is {value}: {expected}")]
    Config {
        /// The field of [`crate::NetConfig`].
        field: &'static str,
        /// The value it had.
        value: usize,
        /// What was expected.
        expected: String,
    },
}
