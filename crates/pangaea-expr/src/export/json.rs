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
//! With learned values (`pangaea export RUN.db#ID --to json`, or `--params RESULT.json`), the
//! document also has `learned`: the training step they were recorded at and one object per
//! activation site, in network order, mapping each parameter name to its values (one per
//! channel for per-channel granularity, one for per-layer or shared):
//!
//! ```json
//!   "learned": {"epoch": 3, "sites": {"block1.act1": {"alpha": [0.97, 1.12], "beta": [1.4, 0.8]}}}
//! ```
//!
//! Every node has `op` (an operator name as in the text syntax, or `x` for the input), `arity`
//! (0, 1 or 2), `param` (`alpha`/`beta`/`gamma` multiplying the node's output, or `null`) and
//! `children` (left before right). Written by hand: this crate has no JSON dependency, and every
//! string in it is an operator name or printed expression text, escaped below all the same.

use std::fmt::Write;

use super::python::LearnedParams;
use crate::expr::{Expr, Op};

/// The JSON document of `expr`, pretty-printed with two-space indentation, with every site's
/// `learned` values when given.
pub fn to_json(expr: &Expr, learned: Option<&LearnedParams>) -> String {
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
    if let Some(learned) = learned {
        let _ = write!(
            out,
            ",\n  \"learned\": {{\n    \"epoch\": {},\n    \"sites\": {{",
            learned.epoch
        );
        for (k, (site, params)) in learned.sites.iter().enumerate() {
            let values: Vec<String> = params
                .iter()
                .map(|(name, v)| {
                    let v: Vec<String> = v.iter().map(|x| json_f32(*x)).collect();
                    format!("{}: [{}]", json_str(name), v.join(", "))
                })
                .collect();
            let _ = write!(
                out,
                "{}\n      {}: {{{}}}",
                if k == 0 { "" } else { "," },
                json_str(site),
                values.join(", ")
            );
        }
        out.push_str(if learned.sites.is_empty() {
            "}\n  }"
        } else {
            "\n    }\n  }"
        });
    }
    out.push_str("\n}\n");
    out
}

/// A value as JSON: the shortest text that reads back as the same f32; `null` for a non-finite
/// one (JSON has no NaN or infinity).
fn json_f32(x: f32) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "null".to_owned()
    }
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
        assert_eq!(to_json(&e, None), expected);
    }

    #[test]
    fn learned_values_are_a_map_per_site_in_network_order() {
        let e = Expr::parse("alpha * x * sigmoid(beta * x)").unwrap();
        let learned = LearnedParams {
            epoch: 3,
            sites: vec![
                (
                    "stem.act".into(),
                    vec![
                        ("alpha".into(), vec![0.5, 1.25]),
                        ("beta".into(), vec![2.0, f32::NAN]),
                    ],
                ),
                ("block\"1".into(), vec![("alpha".into(), vec![1.0])]),
            ],
        };
        let text = to_json(&e, Some(&learned));
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["learned"]["epoch"], 3);
        let sites = doc["learned"]["sites"].as_object().unwrap();
        assert_eq!(
            sites.keys().collect::<Vec<_>>(),
            ["block\"1", "stem.act"],
            "serde_json's map sorts; the text keeps network order"
        );
        assert!(text.find("stem.act").unwrap() < text.find("block").unwrap());
        assert_eq!(sites["stem.act"]["alpha"], serde_json::json!([0.5, 1.25]));
        assert_eq!(sites["stem.act"]["beta"], serde_json::json!([2.0, null]));
        assert_eq!(sites["block\"1"]["alpha"], serde_json::json!([1.0]));
        assert_eq!(doc["text"], "alpha * x * sigmoid(beta * x)");
        let empty = LearnedParams {
            epoch: 0,
            sites: vec![],
        };
        let doc: serde_json::Value = serde_json::from_str(&to_json(&e, Some(&empty))).unwrap();
        assert!(doc["learned"]["sites"].as_object().unwrap().is_empty());
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n"), r#""a\"b\\c\n""#);
        let back: String = serde_json::from_str(&json_str("a\"b\\c\n\u{1}")).unwrap();
        assert_eq!(back, "a\"b\\c\n\u{1}");
    }
}
