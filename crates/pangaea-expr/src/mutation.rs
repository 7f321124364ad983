//! Mutations (docs/method.md §3): Insert, Remove, Change, Regenerate.
//!
//! As in SymbolicRegression.jl: an enum, a weights struct (uniform by default), an
//! [`applicable`] step that zeroes the mutations that cannot apply, one small function per
//! mutation taking the RNG, and an outcome that records what was done, for the lineage.
//! Mutations act on the *form* of an expression: parameters are dropped first (the search
//! parametrizes each new form afresh).

use std::fmt;

use rand::Rng;

use crate::expr::{Expr, Tree};
use crate::generate::Operators;

/// One of the four mutations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mutation {
    /// Put a new operator on a random edge.
    Insert,
    /// Delete a random operator node.
    Remove,
    /// Replace a random node's operator by another of the same arity.
    Change,
    /// Replace every operator by a random one of the same arity, keeping the shape.
    Regenerate,
}

impl Mutation {
    /// All mutations.
    pub const ALL: [Mutation; 4] = [
        Mutation::Insert,
        Mutation::Remove,
        Mutation::Change,
        Mutation::Regenerate,
    ];

    /// The lowercase name (`insert`, …).
    pub fn name(self) -> &'static str {
        match self {
            Mutation::Insert => "insert",
            Mutation::Remove => "remove",
            Mutation::Change => "change",
            Mutation::Regenerate => "regenerate",
        }
    }

    /// Looks a mutation up by name.
    pub fn from_name(name: &str) -> Option<Mutation> {
        Mutation::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Relative probabilities of the mutations; uniform by default (docs/method.md §3).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MutationWeights {
    /// Weight of [`Mutation::Insert`].
    pub insert: f64,
    /// Weight of [`Mutation::Remove`].
    pub remove: f64,
    /// Weight of [`Mutation::Change`].
    pub change: f64,
    /// Weight of [`Mutation::Regenerate`].
    pub regenerate: f64,
}

impl Default for MutationWeights {
    fn default() -> Self {
        MutationWeights {
            insert: 1.0,
            remove: 1.0,
            change: 1.0,
            regenerate: 1.0,
        }
    }
}

impl MutationWeights {
    fn get(&self, m: Mutation) -> f64 {
        match m {
            Mutation::Insert => self.insert,
            Mutation::Remove => self.remove,
            Mutation::Change => self.change,
            Mutation::Regenerate => self.regenerate,
        }
    }

    /// Sets the weight of `m`.
    pub fn set(&mut self, m: Mutation, w: f64) {
        match m {
            Mutation::Insert => self.insert = w,
            Mutation::Remove => self.remove = w,
            Mutation::Change => self.change = w,
            Mutation::Regenerate => self.regenerate = w,
        }
    }

    /// Weights that always pick `m`.
    pub fn only(m: Mutation) -> MutationWeights {
        let mut w = MutationWeights {
            insert: 0.0,
            remove: 0.0,
            change: 0.0,
            regenerate: 0.0,
        };
        w.set(m, 1.0);
        w
    }

    /// Draws a mutation in proportion to the weights, or `None` when all are zero.
    pub fn sample(&self, rng: &mut impl Rng) -> Option<Mutation> {
        let total: f64 = Mutation::ALL.iter().map(|&m| self.get(m).max(0.0)).sum();
        if total <= 0.0 {
            return None;
        }
        let mut u = rng.random::<f64>() * total;
        for m in Mutation::ALL {
            let w = self.get(m).max(0.0);
            if u < w {
                return Some(m);
            }
            u -= w;
        }
        Mutation::ALL.into_iter().rev().find(|&m| self.get(m) > 0.0)
    }
}

/// The weights with the mutations that cannot apply to `expr` set to zero: no insert when the
/// result would exceed `max_size`, no remove/change/regenerate without an operator node, no
/// change when no operator has an alternative of the same arity.
pub fn applicable(
    expr: &Expr,
    ops: &Operators,
    max_size: usize,
    weights: &MutationWeights,
) -> MutationWeights {
    let mut w = *weights;
    let operators = expr.size() - count_leaves(expr);
    let insert_room = expr.size() < max_size && !(ops.unary.is_empty() && ops.binary.is_empty());
    if !insert_room {
        w.set(Mutation::Insert, 0.0);
    }
    if operators == 0 {
        w.set(Mutation::Remove, 0.0);
        w.set(Mutation::Regenerate, 0.0);
    }
    let has_alternative = expr.unary_ops().next().is_some() && ops.unary.len() > 1
        || expr.binary_ops().next().is_some() && ops.binary.len() > 1;
    if !has_alternative {
        w.set(Mutation::Change, 0.0);
    }
    w
}

fn count_leaves(expr: &Expr) -> usize {
    expr.nodes()
        .iter()
        .filter(|n| n.op == crate::expr::Op::X)
        .count()
}

/// What a mutation did.
#[derive(Debug, Clone, PartialEq)]
pub struct MutationOutcome {
    /// The child expression (without parameters).
    pub expr: Expr,
    /// Which mutation produced it.
    pub mutation: Mutation,
    /// What was done, for the lineage (e.g. `insert tanh above node 2`).
    pub detail: String,
}

/// Why no mutation could be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no mutation applies to `{expr}` within size {max_size}")]
pub struct NoMutation {
    /// The parent's text.
    pub expr: String,
    /// The size limit.
    pub max_size: usize,
}

/// Mutates `parent` (its form: parameters are dropped) with a mutation drawn from the
/// applicable weights. The child has at most `max_size` nodes.
pub fn mutate(
    parent: &Expr,
    ops: &Operators,
    max_size: usize,
    weights: &MutationWeights,
    rng: &mut impl Rng,
) -> Result<MutationOutcome, NoMutation> {
    let form = parent.without_params();
    let w = applicable(&form, ops, max_size, weights);
    let mutation = w.sample(rng).ok_or_else(|| NoMutation {
        expr: form.to_string(),
        max_size,
    })?;
    Ok(apply(mutation, &form, ops, max_size, rng))
}

/// Applies one given mutation, which must be applicable (see [`applicable`]).
pub fn apply(
    mutation: Mutation,
    form: &Expr,
    ops: &Operators,
    max_size: usize,
    rng: &mut impl Rng,
) -> MutationOutcome {
    let form = form.without_params();
    let (tree, detail) = match mutation {
        Mutation::Insert => insert(&form, ops, max_size, rng),
        Mutation::Remove => remove(&form, rng),
        Mutation::Change => change(&form, ops, rng),
        Mutation::Regenerate => regenerate(&form, ops, rng),
    };
    MutationOutcome {
        expr: Expr::from_tree(&tree),
        mutation,
        detail,
    }
}

/// Preorder indices of the operator (non-leaf) nodes.
fn operator_nodes(t: &Tree) -> Vec<usize> {
    let mut out = Vec::new();
    let mut k = 0;
    t.preorder(&mut |n| {
        if !matches!(n, Tree::X(_)) {
            out.push(k);
        }
        k += 1;
    });
    out
}

fn insert(form: &Expr, ops: &Operators, max_size: usize, rng: &mut impl Rng) -> (Tree, String) {
    let mut tree = form.to_tree();
    let edge = rng.random_range(0..tree.size());
    // A binary operator adds two nodes (itself and a new leaf x); allow it only if it fits.
    let binary_fits = form.size() + 2 <= max_size && !ops.binary.is_empty();
    let n_choices = ops.unary.len() + if binary_fits { ops.binary.len() } else { 0 };
    let pick = rng.random_range(0..n_choices);
    let node = tree.nth_mut(edge).expect("edge index within the tree");
    let old = std::mem::replace(node, Tree::X(None));
    let detail;
    *node = if pick < ops.unary.len() {
        let u = ops.unary[pick];
        detail = format!("insert {u} above node {edge}");
        Tree::Unary(u, None, Box::new(old))
    } else {
        let b = ops.binary[pick - ops.unary.len()];
        if rng.random_bool(0.5) {
            detail = format!("insert {b}(·, x) above node {edge}");
            Tree::Binary(b, None, Box::new(old), Box::new(Tree::X(None)))
        } else {
            detail = format!("insert {b}(x, ·) above node {edge}");
            Tree::Binary(b, None, Box::new(Tree::X(None)), Box::new(old))
        }
    };
    (tree, detail)
}

fn remove(form: &Expr, rng: &mut impl Rng) -> (Tree, String) {
    let mut tree = form.to_tree();
    let candidates = operator_nodes(&tree);
    let k = candidates[rng.random_range(0..candidates.len())];
    let node = tree.nth_mut(k).expect("operator index within the tree");
    let old = std::mem::replace(node, Tree::X(None));
    let (replacement, detail) = match old {
        Tree::Unary(u, _, c) => (*c, format!("remove {u} at node {k}")),
        Tree::Binary(b, _, l, r) => {
            if rng.random_bool(0.5) {
                (*l, format!("remove {b} at node {k}, keep left"))
            } else {
                (*r, format!("remove {b} at node {k}, keep right"))
            }
        }
        Tree::X(_) => unreachable!("only operator nodes are candidates"),
    };
    *node = replacement;
    (tree, detail)
}

fn change(form: &Expr, ops: &Operators, rng: &mut impl Rng) -> (Tree, String) {
    let mut tree = form.to_tree();
    // Only nodes whose arity has an alternative operator can change.
    let mut candidates = Vec::new();
    let mut k = 0;
    tree.preorder(&mut |n| {
        match n {
            Tree::Unary(..) if ops.unary.len() > 1 => candidates.push(k),
            Tree::Binary(..) if ops.binary.len() > 1 => candidates.push(k),
            _ => {}
        }
        k += 1;
    });
    let k = candidates[rng.random_range(0..candidates.len())];
    let node = tree.nth_mut(k).expect("candidate within the tree");
    let detail = match node {
        Tree::Unary(u, _, _) => {
            let others: Vec<_> = ops.unary.iter().copied().filter(|o| o != u).collect();
            let new = others[rng.random_range(0..others.len())];
            let d = format!("change {u} to {new} at node {k}");
            *u = new;
            d
        }
        Tree::Binary(b, _, _, _) => {
            let others: Vec<_> = ops.binary.iter().copied().filter(|o| o != b).collect();
            let new = others[rng.random_range(0..others.len())];
            let d = format!("change {b} to {new} at node {k}");
            *b = new;
            d
        }
        Tree::X(_) => unreachable!("only operator nodes are candidates"),
    };
    (tree, detail)
}

fn regenerate(form: &Expr, ops: &Operators, rng: &mut impl Rng) -> (Tree, String) {
    let mut tree = form.to_tree();
    tree.preorder_mut(&mut |n| match n {
        Tree::Unary(u, _, _) if !ops.unary.is_empty() => *u = ops.random_unary(rng),
        Tree::Binary(b, _, _, _) if !ops.binary.is_empty() => *b = ops.random_binary(rng),
        _ => {}
    });
    (tree, "regenerate every operator".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn e(s: &str) -> Expr {
        s.parse().unwrap()
    }

    #[test]
    fn applicable_zeroes_impossible_mutations() {
        let ops = Operators::default();
        let w = applicable(&e("x"), &ops, 10, &MutationWeights::default());
        assert_eq!(
            (w.insert, w.remove, w.change, w.regenerate),
            (1.0, 0.0, 0.0, 0.0)
        );
        let w = applicable(&e("tanh(x)"), &ops, 2, &MutationWeights::default());
        assert_eq!(w.insert, 0.0);
        assert_eq!(w.remove, 1.0);
    }

    #[test]
    fn each_mutation_does_what_it_says() {
        let ops = Operators::default();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let parent = e("add(tanh(x), relu(x))");
        for _ in 0..50 {
            let ins = apply(Mutation::Insert, &parent, &ops, 20, &mut rng);
            assert!(ins.expr.size() == 6 || ins.expr.size() == 7, "{}", ins.expr);
            let rem = apply(Mutation::Remove, &parent, &ops, 20, &mut rng);
            assert!(rem.expr.size() < parent.size(), "{}", rem.expr);
            let ch = apply(Mutation::Change, &parent, &ops, 20, &mut rng);
            assert_eq!(ch.expr.size(), parent.size());
            assert_ne!(ch.expr, parent);
            let re = apply(Mutation::Regenerate, &parent, &ops, 20, &mut rng);
            assert_eq!(re.expr.size(), parent.size());
        }
    }

    #[test]
    fn insert_never_exceeds_the_size_limit() {
        let ops = Operators::default();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let parent = e("tanh(relu(x))");
        for _ in 0..200 {
            let out = apply(Mutation::Insert, &parent, &ops, 4, &mut rng);
            assert!(out.expr.size() <= 4, "{}", out.expr);
        }
    }

    #[test]
    fn mutate_drops_parameters_and_is_seeded() {
        let ops = Operators::default();
        let parent = e("alpha * tanh(beta * x)");
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            mutate(&parent, &ops, 10, &MutationWeights::default(), &mut rng).unwrap()
        };
        let a = run(5);
        assert_eq!(a, run(5));
        assert!(!a.expr.is_parametric());
        let none = MutationWeights {
            insert: 0.0,
            remove: 0.0,
            change: 0.0,
            regenerate: 0.0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!(mutate(&parent, &ops, 10, &none, &mut rng).is_err());
    }
}
