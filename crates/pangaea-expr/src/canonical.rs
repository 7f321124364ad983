//! Identity of expressions: canonical form, structural hash and behavioural fingerprint
//! (docs/method.md §3, "Duplicates").
//!
//! The canonical form applies light, exact simplifications — `neg(neg(a))` → `a`, `x(a)` → `a`,
//! `a * 1` → `a`, `a + 0` → `a`, `a - 0` → `a`, `a / 1` → `a`, `a ^ 1` → `a`, constant subtrees
//! that evaluate to 0 or 1 folded, a constant's ignored argument reduced to `x` — then orders the
//! operands of commutative operators and renames parameters in order of appearance, and prints.
//! Two expressions with the same canonical text are the same function with the same
//! parametrization. The [`Fingerprint`] goes further: it hashes the outputs on a fixed probe set,
//! so `relu(x)` and `max(x, 0)`, or `swish(x)` and `x * sigmoid(x)`, share one.

use std::fmt;

use crate::binary::Binary;
use crate::expr::{Expr, Tree};
use crate::param::Param;
use crate::probe::probe_inputs;
use crate::program::Program;
use crate::unary::Unary;

impl Expr {
    /// The canonical form: simplified, commutative operands ordered, parameters renamed in
    /// order of appearance (α first).
    pub fn canonical(&self) -> Expr {
        let mut t = simplify(self.to_tree());
        order_operands(&mut t);
        rename_params(&mut t);
        Expr::from_tree(&t)
    }

    /// The canonical text, `canonical().to_string()`.
    pub fn canonical_text(&self) -> String {
        self.canonical().to_string()
    }

    /// A stable 64-bit hash of the canonical text (FNV-1a), equal on every machine and version.
    pub fn structural_hash(&self) -> u64 {
        fnv1a(self.canonical_text().as_bytes())
    }

    /// The behavioural fingerprint: a hash of the outputs on the probe set, at the initial
    /// parameters (all 1) and at one fixed other setting, rounded to 8 significant digits.
    ///
    /// It is taken of the canonical form, so it does not depend on which parameter is called α.
    pub fn fingerprint(&self) -> Fingerprint {
        let program = Program::new(&self.canonical());
        let xs = probe_inputs();
        let mut bytes = Vec::with_capacity(xs.len() * 2 * 8);
        for params in [[1.0, 1.0, 1.0], [0.75, 1.25, 0.5]] {
            for y in program.values(xs, params) {
                bytes.extend_from_slice(&quantize(y).to_le_bytes());
            }
        }
        Fingerprint(fnv1a(&bytes))
    }
}

/// A hash of an expression's behaviour on the probe set; equal for equivalent expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Rounds to 8 significant digits, and maps every NaN to one code and ±inf to their own.
fn quantize(y: f64) -> u64 {
    if y.is_nan() {
        return u64::MAX;
    }
    if y.is_infinite() || y == 0.0 {
        return (if y == 0.0 { 0.0 } else { y }).to_bits();
    }
    let text = format!("{y:.7e}");
    text.parse::<f64>()
        .expect("a formatted float parses")
        .to_bits()
}

/// FNV-1a, 64 bits: a tiny hash whose value is the same on every machine and in every version
/// (unlike `std`'s hasher), for identities that are stored or shared between processes.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn is_const(t: &Tree, which: Unary) -> bool {
    matches!(t, Tree::Unary(u, None, _) if *u == which)
}

/// Moves `child` into its parent's place: the parent's parameter goes onto the child's edge.
/// Only called when at most one of the two carries a parameter.
fn lift(parent_param: Option<Param>, mut child: Tree) -> Tree {
    if parent_param.is_some() {
        child.set_param(parent_param);
    }
    child
}

