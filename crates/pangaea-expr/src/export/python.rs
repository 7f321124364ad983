//! Python code for an expression: a NumPy function and a PyTorch `nn.Module`, from one emitter.
//!
//! [`emit_body`] walks the postfix node list once and writes one assignment per node
//! (`t3 = alpha * _sigmoid(t2)`); the only thing that differs between NumPy and PyTorch is a
//! [`Backend`]: the array namespace, a handful of function names (`np.arcsinh` / `torch.asinh`,
//! `np.minimum(t, 0.0)` / `torch.clamp(t, max=0.0)`) and how erf, erfc and the scaled Bessel
//! functions are reached. Helpers (`_sigmoid`, `_softplus`) are written once over `{xp}` and
//! instantiated per backend, so both targets compute the same formulas as [`crate::Unary`]: the
//! numerically stable ones (softplus = max(x, 0) + log1p(e^{−|x|}), σ without e^{large}), and
//! branches written so the branch not taken never overflows (`elu` exponentiates `min(x, 0)`),
//! which also keeps PyTorch's gradients through `where` free of NaN.
//!
//! NumPy has no erf or Bessel functions. The generated module uses `scipy.special` when SciPy is
//! importable; otherwise it falls back to `math.erf`/`math.erfc` vectorized (exact, slower) and
//! to a transcription of [`crate::special`]'s series and asymptotic expansion for `i0e`/`i1e`.

use std::fmt::Write;

use crate::binary::Binary;
use crate::expr::{Expr, Op};
use crate::param::Param;
use crate::unary::{Unary, LEAKY_RELU_SLOPE, LOG_ABS_EPS, SELU_ALPHA, SELU_LAMBDA};

/// One site's learned parameters: `(parameter name, one value per channel)`, in name order.
pub type SiteParams = Vec<(String, Vec<f32>)>;

/// Learned per-site parameter values to bake into a PyTorch module (from an `EvalResult`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LearnedParams {
    /// Which training snapshot the values come from (finished epochs), for the docstring.
    pub epoch: usize,
    /// `(site name, its parameters)`, in network order.
    pub sites: Vec<(String, SiteParams)>,
}

/// The array library the code is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Numpy,
    Torch,
}

/// Helpers a body may call; each is emitted only when used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Helper {
    Sigmoid,
    Softplus,
}

impl Backend {
    fn xp(self) -> &'static str {
        match self {
            Backend::Numpy => "np",
            Backend::Torch => "torch",
        }
    }

    /// The function that computes a named special function.
    fn func(self, name: &'static str) -> String {
        let (np, torch) = match name {
            "asinh" => ("np.arcsinh", "torch.asinh"),
            "atan" => ("np.arctan", "torch.atan"),
            "erf" => ("_erf", "torch.erf"),
            "erfc" => ("_erfc", "torch.erfc"),
            "i0e" => ("_i0e", "torch.special.i0e"),
            "i1e" => ("_i1e", "torch.special.i1e"),
            other => return format!("{}.{other}", self.xp()),
        };
        match self {
            Backend::Numpy => np.to_owned(),
            Backend::Torch => torch.to_owned(),
        }
    }

    fn min0(self, a: &str) -> String {
        match self {
            Backend::Numpy => format!("np.minimum({a}, 0.0)"),
            Backend::Torch => format!("torch.clamp({a}, max=0.0)"),
        }
    }

    fn max0(self, a: &str) -> String {
        match self {
            Backend::Numpy => format!("np.maximum({a}, 0.0)"),
            Backend::Torch => format!("torch.clamp({a}, min=0.0)"),
        }
    }

    fn clip01(self, a: &str) -> String {
        match self {
            Backend::Numpy => format!("np.clip({a}, 0.0, 1.0)"),
            Backend::Torch => format!("torch.clamp({a}, 0.0, 1.0)"),
        }
    }

    fn helper_source(self, h: Helper) -> String {
        let src = match h {
            Helper::Sigmoid => {
                "def _sigmoid(x):\n    \
                 \"\"\"Stable logistic: e = exp(-|x|), r = 1/(1+e); r for x >= 0, e*r below.\"\"\"\n    \
                 e = {xp}.exp(-{xp}.abs(x))\n    \
                 r = 1.0 / (1.0 + e)\n    \
                 return {xp}.where(x >= 0, r, e * r)\n"
            }
            Helper::Softplus => {
                "def _softplus(x):\n    \
                 \"\"\"Stable log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).\"\"\"\n    \
                 return {max0} + {xp}.log1p({xp}.exp(-{xp}.abs(x)))\n"
            }
        };
        src.replace("{max0}", &self.max0("x"))
            .replace("{xp}", self.xp())
    }
}

