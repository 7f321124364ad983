//! The names of the baseline activations (docs/method.md §5, "Baselines in the paper's tables").

use std::fmt;
use std::str::FromStr;

use crate::NnError;

/// The default number of APL hinges S (Agostinelli et al. 2015 used S = 1..5 on CIFAR).
pub const APL_DEFAULT_HINGES: usize = 2;

/// Defines [`Baseline`] and [`FixedBaseline`] from one list of the fixed baselines, so that the
/// two enums, the names and the conversion between them cannot drift apart.
macro_rules! baselines {
    ($( $(#[doc = $doc:literal])* $variant:ident => $name:literal, )*) => {
        /// A baseline activation, selectable by name.
        ///
        /// The fixed ones run on burn's own tensor operations (faster than an expression); the
        /// learnable ones ([`Baseline::is_learnable`]) carry their own parameters.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Baseline {
            $( $(#[doc = $doc])* $variant, )*
            /// x if x ≥ 0 else a·x, a learned per channel (He et al. 2015), initialised to 0.25.
            Prelu,
            /// x·σ(βx), β learned per channel (Ramachandran et al. 2017), initialised to 1.
            SwishBeta,
            /// Padé activation unit P5/Q4 with the safe denominator, one set per site
            /// (Molina et al. 2020), initialised to approximate leaky ReLU.
            Pau,
            /// Adaptive piecewise linear unit with this many hinges per channel (Agostinelli et
            /// al. 2015).
            Apl {
                /// The number of hinges S.
                hinges: usize,
            },
        }

        /// The baselines without parameters: the [`Baseline`] variants of the same names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FixedBaseline {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Baseline {
            /// Every baseline (APL with its default number of hinges).
            pub const ALL: [Baseline; 16] = [
                $( Baseline::$variant, )*
                Baseline::Prelu,
                Baseline::SwishBeta,
                Baseline::Pau,
                Baseline::Apl { hinges: APL_DEFAULT_HINGES },
            ];

            /// The fixed baseline of this name, if it is one.
            fn fixed(self) -> Option<FixedBaseline> {
                match self {
                    $( Baseline::$variant => Some(FixedBaseline::$variant), )*
                    _ => None,
                }
            }
        }

        impl FixedBaseline {
            /// The name, as [`Baseline::name`].
            pub fn name(self) -> &'static str {
                match self {
                    $( FixedBaseline::$variant => $name, )*
                }
            }
        }
    };
}

baselines! {
    /// max(x, 0).
    Relu => "relu",
    /// x if x > 0 else 0.01x.
    LeakyRelu => "leaky_relu",
    /// x if x > 0 else eˣ − 1.
    Elu => "elu",
    /// λ·(x if x > 0 else α(eˣ − 1)).
    Selu => "selu",
    /// x·Φ(x), exact.
    Gelu => "gelu",
    /// x·σ(x).
    Swish => "swish",
    /// x·tanh(softplus(x)).
    Mish => "mish",
    /// log(1 + eˣ).
    Softplus => "softplus",
    /// x/(1 + |x|).
    Softsign => "softsign",
    /// tanh x.
    Tanh => "tanh",
    /// σ(x).
    Sigmoid => "sigmoid",
    /// x·σ(x) if x ≥ 0 else (eˣ − 1)·σ(x).
    Elish => "elish",
}

/// A [`Baseline`] as one of the two kinds of site it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaselineKind {
    /// No parameters: a function of burn tensor operations.
    Fixed(FixedBaseline),
    /// Parameters of its own: a module.
    Learnable(LearnableBaseline),
}

/// The baselines with parameters of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LearnableBaseline {
    /// [`Baseline::Prelu`].
    Prelu,
    /// [`Baseline::SwishBeta`].
    SwishBeta,
    /// [`Baseline::Pau`].
    Pau,
    /// [`Baseline::Apl`].
    Apl {
        /// The number of hinges S.
        hinges: usize,
    },
}

impl LearnableBaseline {
    /// The base name (`apl` for every APL), as [`Baseline::name`].
    pub fn name(self) -> &'static str {
        match self {
            LearnableBaseline::Prelu => "prelu",
            LearnableBaseline::SwishBeta => "swish_beta",
            LearnableBaseline::Pau => "pau",
            LearnableBaseline::Apl { .. } => "apl",
        }
    }
}

