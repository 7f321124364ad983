//! How many sets of activation parameters a network learns (docs/method.md §2).
//!
//! A request names it ([`crate::EvalRequest::granularity`]); `pangaea-nn` shapes the parameter
//! tensors by it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::UnknownName;

/// How many sets of parameters (α, β, γ) an expression activation learns.
///
/// The paper trains them "separately for different parts of the network"; per channel is our
/// default (docs/method.md §2). The granularity applies to expression activations; the learnable
/// baselines keep the granularity of their own papers (PReLU, Swish-β and APL per channel, PAU
/// per layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// One set per channel of each site: a `[channels, n_params]` parameter tensor per site.
    #[default]
    Channel,
    /// One set per site: a `[1, n_params]` parameter tensor per site.
    Layer,
    /// One set for the whole network: a single `[1, n_params]` tensor, used by every site.
    Shared,
}

impl Granularity {
    /// Every granularity.
    pub const ALL: [Granularity; 3] = [
        Granularity::Channel,
        Granularity::Layer,
        Granularity::Shared,
    ];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Channel => "channel",
            Granularity::Layer => "layer",
            Granularity::Shared => "shared",
        }
    }

    /// The number of parameter sets (rows of the parameter tensor) of one site with `channels`
    /// channels.
    pub fn units(self, channels: usize) -> usize {
        match self {
            Granularity::Channel => channels,
            Granularity::Layer | Granularity::Shared => 1,
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Granularity {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Granularity::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "granularity",
                name: s.to_string(),
                expected: "channel, layer, shared",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for g in Granularity::ALL {
            assert_eq!(g.to_string().parse::<Granularity>().unwrap(), g);
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(json, format!("\"{}\"", g.name()));
            assert_eq!(serde_json::from_str::<Granularity>(&json).unwrap(), g);
        }
    }

    #[test]
    fn unknown_name_is_an_error_that_names_it() {
        let err = "per-pixel".parse::<Granularity>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown granularity `per-pixel` (expected one of channel, layer, shared)"
        );
    }

    #[test]
    fn units_per_granularity() {
        assert_eq!(Granularity::Channel.units(64), 64);
        assert_eq!(Granularity::Layer.units(64), 1);
        assert_eq!(Granularity::Shared.units(64), 1);
    }
}
