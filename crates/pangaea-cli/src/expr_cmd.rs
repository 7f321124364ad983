//! `pangaea expr`: show, evaluate, plot, generate and mutate expressions.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use pangaea_expr::{
    mutation, random_initial, Expr, Float, MutationWeights, OperatorSet, Param, Program,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::exit::usage;

/// Work with activation-function expressions.
#[derive(Debug, Subcommand)]
pub enum ExprCommand {
    /// Print the canonical form, parameters, size, depth, fingerprint and validity verdict.
    Show(ShowArgs),
    /// Evaluate the function and its derivatives at given inputs; prints one JSON object.
    Eval(EvalArgs),
    /// Plot the function and its derivative to an SVG file.
    Plot(PlotArgs),
    /// Generate random expressions of the search's two initial shapes.
    Random(RandomArgs),
    /// Mutate an expression (insert, remove, change or regenerate an operator).
    Mutate(MutateArgs),
}

impl ExprCommand {
    /// Runs the subcommand.
    pub fn exec(self) -> anyhow::Result<()> {
        match self {
            ExprCommand::Show(a) => a.exec(),
            ExprCommand::Eval(a) => a.exec(),
            ExprCommand::Plot(a) => a.exec(),
            ExprCommand::Random(a) => a.exec(),
            ExprCommand::Mutate(a) => a.exec(),
        }
    }
}

/// Parses an expression, turning a parse error into a usage error with a caret under it.
fn parse_expr(text: &str) -> anyhow::Result<Expr> {
    Expr::parse(text).map_err(|e| usage(format!("invalid expression: {}", e.render())))
}

/// `NAME=VALUE` for a parameter.
fn parse_param(s: &str) -> Result<(Param, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE (e.g. alpha=0.5), found '{s}'"))?;
    let p = Param::from_name(name.trim())
        .ok_or_else(|| format!("unknown parameter '{name}': expected alpha, beta or gamma"))?;
    let v = value
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("expected a number after '{name}=', found '{value}'"))?;
    Ok((p, v))
}

/// A comma-separated list of numbers (one clap value, so `-2,-1` is not taken for a flag).
#[derive(Debug, Clone)]
struct Numbers(Vec<f64>);

fn parse_list(s: &str) -> Result<Numbers, String> {
    s.split(',')
        .enumerate()
        .map(|(i, part)| {
            part.trim().parse::<f64>().map_err(|_| {
                format!(
                    "item {} of the list is '{}', expected a number",
                    i + 1,
                    part.trim()
                )
            })
        })
        .collect::<Result<_, _>>()
        .map(Numbers)
}

/// Parameter values for `expr`: 1.0 unless given; giving one the expression lacks is an error.
fn param_values(expr: &Expr, given: &[(Param, f64)]) -> anyhow::Result<[f64; 3]> {
    let mut values = [1.0; 3];
    let used = expr.params();
    for &(p, v) in given {
        if !used.contains(&p) {
            return Err(usage(format!(
                "--param {p}: the expression has no parameter {p} (it has: {})",
                if used.is_empty() {
                    "none".to_string()
                } else {
                    used.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
                }
            )));
        }
        values[p.index()] = v;
    }
    Ok(values)
}