impl Baseline {
    /// The base name (`apl` for every APL, whatever its number of hinges).
    pub fn name(self) -> &'static str {
        match self.kind() {
            BaselineKind::Fixed(fixed) => fixed.name(),
            BaselineKind::Learnable(learnable) => learnable.name(),
        }
    }

    /// Whether the baseline is fixed or has parameters of its own, as a type each kind of
    /// site can be built from.
    pub fn kind(self) -> BaselineKind {
        if let Some(fixed) = self.fixed() {
            return BaselineKind::Fixed(fixed);
        }
        BaselineKind::Learnable(match self {
            Baseline::Prelu => LearnableBaseline::Prelu,
            Baseline::SwishBeta => LearnableBaseline::SwishBeta,
            Baseline::Pau => LearnableBaseline::Pau,
            Baseline::Apl { hinges } => LearnableBaseline::Apl { hinges },
            fixed => unreachable!("{fixed:?} is fixed"),
        })
    }

    /// Whether the baseline has parameters of its own, trained with the weights.
    pub fn is_learnable(self) -> bool {
        matches!(self.kind(), BaselineKind::Learnable(_))
    }

    /// Parses a baseline name: one of the names of [`Baseline::ALL`], or `apl:S` for APL with S
    /// hinges. `Ok(None)` when the text is not a baseline name at all.
    pub fn parse(text: &str) -> Result<Option<Baseline>, NnError> {
        if let Some(hinges) = text.strip_prefix("apl:") {
            return match hinges.parse::<usize>() {
                Ok(hinges) if hinges >= 1 => Ok(Some(Baseline::Apl { hinges })),
                _ => Err(NnError::AplHinges {
                    text: text.to_string(),
                }),
            };
        }
        Ok(Baseline::ALL.into_iter().find(|b| b.name() == text))
    }
}

/// `apl` for APL with the default number of hinges, `apl:S` otherwise; the name for the rest.
impl fmt::Display for Baseline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Baseline::Apl { hinges } if hinges != APL_DEFAULT_HINGES => write!(f, "apl:{hinges}"),
            b => f.write_str(b.name()),
        }
    }
}

impl FromStr for Baseline {
    type Err = NnError;

    /// Like [`Baseline::parse`], with an unknown name as an error: use
    /// [`crate::ActivationSpec::parse`] to accept expressions too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Baseline::parse(s)?.ok_or_else(|| NnError::Baseline {
            name: s.to_string(),
        })
    }
}

pangaea_wire::serde_as_text!(Baseline);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_baselines_are_fixed_and_four_learnable() {
        let fixed = Baseline::ALL
            .iter()
            .filter(|b| matches!(b.kind(), BaselineKind::Fixed(_)))
            .count();
        assert_eq!(fixed, 12);
        assert!(Baseline::Prelu.is_learnable());
        assert!(Baseline::Apl { hinges: 3 }.is_learnable());
        assert!(!Baseline::Relu.is_learnable());
        assert_eq!(
            Baseline::Apl { hinges: 3 }.kind(),
            BaselineKind::Learnable(LearnableBaseline::Apl { hinges: 3 })
        );
    }

    #[test]
    fn names_are_distinct() {
        let names: std::collections::BTreeSet<_> = Baseline::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(names.len(), Baseline::ALL.len());
    }

    #[test]
    fn every_name_round_trips() {
        for b in Baseline::ALL {
            assert_eq!(Baseline::parse(&b.to_string()).unwrap(), Some(b));
            let json = serde_json::to_string(&b).unwrap();
            assert_eq!(serde_json::from_str::<Baseline>(&json).unwrap(), b);
        }
    }

    #[test]
    fn apl_with_hinges() {
        assert_eq!(
            Baseline::parse("apl:5").unwrap(),
            Some(Baseline::Apl { hinges: 5 })
        );
        assert_eq!(Baseline::Apl { hinges: 5 }.to_string(), "apl:5");
        assert_eq!(Baseline::Apl { hinges: 2 }.to_string(), "apl");
        for bad in ["apl:0", "apl:", "apl:two", "apl:-1"] {
            assert_eq!(
                Baseline::parse(bad).unwrap_err(),
                NnError::AplHinges {
                    text: bad.to_string()
                }
            );
        }
    }

    #[test]
    fn not_a_baseline_is_none() {
        assert_eq!(Baseline::parse("relu(x)").unwrap(), None);
        assert_eq!(Baseline::parse("RELU").unwrap(), None);
    }

    #[test]
    fn learnable_ones() {
        let learnable: Vec<_> = Baseline::ALL
            .into_iter()
            .filter(|b| b.is_learnable())
            .map(|b| b.name())
            .collect();
        assert_eq!(learnable, ["prelu", "swish_beta", "pau", "apl"]);
    }
}
