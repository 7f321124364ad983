//! [`DeviceSpec`]: where a run trains, as a request says it (`--device`).

use std::fmt;
use std::str::FromStr;

use crate::UnknownName;

/// The compute device a request asks for. Which backend runs it depends on how pangaea was
/// built (see `pangaea_nn::device`): `cpu` is LibTorch's CPU device in a `tch` build and burn's
/// `flex` otherwise; `cuda:N` needs a `tch` or `cuda` build.
///
/// Written `auto`, `cpu`, `flex`, `cuda` (= `cuda:0`) or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeviceSpec {
    /// The first GPU when the build has a GPU backend and a GPU answers, else the CPU.
    #[default]
    Auto,
    /// The CPU, through the fastest CPU backend of the build.
    Cpu,
    /// The CPU through burn's pure-Rust `flex` backend, whatever else the build has (for
    /// comparisons).
    Flex,
    /// The CUDA GPU of this index.
    Cuda(usize),
}

impl DeviceSpec {
    /// The accepted forms, for help texts and errors.
    pub const NAMES: &'static str = "auto, cpu, flex, cuda, cuda:N";
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Auto => f.write_str("auto"),
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Flex => f.write_str("flex"),
            DeviceSpec::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownName {
            kind: "device",
            name: s.to_owned(),
            expected: DeviceSpec::NAMES,
        };
        match s {
            "auto" => Ok(DeviceSpec::Auto),
            "cpu" => Ok(DeviceSpec::Cpu),
            "flex" => Ok(DeviceSpec::Flex),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            _ => match s.strip_prefix("cuda:") {
                Some(index) => index.parse().map(DeviceSpec::Cuda).map_err(|_| unknown()),
                None => Err(unknown()),
            },
        }
    }
}

crate::serde_as_text!(DeviceSpec);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_round_trip_and_bad_ones_are_named() {
        for (text, spec) in [
            ("auto", DeviceSpec::Auto),
            ("cpu", DeviceSpec::Cpu),
            ("flex", DeviceSpec::Flex),
            ("cuda:3", DeviceSpec::Cuda(3)),
        ] {
            assert_eq!(text.parse::<DeviceSpec>().unwrap(), spec);
            assert_eq!(spec.to_string(), text);
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<DeviceSpec>(&json).unwrap(), spec);
        }
        assert_eq!("cuda".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(0));
        let err = "gpu".parse::<DeviceSpec>().unwrap_err().to_string();
        assert!(err.contains("`gpu`") && err.contains("cuda:N"), "{err}");
        assert!("cuda:x".parse::<DeviceSpec>().is_err());
    }
}
