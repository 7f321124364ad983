//! The fused expression activation: one autodiff node per site instead of one per expression
//! node (ARCHITECTURE.md, convention 5).
//!
//! The forward pass evaluates the whole expression in one sweep over the input with
//! `pangaea_expr::Program`'s kernels (values only); the backward pass sweeps once more
//! (`Program::backprop_into`: the values and local derivatives up the expression, the adjoints
//! back down, chunk by chunk in cache) and returns dL/dx and the per-unit sums dL/dθ. The work
//! is split over threads by channel (each channel's planes gathered into one run) or, for one
//! parameter set, by contiguous runs; the per-task sums are added in task order, so the numbers
//! do not depend on the number of threads. Nothing but x and θ is kept between the passes (no
//! per-node intermediate tensors).
//!
//! The kernels exist where the data is in host memory as contiguous f32: burn's `flex` backend
//! and LibTorch on the CPU, where [`super::apply`] takes them by default ([`FusedMode`]);
//! everything else (GPU backends, other dtypes) takes the composed path of
//! [`super::apply_composed`], which those backends' own fusion already fuses. The composed path
//! is the reference: `tests/fused_vs_composed.rs` holds this one to it on every CPU backend of
//! the build.
//!
//! It is a burn backend extension (`#[backend_extension]`): the kernels are implemented for
//! `Flex` and `LibTorch`, and a generic `Autodiff<B, C>` implementation records one backward
//! step with the site's input and its parameter tensor as parents.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, DispatchDevice, Flex};
use burn::tensor::{DType, Device, Shape, Tensor};
use pangaea_expr::{Expr, Outputs, Program, Scratch, MAX_PARAMS};

/// An expression compiled for the fused kernels: the program and, for each column of the
/// parameter tensor, the parameter slot it feeds.
#[derive(Debug)]
pub struct FusedExpr {
    program: Program,
    /// `slots[j]` = the `Param::index` of column j (columns in `Expr::params` order).
    slots: Vec<usize>,
}

impl FusedExpr {
    /// Compiles `expr`.
    pub fn new(expr: &Expr) -> FusedExpr {
        FusedExpr {
            program: Program::new(expr),
            slots: expr.params().iter().map(|p| p.index()).collect(),
        }
    }

    /// The parameter values of unit `u` by slot, from the `[units, columns]` buffer `theta`.
    fn unit_params(&self, theta: &[f32], u: usize) -> [f32; MAX_PARAMS] {
        let mut p = [pangaea_expr::PARAM_INIT as f32; MAX_PARAMS];
        let n = self.slots.len();
        for (j, &slot) in self.slots.iter().enumerate() {
            p[slot] = theta[u * n + j];
        }
        p
    }
}

/// What travels through burn's dispatch into the kernels (and is kept for the backward pass).
pub type FusedExprRef = Arc<FusedExpr>;

/// Whether [`super::apply`] takes the fused path where the kernels exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FusedMode {
    /// On every backend that has the kernels (flex, LibTorch CPU): the default. Measured faster
    /// than the composed operations on flex, and on LibTorch level with them for a 4-node
    /// expression and faster for larger ones (BENCHMARKS.md, "The fused activation").
    On,
    /// Never: every expression runs as composed tensor operations, the reference.
    Off,
}

/// 0: not decided yet (read `PANGAEA_FUSED`), 1: on, 2: off.
static FUSED: AtomicU8 = AtomicU8::new(0);

/// Sets when the fused kernels run, for the whole process. The default is [`FusedMode::On`];
/// the environment variable `PANGAEA_FUSED=0` starts the process with [`FusedMode::Off`].
pub fn set_fused(mode: FusedMode) {
    let code = match mode {
        FusedMode::On => 1,
        FusedMode::Off => 2,
    };
    FUSED.store(code, Ordering::SeqCst);
}

/// The current mode (see [`set_fused`]).
pub fn fused_mode() -> FusedMode {
    match FUSED.load(Ordering::SeqCst) {
        1 => FusedMode::On,
        2 => FusedMode::Off,
        _ => {
            let mode = match std::env::var("PANGAEA_FUSED").as_deref() {
                Ok("0") => FusedMode::Off,
                _ => FusedMode::On,
            };
            set_fused(mode);
            mode
        }
    }
}

