//! The expression tree as JSON, for tools that do not parse pangaea's text syntax.
//!
//! ```json
//! {
//!   "text": "alpha * x * sigmoid(beta * x)",
//!   "canonical": "alpha * x * sigmoid(beta * x)",
//!   "params": ["alpha", "beta"],
//!   "tree": {"op": "mul", "arity": 2, "param": null, "children": [ … ]}
//! }
//! ```
//!
//! Every node has `op` (an operator name as in the text syntax, or `x` for the input), `arity`
//! (0, 1 or 2), `param` (`alpha`/`beta`/`gamma` multiplying the node's output, or `null`) and
//! `children` (left before right). Written by hand: this crate has no JSON dependency, and every
//! string in it is an operator name or printed expression text, escaped below all the same.

use std::fmt::Write;

use crate::expr::{Expr, Op};

/// The JSON document of `expr`, pretty-printed with two-space indentation.
pub fn to_json(expr: &Expr) -> String {
    let params: Vec<String> = expr.params().iter().map(|p| json_str(p.name())).collect();
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\n  \"text\": {},\n  \"canonical\": {},\n  \"params\": [{}],\n  \"tree\": ",
        json_str(&expr.to_string()),
        json_str(&expr.canonical_text()),
        params.join(", ")
    );
    node(expr, expr.root(), 1, &mut out);
    out.push_str("\n}\n");
    out
}

fn node(expr: &Expr, i: usize, depth: usize, out: &mut String) {
    let n = expr.nodes()[i];
    let (op, children): (&str, Vec<usize>) = match n.op {
        Op::X => ("x", vec![]),
        Op::Unary(u, c) => (u.name(), vec![c]),
        Op::Binary(b, l, r) => (b.name(), vec![l, r]),
    };
    let pad = "  ".repeat(depth + 1);
    let param = n
        .param
        .map_or_else(|| "null".to_owned(), |p| json_str(p.name()));
    let _ = write!(
        out,
        "{{\n{pad}\"op\": {},\n{pad}\"arity\": {},\n{pad}\"param\": {param},\n{pad}\"children\": [",
        json_str(op),
        children.len()
    );
    for (k, &c) in children.iter().enumerate() {
        out.push_str(if k == 0 { "\n" } else { ",\n" });
        out.push_str(&"  ".repeat(depth + 2));
        node(expr, c, depth + 2, out);
    }
    if !children.is_empty() {
        out.push('\n');
        out.push_str(&pad);
    }
    out.push_str("]\n");
    out.push_str(&"  ".repeat(depth));
    out.push('}');
}

pub(super) fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_document() {
        let e = Expr::parse("alpha * tanh(x)").unwrap();
        let expected = r#"{
  "text": "alpha * tanh(x)",
  "canonical": "alpha * tanh(x)",
  "params": ["alpha"],
  "tree": {
    "op": "tanh",
    "arity": 1,
    "param": "alpha",
    "children": [
      {
        "op": "x",
        "arity": 0,
        "param": null,
        "children": []
      }
    ]
  }
}
"#;
        assert_eq!(to_json(&e), expected);
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n"), r#""a\"b\\c\n""#);
        let back: String = serde_json::from_str(&json_str("a\"b\\c\n\u{1}")).unwrap();
        assert_eq!(back, "a\"b\\c\n\u{1}");
    }
}