/// A float literal Python reads back to the same f64.
fn lit(v: f64) -> String {
    format!("{v:?}")
}

/// Code for `u(a)`; records the helpers it needs.
fn unary_code(u: Unary, a: &str, b: Backend, helpers: &mut Vec<Helper>) -> String {
    let xp = b.xp();
    let mut need = |h: Helper| {
        if !helpers.contains(&h) {
            helpers.push(h);
        }
    };
    match u {
        Unary::Zero => format!("{xp}.zeros_like({a})"),
        Unary::One => format!("{xp}.ones_like({a})"),
        Unary::X => a.to_owned(),
        Unary::Neg => format!("-{a}"),
        Unary::Abs => format!("{xp}.abs({a})"),
        Unary::Reciprocal => format!("1.0 / {a}"),
        Unary::Square => format!("{a} * {a}"),
        Unary::Exp => format!("{xp}.exp({a})"),
        Unary::Erf => format!("{}({a})", b.func("erf")),
        Unary::Erfc => format!("{}({a})", b.func("erfc")),
        Unary::Sinh => format!("{xp}.sinh({a})"),
        Unary::Cosh => format!("{xp}.cosh({a})"),
        Unary::Tanh => format!("{xp}.tanh({a})"),
        Unary::Expm1 => format!("{xp}.expm1({a})"),
        Unary::Sigmoid => {
            need(Helper::Sigmoid);
            format!("_sigmoid({a})")
        }
        Unary::LogSigmoid => {
            need(Helper::Softplus);
            format!("-_softplus(-{a})")
        }
        Unary::Asinh => format!("{}({a})", b.func("asinh")),
        Unary::Atan => format!("{}({a})", b.func("atan")),
        Unary::BesselI0e => format!("{}({a})", b.func("i0e")),
        Unary::BesselI1e => format!("{}({a})", b.func("i1e")),
        Unary::Relu => format!("{xp}.where({a} > 0, {a}, 0.0)"),
        Unary::Elu => format!("{xp}.where({a} > 0, {a}, {xp}.expm1({}))", b.min0(a)),
        Unary::Selu => format!(
            "{l} * {xp}.where({a} > 0, {a}, {al} * {xp}.expm1({m}))",
            l = lit(SELU_LAMBDA),
            al = lit(SELU_ALPHA),
            m = b.min0(a)
        ),
        Unary::Swish => {
            need(Helper::Sigmoid);
            format!("{a} * _sigmoid({a})")
        }
        Unary::Softplus => {
            need(Helper::Softplus);
            format!("_softplus({a})")
        }
        Unary::Softsign => format!("{a} / (1.0 + {xp}.abs({a}))"),
        Unary::HardSigmoid => b.clip01(&format!("0.2 * {a} + 0.5")),
        Unary::Cube => format!("{a} * {a} * {a}"),
        Unary::Sqrt => format!("{xp}.sqrt({a})"),
        Unary::Gauss => format!("{xp}.exp(-({a} * {a}))"),
        Unary::LogAbs => format!("{xp}.log({xp}.abs({a}) + {})", lit(LOG_ABS_EPS)),
        Unary::Sin => format!("{xp}.sin({a})"),
        Unary::Cos => format!("{xp}.cos({a})"),
        Unary::Minz => format!("{xp}.where({a} < 0, {a}, 0.0)"),
        // sin(x)/x with the Taylor series 1 − x²/6 + x⁴/120 near 0, as pangaea does; the
        // division uses a safe denominator so the branch not taken is never 0/0.
        Unary::Sinc => format!(
            "{xp}.where({xp}.abs({a}) < 1e-4, 1.0 - {a} * {a} / 6.0 + {a} * {a} * {a} * {a} / 120.0, \
             {xp}.sin({a}) / {xp}.where({xp}.abs({a}) < 1e-4, 1.0, {a}))"
        ),
        Unary::Gelu => format!(
            "{a} * (0.5 * {}(-({a} * {})))",
            b.func("erfc"),
            lit(std::f64::consts::FRAC_1_SQRT_2)
        ),
        Unary::Mish => {
            need(Helper::Softplus);
            format!("{a} * {xp}.tanh(_softplus({a}))")
        }
        Unary::LeakyRelu => format!(
            "{xp}.where({a} > 0, {a}, {} * {a})",
            lit(LEAKY_RELU_SLOPE)
        ),
        Unary::Elish => {
            need(Helper::Sigmoid);
            format!(
                "{xp}.where({a} >= 0, {a}, {xp}.expm1({})) * _sigmoid({a})",
                b.min0(a)
            )
        }
    }
}