/// Arguments of `pangaea expr show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The expression, e.g. "alpha * x * sigmoid(beta * x)".
    expr: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl ShowArgs {
    fn exec(self) -> anyhow::Result<()> {
        let e = parse_expr(&self.expr)?;
        let verdict = e.validate();
        if self.json {
            let v = serde_json::json!({
                "expr": e.to_string(),
                "canonical": e.canonical_text(),
                "params": e.params().iter().map(|p| p.name()).collect::<Vec<_>>(),
                "size": e.size(),
                "depth": e.depth(),
                "structural_hash": format!("{:016x}", e.structural_hash()),
                "fingerprint": e.fingerprint().to_string(),
                "valid": verdict.is_ok(),
                "rejection": verdict.as_ref().err().map(|r| serde_json::json!({"code": r.code(), "reason": r.to_string()})),
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
            return Ok(());
        }
        let params = e.params();
        println!("expression   {e}");
        println!("canonical    {}", e.canonical_text());
        println!(
            "parameters   {}",
            if params.is_empty() {
                "none".to_string()
            } else {
                params
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        println!("size         {} nodes, depth {}", e.size(), e.depth());
        println!("fingerprint  {}", e.fingerprint());
        match verdict {
            Ok(()) => println!("validity     ok"),
            Err(r) => println!("validity     rejected ({}): {r}", r.code()),
        }
        Ok(())
    }
}

/// Floating-point precision of an evaluation.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Precision {
    F32,
    F64,
}

/// Arguments of `pangaea expr eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The expression.
    expr: String,
    /// Inputs, comma-separated, e.g. -2,-1,0,1.5.
    #[arg(long, value_parser = parse_list, allow_hyphen_values = true, required = true)]
    x: Numbers,
    /// A parameter value, NAME=VALUE (repeatable); unlisted parameters are 1.0.
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(Param, f64)>,
    /// Precision of the evaluation.
    #[arg(long, value_enum, default_value = "f64")]
    precision: Precision,
}

impl EvalArgs {
    fn exec(self) -> anyhow::Result<()> {
        let e = parse_expr(&self.expr)?;
        let values = param_values(&e, &self.params)?;
        let program = Program::new(&e);
        let out = match self.precision {
            Precision::F64 => evaluate::<f64>(&program, &self.x.0, values),
            Precision::F32 => evaluate::<f32>(&program, &self.x.0, values),
        };
        let used = e.params();
        let params: BTreeMap<&str, f64> =
            used.iter().map(|p| (p.name(), values[p.index()])).collect();
        let dparams: BTreeMap<&str, &Vec<f64>> =
            used.iter().map(|p| (p.name(), &out.2[p.index()])).collect();
        // Field order as documented; serde_json writes NaN and ±inf as null.
        #[derive(serde::Serialize)]
        struct Output<'a> {
            expr: String,
            params: BTreeMap<&'a str, f64>,
            x: &'a [f64],
            y: &'a [f64],
            dy_dx: &'a [f64],
            dy_dparams: BTreeMap<&'a str, &'a Vec<f64>>,
        }
        let v = Output {
            expr: e.to_string(),
            params,
            x: &self.x.0,
            y: &out.0,
            dy_dx: &out.1,
            dy_dparams: dparams,
        };
        println!("{}", serde_json::to_string(&v)?);
        Ok(())
    }
}

type Evaluation = (Vec<f64>, Vec<f64>, [Vec<f64>; 3]);

fn evaluate<F: Float>(program: &Program, xs: &[f64], params: [f64; 3]) -> Evaluation {
    let x: Vec<F> = xs.iter().map(|&v| F::from_f64(v)).collect();
    let out = program.eval(&x, params.map(F::from_f64));
    let back = |v: Vec<F>| v.into_iter().map(F::to_f64).collect::<Vec<f64>>();
    let [a, b, c] = out.dy_dparams;
    (back(out.y), back(out.dy_dx), [back(a), back(b), back(c)])
}

/// Arguments of `pangaea expr plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The expression.
    expr: String,
    /// Output SVG file.
    #[arg(short, long)]
    out: PathBuf,
    /// Input range, LOW,HIGH.
    #[arg(long, value_parser = parse_list, allow_hyphen_values = true, default_value = "-5,5")]
    range: Numbers,
    /// A parameter value, NAME=VALUE (repeatable); unlisted parameters are 1.0.
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(Param, f64)>,
}