/// Whether [`super::apply`] takes the fused path for a tensor on this device, of this dtype:
/// the kernels exist there (host memory, f32) and the mode asks for them.
pub fn use_fused(device: &Device, dtype: DType) -> bool {
    has_fused_kernels(device, dtype) && fused_mode() == FusedMode::On
}

/// The device under the autodiff wrapper.
fn inner(device: &Device) -> &DispatchDevice {
    match device.as_dispatch() {
        DispatchDevice::Autodiff(ad) => ad,
        d => d,
    }
}

/// Whether a tensor on this device, of this dtype, can take the fused path: host memory (flex,
/// LibTorch CPU) and f32.
pub fn has_fused_kernels(device: &Device, dtype: DType) -> bool {
    if dtype != DType::F32 {
        return false;
    }
    match inner(device) {
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "tch")]
        DispatchDevice::LibTorch(burn::backend::LibTorchDevice::Cpu) => true,
        #[allow(
            unreachable_patterns,
            reason = "other backends exist with other features"
        )]
        _ => false,
    }
}

/// Evaluates `expr` with the fused kernels. `params` is `[units, columns]` with units 1 or
/// `channels`; `None` for an expression without parameters. The caller has checked the shapes
/// and [`has_fused_kernels`].
///
/// # Shapes
///
/// - `input`: `[batch, channels, height, width]`, output the same.
pub fn apply_fused(expr: &Expr, input: Tensor<4>, params: Option<Tensor<2>>) -> Tensor<4> {
    let compiled = Arc::new(FusedExpr::new(expr));
    // An expression without parameters still passes a (never differentiated) parameter tensor:
    // the extension's signature has one; its values are never read.
    let params = params.unwrap_or_else(|| Tensor::zeros([1, 1], &input.device()));
    let out = <Dispatch as FusedActivationOps>::fused_activation(
        input.into_dispatch(),
        params.into_dispatch(),
        compiled,
    );
    Tensor::from_dispatch(out)
}

// ---------------------------------------------------------------------------------------------
// The kernels, over contiguous f32 buffers.
// ---------------------------------------------------------------------------------------------

/// The geometry of one call: x is `[batch, channels, h, w]`, θ is `[units, columns]`.
#[derive(Debug, Clone, Copy)]
struct Dims {
    channels: usize,
    plane: usize,
    units: usize,
}

impl Dims {
    fn new(x: &Shape, theta: &Shape) -> Dims {
        let (channels, plane) = (x[1], x[2] * x[3]);
        Dims {
            channels,
            plane,
            units: theta[0],
        }
    }
}

/// Elements per task when one parameter set covers the whole tensor (per-layer and shared
/// parameters): large enough for the kernels' chunks, small enough to balance threads.
const LAYER_TASK: usize = 1 << 14;

/// A thread's buffers: the program's scratch, and a channel's planes gathered into one run.
#[derive(Default)]
struct Buffers {
    work: Scratch<f32>,
    x: Vec<f32>,
    grad: Vec<f32>,
    out: Vec<f32>,
}

/// One pass of the program over a contiguous run `x` with one parameter set: y into `y` (the
/// forward pass, `grad` absent: values only), or dL/dx into `dx` and Σ g·dy/dθ per column
/// added to `sums` (the backward pass: [`Program::backprop_into`], reverse mode).
#[expect(clippy::too_many_arguments, reason = "the kernel's inputs and outputs")]
fn run(
    e: &FusedExpr,
    params: [f32; MAX_PARAMS],
    x: &[f32],
    grad: Option<&[f32]>,
    y: Option<&mut [f32]>,
    dx: Option<&mut [f32]>,
    sums: Option<&mut [f64; MAX_PARAMS]>,
    scratch: &mut Scratch<f32>,
) {
    let Some(grad) = grad else {
        let outputs = Outputs {
            y: y.expect("the forward pass writes y"),
            dy_dx: None,
            dy_dparams: [None, None, None],
        };
        e.program.eval_into(x, params, outputs, scratch);
        return;
    };
    let mut by_slot = [0f64; MAX_PARAMS];
    let want_dtheta = sums.is_some();
    e.program.backprop_into(
        x,
        params,
        grad,
        dx,
        want_dtheta.then_some(&mut by_slot),
        scratch,
    );
    if let Some(sums) = sums {
        for (j, &slot) in e.slots.iter().enumerate() {
            sums[j] += by_slot[slot];
        }
    }
}

/// Planes at least this long are evaluated where they lie; shorter ones are gathered per
/// channel into one run first (the program works in chunks of `pangaea_expr::CHUNK`).
const GATHER_BELOW: usize = 256;