/// The value of a subtree that does not depend on x or any parameter, if it is one.
fn constant_value(t: &Tree) -> Option<f64> {
    match t {
        Tree::X(_) => None,
        Tree::Unary(u, p, c) => {
            if p.is_some() {
                return None;
            }
            match u {
                Unary::Zero => Some(0.0),
                Unary::One => Some(1.0),
                _ => constant_value(c).map(|v| u.eval(v)),
            }
        }
        Tree::Binary(b, p, l, r) => {
            if p.is_some() {
                return None;
            }
            Some(b.eval(constant_value(l)?, constant_value(r)?))
        }
    }
}

fn constant_tree(v: f64, param: Option<Param>) -> Option<Tree> {
    let op = if v == 0.0 {
        Unary::Zero
    } else if v == 1.0 {
        Unary::One
    } else {
        return None;
    };
    Some(Tree::Unary(op, param, Box::new(Tree::X(None))))
}

fn simplify(t: Tree) -> Tree {
    match t {
        Tree::X(p) => Tree::X(p),
        Tree::Unary(u, p, c) => {
            if u.is_constant() {
                // zero(anything) is 0: its argument (and any parameter inside it) is irrelevant.
                return Tree::Unary(u, p, Box::new(Tree::X(None)));
            }
            let c = simplify(*c);
            let mergeable = p.is_none() || c.param().is_none();
            match (u, &c) {
                (Unary::X, _) if mergeable => return lift(p, c),
                (Unary::Neg, Tree::Unary(Unary::Neg, None, _)) => {
                    let Tree::Unary(_, _, inner) = c else {
                        unreachable!("matched a unary node")
                    };
                    if p.is_none() || inner.param().is_none() {
                        return lift(p, *inner);
                    }
                    let kept = Tree::Unary(Unary::Neg, None, inner);
                    return Tree::Unary(u, p, Box::new(kept));
                }
                _ => {}
            }
            let node = Tree::Unary(u, p, Box::new(c));
            match constant_value(&node).and_then(|v| constant_tree(v, None)) {
                Some(folded) => folded,
                None => node,
            }
        }
        Tree::Binary(b, p, l, r) => {
            let l = simplify(*l);
            let r = simplify(*r);
            let one_l = is_const(&l, Unary::One);
            let one_r = is_const(&r, Unary::One);
            let zero_l = is_const(&l, Unary::Zero);
            let zero_r = is_const(&r, Unary::Zero);
            let keep = |kept: Tree| -> Option<Tree> {
                if p.is_none() || kept.param().is_none() {
                    Some(lift(p, kept))
                } else {
                    None
                }
            };
            let simplified = match b {
                Binary::Mul if one_r => keep(l.clone()),
                Binary::Mul if one_l => keep(r.clone()),
                Binary::Add if zero_r => keep(l.clone()),
                Binary::Add if zero_l => keep(r.clone()),
                Binary::Sub if zero_r => keep(l.clone()),
                Binary::Div if one_r => keep(l.clone()),
                Binary::Pow if one_r => keep(l.clone()),
                _ => None,
            };
            if let Some(s) = simplified {
                return s;
            }
            let node = Tree::Binary(b, p, Box::new(l), Box::new(r));
            match constant_value(&node).and_then(|v| constant_tree(v, None)) {
                Some(folded) => folded,
                None => node,
            }
        }
    }
}

/// The ordering key of a subtree: its text with parameter names hidden, so that the order does
/// not depend on which parameter is called α.
fn order_key(t: &Tree) -> String {
    let mut plain = t.clone();
    plain.preorder_mut(&mut |n| {
        if n.param().is_some() {
            n.set_param(Some(Param::Alpha));
        }
    });
    Expr::from_tree(&plain).to_string()
}

fn order_operands(t: &mut Tree) {
    match t {
        Tree::X(_) => {}
        Tree::Unary(_, _, c) => order_operands(c),
        Tree::Binary(b, _, l, r) => {
            order_operands(l);
            order_operands(r);
            if b.is_commutative() && order_key(l) > order_key(r) {
                std::mem::swap(l, r);
            }
        }
    }
}

