//! The parser: text → [`Expr`].
//!
//! Grammar (whitespace between tokens is ignored):
//!
//! ```text
//! expr     := term (('+' | '-') term)*
//! term     := factor (('*' | '/') factor)*
//! factor   := PARAM '*' factor | '-' factor | power
//! power    := atom ('^' exponent)?            right-associative
//! exponent := '-' exponent | power
//! atom     := '0' | '1' | 'x' | NAME '(' expr (',' expr)? ')' | '(' expr ')'
//! PARAM    := 'alpha' | 'beta' | 'gamma'  (or α β γ)
//! ```
//!
//! `0` and `1` are the operators `zero(x)` and `one(x)`; no other numeric constant exists in the
//! language. `-a` is `neg(a)`. A parameter multiplies the operand that follows its `*`. Every
//! error carries the byte position and what was expected there, never a panic.

use std::str::FromStr;

use crate::binary::Binary;
use crate::expr::{Expr, MAX_DEPTH};
use crate::param::Param;
use crate::unary::Unary;

/// Why a text is not an expression, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {position}")]
pub struct ParseError {
    /// The text that was parsed.
    pub input: String,
    /// The byte offset of the problem in `input`.
    pub position: usize,
    /// What was expected or what is wrong, e.g. `expected ')'`.
    pub message: String,
}

impl ParseError {
    /// The error with the input and a caret under the position, for terminals:
    ///
    /// ```text
    /// expected ')' at 6
    ///   tanh(x
    ///         ^
    /// ```
    pub fn render(&self) -> String {
        let col = self.input[..self.position.min(self.input.len())]
            .chars()
            .count();
        format!("{self}\n  {}\n  {}^", self.input, " ".repeat(col))
    }
}

impl FromStr for Expr {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Expr, ParseError> {
        Expr::parse(s)
    }
}

impl Expr {
    /// Parses the text syntax. See the module documentation for the grammar.
    pub fn parse(text: &str) -> Result<Expr, ParseError> {
        let mut p = Parser {
            text,
            tokens: tokenize(text)?,
            pos: 0,
        };
        let e = p.expr(0)?;
        match p.peek() {
            None => Ok(e.expr),
            Some(t) => Err(p.error_at(
                t.start,
                format!("expected end of input, found {}", t.describe()),
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Ident(String),
    Number(f64),
    Sym(char),
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    start: usize,
    text: String,
}

impl Token {
    fn describe(&self) -> String {
        format!("'{}'", self.text)
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_alphabetic() || c == '_' {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if c.is_alphanumeric() || c == '_' {
                    end = i + c.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = &text[start..end];
            tokens.push(Token {
                kind: Kind::Ident(word.to_string()),
                start,
                text: word.to_string(),
            });
        } else if c.is_ascii_digit() || c == '.' {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '.' {
                    end = i + 1;
                    chars.next();
                } else {
                    break;
                }
            }
            let word = &text[start..end];
            let value = word.parse::<f64>().map_err(|_| ParseError {
                input: text.to_string(),
                position: start,
                message: format!("expected a number, found '{word}'"),
            })?;
            tokens.push(Token {
                kind: Kind::Number(value),
                start,
                text: word.to_string(),
            });
        } else if "+-*/^(),".contains(c) {
            chars.next();
            tokens.push(Token {
                kind: Kind::Sym(c),
                start,
                text: c.to_string(),
            });
        } else {
            return Err(ParseError {
                input: text.to_string(),
                position: start,
                message: format!("unexpected character '{c}'"),
            });
        }
    }
    Ok(tokens)
}

/// An expression under construction, with its depth (checked against [`MAX_DEPTH`]).
struct Part {
    expr: Expr,
    depth: usize,
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_sym(&self, c: char) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Sym(s), .. }) if *s == c)
    }

