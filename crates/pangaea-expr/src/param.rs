//! The learnable parameters α, β, γ (docs/method.md §2).

use std::fmt;

/// One of the (at most three) learnable scalars of a parametric expression.
///
/// A parameter sits on an edge of the expression tree and multiplies the value flowing along it;
/// every parameter starts at 1.0, so a parametric expression starts equal to its plain form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Param {
    /// α, written `alpha`.
    Alpha = 0,
    /// β, written `beta`.
    Beta = 1,
    /// γ, written `gamma`.
    Gamma = 2,
}

/// The most parameters an expression can carry.
pub const MAX_PARAMS: usize = 3;

/// The value every parameter starts from.
pub const PARAM_INIT: f64 = 1.0;

impl Param {
    /// All parameters, in slot order.
    pub const ALL: [Param; MAX_PARAMS] = [Param::Alpha, Param::Beta, Param::Gamma];

    /// The slot index: α = 0, β = 1, γ = 2.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The parameter in slot `i`, if `i < 3`.
    pub fn from_index(i: usize) -> Option<Param> {
        Param::ALL.get(i).copied()
    }

    /// The name in the text syntax.
    pub fn name(self) -> &'static str {
        match self {
            Param::Alpha => "alpha",
            Param::Beta => "beta",
            Param::Gamma => "gamma",
        }
    }

    /// Looks a parameter up by name (`alpha` or `α`, …).
    pub fn from_name(name: &str) -> Option<Param> {
        match name {
            "alpha" | "α" => Some(Param::Alpha),
            "beta" | "β" => Some(Param::Beta),
            "gamma" | "γ" => Some(Param::Gamma),
            _ => None,
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