/// The kernel of both passes. `grad` given: the backward pass, dL/dx into `out`, the per-task
/// sums of dL/dθ returned; else the forward pass, y into `out`.
///
/// Per-channel parameters: one task per channel, which gathers the channel's planes (one per
/// image of the batch) into one contiguous run, so the program runs over long runs even where a
/// plane is 4×4. Per-layer and shared parameters: one task per [`LAYER_TASK`] elements. The
/// sums come back per task and are added in task order, so the result does not depend on the
/// number of threads.
#[expect(clippy::too_many_arguments, reason = "the kernel's inputs and outputs")]
fn kernel(
    e: &FusedExpr,
    d: Dims,
    x: &[f32],
    theta: &[f32],
    grad: Option<&[f32]>,
    want_dtheta: bool,
    out: &mut [f32],
    pool: Pool,
) -> Vec<[f64; MAX_PARAMS]> {
    if x.is_empty() {
        return Vec::new();
    }
    let backward = grad.is_some();
    if d.units == 1 {
        let params = e.unit_params(theta, 0);
        let mut sums = vec![[0f64; MAX_PARAMS]; x.len().div_ceil(LAYER_TASK)];
        let mut items: Vec<_> = out.chunks_mut(LAYER_TASK).zip(sums.iter_mut()).collect();
        for_each_task(&mut items, pool, |t, (o, s), b| {
            let range = t * LAYER_TASK..t * LAYER_TASK + o.len();
            let g = grad.map(|g| &g[range.clone()]);
            let (y, dx) = if backward {
                (None, Some(&mut **o))
            } else {
                (Some(&mut **o), None)
            };
            let s = (backward && want_dtheta).then_some(&mut **s);
            run(e, params, &x[range], g, y, dx, s, &mut b.work);
        });
        return sums;
    }
    let (channels, plane) = (d.channels, d.plane);
    let batch = x.len() / (channels * plane);
    let len = batch * plane;
    let out_ptr = SendPtr(out.as_mut_ptr());
    let mut sums = vec![[0f64; MAX_PARAMS]; channels];
    for_each_task(&mut sums, pool, |c, s, b| {
        let Buffers {
            work,
            x: xs,
            grad: gs,
            out: os,
        } = b;
        let plane_at = |i: usize| (i * channels + c) * plane;
        let params = e.unit_params(theta, c);
        if plane >= GATHER_BELOW {
            for i in 0..batch {
                let at = plane_at(i);
                // SAFETY: the planes of channel c are written by this task alone (see below).
                let o = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(at), plane) };
                let xs = &x[at..][..plane];
                match grad {
                    Some(g) => {
                        let s = want_dtheta.then_some(&mut *s);
                        run(
                            e,
                            params,
                            xs,
                            Some(&g[at..][..plane]),
                            None,
                            Some(o),
                            s,
                            work,
                        );
                    }
                    None => run(e, params, xs, None, Some(o), None, None, work),
                }
            }
            return;
        }
        let gather = |into: &mut Vec<f32>, from: &[f32]| {
            into.resize(len, 0.0);
            for i in 0..batch {
                into[i * plane..][..plane].copy_from_slice(&from[plane_at(i)..][..plane]);
            }
        };
        gather(xs, x);
        os.resize(len, 0.0);
        match grad {
            Some(g) => {
                gather(gs, g);
                let s = want_dtheta.then_some(s);
                run(e, params, xs, Some(gs), None, Some(os), s, work);
            }
            None => run(e, params, xs, None, Some(os), None, None, work),
        }
        for i in 0..batch {
            // SAFETY: the planes of channel c (at plane_at(i), `plane` long, i < batch) are
            // written by this task alone, every task writing only its own channel, and `out`
            // outlives the tasks.
            let dst =
                unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(plane_at(i)), plane) };
            dst.copy_from_slice(&os[i * plane..][..plane]);
        }
    });
    sums
}