fn binary_code(op: Binary, l: &str, r: &str, b: Backend) -> String {
    let xp = b.xp();
    match op {
        Binary::Add => format!("{l} + {r}"),
        Binary::Sub => format!("{l} - {r}"),
        Binary::Mul => format!("{l} * {r}"),
        Binary::Div => format!("{l} / {r}"),
        Binary::Pow => format!("{l} ** {r}"),
        // Both propagate NaN, like pangaea's max/min.
        Binary::Max => format!("{xp}.maximum({l}, {r})"),
        Binary::Min => format!("{xp}.minimum({l}, {r})"),
    }
}

/// One assignment per node (`t{i} = …`), each line indented by `indent`, ending in `return`.
/// Returns the lines and the helpers they call.
fn emit_body(expr: &Expr, b: Backend, indent: &str) -> (String, Vec<Helper>) {
    let mut out = String::new();
    let mut helpers = Vec::new();
    for (i, n) in expr.nodes().iter().enumerate() {
        let code = match n.op {
            Op::X => "x".to_owned(),
            Op::Unary(u, c) => unary_code(u, &format!("t{c}"), b, &mut helpers),
            Op::Binary(op, l, r) => binary_code(op, &format!("t{l}"), &format!("t{r}"), b),
        };
        let code = match n.param {
            Some(p) if code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                format!("{} * {code}", p.name())
            }
            Some(p) => format!("{} * ({code})", p.name()),
            None => code,
        };
        let _ = writeln!(out, "{indent}t{i} = {code}");
    }
    let _ = writeln!(out, "{indent}return t{}", expr.root());
    helpers.sort();
    (out, helpers)
}

/// Whether the body calls one of the NumPy fallbacks.
fn uses(expr: &Expr, ops: &[Unary]) -> bool {
    expr.unary_ops().any(|u| ops.contains(&u))
}

const NUMPY_SPECIAL: &str = r#"
try:
    from scipy import special as _special
except ImportError:  # exact but slower fallbacks, no SciPy needed
    _special = None


def _erf(x):
    if _special is not None:
        return _special.erf(x)
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _erfc(x):
    if _special is not None:
        return _special.erfc(x)
    return np.vectorize(math.erfc, otypes=[np.float64])(x)


def _bessel_scaled(nu, x):
    """exp(-|x|) I_nu(x) for nu in {0, 1}: the power series up to |x| = 30, then Hankel's
    asymptotic expansion stopped at its smallest term (pangaea's own algorithm)."""
    if math.isnan(x):
        return math.nan
    ax = abs(x)
    if math.isinf(ax):
        return 0.0 if nu == 0 else math.copysign(0.0, x)
    if ax <= 30.0:
        q = ax * ax / 4.0
        term, total, k = 1.0, 1.0, 1.0
        while term > total * 1e-17:
            term *= q / (k * (k + nu))
            total += term
            k += 1.0
        v = total * math.exp(-ax) * (1.0 if nu == 0 else ax / 2.0)
    else:
        mu = 4.0 * nu * nu
        term, total = 1.0, 1.0
        for k in range(1, 60):
            odd = 2.0 * k - 1.0
            nxt = -term * (mu - odd * odd) / (k * 8.0 * ax)
            if abs(nxt) >= abs(term):
                break
            term = nxt
            total += term
            if abs(term) < 1e-17 * abs(total):
                break
        v = total / math.sqrt(2.0 * math.pi * ax)
    return v if nu == 0 else math.copysign(v, x)


