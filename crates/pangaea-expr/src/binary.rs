//! Binary operators (docs/method.md §1): add, sub, mul, div, pow, max, min.
//!
//! As with [`crate::Unary`], each operator is one function returning its value and both
//! partial derivatives, shared by the scalar methods and the array kernels. Ties in `max`/`min`
//! send the whole gradient to the left argument.

use crate::float::Float;

/// `y[i], da[i], db[i] = f(a[i], b[i])` over the slices, calling the kernel directly so that it
/// is always inlined (see `map_slice!` in `unary.rs`).
macro_rules! map2 {
    ($a:ident, $b:ident, $y:ident, $da:ident, $db:ident, $f:path) => {
        for i in 0..$a.len() {
            let (v, ga, gb) = $f($a[i], $b[i]);
            $y[i] = v;
            $da[i] = ga;
            $db[i] = gb;
        }
    };
}

/// `y[i] = f(a[i], b[i])` over the slices, values only (the partial derivatives are dead code).
macro_rules! map2_value {
    ($a:ident, $b:ident, $y:ident, $f:path) => {
        for i in 0..$a.len() {
            $y[i] = $f($a[i], $b[i]).0;
        }
    };
}

macro_rules! binary_ops {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $f:ident; )*) => {
        /// A binary operator. The discriminant is the operator's stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Binary {
            $( $(#[$doc])* $variant, )*
        }

        impl Binary {
            /// Every binary operator, in code order.
            pub const ALL: &'static [Binary] = &[$(Binary::$variant),*];

            /// The operator's name in function-call syntax.
            pub fn name(self) -> &'static str {
                match self { $(Binary::$variant => $name,)* }
            }

            /// Looks an operator up by its function-call name.
            pub fn from_name(name: &str) -> Option<Binary> {
                match name { $($name => Some(Binary::$variant),)* _ => None }
            }

            /// The value and the partial derivatives with respect to each argument.
            #[inline(always)]
            pub fn value_grad<F: Float>(self, a: F, b: F) -> (F, F, F) {
                match self { $(Binary::$variant => $f(a, b),)* }
            }

            /// Applies the operator elementwise: `y[i], da[i], db[i]` from `a[i], b[i]`.
            #[inline(always)]
            pub fn apply_slice<F: Float>(self, a: &[F], b: &[F], y: &mut [F], da: &mut [F], db: &mut [F]) {
                let n = a.len();
                let (b, y, da, db) = (&b[..n], &mut y[..n], &mut da[..n], &mut db[..n]);
                match self {
                    $(Binary::$variant => map2!(a, b, y, da, db, $f),)*
                }
            }

            /// Applies the operator elementwise, values only: `y[i] = f(a[i], b[i])`.
            #[inline(always)]
            pub fn value_slice<F: Float>(self, a: &[F], b: &[F], y: &mut [F]) {
                let n = a.len();
                let (b, y) = (&b[..n], &mut y[..n]);
                match self {
                    $(Binary::$variant => map2_value!(a, b, y, $f),)*
                }
            }
        }
    };
}

binary_ops! {
    /// a + b.
    Add = "add", add;
    /// a − b.
    Sub = "sub", sub;
    /// a · b.
    Mul = "mul", mul;
    /// a / b.
    Div = "div", div;
    /// aᵇ.
    Pow = "pow", pow;
    /// max(a, b).
    Max = "max", max;
    /// min(a, b).
    Min = "min", min;
}

