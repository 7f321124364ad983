//! A LaTeX formula for an expression (math mode, without the `$` delimiters).
//!
//! Parameters print as `\alpha`, `\beta`, `\gamma` in front of the value they scale; `div` is a
//! `\frac`, `pow`/`square`/`cube` are superscripts, `exp` is `e^{…}`, and named operators without
//! a standard symbol use `\operatorname{…}`. Parentheses are `\left( … \right)` and appear only
//! where precedence needs them.

use crate::binary::Binary;
use crate::expr::{Expr, Op};
use crate::param::Param;
use crate::unary::Unary;

const ADD: u8 = 1;
const MUL: u8 = 2;
const POW: u8 = 3;
const ATOM: u8 = 4;

/// The formula of `expr` in LaTeX math syntax.
pub fn to_latex(expr: &Expr) -> String {
    node(expr, expr.root()).0
}

fn param_symbol(p: Param) -> &'static str {
    match p {
        Param::Alpha => r"\alpha",
        Param::Beta => r"\beta",
        Param::Gamma => r"\gamma",
    }
}

/// `text` wrapped in parentheses when its precedence is below `min`.
fn at_least(part: (String, u8), min: u8) -> String {
    if part.1 < min {
        format!(r"\left({}\right)", part.0)
    } else {
        part.0
    }
}

fn call(name: &str, arg: (String, u8)) -> (String, u8) {
    (format!(r"{name}\left({}\right)", arg.0), ATOM)
}

fn op_name(name: &str) -> String {
    format!(r"\operatorname{{{name}}}")
}

/// The text of node `i` and its precedence.
fn node(expr: &Expr, i: usize) -> (String, u8) {
    let n = expr.nodes()[i];
    let bare = bare(expr, i);
    match n.param {
        None => bare,
        Some(p) => {
            let operand = at_least(bare, MUL);
            // `\alpha 1` would read as a name; a number needs an explicit product.
            let sep = if operand.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                r" \cdot "
            } else {
                " "
            };
            (format!("{}{sep}{operand}", param_symbol(p)), MUL)
        }
    }
}

fn bare(expr: &Expr, i: usize) -> (String, u8) {
    match expr.nodes()[i].op {
        Op::X => ("x".to_owned(), ATOM),
        Op::Unary(u, c) => unary(u, node(expr, c)),
        Op::Binary(b, l, r) => binary(b, node(expr, l), node(expr, r)),
    }
}

fn unary(u: Unary, a: (String, u8)) -> (String, u8) {
    match u {
        Unary::Zero => ("0".to_owned(), ATOM),
        Unary::One => ("1".to_owned(), ATOM),
        Unary::X => a,
        Unary::Neg => (format!("-{}", at_least(a, MUL)), ADD),
        Unary::Abs => (format!(r"\left|{}\right|", a.0), ATOM),
        Unary::Reciprocal => (format!(r"\frac{{1}}{{{}}}", a.0), ATOM),
        Unary::Square => (format!("{}^{{2}}", at_least(a, ATOM)), POW),
        Unary::Cube => (format!("{}^{{3}}", at_least(a, ATOM)), POW),
        Unary::Exp => (format!("e^{{{}}}", a.0), POW),
        Unary::Expm1 => (format!("e^{{{}}} - 1", a.0), ADD),
        Unary::Gauss => (format!("e^{{-{}^{{2}}}}", at_least(a, ATOM)), POW),
        Unary::Sqrt => (format!(r"\sqrt{{{}}}", a.0), ATOM),
        Unary::Erf => call(&op_name("erf"), a),
        Unary::Erfc => call(&op_name("erfc"), a),
        Unary::Sinh => call(r"\sinh", a),
        Unary::Cosh => call(r"\cosh", a),
        Unary::Tanh => call(r"\tanh", a),
        Unary::Sin => call(r"\sin", a),
        Unary::Cos => call(r"\cos", a),
        Unary::Atan => call(r"\arctan", a),
        Unary::Asinh => call(&op_name("arsinh"), a),
        Unary::Sigmoid => call(r"\sigma", a),
        Unary::LogSigmoid => call(r"\log\sigma", a),
        Unary::BesselI0e => call(&op_name("i0e"), a),
        Unary::BesselI1e => call(&op_name("i1e"), a),
        Unary::Relu => call(&op_name("ReLU"), a),
        Unary::Elu => call(&op_name("ELU"), a),
        Unary::Selu => call(&op_name("SELU"), a),
        Unary::Swish => call(&op_name("swish"), a),
        Unary::Softplus => call(&op_name("softplus"), a),
        Unary::Softsign => call(&op_name("softsign"), a),
        Unary::HardSigmoid => call(&op_name("hardsigmoid"), a),
        Unary::LogAbs => (
            format!(r"\log\left(\left|{}\right| + \epsilon\right)", a.0),
            ATOM,
        ),
        Unary::Minz => (format!(r"\min\left({}, 0\right)", a.0), ATOM),
        Unary::Sinc => call(&op_name("sinc"), a),
        Unary::Gelu => call(&op_name("GELU"), a),
        Unary::Mish => call(&op_name("mish"), a),
        Unary::LeakyRelu => call(&op_name("LeakyReLU"), a),
        Unary::Elish => call(&op_name("ELiSH"), a),
    }
}

fn binary(b: Binary, l: (String, u8), r: (String, u8)) -> (String, u8) {
    match b {
        Binary::Add => (format!("{} + {}", l.0, r.0), ADD),
        Binary::Sub => (format!("{} - {}", l.0, at_least(r, MUL)), ADD),
        Binary::Mul => (
            format!(r"{} \cdot {}", at_least(l, MUL), at_least(r, POW)),
            MUL,
        ),
        Binary::Div => (format!(r"\frac{{{}}}{{{}}}", l.0, r.0), ATOM),
        Binary::Pow => (format!("{}^{{{}}}", at_least(l, ATOM), r.0), POW),
        Binary::Max => (format!(r"\max\left({}, {}\right)", l.0, r.0), ATOM),
        Binary::Min => (format!(r"\min\left({}, {}\right)", l.0, r.0), ATOM),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latex(text: &str) -> String {
        to_latex(&Expr::parse(text).unwrap())
    }

    #[test]
    fn pinned_formulas() {
        assert_eq!(
            latex("alpha * x * sigmoid(beta * x)"),
            r"\alpha x \cdot \sigma\left(\beta x\right)"
        );
        assert_eq!(
            latex("softplus(x) / (x + 1)"),
            r"\frac{\operatorname{softplus}\left(x\right)}{x + 1}"
        );
        assert_eq!(
            latex("(x - tanh(x)) ^ x"),
            r"\left(x - \tanh\left(x\right)\right)^{x}"
        );
        assert_eq!(latex("square(x + 1)"), r"\left(x + 1\right)^{2}");
        assert_eq!(
            latex("max(x, alpha * exp(x))"),
            r"\max\left(x, \alpha e^{x}\right)"
        );
        assert_eq!(latex("x - (x - x)"), r"x - \left(x - x\right)");
        assert_eq!(
            latex("neg(x + x) * x"),
            r"\left(-\left(x + x\right)\right) \cdot x"
        );
    }

    #[test]
    fn every_operator_prints() {
        for &u in Unary::ALL {
            let e = Expr::unary(u, Expr::x());
            assert!(!to_latex(&e).is_empty(), "{u}");
        }
    }
}