def _i0e(x):
    if _special is not None:
        return _special.i0e(x)
    return np.vectorize(lambda v: _bessel_scaled(0, v), otypes=[np.float64])(x)


def _i1e(x):
    if _special is not None:
        return _special.i1e(x)
    return np.vectorize(lambda v: _bessel_scaled(1, v), otypes=[np.float64])(x)
"#;

fn header(expr: &Expr, target: &str) -> String {
    format!(
        "# Generated by `pangaea export --to {target}`.\n\
         # Activation: {expr}\n\
         # Canonical:  {}\n",
        expr.canonical_text()
    )
}

/// A Python module defining `activation(x, alpha=1.0, beta=1.0, gamma=1.0)` with NumPy.
///
/// `x` is anything `np.asarray` accepts; the parameters broadcast against it (scalars or arrays).
/// Floating-point warnings are silenced: overflow and 0/0 produce inf and NaN exactly as in
/// pangaea, where they are results, not errors.
pub fn to_numpy(expr: &Expr) -> String {
    let (body, helpers) = emit_body(expr, Backend::Numpy, "        ");
    let special = [
        Unary::Erf,
        Unary::Erfc,
        Unary::BesselI0e,
        Unary::BesselI1e,
        Unary::Gelu,
    ];
    let mut s = header(expr, "numpy");
    s.push('\n');
    if uses(expr, &special) {
        s.push_str("import math\n\n");
    }
    s.push_str("import numpy as np\n");
    if uses(expr, &special) {
        s.push_str(NUMPY_SPECIAL);
    }
    for h in helpers {
        s.push_str("\n\n");
        s.push_str(&Backend::Numpy.helper_source(h));
    }
    let _ = write!(
        s,
        "\n\ndef activation(x, alpha=1.0, beta=1.0, gamma=1.0):\n    \
         \"\"\"{expr}\"\"\"\n    \
         x = np.asarray(x, dtype=np.float64)\n    \
         with np.errstate(all=\"ignore\"):\n{body}"
    );
    s
}

