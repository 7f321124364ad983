//! The printer: canonical text for an expression.
//!
//! Named operators print in function-call syntax (`tanh(x)`, `max(a, b)`), `+ - * / ^` infix
//! with the fewest parentheses that still parse back to the same tree, a parameter as
//! `alpha * operand`, and `zero(x)`/`one(x)` as `0`/`1`. The output always satisfies
//! `parse(print(e)) == e`.

use std::fmt::{self, Write};

use crate::binary::Binary;
use crate::expr::{Expr, Op};
use crate::unary::Unary;

/// Precedence levels: a higher number binds tighter.
const ADD: u8 = 1;
const MUL: u8 = 2;
const POW: u8 = 3;
const ATOM: u8 = 4;

fn precedence(b: Binary) -> u8 {
    match b {
        Binary::Add | Binary::Sub => ADD,
        Binary::Mul | Binary::Div => MUL,
        Binary::Pow => POW,
        Binary::Max | Binary::Min => ATOM,
    }
}

impl Expr {
    /// The precedence of the text printed for node `i`.
    fn node_precedence(&self, i: usize) -> u8 {
        let n = self.nodes()[i];
        if n.param.is_some() {
            return MUL;
        }
        match n.op {
            Op::Binary(b, _, _) => precedence(b),
            _ => ATOM,
        }
    }

    /// Writes node `i`, in parentheses when its precedence is below `min`.
    fn write_node(&self, i: usize, min: u8, out: &mut impl Write) -> fmt::Result {
        let paren = self.node_precedence(i) < min;
        if paren {
            out.write_char('(')?;
        }
        let n = self.nodes()[i];
        if let Some(p) = n.param {
            write!(out, "{p} * ")?;
            // `alpha * (a * b)` keeps its parentheses: `alpha * a * b` is (alpha·a)·b.
            self.write_bare(i, MUL + 1, out)?;
        } else {
            self.write_bare(i, min, out)?;
        }
        if paren {
            out.write_char(')')?;
        }
        Ok(())
    }

    /// Writes node `i` ignoring its parameter. `min` is only used for parenthesizing operands.
    fn write_bare(&self, i: usize, min: u8, out: &mut impl Write) -> fmt::Result {
        let n = self.nodes()[i];
        match n.op {
            Op::X => out.write_char('x'),
            Op::Unary(u, c) => {
                let child = self.nodes()[c];
                if matches!(u, Unary::Zero | Unary::One)
                    && child.op == Op::X
                    && child.param.is_none()
                {
                    return out.write_str(if u == Unary::Zero { "0" } else { "1" });
                }
                write!(out, "{}(", u.name())?;
                self.write_node(c, 0, out)?;
                out.write_char(')')
            }
            Op::Binary(b, l, r) => match b.symbol() {
                Some(sym) => {
                    let prec = precedence(b);
                    // A bare binary node below `min` must be parenthesized here, since
                    // `write_node` only checked the precedence of the parametrized form.
                    let paren = prec < min && n.param.is_some();
                    if paren {
                        out.write_char('(')?;
                    }
                    let (lmin, rmin) = if b == Binary::Pow {
                        (prec + 1, prec)
                    } else {
                        (prec, prec + 1)
                    };
                    self.write_node(l, lmin, out)?;
                    write!(out, " {sym} ")?;
                    self.write_node(r, rmin, out)?;
                    if paren {
                        out.write_char(')')?;
                    }
                    Ok(())
                }
                None => {
                    write!(out, "{}(", b.name())?;
                    self.write_node(l, 0, out)?;
                    out.write_str(", ")?;
                    self.write_node(r, 0, out)?;
                    out.write_char(')')
                }
            },
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_node(self.root(), 0, f)
    }
}

#[cfg(test)]
mod tests {
    use crate::Expr;

    fn canon(s: &str) -> String {
        s.parse::<Expr>().unwrap().to_string()
    }

    #[test]
    fn prints_with_fewest_parentheses() {
        assert_eq!(
            canon("alpha*x*sigmoid(beta*x)"),
            "alpha * x * sigmoid(beta * x)"
        );
        assert_eq!(canon("(x + x) * x"), "(x + x) * x");
        assert_eq!(canon("x + (x + x)"), "x + (x + x)");
        assert_eq!(canon("x - (x - x)"), "x - (x - x)");
        assert_eq!(canon("alpha * (x * x)"), "alpha * (x * x)");
        assert_eq!(canon("alpha * (x + x)"), "alpha * (x + x)");
        assert_eq!(canon("x ^ x ^ x"), "x ^ x ^ x");
        assert_eq!(canon("(x ^ x) ^ x"), "(x ^ x) ^ x");
        assert_eq!(canon("max(x, 0)"), "max(x, 0)");
        assert_eq!(canon("pow(x, 1)"), "x ^ 1");
        assert_eq!(canon("-x"), "neg(x)");
        assert_eq!(canon("zero(tanh(x))"), "zero(tanh(x))");
        assert_eq!(canon("alpha * 0"), "alpha * 0");
        assert_eq!(canon("one(alpha * x)"), "one(alpha * x)");
        assert_eq!(canon("alpha * x ^ x"), "alpha * x ^ x");
        assert_eq!(canon("(alpha * x) ^ x"), "(alpha * x) ^ x");
    }
}