/// Threads the kernels use: set with [`set_kernel_threads`]; 0 = all cores.
static THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many threads the fused kernels split their work over (default: all cores; a local
/// worker gets its share, `PANGAEA_THREADS`).
pub fn set_kernel_threads(threads: usize) {
    THREADS.store(threads, Ordering::SeqCst);
}

fn kernel_threads() -> usize {
    if let Some(n) = std::env::var("PANGAEA_KERNEL_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        return n.max(1);
    }
    match THREADS.load(Ordering::SeqCst) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Which threads run a kernel's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pool {
    /// Scoped threads of our own that end with the call (flex, whose own work runs on rayon).
    Scoped,
    /// OpenMP's pool (LibTorch on the CPU: libtorch's intra-op threads, `csrc/omp_parallel.c`).
    #[cfg_attr(
        not(feature = "tch"),
        allow(dead_code, reason = "used by the LibTorch kernels")
    )]
    OpenMp,
}

/// Runs `task(index, item, buffers)` for every item, the items split into one contiguous
/// range per thread.
///
/// On flex, scoped threads that end with the call, not a pool: pool threads that spin waiting
/// for work (rayon's do) would take the cores from the convolutions in between. On LibTorch,
/// libtorch's own OpenMP threads: between two kernels they run the convolutions and spin for
/// the next parallel region, so threads of our own had to wait for them to yield the cores
/// (measured: two scoped threads were slower there than one; see BENCHMARKS.md).
fn for_each_task<T: Send>(
    items: &mut [T],
    pool: Pool,
    task: impl Fn(usize, &mut T, &mut Buffers) + Sync,
) {
    let threads = kernel_threads().min(items.len()).max(1);
    let per = items.len().div_ceil(threads);
    let task = &task;
    let range = |k: usize, chunk: &mut [T]| {
        let mut b = take_buffers();
        for (i, item) in chunk.iter_mut().enumerate() {
            task(k * per + i, item, &mut b);
        }
        give_back(b);
    };
    let range = &range;
    match pool {
        Pool::Scoped => std::thread::scope(|scope| {
            let mut chunks = items.chunks_mut(per).enumerate();
            let first = chunks.next();
            for (k, chunk) in chunks {
                scope.spawn(move || range(k, chunk));
            }
            if let Some((k, chunk)) = first {
                range(k, chunk);
            }
        }),
        Pool::OpenMp => {
            // Each range is taken by exactly one thread; the lock is never contended.
            let chunks: Vec<std::sync::Mutex<&mut [T]>> =
                items.chunks_mut(per).map(std::sync::Mutex::new).collect();
            omp::parallel_for(chunks.len(), threads, &|begin, end| {
                for (k, chunk) in chunks.iter().enumerate().take(end).skip(begin) {
                    let mut chunk = chunk.lock().unwrap_or_else(|e| e.into_inner());
                    range(k, &mut chunk);
                }
            });
        }
    }
}

/// OpenMP's thread pool, through `csrc/omp_parallel.c` (built with the `tch` feature).
mod omp {
    /// Calls `f(begin, end)` over contiguous ranges of `0..n`, one per OpenMP thread (at most
    /// `limit` threads), and returns when all are done. A panic in `f` is caught on its thread
    /// (it must not unwind through C) and resumed here.
    #[cfg(feature = "tch")]
    pub(super) fn parallel_for(n: usize, limit: usize, f: &(dyn Fn(usize, usize) + Sync)) {
        use std::ffi::c_void;
        use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
        use std::sync::Mutex;

        struct Context<'a> {
            f: &'a (dyn Fn(usize, usize) + Sync),
            panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
        }

        extern "C" {
            fn pangaea_omp_parallel_for(
                n: i64,
                limit: i64,
                ctx: *mut c_void,
                f: extern "C" fn(*mut c_void, i64, i64),
            );
        }

        extern "C" fn trampoline(ctx: *mut c_void, begin: i64, end: i64) {
            // SAFETY: `ctx` is the `Context` below, alive until pangaea_omp_parallel_for
            // returns, and only read (shared) by the threads.
            let ctx = unsafe { &*(ctx as *const Context<'_>) };
            let (begin, end) = (begin as usize, end as usize);
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| (ctx.f)(begin, end))) {
                if let Ok(mut slot) = ctx.panic.lock() {
                    slot.get_or_insert(payload);
                }
            }
        }

        let ctx = Context {
            f,
            panic: Mutex::new(None),
        };
        // SAFETY: the C function calls `trampoline` with `ctx` on OpenMP's threads and returns
        // after all calls have returned; `ctx` outlives the call.
        unsafe {
            pangaea_omp_parallel_for(
                n as i64,
                limit as i64,
                &ctx as *const Context<'_> as *mut c_void,
                trampoline,
            );
        }
        if let Some(payload) = ctx.panic.into_inner().ok().flatten() {
            resume_unwind(payload);
        }
    }

    /// Without libtorch there is no OpenMP pool: the ranges run on the calling thread.
    #[cfg(not(feature = "tch"))]
    pub(super) fn parallel_for(n: usize, _limit: usize, f: &(dyn Fn(usize, usize) + Sync)) {
        f(0, n);
    }
}