fn rename_params(t: &mut Tree) {
    let mut map: Vec<(Param, Param)> = Vec::new();
    t.preorder_mut(&mut |n| {
        if let Some(p) = n.param() {
            let new = match map.iter().find(|(old, _)| *old == p) {
                Some((_, new)) => *new,
                None => {
                    let new = Param::ALL[map.len()];
                    map.push((p, new));
                    new
                }
            };
            n.set_param(Some(new));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        s.parse::<Expr>().unwrap().canonical_text()
    }

    fn fp(s: &str) -> Fingerprint {
        s.parse::<Expr>().unwrap().fingerprint()
    }

    #[test]
    fn light_simplifications() {
        assert_eq!(canon("neg(neg(x))"), "x");
        assert_eq!(canon("tanh(x) * 1"), "tanh(x)");
        assert_eq!(canon("1 * tanh(x)"), "tanh(x)");
        assert_eq!(canon("x + 0"), "x");
        assert_eq!(canon("0 + x"), "x");
        assert_eq!(canon("x - 0"), "x");
        assert_eq!(canon("x(tanh(x))"), "tanh(x)");
        assert_eq!(canon("alpha * neg(neg(x))"), "alpha * x");
        assert_eq!(canon("exp(0) * x"), "x");
        assert_eq!(canon("x + tanh(0)"), "x");
        assert_eq!(canon("zero(alpha * tanh(x))"), "0");
        assert_eq!(canon("1 - 1 + x"), "x");
        // Not simplified: a parameter on both sides of a removable node.
        assert_eq!(
            canon("alpha * neg(neg(beta * x))"),
            "alpha * neg(neg(beta * x))"
        );
    }

    #[test]
    fn commutative_operands_and_parameter_names_are_ordered() {
        assert_eq!(canon("tanh(x) + x"), canon("x + tanh(x)"));
        assert_eq!(canon("max(tanh(x), x)"), canon("max(x, tanh(x))"));
        assert_eq!(
            canon("beta * x * sigmoid(alpha * x)"),
            "alpha * x * sigmoid(beta * x)"
        );
        assert_ne!(canon("x - tanh(x)"), canon("tanh(x) - x"));
        let a: Expr = "gamma * tanh(x) + x".parse().unwrap();
        let b: Expr = "x + alpha * tanh(x)".parse().unwrap();
        assert_eq!(a.structural_hash(), b.structural_hash());
    }

    #[test]
    fn canonical_form_is_idempotent_on_examples() {
        for s in [
            "neg(neg(x)) + 0",
            "max(alpha * x, tanh(beta * x))",
            "x * sigmoid(x)",
            "1 * (x + 0)",
        ] {
            let once: Expr = s.parse::<Expr>().unwrap().canonical();
            assert_eq!(once.canonical(), once, "{s}");
        }
    }

    #[test]
    fn fingerprints_of_equivalent_functions_agree() {
        assert_eq!(fp("relu(x)"), fp("max(x, 0)"));
        assert_eq!(fp("swish(x)"), fp("x * sigmoid(x)"));
        assert_eq!(fp("softplus(x)"), fp("neg(log_sigmoid(neg(x)))"));
        assert_eq!(fp("leaky_relu(x)"), fp("leaky_relu(x)"));
        assert_eq!(fp("neg(neg(x))"), fp("x"));
        assert_eq!(fp("minz(x)"), fp("min(x, 0)"));
        assert_eq!(fp("alpha * tanh(x)"), fp("tanh(x) * alpha * 1"));
    }

    #[test]
    fn fingerprints_of_different_functions_differ() {
        let all = [
            "relu(x)",
            "elu(x)",
            "swish(x)",
            "tanh(x)",
            "x",
            "sigmoid(x)",
            "softplus(x)",
            "alpha * tanh(x)",
            "tanh(alpha * x)",
            "gelu(x)",
            "mish(x)",
            "selu(x)",
            "abs(x)",
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(fp(a), fp(b), "{a} vs {b}");
            }
        }
    }
}