impl Binary {
    /// The infix symbol, for the operators written infix.
    pub fn symbol(self) -> Option<&'static str> {
        match self {
            Binary::Add => Some("+"),
            Binary::Sub => Some("-"),
            Binary::Mul => Some("*"),
            Binary::Div => Some("/"),
            Binary::Pow => Some("^"),
            Binary::Max | Binary::Min => None,
        }
    }

    /// f(a, b).
    pub fn eval<F: Float>(self, a: F, b: F) -> F {
        self.value_grad(a, b).0
    }

    /// (∂f/∂a, ∂f/∂b).
    pub fn deriv<F: Float>(self, a: F, b: F) -> (F, F) {
        let (_, ga, gb) = self.value_grad(a, b);
        (ga, gb)
    }

    /// f(a, b) in f64.
    pub fn eval_f64(self, a: f64, b: f64) -> f64 {
        self.eval(a, b)
    }

    /// (∂f/∂a, ∂f/∂b) in f64.
    pub fn deriv_f64(self, a: f64, b: f64) -> (f64, f64) {
        self.deriv(a, b)
    }

    /// f(a, b) in f32.
    pub fn eval_f32(self, a: f32, b: f32) -> f32 {
        self.eval(a, b)
    }

    /// (∂f/∂a, ∂f/∂b) in f32.
    pub fn deriv_f32(self, a: f32, b: f32) -> (f32, f32) {
        self.deriv(a, b)
    }

    /// Whether f(a, b) = f(b, a).
    pub fn is_commutative(self) -> bool {
        matches!(self, Binary::Add | Binary::Mul | Binary::Max | Binary::Min)
    }
}

impl std::fmt::Display for Binary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[inline(always)]
fn add<F: Float>(a: F, b: F) -> (F, F, F) {
    (a + b, F::ONE, F::ONE)
}
#[inline(always)]
fn sub<F: Float>(a: F, b: F) -> (F, F, F) {
    (a - b, F::ONE, -F::ONE)
}
#[inline(always)]
fn mul<F: Float>(a: F, b: F) -> (F, F, F) {
    (a * b, b, a)
}
#[inline(always)]
fn div<F: Float>(a: F, b: F) -> (F, F, F) {
    let r = F::ONE / b;
    let q = a * r;
    (q, r, -q * r)
}
#[inline(always)]
fn pow<F: Float>(a: F, b: F) -> (F, F, F) {
    let v = a.powf(b);
    let da = if b == F::ZERO {
        F::ZERO
    } else {
        b * a.powf(b - F::ONE)
    };
    // ∂/∂b aᵇ = aᵇ ln a; at a = 0 with b > 0 the function is identically 0 in b, so exactly 0.
    let db = if a == F::ZERO && b > F::ZERO {
        F::ZERO
    } else {
        v * a.ln()
    };
    (v, da, db)
}
#[inline(always)]
fn max<F: Float>(a: F, b: F) -> (F, F, F) {
    // NaN in either argument gives NaN (IEEE 754-2019 `maximum`), so that max stays commutative.
    if a.is_nan() || b.is_nan() {
        let nan = a + b;
        (nan, nan, nan)
    } else if a >= b {
        (a, F::ONE, F::ZERO)
    } else {
        (b, F::ZERO, F::ONE)
    }
}
#[inline(always)]
fn min<F: Float>(a: F, b: F) -> (F, F, F) {
    if a.is_nan() || b.is_nan() {
        let nan = a + b;
        (nan, nan, nan)
    } else if a <= b {
        (a, F::ONE, F::ZERO)
    } else {
        (b, F::ZERO, F::ONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_partials() {
        assert_eq!(
            Binary::Div.value_grad(1.0f64, 0.0),
            (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY)
        );
        assert_eq!(Binary::Pow.value_grad(2.0f64, 3.0).0, 8.0);
        assert_eq!(Binary::Pow.value_grad(2.0f64, 3.0).1, 12.0);
        assert!((Binary::Pow.value_grad(2.0f64, 3.0).2 - 8.0 * 2f64.ln()).abs() < 1e-12);
        assert_eq!(Binary::Pow.value_grad(0.0f64, 2.0), (0.0, 0.0, 0.0));
        assert_eq!(Binary::Max.deriv(1.0f64, 1.0), (1.0, 0.0));
        assert_eq!(Binary::Min.deriv(2.0f64, 1.0), (0.0, 1.0));
    }

    #[test]
    fn names_round_trip() {
        for &b in Binary::ALL {
            assert_eq!(Binary::from_name(b.name()), Some(b));
        }
    }
}