/// Buffers kept between calls: a kernel's buffers are megabytes, and fresh ones would be
/// fresh pages for the kernel to fault in and clear at every call.
static POOL: std::sync::Mutex<Vec<Buffers>> = std::sync::Mutex::new(Vec::new());

fn take_buffers() -> Buffers {
    POOL.lock()
        .map(|mut pool| pool.pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn give_back(b: Buffers) {
    if let Ok(mut pool) = POOL.lock() {
        pool.push(b);
    }
}

/// A pointer to the output that the per-channel tasks share (each writes disjoint planes).
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);

// SAFETY: the tasks write disjoint elements through it (see `kernel`).
unsafe impl Send for SendPtr {}
// SAFETY: as above.
unsafe impl Sync for SendPtr {}

impl SendPtr {
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// y = f(x; θ of each element's unit).
fn forward_kernel(e: &FusedExpr, d: Dims, x: &[f32], theta: &[f32], y: &mut [f32], pool: Pool) {
    kernel(e, d, x, theta, None, false, y, pool);
}

/// dL/dx (into `dx`, or a scratch buffer when not wanted) and the per-task sums of dL/dθ
/// (zeros when not wanted).
#[expect(clippy::too_many_arguments, reason = "the kernel's inputs and outputs")]
fn backward_kernel(
    e: &FusedExpr,
    d: Dims,
    x: &[f32],
    theta: &[f32],
    grad: &[f32],
    dx: Option<&mut [f32]>,
    want_dtheta: bool,
    pool: Pool,
) -> Vec<[f64; MAX_PARAMS]> {
    match dx {
        Some(dx) => kernel(e, d, x, theta, Some(grad), want_dtheta, dx, pool),
        None => kernel(
            e,
            d,
            x,
            theta,
            Some(grad),
            want_dtheta,
            &mut vec![0f32; x.len()],
            pool,
        ),
    }
}

/// dL/dθ as a `[units, columns]` buffer: the per-task sums added in task order (a task is a
/// channel under per-channel parameters; under one parameter set, every task adds to it).
fn reduce_dtheta(e: &FusedExpr, d: Dims, sums: &[[f64; MAX_PARAMS]]) -> Vec<f32> {
    let columns = e.slots.len();
    // An expression without parameters has the placeholder [1, 1] tensor: one zero.
    let mut acc = vec![0f64; d.units * columns.max(1)];
    for (t, s) in sums.iter().enumerate() {
        let u = if d.units == 1 { 0 } else { t };
        for (j, v) in s.iter().take(columns).enumerate() {
            acc[u * columns + j] += v;
        }
    }
    acc.into_iter().map(|v| v as f32).collect()
}

// ---------------------------------------------------------------------------------------------
// Per-backend access to the buffers.
// ---------------------------------------------------------------------------------------------

/// The fused kernels on one backend's primitives (host-memory f32 only).
pub trait FusedKernels: Backend {
    /// y.
    fn fused_forward(
        x: FloatTensor<Self>,
        theta: FloatTensor<Self>,
        expr: &FusedExpr,
    ) -> FloatTensor<Self>;

    /// (dL/dx, dL/dθ), each only when asked for.
    fn fused_backward(
        x: FloatTensor<Self>,
        theta: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        expr: &FusedExpr,
        want_dx: bool,
        want_dtheta: bool,
    ) -> (Option<FloatTensor<Self>>, Option<FloatTensor<Self>>);
}

mod flex_kernels {
    use burn::backend::flex::FlexTensor;
    use burn::backend::TensorMetadata;
    use burn::tensor::TensorData;

    use super::*;

    /// The tensor as a contiguous f32 buffer: no copy when it already is one.
    fn contiguous(t: FlexTensor) -> FlexTensor {
        assert_eq!(t.dtype(), DType::F32, "the fused kernels take f32 tensors");
        if t.as_slice::<f32>().is_some() {
            t
        } else {
            t.to_contiguous()
        }
    }

    fn slice(t: &FlexTensor) -> &[f32] {
        t.as_slice::<f32>().expect("made contiguous")
    }

    fn tensor(values: Vec<f32>, shape: Shape) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values, shape))
    }

    impl FusedKernels for Flex {
        fn fused_forward(x: FlexTensor, theta: FlexTensor, expr: &FusedExpr) -> FlexTensor {
            let (x, theta) = (contiguous(x), contiguous(theta));
            let shape = x.shape();
            let d = Dims::new(&shape, &theta.shape());
            let mut y = vec![0f32; shape.num_elements()];
            forward_kernel(expr, d, slice(&x), slice(&theta), &mut y, Pool::Scoped);
            tensor(y, shape)
        }

        fn fused_backward(
            x: FlexTensor,
            theta: FlexTensor,
            grad: FlexTensor,
            expr: &FusedExpr,
            want_dx: bool,
            want_dtheta: bool,
        ) -> (Option<FlexTensor>, Option<FlexTensor>) {
            let (x, theta, grad) = (contiguous(x), contiguous(theta), contiguous(grad));
            let (xs, ts) = (x.shape(), theta.shape());
            let d = Dims::new(&xs, &ts);
            let mut dx = want_dx.then(|| vec![0f32; xs.num_elements()]);
            let sums = backward_kernel(
                expr,
                d,
                slice(&x),
                slice(&theta),
                slice(&grad),
                dx.as_deref_mut(),
                want_dtheta,
                Pool::Scoped,
            );
            let dtheta = want_dtheta.then(|| tensor(reduce_dtheta(expr, d, &sums), ts));
            (dx.map(|v| tensor(v, xs)), dtheta)
        }
    }
}