    fn end(&self) -> usize {
        self.text.len()
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end(), |t| t.start)
    }

    fn error_at(&self, position: usize, message: String) -> ParseError {
        ParseError {
            input: self.text.to_string(),
            position,
            message,
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("found {}", t.describe()),
            None => "found end of input".to_string(),
        }
    }

    fn expect_sym(&mut self, c: char) -> Result<usize, ParseError> {
        if self.peek_sym(c) {
            let at = self.here();
            self.pos += 1;
            Ok(at)
        } else {
            Err(self.error_at(self.here(), format!("expected '{c}', {}", self.found())))
        }
    }

    fn check_depth(&self, part: &Part, at: usize) -> Result<(), ParseError> {
        if part.depth > MAX_DEPTH {
            Err(self.error_at(
                at,
                format!("expression deeper than the limit of {MAX_DEPTH} nodes"),
            ))
        } else {
            Ok(())
        }
    }

    fn unary(&self, op: Unary, child: Part, at: usize) -> Result<Part, ParseError> {
        let part = Part {
            expr: Expr::unary(op, child.expr),
            depth: child.depth + 1,
        };
        self.check_depth(&part, at)?;
        Ok(part)
    }

    fn binary(&self, op: Binary, l: Part, r: Part, at: usize) -> Result<Part, ParseError> {
        let part = Part {
            depth: l.depth.max(r.depth) + 1,
            expr: Expr::binary(op, l.expr, r.expr),
        };
        self.check_depth(&part, at)?;
        Ok(part)
    }

    /// `nesting` counts open parentheses and calls, so that `((((…` cannot exhaust the stack.
    fn expr(&mut self, nesting: usize) -> Result<Part, ParseError> {
        if nesting > MAX_DEPTH {
            return Err(self.error_at(
                self.here(),
                format!("expression nested deeper than the limit of {MAX_DEPTH}"),
            ));
        }
        let mut left = self.term(nesting)?;
        loop {
            let op = if self.peek_sym('+') {
                Binary::Add
            } else if self.peek_sym('-') {
                Binary::Sub
            } else {
                return Ok(left);
            };
            let at = self.here();
            self.pos += 1;
            let right = self.term(nesting)?;
            left = self.binary(op, left, right, at)?;
        }
    }

    fn term(&mut self, nesting: usize) -> Result<Part, ParseError> {
        let mut left = self.factor(nesting)?;
        loop {
            let op = if self.peek_sym('*') {
                Binary::Mul
            } else if self.peek_sym('/') {
                Binary::Div
            } else {
                return Ok(left);
            };
            let at = self.here();
            self.pos += 1;
            let right = self.factor(nesting)?;
            left = self.binary(op, left, right, at)?;
        }
    }

    fn factor(&mut self, nesting: usize) -> Result<Part, ParseError> {
        if nesting > MAX_DEPTH {
            return Err(self.error_at(
                self.here(),
                format!("expression nested deeper than the limit of {MAX_DEPTH}"),
            ));
        }
        if let Some(param) = self.peek_param() {
            let at = self.here();
            self.pos += 1;
            if !self.peek_sym('*') {
                return Err(self.error_at(
                    self.here(),
                    format!("expected '*' after parameter {param}, {}", self.found()),
                ));
            }
            self.pos += 1;
            let operand_at = self.here();
            let operand = self.factor(nesting + 1)?;
            if operand.expr.nodes()[operand.expr.root()].param.is_some() {
                return Err(self.error_at(
                    operand_at,
                    format!("parameter {param} scales an edge that already has a parameter"),
                ));
            }
            let _ = at;
            return Ok(Part {
                expr: operand.expr.with_param(Some(param)),
                depth: operand.depth,
            });
        }
        if self.peek_sym('-') {
            let at = self.here();
            self.pos += 1;
            let operand = self.factor(nesting + 1)?;
            return self.unary(Unary::Neg, operand, at);
        }
        self.power(nesting)
    }

    fn exponent(&mut self, nesting: usize) -> Result<Part, ParseError> {
        if nesting > MAX_DEPTH {
            return Err(self.error_at(
                self.here(),
                format!("expression nested deeper than the limit of {MAX_DEPTH}"),
            ));
        }
        if self.peek_sym('-') {
            let at = self.here();
            self.pos += 1;
            let operand = self.exponent(nesting + 1)?;
            return self.unary(Unary::Neg, operand, at);
        }
        self.power(nesting)
    }

    fn power(&mut self, nesting: usize) -> Result<Part, ParseError> {
        let base = self.atom(nesting)?;
        if self.peek_sym('^') {
            let at = self.here();
            self.pos += 1;
            let exp = self.exponent(nesting + 1)?;
            return self.binary(Binary::Pow, base, exp, at);
        }
        Ok(base)
    }

    fn peek_param(&self) -> Option<Param> {
        match self.peek() {
            Some(Token {
                kind: Kind::Ident(name),
                ..
            }) => Param::from_name(name),
            _ => None,
        }
    }

    fn atom(&mut self, nesting: usize) -> Result<Part, ParseError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error_at(
                self.end(),
                "expected an expression, found end of input".into(),
            ));
        };
        match &tok.kind {
            Kind::Number(v) => {
                self.pos += 1;
                let op = if *v == 0.0 {
                    Unary::Zero
                } else if *v == 1.0 {
                    Unary::One
                } else {
                    return Err(self.error_at(
                        tok.start,
                        format!(
                            "unsupported constant {}: only 0 and 1 exist (as the operators zero and one); use a parameter such as `alpha * x` for a learnable scale",
                            tok.text
                        ),
                    ));
                };
                Ok(Part {
                    expr: Expr::unary(op, Expr::x()),
                    depth: 2,
                })
            }
            Kind::Sym('(') => {
                self.pos += 1;
                let inner = self.expr(nesting + 1)?;
                self.expect_sym(')')?;
                Ok(inner)
            }
            Kind::Sym(_) => Err(self.error_at(
                tok.start,
                format!("expected an expression, found {}", tok.describe()),
            )),
            Kind::Ident(name) => {
                self.pos += 1;
                let is_call = self.peek_sym('(');
                if !is_call {
                    if name == "x" {
                        return Ok(Part {
                            expr: Expr::x(),
                            depth: 1,
                        });
                    }
                    if let Some(p) = Param::from_name(name) {
                        return Err(self.error_at(
                            tok.start,
                            format!("parameter {p} cannot stand here: write it as `{p} * operand`"),
                        ));
                    }
                    if Unary::from_name(name).is_some() || Binary::from_name(name).is_some() {
                        return Err(self.error_at(
                            self.here(),
                            format!("expected '(' after operator {name}, {}", self.found()),
                        ));
                    }
                    return Err(self.error_at(
                        tok.start,
                        format!(
                            "unknown name '{name}': expected x, alpha, beta, gamma or an operator"
                        ),
                    ));
                }
                self.call(name, tok.start, nesting)
            }
        }
    }

    fn call(&mut self, name: &str, at: usize, nesting: usize) -> Result<Part, ParseError> {
        let arity = if Unary::from_name(name).is_some() {
            1
        } else if Binary::from_name(name).is_some() {
            2
        } else {
            return Err(self.error_at(at, format!("unknown operator '{name}'")));
        };
        self.expect_sym('(')?;
        let first = self.expr(nesting + 1)?;
        let part = if arity == 1 {
            if self.peek_sym(',') {
                return Err(self.error_at(
                    self.here(),
                    format!("expected ')': operator {name} takes 1 argument"),
                ));
            }
            self.unary(Unary::from_name(name).expect("checked above"), first, at)?
        } else {
            if !self.peek_sym(',') {
                return Err(self.error_at(
                    self.here(),
                    format!(
                        "expected ',': operator {name} takes 2 arguments, {}",
                        self.found()
                    ),
                ));
            }
            self.pos += 1;
            let second = self.expr(nesting + 1)?;
            if self.peek_sym(',') {
                return Err(self.error_at(
                    self.here(),
                    format!("expected ')': operator {name} takes 2 arguments"),
                ));
            }
            self.binary(
                Binary::from_name(name).expect("checked above"),
                first,
                second,
                at,
            )?
        };
        self.expect_sym(')')?;
        Ok(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Op;

    fn err(s: &str) -> ParseError {
        Expr::parse(s).unwrap_err()
    }

    #[test]
    fn parses_operators_and_parameters() {
        let e = Expr::parse("alpha * x * sigmoid(beta * x)").unwrap();
        assert_eq!(e.params(), vec![Param::Alpha, Param::Beta]);
        assert_eq!(e.size(), 4);
        let e = Expr::parse("max(x, 0)").unwrap();
        assert!(matches!(
            e.nodes()[e.root()].op,
            Op::Binary(Binary::Max, _, _)
        ));
        let e = Expr::parse("α * tanh(x)").unwrap();
        assert_eq!(e.to_string(), "alpha * tanh(x)");
        assert_eq!(Expr::parse("x - x - x").unwrap().to_string(), "x - x - x");
        assert_eq!(Expr::parse("pow(x, x)").unwrap().to_string(), "x ^ x");
        assert_eq!(Expr::parse("x ^ -x").unwrap().to_string(), "x ^ neg(x)");
    }

    #[test]
    fn errors_name_position_and_expectation() {
        assert_eq!(
            err("max(tanh(x), x").to_string(),
            "expected ')', found end of input at 14"
        );
        assert_eq!(err("tanh(x").position, 6);
        assert_eq!(
            err("").to_string(),
            "expected an expression, found end of input at 0"
        );
        assert_eq!(err("foo(x)").to_string(), "unknown operator 'foo' at 0");
        assert_eq!(err("x + y").position, 4);
        assert_eq!(err("2 * x").position, 0);
        assert!(err("2 * x").message.contains("only 0 and 1"));
        assert_eq!(err("tanh(x, x)").position, 6);
        assert_eq!(err("max(x)").position, 5);
        assert_eq!(err("alpha").position, 5);
        assert_eq!(err("alpha * beta * x").position, 8);
        assert_eq!(err("x $ x").to_string(), "unexpected character '$' at 2");
        assert_eq!(
            err("x x").to_string(),
            "expected end of input, found 'x' at 2"
        );
        assert_eq!(err("tanh").position, 4);
        assert_eq!(err("1.2.3").position, 0);
    }

    #[test]
    fn render_points_at_the_error() {
        let e = err("tanh(x");
        assert_eq!(
            e.render(),
            "expected ')', found end of input at 6\n  tanh(x\n        ^"
        );
    }

    #[test]
    fn deep_input_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(err(&deep).message.contains("nested deeper"));
        let long = vec!["x"; 10_000].join(" + ");
        assert!(err(&long).message.contains("deeper than the limit"));
        let negs = format!("{}x", "-".repeat(100_000));
        assert!(Expr::parse(&negs).is_err());
    }
}