impl PlotArgs {
    fn exec(self) -> anyhow::Result<()> {
        let e = parse_expr(&self.expr)?;
        let values = param_values(&e, &self.params)?;
        let [lo, hi] = self.range.0[..] else {
            return Err(usage(format!(
                "--range takes two numbers LOW,HIGH; got {} numbers",
                self.range.0.len()
            )));
        };
        if lo >= hi || !lo.is_finite() || !hi.is_finite() {
            return Err(usage(format!(
                "--range: LOW must be below HIGH, got {lo},{hi}"
            )));
        }
        let curve = pangaea_report::plot::Curve {
            label: String::new(),
            expr: e.clone(),
            params: values,
            color: 0,
            dashed: false,
        };
        let caption = e.to_string();
        let svg = pangaea_report::plot::function_svg(
            &[curve],
            (lo, hi),
            (1000, 450),
            Some(&caption),
            None,
        )?;
        pangaea_wire::write_atomic(&self.out, svg.as_bytes())?;
        eprintln!("wrote {}", self.out.display());
        Ok(())
    }
}

/// Operator-set options shared by `random` and `mutate`.
#[derive(Debug, Args)]
struct OperatorArgs {
    /// Unary operators to draw from, comma-separated (default: PANGAEA's 27).
    #[arg(long, value_delimiter = ',')]
    unary: Option<Vec<String>>,
    /// Binary operators to draw from, comma-separated (default: all 7).
    #[arg(long, value_delimiter = ',')]
    binary: Option<Vec<String>>,
}

impl OperatorArgs {
    fn resolve(&self) -> anyhow::Result<pangaea_expr::Operators> {
        let default = OperatorSet::default();
        let set = OperatorSet {
            unary: self.unary.clone().unwrap_or(default.unary),
            binary: self.binary.clone().unwrap_or(default.binary),
        };
        let ops = set.resolve().map_err(usage)?;
        if ops.unary.is_empty() {
            return Err(usage("--unary: at least one unary operator is needed"));
        }
        Ok(ops)
    }
}

/// Arguments of `pangaea expr random`.
#[derive(Debug, Args)]
pub struct RandomArgs {
    /// Seed of the generator; the same seed gives the same expressions on every machine.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How many expressions.
    #[arg(long, default_value_t = 10)]
    count: usize,
    #[command(flatten)]
    ops: OperatorArgs,
}

impl RandomArgs {
    fn exec(self) -> anyhow::Result<()> {
        let ops = self.ops.resolve()?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        for _ in 0..self.count {
            println!("{}", random_initial(&ops, &mut rng));
        }
        Ok(())
    }
}

/// Arguments of `pangaea expr mutate`.
#[derive(Debug, Args)]
pub struct MutateArgs {
    /// The parent expression (its parameters are dropped: mutations change the form).
    expr: String,
    /// Seed of the generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Apply this mutation instead of drawing one uniformly.
    #[arg(long, value_parser = ["insert", "remove", "change", "regenerate"])]
    op: Option<String>,
    /// How many children (each from the parent, with successive draws of the generator).
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Largest allowed expression, in nodes.
    #[arg(long, default_value_t = 12)]
    max_size: usize,
    #[command(flatten)]
    ops: OperatorArgs,
}

impl MutateArgs {
    fn exec(self) -> anyhow::Result<()> {
        let parent = parse_expr(&self.expr)?;
        let ops = self.ops.resolve()?;
        let form = parent.without_params();
        if form.size() > self.max_size {
            return Err(usage(format!(
                "the expression has {} nodes, more than --max-size {}",
                form.size(),
                self.max_size
            )));
        }
        let weights = match &self.op {
            Some(name) => {
                let m = pangaea_expr::Mutation::from_name(name).expect("clap checked the name");
                MutationWeights::only(m)
            }
            None => MutationWeights::default(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        for _ in 0..self.count {
            let out =
                mutation::mutate(&form, &ops, self.max_size, &weights, &mut rng).map_err(usage)?;
            println!("{}\t{}", out.expr, out.detail);
        }
        Ok(())
    }
}