#[cfg(feature = "tch")]
mod tch_kernels {
    use burn::backend::libtorch::TchTensor;
    use burn::backend::{LibTorch, TensorMetadata};

    use super::*;

    /// A contiguous CPU f32 view (no copy when it already is one).
    fn contiguous(t: &TchTensor) -> tch::Tensor {
        assert_eq!(
            t.tensor.device(),
            tch::Device::Cpu,
            "the fused kernels run on the CPU"
        );
        assert_eq!(
            t.tensor.kind(),
            tch::Kind::Float,
            "the fused kernels take f32 tensors"
        );
        t.tensor.contiguous()
    }

    fn slice(t: &tch::Tensor) -> &[f32] {
        let n = t.numel();
        if n == 0 {
            return &[];
        }
        // SAFETY: a contiguous CPU f32 tensor of `n` elements starting at `data_ptr` (which
        // includes the storage offset); it outlives the borrow.
        unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, n) }
    }

    fn slice_mut(t: &mut tch::Tensor) -> &mut [f32] {
        let n = t.numel();
        if n == 0 {
            return &mut [];
        }
        // SAFETY: a freshly allocated contiguous CPU f32 tensor that nothing else references.
        unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, n) }
    }

    fn empty(size: &[i64]) -> tch::Tensor {
        tch::Tensor::empty(size, (tch::Kind::Float, tch::Device::Cpu))
    }

    impl FusedKernels for LibTorch {
        fn fused_forward(x: TchTensor, theta: TchTensor, expr: &FusedExpr) -> TchTensor {
            let d = Dims::new(&x.shape(), &theta.shape());
            let (xt, tt) = (contiguous(&x), contiguous(&theta));
            let mut y = empty(&xt.size());
            forward_kernel(
                expr,
                d,
                slice(&xt),
                slice(&tt),
                slice_mut(&mut y),
                Pool::OpenMp,
            );
            TchTensor::new(y)
        }

        fn fused_backward(
            x: TchTensor,
            theta: TchTensor,
            grad: TchTensor,
            expr: &FusedExpr,
            want_dx: bool,
            want_dtheta: bool,
        ) -> (Option<TchTensor>, Option<TchTensor>) {
            let d = Dims::new(&x.shape(), &theta.shape());
            let (xt, tt, gt) = (contiguous(&x), contiguous(&theta), contiguous(&grad));
            let mut dx = want_dx.then(|| empty(&xt.size()));
            let sums = backward_kernel(
                expr,
                d,
                slice(&xt),
                slice(&tt),
                slice(&gt),
                dx.as_mut().map(slice_mut),
                want_dtheta,
                Pool::OpenMp,
            );
            let dtheta = want_dtheta.then(|| {
                let values = reduce_dtheta(expr, d, &sums);
                TchTensor::new(tch::Tensor::from_slice(&values).reshape(tt.size()))
            });
            (dx.map(TchTensor::new), dtheta)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The extension: what burn's dispatch routes, and the autodiff node.
// ---------------------------------------------------------------------------------------------

/// The fused activation as a backend operation.
#[backend_extension(Flex, LibTorch: cfg(feature = "tch"), Autodiff)]
pub trait FusedActivationOps: Backend {
    /// y = f(x; θ) with θ per unit (channel or layer).
    fn fused_activation(
        x: FloatTensor<Self>,
        theta: FloatTensor<Self>,
        expr: FusedExprRef,
    ) -> FloatTensor<Self>;
}

impl FusedActivationOps for Flex {
    fn fused_activation(
        x: FloatTensor<Self>,
        theta: FloatTensor<Self>,
        expr: FusedExprRef,
    ) -> FloatTensor<Self> {
        <Flex as FusedKernels>::fused_forward(x, theta, &expr)
    }
}

#[cfg(feature = "tch")]
impl FusedActivationOps for burn::backend::LibTorch {
    fn fused_activation(
        x: FloatTensor<Self>,
        theta: FloatTensor<Self>,
        expr: FusedExprRef,
    ) -> FloatTensor<Self> {
        <Self as FusedKernels>::fused_forward(x, theta, &expr)
    }
}

/// The backward step: x and θ are its parents; it keeps them (reference-counted, not copied)
/// and the compiled expression.
#[derive(Debug)]
struct FusedActivationBackward;

impl<B: FusedKernels> Backward<B, 2> for FusedActivationBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, FusedExprRef);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_theta] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, theta, expr) = ops.state;
        let (dx, dtheta) = B::fused_backward(
            x,
            theta,
            grad,
            &expr,
            node_x.is_some(),
            node_theta.is_some(),
        );
        if let (Some(node), Some(dx)) = (node_x, dx) {
            grads.register::<B>(node.id, dx);
        }
        if let (Some(node), Some(dtheta)) = (node_theta, dtheta) {
            grads.register::<B>(node.id, dtheta);
        }
    }
}

