//! Throughput of `Program::eval_into` (value + dy/dx + dy/dθ for every parameter in forward mode,
//! and the value alone) and of `Program::backprop_into` (a training step's backward pass:
//! dL/dx and the dL/dθ sums in reverse mode), on 1 M inputs, for the 5-node parametric
//! expression `alpha * x * sigmoid(beta * abs(x))`, in f32 and f64.
//! Single-threaded, so elements/s is per core.
//!
//! The `operator_f32` group measures each operator alone (`op(x)`, `a op x`), value and dy/dx
//! on 64 Ki inputs spread over [−6, 6]: the cost of an expression is roughly the sum of its
//! operators', so this shows which ones make an activation expensive to train.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pangaea_expr::{Binary, Expr, Float, Outputs, Program, Scratch, Unary};

const N: usize = 1 << 20;
const EXPR: &str = "alpha * x * sigmoid(beta * abs(x))";

fn bench_precision<F: Float>(c: &mut Criterion, label: &str) {
    let expr: Expr = EXPR.parse().unwrap();
    assert_eq!(expr.size(), 5);
    let program = Program::new(&expr);
    let x: Vec<F> = (0..N)
        .map(|i| F::from_f64((i as f64 / N as f64) * 20.0 - 10.0))
        .collect();
    let params = [F::from_f64(1.1), F::from_f64(0.9), F::ONE];
    let mut y = vec![F::ZERO; N];
    let mut dx = vec![F::ZERO; N];
    let mut da = vec![F::ZERO; N];
    let mut db = vec![F::ZERO; N];
    let mut scratch = Scratch::default();
    let mut group = c.benchmark_group(format!("eval_{label}"));
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("value+all_derivatives", |b| {
        b.iter(|| {
            program.eval_into(
                &x,
                params,
                Outputs {
                    y: &mut y,
                    dy_dx: Some(&mut dx),
                    dy_dparams: [Some(&mut da), Some(&mut db), None],
                },
                &mut scratch,
            )
        })
    });
    let grad: Vec<F> = (0..N)
        .map(|i| F::from_f64(((i * 37 % 17) as f64 - 8.0) / 5.0))
        .collect();
    group.bench_function("backprop (reverse mode: dL/dx and dL/dθ sums)", |b| {
        b.iter(|| {
            let mut sums = [0.0; 3];
            program.backprop_into(
                &x,
                params,
                &grad,
                Some(&mut dx),
                Some(&mut sums),
                &mut scratch,
            );
            sums
        })
    });
    group.bench_function("value_only", |b| {
        b.iter(|| {
            program.eval_into(
                &x,
                params,
                Outputs {
                    y: &mut y,
                    dy_dx: None,
                    dy_dparams: [None, None, None],
                },
                &mut scratch,
            )
        })
    });
    group.finish();
}

fn bench_operators(c: &mut Criterion) {
    const M: usize = 1 << 16;
    let x: Vec<f32> = (0..M).map(|i| (i as f32 / M as f32) * 12.0 - 6.0).collect();
    let mut y = vec![0.0f32; M];
    let mut dx = vec![0.0f32; M];
    let mut scratch = Scratch::default();
    let mut group = c.benchmark_group("operator_f32");
    group.throughput(Throughput::Elements(M as u64));
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));
    let texts = Unary::ALL
        .iter()
        .filter(|u| !u.is_constant() && **u != Unary::X)
        .map(|u| format!("{}(x)", u.name()))
        .chain(Binary::ALL.iter().map(|b| match b.symbol() {
            Some(symbol) => format!("(alpha * x) {symbol} x"),
            None => format!("{}(alpha * x, x)", b.name()),
        }));
    for text in texts {
        let program = Program::new(&text.parse::<Expr>().unwrap());
        group.bench_function(text.as_str(), |b| {
            b.iter(|| {
                program.eval_into(
                    &x,
                    [1.1, 1.0, 1.0],
                    Outputs {
                        y: &mut y,
                        dy_dx: Some(&mut dx),
                        dy_dparams: [None, None, None],
                    },
                    &mut scratch,
                )
            })
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_precision::<f32>(c, "f32");
    bench_precision::<f64>(c, "f64");
    bench_operators(c);
}

criterion_group!(eval, benches);
criterion_main!(eval);