/// A Python module defining `class Activation(nn.Module)` with PyTorch.
///
/// `Activation(num_channels=None, init=None)`: with `num_channels = C` every parameter the
/// expression uses is a `[C]` tensor broadcast over dimension 1 (NCHW or NC inputs); with
/// `None` it is a scalar. `init` maps parameter names to a value or a list of C values; the
/// default is 1.0 (docs/method.md §2). With `learned`, the module also holds `LEARNED_PARAMS`
/// (site → parameter → per-channel values) and `Activation.from_learned(site)` builds the module
/// of one site: one expression, one class, one instance per site.
pub fn to_pytorch(expr: &Expr, learned: Option<&LearnedParams>) -> String {
    let (body, helpers) = emit_body(expr, Backend::Torch, "        ");
    let params = expr.params();
    let mut s = header(expr, "pytorch");
    s.push_str("\nimport torch\nfrom torch import nn\n");
    if let Some(l) = learned {
        let _ = write!(
            s,
            "\n# Learned parameters after epoch {} (site -> parameter -> one value per channel).\n\
             LEARNED_PARAMS = {{\n",
            l.epoch
        );
        for (site, ps) in &l.sites {
            let _ = writeln!(s, "    {}: {{", py_str(site));
            for (name, values) in ps {
                let vs: Vec<String> = values.iter().map(|v| lit(f64::from(*v))).collect();
                let _ = writeln!(s, "        {}: [{}],", py_str(name), vs.join(", "));
            }
            s.push_str("    },\n");
        }
        s.push_str("}\n");
    }
    for h in helpers {
        s.push_str("\n\n");
        s.push_str(&Backend::Torch.helper_source(h));
    }
    let names: Vec<String> = params.iter().map(|p| py_str(p.name())).collect();
    let _ = write!(
        s,
        "\n\nclass Activation(nn.Module):\n    \
         \"\"\"{expr}\n\n    \
         Parameters {names} are learnable: one per channel (broadcast over dim 1) when\n    \
         num_channels is given, else scalars. init maps a name to a value or a list of values.\n    \
         \"\"\"\n\n    \
         PARAMS = ({tuple})\n\n    \
         def __init__(self, num_channels=None, init=None):\n        \
         super().__init__()\n        \
         init = init or {{}}\n        \
         self.num_channels = num_channels\n        \
         for name in self.PARAMS:\n            \
         value = torch.as_tensor(init.get(name, 1.0), dtype=torch.float32)\n            \
         shape = () if num_channels is None else (num_channels,)\n            \
         setattr(self, name, nn.Parameter(value.expand(shape).clone()))\n\n    \
         def _broadcast(self, p, x):\n        \
         if self.num_channels is None:\n            \
         return p\n        \
         return p.view(1, -1, *([1] * (x.dim() - 2)))\n\n    \
         def forward(self, x):\n{unpack}{body}",
        names = if names.is_empty() {
            "(none)".to_owned()
        } else {
            names.join(", ")
        },
        tuple = if names.len() == 1 {
            format!("{},", names[0])
        } else {
            names.join(", ")
        },
        unpack = params
            .iter()
            .map(|p: &Param| format!(
                "        {n} = self._broadcast(self.{n}, x)\n",
                n = p.name()
            ))
            .collect::<String>(),
    );
    if learned.is_some() {
        s.push_str(
            "\n    @classmethod\n    \
             def from_learned(cls, site):\n        \
             \"\"\"The module of one site, initialised to its learned values.\"\"\"\n        \
             values = LEARNED_PARAMS[site]\n        \
             num_channels = max((len(v) for v in values.values()), default=1)\n        \
             return cls(num_channels=num_channels, init=values)\n",
        );
    }
    s
}

/// A Python string literal (JSON string syntax is valid Python).
fn py_str(s: &str) -> String {
    super::json::json_str(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_assignment_per_node_with_params_on_outputs() {
        let e = Expr::parse("alpha * x * sigmoid(beta * x)").unwrap();
        let (body, helpers) = emit_body(&e, Backend::Numpy, "");
        assert_eq!(helpers, vec![Helper::Sigmoid]);
        assert_eq!(
            body,
            "t0 = alpha * x\nt1 = beta * x\nt2 = _sigmoid(t1)\nt3 = t0 * t2\nreturn t3\n"
        );
    }

    #[test]
    fn backends_differ_only_in_names() {
        let e = Expr::parse("asinh(elu(x))").unwrap();
        let (np_body, _) = emit_body(&e, Backend::Numpy, "");
        let (torch_body, _) = emit_body(&e, Backend::Torch, "");
        assert!(
            np_body.contains("np.expm1(np.minimum(t0, 0.0))"),
            "{np_body}"
        );
        assert!(np_body.contains("np.arcsinh(t1)"), "{np_body}");
        assert!(
            torch_body.contains("torch.expm1(torch.clamp(t0, max=0.0))"),
            "{torch_body}"
        );
        assert!(torch_body.contains("torch.asinh(t1)"), "{torch_body}");
    }

    #[test]
    fn numpy_imports_special_functions_only_when_used() {
        assert!(!to_numpy(&Expr::parse("tanh(x)").unwrap()).contains("scipy"));
        assert!(to_numpy(&Expr::parse("erf(x)").unwrap()).contains("scipy"));
    }

    #[test]
    fn learned_values_and_site_names_are_quoted() {
        let e = Expr::parse("alpha * relu(x)").unwrap();
        let learned = LearnedParams {
            epoch: 3,
            sites: vec![("b\"1".into(), vec![("alpha".into(), vec![0.5, 1.25])])],
        };
        let s = to_pytorch(&e, Some(&learned));
        assert!(s.contains("\"b\\\"1\": {"), "{s}");
        assert!(s.contains("\"alpha\": [0.5, 1.25],"), "{s}");
        assert!(s.contains("PARAMS = (\"alpha\",)"), "{s}");
        assert!(s.contains("def from_learned(cls, site):"), "{s}");
    }
}