impl<B: FusedKernels, C: CheckpointStrategy> FusedActivationOps for Autodiff<B, C> {
    fn fused_activation(
        x: FloatTensor<Self>,
        theta: FloatTensor<Self>,
        expr: FusedExprRef,
    ) -> FloatTensor<Self> {
        let (x, x_node) = x.into_parts();
        let (theta, theta_node) = theta.into_parts();
        // Compute-bound: the backward pass recomputes what it needs from x and θ itself, so
        // checkpointing never has to run this forward again.
        match FusedActivationBackward
            .prepare::<C>([x_node, theta_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = B::fused_forward(x.clone(), theta.clone(), &expr);
                prep.finish((x, theta, expr), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_forward(x, theta, &expr)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_read_the_shapes() {
        let d = Dims::new(&Shape::new([2, 3, 4, 5]), &Shape::new([3, 2]));
        assert_eq!((d.channels, d.plane, d.units), (3, 20, 3));
        let d = Dims::new(&Shape::new([2, 3, 4, 5]), &Shape::new([1, 2]));
        assert_eq!(d.units, 1);
    }

    #[test]
    fn openmp_ranges_cover_every_index_once_and_a_panic_comes_back() {
        use std::sync::atomic::AtomicUsize;
        for (n, limit) in [(37, 2), (1, 2), (5, 1), (3, 8)] {
            let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            omp::parallel_for(n, limit, &|begin, end| {
                for h in &hits[begin..end] {
                    h.fetch_add(1, Ordering::SeqCst);
                }
            });
            assert!(
                hits.iter().all(|h| h.load(Ordering::SeqCst) == 1),
                "n {n}, limit {limit}"
            );
        }
        let caught = std::panic::catch_unwind(|| {
            omp::parallel_for(4, 2, &|begin, _| assert_ne!(begin, 0, "boom"));
        });
        let payload = caught.expect_err("the panic came back");
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(text.contains("boom"), "{text}");
    }

    #[test]
    fn unit_params_follow_the_column_order() {
        let e = FusedExpr::new(&"gamma * x + alpha * tanh(x)".parse().unwrap());
        // Columns in Expr::params order: alpha (slot 0), gamma (slot 2).
        let p = e.unit_params(&[1.0, 2.0, 3.0, 4.0], 1);
        assert_eq!(p, [3.0, 1.0, 4.0]);
    }
}
