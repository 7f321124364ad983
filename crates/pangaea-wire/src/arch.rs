//! [`Arch`]: the architectures a request can name (docs/method.md §5). The networks themselves
//! are built by `pangaea-nn`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::UnknownName;

/// A network architecture. Every activation of it is a site that runs the candidate.
///
/// Written as `tiny`, `wrn-10-4`, `resnet-v1-56`, `resnet-v2-56`, `all-cnn-c` on the command
/// line, in TOML and in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Arch {
    /// Four small convolutions, for tests and quick searches (ours, not a published network).
    #[serde(rename = "tiny")]
    Tiny,
    /// Wide ResNet 10-4, pre-activation.
    #[serde(rename = "wrn-10-4")]
    Wrn10_4,
    /// He et al.'s CIFAR ResNet-56 with option-A shortcuts.
    #[serde(rename = "resnet-v1-56")]
    ResNetV1_56,
    /// The same ResNet with 3 blocks per stage (depth 20): the small ResNet of quick transfer
    /// studies.
    #[serde(rename = "resnet-v1-20")]
    ResNetV1_20,
    /// The Keras pre-activation bottleneck ResNet-56.
    #[serde(rename = "resnet-v2-56")]
    ResNetV2_56,
    /// All-CNN-C with its dropout.
    #[serde(rename = "all-cnn-c")]
    AllCnnC,
}

impl Arch {
    /// Every architecture.
    pub const ALL: [Arch; 6] = [
        Arch::Tiny,
        Arch::Wrn10_4,
        Arch::ResNetV1_56,
        Arch::ResNetV1_20,
        Arch::ResNetV2_56,
        Arch::AllCnnC,
    ];

    /// The accepted names, for help texts and errors.
    pub const NAMES: &'static str =
        "tiny, wrn-10-4, resnet-v1-56, resnet-v1-20, resnet-v2-56, all-cnn-c";

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Tiny => "tiny",
            Arch::Wrn10_4 => "wrn-10-4",
            Arch::ResNetV1_56 => "resnet-v1-56",
            Arch::ResNetV1_20 => "resnet-v1-20",
            Arch::ResNetV2_56 => "resnet-v2-56",
            Arch::AllCnnC => "all-cnn-c",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Arch {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Arch::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| UnknownName {
                kind: "architecture",
                name: s.to_string(),
                expected: Arch::NAMES,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for a in Arch::ALL {
            assert_eq!(a.to_string().parse::<Arch>().unwrap(), a);
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.name()));
            assert_eq!(serde_json::from_str::<Arch>(&json).unwrap(), a);
        }
        let err = serde_json::from_str::<Arch>("\"vgg\"").unwrap_err();
        assert!(err.to_string().contains("vgg"), "{err}");
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = "resnet-50".parse::<Arch>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown architecture `resnet-50` (expected one of tiny, wrn-10-4, resnet-v1-56, resnet-v1-20, resnet-v2-56, all-cnn-c)"
        );
    }
}
