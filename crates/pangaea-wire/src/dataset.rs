//! [`DatasetName`]: the five datasets pangaea knows, and their per-dataset defaults. The
//! readers are in `pangaea-data`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::UnknownName;

/// One of the datasets pangaea can load. Written as `cifar10`, `cifar100`, `mnist`,
/// `fashion-mnist`, `synthetic` (in text, on the command line and in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DatasetName {
    /// CIFAR-10, binary version: 50,000 train + 10,000 test 3×32×32 images, 10 classes.
    #[serde(rename = "cifar10")]
    Cifar10,
    /// CIFAR-100, binary version: 50,000 train + 10,000 test 3×32×32 images, 100 fine classes
    /// (20 coarse ones on request).
    #[serde(rename = "cifar100")]
    Cifar100,
    /// MNIST handwritten digits: 60,000 train + 10,000 test 1×28×28 images, 10 classes.
    #[serde(rename = "mnist")]
    Mnist,
    /// Fashion-MNIST clothing: 60,000 train + 10,000 test 1×28×28 images, 10 classes.
    #[serde(rename = "fashion-mnist")]
    FashionMnist,
    /// A small learnable image task generated from a seed (`pangaea_data::synthetic`).
    #[serde(rename = "synthetic")]
    Synthetic,
}

impl DatasetName {
    /// The accepted names, for help texts and errors.
    pub const NAMES: &'static str = "cifar10, cifar100, mnist, fashion-mnist, synthetic";

    /// Every dataset, in a fixed order.
    pub const ALL: [DatasetName; 5] = [
        DatasetName::Cifar10,
        DatasetName::Cifar100,
        DatasetName::Mnist,
        DatasetName::FashionMnist,
        DatasetName::Synthetic,
    ];

    /// The name as written on the command line: `cifar10`, `fashion-mnist`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Cifar10 => "cifar10",
            DatasetName::Cifar100 => "cifar100",
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Synthetic => "synthetic",
        }
    }

    /// Whether horizontal flips are a sensible augmentation by default.
    ///
    /// Off for `mnist` (a mirrored digit is not the same digit) and for `synthetic` (a flip
    /// turns a 36° stripe class into the 144° one); on for CIFAR and Fashion-MNIST (a mirrored
    /// shoe is still a shoe).
    pub fn flips_by_default(self) -> bool {
        match self {
            DatasetName::Cifar10 | DatasetName::Cifar100 | DatasetName::FashionMnist => true,
            DatasetName::Mnist | DatasetName::Synthetic => false,
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = UnknownName;

    /// Parses a name; `cifar-10`, `cifar-100`, `fashion_mnist` and upper case are accepted too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase().replace('_', "-");
        match lower.as_str() {
            "cifar10" | "cifar-10" => Ok(DatasetName::Cifar10),
            "cifar100" | "cifar-100" => Ok(DatasetName::Cifar100),
            "mnist" => Ok(DatasetName::Mnist),
            "fashion-mnist" | "fashionmnist" => Ok(DatasetName::FashionMnist),
            "synthetic" => Ok(DatasetName::Synthetic),
            _ => Err(UnknownName {
                kind: "dataset",
                name: s.to_owned(),
                expected: DatasetName::NAMES,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for name in DatasetName::ALL {
            assert_eq!(name.as_str().parse::<DatasetName>().unwrap(), name);
            let json = format!("\"{}\"", name.as_str());
            assert_eq!(serde_json_like(name), json);
        }
        assert_eq!(
            "CIFAR-10".parse::<DatasetName>().unwrap(),
            DatasetName::Cifar10
        );
        assert_eq!(
            "fashion_mnist".parse::<DatasetName>().unwrap(),
            DatasetName::FashionMnist
        );
    }

    fn serde_json_like(name: DatasetName) -> String {
        serde_json::to_string(&name).unwrap()
    }

    #[test]
    fn unknown_name_is_an_error_that_lists_the_known_ones() {
        let err = "imagenet".parse::<DatasetName>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`imagenet`"), "{msg}");
        assert!(msg.contains("fashion-mnist"), "{msg}");
    }
}
