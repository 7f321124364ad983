//! Fuzzes the expression parser: any input either fails with a positioned error or parses to an
//! expression whose printed form parses back to the same expression, evaluates without panicking,
//! and has a canonical form that is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pangaea_expr::{Expr, Program};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Expr::parse(text) {
        Err(e) => {
            assert!(e.position <= text.len(), "position {} beyond input", e.position);
            let _ = e.render();
        }
        Ok(expr) => {
            let printed = expr.to_string();
            let back = Expr::parse(&printed).expect("printed text parses");
            assert_eq!(back, expr, "round trip of {printed}");
            let canonical = expr.canonical();
            assert_eq!(canonical.canonical(), canonical);
            let _ = Program::new(&expr).eval_f64(&[-1.5, 0.0, 2.0], [1.0, 0.5, 2.0]);
            let _ = expr.validate();
        }
    }
});
