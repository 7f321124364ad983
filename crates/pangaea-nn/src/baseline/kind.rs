//! The names of the baseline activations (docs/method.md §5, "Baselines in the paper's tables").

use std::fmt;
use std::str::FromStr;

use crate::NnError;

/// The default number of APL hinges S (Agostinelli et al. 2015 used S = 1..5 on CIFAR).
pub const APL_DEFAULT_HINGES: usize = 2;

/// A baseline activation, selectable by name.
///
/// The fixed ones run on burn's own tensor operations (faster than an expression); the learnable
/// ones ([`Baseline::is_learnable`]) carry their own parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Baseline {
    /// max(x, 0).
    Relu,
    /// x if x > 0 else 0.01x.
    LeakyRelu,
    /// x if x > 0 else eˣ − 1.
    Elu,
    /// λ·(x if x > 0 else α(eˣ − 1)).
    Selu,
    /// x·Φ(x), exact.
    Gelu,
    /// x·σ(x).
    Swish,
    /// x·tanh(softplus(x)).
    Mish,
    /// log(1 + eˣ).
    Softplus,
    /// x/(1 + |x|).
    Softsign,
    /// tanh x.
    Tanh,
    /// σ(x).
    Sigmoid,
    /// x·σ(x) if x ≥ 0 else (eˣ − 1)·σ(x).
    Elish,
    /// x if x ≥ 0 else a·x, a learned per channel (He et al. 2015), initialised to 0.25.
    Prelu,
    /// x·σ(βx), β learned per channel (Ramachandran et al. 2017), initialised to 1.
    SwishBeta,
    /// Padé activation unit P5/Q4 with the safe denominator, one set per site
    /// (Molina et al. 2020), initialised to approximate leaky ReLU.
    Pau,
    /// Adaptive piecewise linear unit with this many hinges per channel (Agostinelli et al.
    /// 2015).
    Apl {
        /// The number of hinges S.
        hinges: usize,
    },
}

/// A [`Baseline`] as one of the two kinds of site it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaselineKind {
    /// No parameters: a function of burn tensor operations.
    Fixed(FixedBaseline),
    /// Parameters of its own: a module.
    Learnable(LearnableBaseline),
}

/// The baselines without parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[expect(missing_docs, reason = "each is the Baseline variant of the same name")]
pub enum FixedBaseline {
    Relu,
    LeakyRelu,
    Elu,
    Selu,
    Gelu,
    Swish,
    Mish,
    Softplus,
    Softsign,
    Tanh,
    Sigmoid,
    Elish,
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

impl Baseline {
    /// Every baseline (APL with its default number of hinges).
    pub const ALL: [Baseline; 16] = [
        Baseline::Relu,
        Baseline::LeakyRelu,
        Baseline::Elu,
        Baseline::Selu,
        Baseline::Gelu,
        Baseline::Swish,
        Baseline::Mish,
        Baseline::Softplus,
        Baseline::Softsign,
        Baseline::Tanh,
        Baseline::Sigmoid,
        Baseline::Elish,
        Baseline::Prelu,
        Baseline::SwishBeta,
        Baseline::Pau,
        Baseline::Apl {
            hinges: APL_DEFAULT_HINGES,
        },
    ];

    /// The base name (`apl` for every APL, whatever its number of hinges).
    pub fn name(self) -> &'static str {
        match self {
            Baseline::Relu => "relu",
            Baseline::LeakyRelu => "leaky_relu",
            Baseline::Elu => "elu",
            Baseline::Selu => "selu",
            Baseline::Gelu => "gelu",
            Baseline::Swish => "swish",
            Baseline::Mish => "mish",
            Baseline::Softplus => "softplus",
            Baseline::Softsign => "softsign",
            Baseline::Tanh => "tanh",
            Baseline::Sigmoid => "sigmoid",
            Baseline::Elish => "elish",
            Baseline::Prelu => "prelu",
            Baseline::SwishBeta => "swish_beta",
            Baseline::Pau => "pau",
            Baseline::Apl { .. } => "apl",
        }
    }

    /// Whether the baseline is fixed or has parameters of its own, as a type each kind of
    /// site can be built from.
    pub fn kind(self) -> BaselineKind {
        use BaselineKind::{Fixed, Learnable};
        match self {
            Baseline::Relu => Fixed(FixedBaseline::Relu),
            Baseline::LeakyRelu => Fixed(FixedBaseline::LeakyRelu),
            Baseline::Elu => Fixed(FixedBaseline::Elu),
            Baseline::Selu => Fixed(FixedBaseline::Selu),
            Baseline::Gelu => Fixed(FixedBaseline::Gelu),
            Baseline::Swish => Fixed(FixedBaseline::Swish),
            Baseline::Mish => Fixed(FixedBaseline::Mish),
            Baseline::Softplus => Fixed(FixedBaseline::Softplus),
            Baseline::Softsign => Fixed(FixedBaseline::Softsign),
            Baseline::Tanh => Fixed(FixedBaseline::Tanh),
            Baseline::Sigmoid => Fixed(FixedBaseline::Sigmoid),
            Baseline::Elish => Fixed(FixedBaseline::Elish),
            Baseline::Prelu => Learnable(LearnableBaseline::Prelu),
            Baseline::SwishBeta => Learnable(LearnableBaseline::SwishBeta),
            Baseline::Pau => Learnable(LearnableBaseline::Pau),
            Baseline::Apl { hinges } => Learnable(LearnableBaseline::Apl { hinges }),
        }
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
