//! Random expressions for the initial population (docs/method.md §3) and the operator set they are
//! drawn from.

use rand::seq::IndexedRandom;
use rand::Rng;

use crate::binary::Binary;
use crate::expr::Expr;
use crate::unary::Unary;

/// The operators a search may use. The default is PANGAEA's: the 27 core unary operators and all
/// 7 binary ones.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OperatorSet {
    /// Unary operators, by name.
    pub unary: Vec<String>,
    /// Binary operators, by name.
    pub binary: Vec<String>,
}

/// An [`OperatorSet`] whose names have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operators {
    /// The unary operators, without repeats.
    pub unary: Vec<Unary>,
    /// The binary operators, without repeats.
    pub binary: Vec<Binary>,
}

/// An operator name that does not exist, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {arity} operator '{name}' at position {index} of the operator set")]
pub struct UnknownOperator {
    /// `unary` or `binary`.
    pub arity: &'static str,
    /// The name given.
    pub name: String,
    /// Its index in the list.
    pub index: usize,
}

impl Default for OperatorSet {
    fn default() -> Self {
        OperatorSet {
            unary: Unary::ALL
                .iter()
                .filter(|u| u.is_core())
                .map(|u| u.name().to_string())
                .collect(),
            binary: Binary::ALL.iter().map(|b| b.name().to_string()).collect(),
        }
    }
}

impl OperatorSet {
    /// Checks every name.
    pub fn resolve(&self) -> Result<Operators, UnknownOperator> {
        let mut unary = Vec::new();
        for (index, name) in self.unary.iter().enumerate() {
            let u = Unary::from_name(name).ok_or_else(|| UnknownOperator {
                arity: "unary",
                name: name.clone(),
                index,
            })?;
            if !unary.contains(&u) {
                unary.push(u);
            }
        }
        let mut binary = Vec::new();
        for (index, name) in self.binary.iter().enumerate() {
            let b = Binary::from_name(name).ok_or_else(|| UnknownOperator {
                arity: "binary",
                name: name.clone(),
                index,
            })?;
            if !binary.contains(&b) {
                binary.push(b);
            }
        }
        Ok(Operators { unary, binary })
    }
}

impl Default for Operators {
    fn default() -> Self {
        OperatorSet::default()
            .resolve()
            .expect("the default operator set is valid")
    }
}

impl Operators {
    /// A uniformly drawn unary operator.
    ///
    /// # Panics
    /// If the set has no unary operator (checked by the search's configuration).
    pub fn random_unary(&self, rng: &mut impl Rng) -> Unary {
        *self
            .unary
            .choose(rng)
            .expect("operator set has unary operators")
    }

    /// A uniformly drawn binary operator.
    ///
    /// # Panics
    /// If the set has no binary operator.
    pub fn random_binary(&self, rng: &mut impl Rng) -> Binary {
        *self
            .binary
            .choose(rng)
            .expect("operator set has binary operators")
    }
}

/// A random expression of one of PANGAEA's two initial shapes, chosen with equal probability:
/// `u2(u1(x))` or `b(u1(x), u2(x))`, every operator drawn uniformly from `ops`.
pub fn random_initial(ops: &Operators, rng: &mut impl Rng) -> Expr {
    if ops.binary.is_empty() || rng.random_bool(0.5) {
        let u1 = ops.random_unary(rng);
        let u2 = ops.random_unary(rng);
        Expr::unary(u2, Expr::unary(u1, Expr::x()))
    } else {
        let b = ops.random_binary(rng);
        let u1 = ops.random_unary(rng);
        let u2 = ops.random_unary(rng);
        Expr::binary(b, Expr::unary(u1, Expr::x()), Expr::unary(u2, Expr::x()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn same_seed_same_expressions() {
        let ops = Operators::default();
        let a: Vec<String> = {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            (0..20)
                .map(|_| random_initial(&ops, &mut rng).to_string())
                .collect()
        };
        let b: Vec<String> = {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            (0..20)
                .map(|_| random_initial(&ops, &mut rng).to_string())
                .collect()
        };
        assert_eq!(a, b);
        assert!(a
            .iter()
            .any(|s| s.contains(',') || s.contains(['+', '-', '*', '/', '^'])));
    }

    #[test]
    fn shapes_are_the_two_initial_ones() {
        let ops = Operators::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            let e = random_initial(&ops, &mut rng);
            assert!(e.size() == 3 || e.size() == 5, "{e}");
            assert!(!e.is_parametric());
        }
    }

    #[test]
    fn unknown_names_are_reported_with_position() {
        let set = OperatorSet {
            unary: vec!["tanh".into(), "tahn".into()],
            binary: vec![],
        };
        assert_eq!(
            set.resolve().unwrap_err().to_string(),
            "unknown unary operator 'tahn' at position 1 of the operator set"
        );
    }
}
