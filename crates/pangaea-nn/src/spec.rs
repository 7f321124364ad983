//! What runs at every activation site: a baseline or an expression, parsed from one string.

use std::fmt;
use std::str::FromStr;

use pangaea_expr::Expr;

use crate::{Baseline, NnError};

/// The activation of a network, as typed on the command line or stored in a request.
///
/// Text that names a baseline ([`Baseline::parse`]) is that baseline — so `relu` is the fast
/// burn ReLU, not the expression `relu(x)`; any other text must parse as an expression.
/// Serialized as its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActivationSpec {
    /// A named baseline.
    Baseline(Baseline),
    /// An expression with its learnable parameters (docs/method.md §2).
    Expr(Expr),
}

impl ActivationSpec {
    /// Parses a baseline name, else an expression.
    ///
    /// # Errors
    ///
    /// [`NnError::AplHinges`] for a malformed `apl:S`; [`NnError::Activation`] with the
    /// expression's parse error (and its byte offset) for anything else that does not parse.
    pub fn parse(text: &str) -> Result<ActivationSpec, NnError> {
        let text = text.trim();
        if let Some(baseline) = Baseline::parse(text)? {
            return Ok(ActivationSpec::Baseline(baseline));
        }
        Expr::parse(text)
            .map(ActivationSpec::Expr)
            .map_err(|source| NnError::Activation {
                text: text.to_string(),
                source,
            })
    }

    /// The expression, if this is one.
    pub fn expr(&self) -> Option<&Expr> {
        match self {
            ActivationSpec::Expr(e) => Some(e),
            ActivationSpec::Baseline(_) => None,
        }
    }
}

impl From<Baseline> for ActivationSpec {
    fn from(b: Baseline) -> Self {
        ActivationSpec::Baseline(b)
    }
}

impl From<Expr> for ActivationSpec {
    fn from(e: Expr) -> Self {
        ActivationSpec::Expr(e)
    }
}

/// The baseline's name or the expression's canonical text; parses back to the same spec.
impl fmt::Display for ActivationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActivationSpec::Baseline(b) => b.fmt(f),
            ActivationSpec::Expr(e) => e.fmt(f),
        }
    }
}

impl FromStr for ActivationSpec {
    type Err = NnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActivationSpec::parse(s)
    }
}

pangaea_wire::serde_as_text!(ActivationSpec);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_baseline_name_is_a_baseline() {
        for b in Baseline::ALL {
            assert_eq!(
                ActivationSpec::parse(b.name()).unwrap(),
                ActivationSpec::Baseline(b)
            );
        }
        assert_eq!(
            ActivationSpec::parse("apl:4").unwrap(),
            ActivationSpec::Baseline(Baseline::Apl { hinges: 4 })
        );
    }

    #[test]
    fn other_text_is_an_expression() {
        let spec = ActivationSpec::parse("alpha * x * sigmoid(beta * x)").unwrap();
        let expected: Expr = "alpha * x * sigmoid(beta * x)".parse().unwrap();
        assert_eq!(spec, ActivationSpec::Expr(expected.clone()));
        assert_eq!(spec.expr(), Some(&expected));
        // The function-call form of a baseline's name is an expression, not the baseline.
        assert!(matches!(
            ActivationSpec::parse("relu(x)").unwrap(),
            ActivationSpec::Expr(_)
        ));
    }

    #[test]
    fn display_parses_back() {
        for text in ["swish_beta", "apl:3", "tanh(x) + alpha * relu(x)"] {
            let spec = ActivationSpec::parse(text).unwrap();
            assert_eq!(ActivationSpec::parse(&spec.to_string()).unwrap(), spec);
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<ActivationSpec>(&json).unwrap(), spec);
        }
    }

    #[test]
    fn a_bad_expression_reports_its_parse_error() {
        let err = ActivationSpec::parse("tanh(x").unwrap_err();
        let NnError::Activation { text, source } = &err else {
            panic!("expected an activation error, got {err:?}");
        };
        assert_eq!(text, "tanh(x");
        assert_eq!(source.input, "tanh(x");
        assert!(source.position <= text.len());
        assert!(
            err.to_string()
                .starts_with("activation `tanh(x` is not a baseline name and not an expression: "),
            "{err}"
        );
        assert!(ActivationSpec::parse("not_an_activation").is_err());
        assert!(serde_json::from_str::<ActivationSpec>("\"tanh(x\"").is_err());
    }
}
