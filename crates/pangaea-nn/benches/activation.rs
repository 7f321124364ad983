//! One activation site's forward + backward on a WRN-10-4-sized feature map ([128, 64, 32, 32],
//! 8.4 M elements): ReLU, the 5-node parametric expression `alpha * x * sigmoid(beta * abs(x))`
//! through the fused kernels, and the same through composed burn operations, on every CPU
//! backend of the build (flex; LibTorch with `--features tch`).
//!
//! `cargo bench -p pangaea-nn --bench activation` (add `--features tch` for LibTorch).

use burn::tensor::{Device, Distribution, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use pangaea_expr::Expr;
use pangaea_nn::activation::apply_composed;
use pangaea_nn::activation::fused::apply_fused;
use pangaea_nn::device::{resolve, Backend};
use pangaea_wire::DeviceSpec;

const SHAPE: [usize; 4] = [128, 64, 32, 32];

fn devices() -> Vec<(String, Device)> {
    let mut out = vec![("flex".to_owned(), Device::flex())];
    let cpu = resolve(DeviceSpec::Cpu).unwrap();
    if cpu.backend == Backend::LibTorchCpu {
        out.push(("libtorch".to_owned(), cpu.device));
    }
    out
}

fn bench(c: &mut Criterion) {
    let expr: Expr = "alpha * x * sigmoid(beta * abs(x))".parse().unwrap();
    let mut group = c.benchmark_group("activation forward+backward [128,64,32,32]");
    group.sample_size(10);
    for (name, device) in devices() {
        let device = device.autodiff();
        let x = Tensor::<4>::random(SHAPE, Distribution::Normal(0.0, 1.0), &device);
        let p = Tensor::<2>::ones([SHAPE[1], 2], &device);
        let step = |f: &dyn Fn(Tensor<4>, Tensor<2>) -> Tensor<4>| {
            let xt = x.clone().require_grad();
            let pt = p.clone().require_grad();
            let y = f(xt.clone(), pt.clone());
            let grads = y.sum().backward();
            let g: f32 = xt
                .grad(&grads)
                .unwrap()
                .slice([0..1, 0..1, 0..1, 0..1])
                .into_scalar();
            g
        };
        group.bench_function(format!("{name}: relu"), |b| {
            b.iter(|| step(&|x, _| burn::tensor::activation::relu(x)))
        });
        group.bench_function(format!("{name}: 5-node expression, fused"), |b| {
            b.iter(|| step(&|x, p| apply_fused(&expr, x, Some(p))))
        });
        group.bench_function(format!("{name}: 5-node expression, composed"), |b| {
            b.iter(|| step(&|x, p| apply_composed(&expr, x, Some(p))))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
