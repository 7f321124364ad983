//! Evaluation with exact derivatives: value, dy/dx and dy/dθ for every parameter, in one pass.
//!
//! A [`Program`] is an expression compiled for evaluation over slices. It runs forward-mode
//! differentiation over the postfix node list, a chunk of [`CHUNK`] inputs at a time: for each
//! node, one tight loop computes the operator's value and derivative over the whole chunk
//! (DynamicExpressions.jl's array-at-a-time evaluation), then the tangents (one per direction:
//! x and each parameter) are propagated with multiply-adds. Which tangents are structurally zero
//! is known at compile time — a subtree without β has dβ = 0 — so they are never computed.
//! Nothing is allocated per element; the buffers live in a [`Scratch`] that callers can reuse.
//!
//! Non-finite values are results, not errors: `1/0` gives `inf` and the caller (the validity
//! probes, the trainer's divergence check) decides what that means.

use crate::binary::Binary;
use crate::expr::{Expr, Node, Op};
use crate::float::Float;
use crate::param::{Param, MAX_PARAMS};
use crate::unary::Unary;

/// How many inputs are evaluated together; sized so a chunk's buffers stay in L1/L2 cache.
pub const CHUNK: usize = 256;

/// The most derivative directions: x plus three parameters.
const MAX_DIRS: usize = 1 + MAX_PARAMS;

/// An expression compiled for fast evaluation of values and derivatives over slices.
#[derive(Debug, Clone)]
pub struct Program {
    nodes: Vec<Node>,
    /// Which tangent directions are non-zero at each node: bit 0 = x, bit 1 + slot = parameter.
    masks: Vec<u8>,
}

/// Values and derivatives of an expression at a list of inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated<F> {
    /// y = f(x).
    pub y: Vec<F>,
    /// dy/dx.
    pub dy_dx: Vec<F>,
    /// dy/dθ, indexed by [`Param::index`]; zeros for parameters the expression does not use.
    pub dy_dparams: [Vec<F>; MAX_PARAMS],
}

/// Reusable buffers for [`Program::eval_into`]; grows to fit the largest program it has run.
#[derive(Debug, Clone, Default)]
pub struct Scratch<F> {
    vals: Vec<F>,
    tans: Vec<F>,
    da: Vec<F>,
    db: Vec<F>,
    /// Reverse mode: each node's partial derivatives with respect to its first and second
    /// argument, its value before its parameter scales it, and its adjoint.
    partial_a: Vec<F>,
    partial_b: Vec<F>,
    raw: Vec<F>,
    adj: Vec<F>,
    /// Reverse mode: the nodes the adjoint reaches, and those whose adjoint is written.
    live: Vec<bool>,
    written: Vec<bool>,
}

/// Elements summed in the working precision before a parameter's gradient sum goes on in f64.
const SUM_BLOCK: usize = 64;

/// Where [`Program::eval_into`] writes: each output is optional, and all given slices must be
/// as long as the input.
pub struct Outputs<'a, F> {
    /// y = f(x).
    pub y: &'a mut [F],
    /// dy/dx, if wanted.
    pub dy_dx: Option<&'a mut [F]>,
    /// dy/dθ per parameter slot, if wanted.
    pub dy_dparams: [Option<&'a mut [F]>; MAX_PARAMS],
}

impl Program {
    /// Compiles an expression.
    pub fn new(expr: &Expr) -> Program {
        let nodes = expr.nodes().to_vec();
        let mut masks = vec![0u8; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            let mut m = match n.op {
                Op::X => 1,
                Op::Unary(u, _) if u.is_constant() => 0,
                Op::Unary(_, c) => masks[c],
                Op::Binary(_, l, r) => masks[l] | masks[r],
            };
            if let Some(p) = n.param {
                m |= 1 << (1 + p.index());
            }
            masks[i] = m;
        }
        Program { nodes, masks }
    }

    /// The parameters the expression uses, in slot order.
    pub fn params(&self) -> Vec<Param> {
        let mut all = [false; MAX_PARAMS];
        for n in &self.nodes {
            if let Some(p) = n.param {
                all[p.index()] = true;
            }
        }
        Param::ALL.into_iter().filter(|p| all[p.index()]).collect()
    }

    /// Values and all derivatives in f32. `params` is indexed by [`Param::index`].
    pub fn eval_f32(&self, x: &[f32], params: [f32; MAX_PARAMS]) -> Evaluated<f32> {
        self.eval(x, params)
    }

    /// Values and all derivatives in f64. `params` is indexed by [`Param::index`].
    pub fn eval_f64(&self, x: &[f64], params: [f64; MAX_PARAMS]) -> Evaluated<f64> {
        self.eval(x, params)
    }

    /// Values and all derivatives, allocating the outputs.
    pub fn eval<F: Float>(&self, x: &[F], params: [F; MAX_PARAMS]) -> Evaluated<F> {
        let n = x.len();
        let mut y = vec![F::ZERO; n];
        let mut dy_dx = vec![F::ZERO; n];
        let mut dp: [Vec<F>; MAX_PARAMS] = std::array::from_fn(|_| vec![F::ZERO; n]);
        {
            let [d0, d1, d2] = &mut dp;
            let outputs = Outputs {
                y: &mut y,
                dy_dx: Some(&mut dy_dx),
                dy_dparams: [Some(d0), Some(d1), Some(d2)],
            };
            self.eval_into(x, params, outputs, &mut Scratch::default());
        }
        Evaluated {
            y,
            dy_dx,
            dy_dparams: dp,
        }
    }

    /// Values only (no derivatives are computed).
    pub fn values<F: Float>(&self, x: &[F], params: [F; MAX_PARAMS]) -> Vec<F> {
        let mut y = vec![F::ZERO; x.len()];
        self.eval_into(
            x,
            params,
            Outputs {
                y: &mut y,
                dy_dx: None,
                dy_dparams: [None, None, None],
            },
            &mut Scratch::default(),
        );
        y
    }

    /// The allocation-free entry point: evaluates `x` into `out`, reusing `scratch`.
    ///
    /// Only the derivatives asked for are computed.
    ///
    /// # Panics
    /// If an output slice is shorter than `x` (a programmer error).
    pub fn eval_into<F: Float>(
        &self,
        x: &[F],
        params: [F; MAX_PARAMS],
        mut out: Outputs<'_, F>,
        scratch: &mut Scratch<F>,
    ) {
        let n = x.len();
        assert!(
            out.y.len() >= n,
            "output y has {} elements, input has {n}",
            out.y.len()
        );
        let mut wanted = 0u8;
        if out.dy_dx.is_some() {
            wanted |= 1;
        }
        for (k, d) in out.dy_dparams.iter().enumerate() {
            if let Some(d) = d {
                assert!(
                    d.len() >= n,
                    "output dy/d{} is shorter than the input",
                    Param::ALL[k]
                );
                wanted |= 1 << (1 + k);
            }
        }
        let nn = self.nodes.len();
        let per_node = MAX_DIRS * CHUNK;
        scratch.vals.resize(nn * CHUNK, F::ZERO);
        scratch.tans.resize(nn * per_node, F::ZERO);
        scratch.da.resize(CHUNK, F::ZERO);
        scratch.db.resize(CHUNK, F::ZERO);
        let root = nn - 1;

        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            run_chunk(self, &x[start..start + len], &params, wanted, scratch);
            let y = self.value_of(root, &x[start..start + len], &scratch.vals);
            out.y[start..start + len].copy_from_slice(y);
            if let Some(d) = out.dy_dx.as_deref_mut() {
                self.tangent_of(root, 0, len, &params, &scratch.tans)
                    .write(&mut d[start..start + len]);
            }
            for k in 0..MAX_PARAMS {
                if let Some(d) = out.dy_dparams[k].as_deref_mut() {
                    self.tangent_of(root, 1 + k, len, &params, &scratch.tans)
                        .write(&mut d[start..start + len]);
                }
            }
            start += len;
        }
    }

    /// The vector–Jacobian product, by reverse-mode differentiation: for an upstream gradient
    /// `grad` (dL/dy per input), writes `dx[i] = grad[i]·dy/dx(x[i])` and adds
    /// `Σᵢ grad[i]·dy/dθ(x[i])` to `dparams[θ.index()]` for every parameter the expression uses.
    ///
    /// This is what a training step's backward pass needs, and it costs one sweep over the nodes
    /// for the values and local derivatives and one back down for the adjoints — against one
    /// tangent sweep per direction (x and each parameter) for [`Program::eval_into`]. Sums run
    /// in the working precision over blocks of 64 elements and in f64 across blocks, in a fixed
    /// order, so the result does not depend on how a caller splits a long input (at chunk
    /// boundaries of [`CHUNK`]).
    ///
    /// # Panics
    /// If `grad` or `dx` is shorter than `x` (a programmer error).
    pub fn backprop_into<F: Float>(
        &self,
        x: &[F],
        params: [F; MAX_PARAMS],
        grad: &[F],
        mut dx: Option<&mut [F]>,
        mut dparams: Option<&mut [f64; MAX_PARAMS]>,
        scratch: &mut Scratch<F>,
    ) {
        let n = x.len();
        assert!(
            grad.len() >= n,
            "grad has {} elements, input has {n}",
            grad.len()
        );
        if let Some(d) = dx.as_deref() {
            assert!(d.len() >= n, "dx has {} elements, input has {n}", d.len());
        }
        let mut wanted = 0u8;
        if dx.is_some() {
            wanted |= 1;
        }
        if dparams.is_some() {
            wanted |= !1;
        }
        let nn = self.nodes.len();
        for buf in [
            &mut scratch.vals,
            &mut scratch.partial_a,
            &mut scratch.partial_b,
            &mut scratch.raw,
            &mut scratch.adj,
        ] {
            buf.resize(nn * CHUNK, F::ZERO);
        }
        self.mark_live(wanted, &mut scratch.live);
        scratch.written.resize(nn, false);
        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            let range = start..start + len;
            let sums = backprop_chunk(
                self,
                &x[range.clone()],
                &params,
                &grad[range.clone()],
                dx.as_deref_mut().map(|d| &mut d[range.clone()]),
                dparams.is_some(),
                scratch,
            );
            if let Some(dp) = dparams.as_deref_mut() {
                for (acc, s) in dp.iter_mut().zip(sums) {
                    *acc += s;
                }
            }
            start += len;
        }
    }

    /// Which nodes the adjoint reaches for the directions `wanted` (bit 0 = x, bit 1 + slot =
    /// parameter): the root if it depends on one of them, and below a reached node each child
    /// that does (nothing below a constant operator).
    fn mark_live(&self, wanted: u8, live: &mut Vec<bool>) {
        let nn = self.nodes.len();
        live.clear();
        live.resize(nn, false);
        live[nn - 1] = self.masks[nn - 1] & wanted != 0;
        for i in (0..nn).rev() {
            if !live[i] {
                continue;
            }
            match self.nodes[i].op {
                Op::X => {}
                Op::Unary(u, _) if u.is_constant() => {}
                Op::Unary(_, c) => live[c] |= self.masks[c] & wanted != 0,
                Op::Binary(_, l, r) => {
                    live[l] |= self.masks[l] & wanted != 0;
                    live[r] |= self.masks[r] & wanted != 0;
                }
            }
        }
    }

    /// Reverse mode over one chunk: values and local partial derivatives going up, adjoints
    /// coming down. Returns the chunk's dL/dθ sums by slot.
    #[inline(always)]
    fn backprop_chunk_generic<F: Float>(
        &self,
        x: &[F],
        params: &[F; MAX_PARAMS],
        grad: &[F],
        mut dx: Option<&mut [F]>,
        want_dparams: bool,
        s: &mut Scratch<F>,
    ) -> [f64; MAX_PARAMS] {
        let len = x.len();
        let nn = self.nodes.len();
        let Scratch {
            vals,
            partial_a,
            partial_b,
            raw,
            adj,
            live,
            written,
            ..
        } = s;
        // Up: every node's value; where the adjoint will pass, its partial derivatives, and
        // under a parameter the value before scaling (d(θ·v)/dθ = v).
        for (i, node) in self.nodes.iter().enumerate() {
            let (vals_before, vals_rest) = vals.split_at_mut(i * CHUNK);
            let val = &mut vals_rest[..len];
            let pa = &mut partial_a[i * CHUNK..][..len];
            let pb = &mut partial_b[i * CHUNK..][..len];
            match node.op {
                Op::X => {
                    if let Some(p) = node.param {
                        let scale = params[p.index()];
                        for j in 0..len {
                            val[j] = x[j] * scale;
                        }
                    }
                    continue;
                }
                Op::Unary(u, c) => {
                    let cval = self.value_of(c, x, vals_before);
                    if live[i] {
                        apply_unary(u, cval, val, pa);
                    } else {
                        u.value_slice(cval, val);
                    }
                }
                Op::Binary(b, l, r) => {
                    let (lval, rval) = (
                        self.value_of(l, x, vals_before),
                        self.value_of(r, x, vals_before),
                    );
                    if live[i] {
                        apply_binary(b, lval, rval, val, pa, pb);
                    } else {
                        b.value_slice(lval, rval, val);
                    }
                }
            }
            if let Some(p) = node.param {
                if live[i] && want_dparams {
                    raw[i * CHUNK..][..len].copy_from_slice(val);
                }
                let scale = params[p.index()];
                for v in val.iter_mut() {
                    *v = *v * scale;
                }
            }
        }
        // Down: adj(root) = grad; a node hands adj·∂node/∂child to each child it reaches.
        let mut sums = [0f64; MAX_PARAMS];
        let mut dx_written = false;
        written.fill(false);
        if live[nn - 1] {
            adj[(nn - 1) * CHUNK..][..len].copy_from_slice(grad);
        }
        for i in (0..nn).rev() {
            if !live[i] {
                continue;
            }
            let node = self.nodes[i];
            let (adj_before, adj_rest) = adj.split_at_mut(i * CHUNK);
            let a = &mut adj_rest[..len];
            if let Some(p) = node.param {
                if want_dparams {
                    let v = if node.op == Op::X {
                        x
                    } else {
                        &raw[i * CHUNK..][..len]
                    };
                    sums[p.index()] += dot(a, v);
                }
                let scale = params[p.index()];
                for v in a.iter_mut() {
                    *v = *v * scale;
                }
            }
            let a = &*a;
            match node.op {
                Op::X => {
                    if let Some(d) = dx.as_deref_mut() {
                        accumulate(d, a, None, dx_written);
                        dx_written = true;
                    }
                }
                Op::Unary(u, _) if u.is_constant() => {}
                Op::Unary(_, c) => {
                    if live[c] {
                        let into = &mut adj_before[c * CHUNK..][..len];
                        accumulate(into, a, Some(&partial_a[i * CHUNK..][..len]), written[c]);
                        written[c] = true;
                    }
                }
                Op::Binary(_, l, r) => {
                    for (c, partial) in [(l, &partial_a), (r, &partial_b)] {
                        if live[c] {
                            let into = &mut adj_before[c * CHUNK..][..len];
                            accumulate(into, a, Some(&partial[i * CHUNK..][..len]), written[c]);
                            written[c] = true;
                        }
                    }
                }
            }
        }
        if let (Some(d), false) = (dx, dx_written) {
            d.fill(F::ZERO);
        }
        sums
    }

    /// The value of node `i` over the chunk: the input itself for a plain `x` leaf (never
    /// copied), else the node's buffer.
    #[inline(always)]
    fn value_of<'a, F: Float>(&self, i: usize, x: &'a [F], vals: &'a [F]) -> &'a [F] {
        let n = self.nodes[i];
        if n.op == Op::X && n.param.is_none() {
            x
        } else {
            &vals[i * CHUNK..][..x.len()]
        }
    }

    /// The tangent of node `i` in direction `dir`. An `x` leaf's dy/dx is a constant (1, or its
    /// parameter's value) and is never materialized.
    #[inline(always)]
    fn tangent_of<'a, F: Float>(
        &self,
        i: usize,
        dir: usize,
        len: usize,
        params: &[F; MAX_PARAMS],
        tans: &'a [F],
    ) -> Tangent<'a, F> {
        if self.masks[i] & (1 << dir) == 0 {
            return Tangent::Zero;
        }
        let n = self.nodes[i];
        if n.op == Op::X && dir == 0 {
            return Tangent::Const(n.param.map_or(F::ONE, |p| params[p.index()]));
        }
        Tangent::Vec(&tans[(i * MAX_DIRS + dir) * CHUNK..][..len])
    }

    #[inline(always)]
    fn run_chunk_generic<F: Float>(
        &self,
        x: &[F],
        params: &[F; MAX_PARAMS],
        wanted: u8,
        s: &mut Scratch<F>,
    ) {
        let len = x.len();
        let per_node = MAX_DIRS * CHUNK;
        for (i, node) in self.nodes.iter().enumerate() {
            // Only the directions the caller wants are propagated.
            let mask = self.masks[i] & wanted;
            let (vals_before, vals_rest) = s.vals.split_at_mut(i * CHUNK);
            let val = &mut vals_rest[..len];
            let (tans_before, tans_rest) = s.tans.split_at_mut(i * per_node);
            let tan = &mut tans_rest[..per_node];
            let scale = node.param.map_or(F::ONE, |p| params[p.index()]);
            match node.op {
                Op::X => {
                    // A plain leaf is read straight from the input (see `value_of`); a scaled
                    // one stores p·x, and d(p·x)/dp = x. Its dy/dx is a constant.
                    if let Some(p) = node.param {
                        for j in 0..len {
                            val[j] = x[j] * scale;
                        }
                        let own = 1 + p.index();
                        if mask & (1 << own) != 0 {
                            tan[own * CHUNK..][..len].copy_from_slice(x);
                        }
                    }
                    continue;
                }
                Op::Unary(u, c) if mask == 0 => {
                    u.value_slice(self.value_of(c, x, vals_before), val);
                }
                Op::Unary(u, c) => {
                    let cval = self.value_of(c, x, vals_before);
                    let d = &mut s.da[..len];
                    apply_unary(u, cval, val, d);
                    for dir in 0..MAX_DIRS {
                        if mask & (1 << dir) == 0 {
                            continue;
                        }
                        let t = &mut tan[dir * CHUNK..][..len];
                        match self.tangent_of(c, dir, len, params, tans_before) {
                            Tangent::Zero => {}
                            Tangent::Const(k) => {
                                let k = k * scale;
                                for j in 0..len {
                                    t[j] = d[j] * k;
                                }
                            }
                            Tangent::Vec(ct) => {
                                for j in 0..len {
                                    t[j] = d[j] * ct[j] * scale;
                                }
                            }
                        }
                    }
                }
                Op::Binary(b, l, r) if mask == 0 => {
                    let lval = self.value_of(l, x, vals_before);
                    b.value_slice(lval, self.value_of(r, x, vals_before), val);
                }
                Op::Binary(b, l, r) => {
                    let lval = self.value_of(l, x, vals_before);
                    let rval = self.value_of(r, x, vals_before);
                    let (da, db) = (&mut s.da[..len], &mut s.db[..len]);
                    apply_binary(b, lval, rval, val, da, db);
                    for dir in 0..MAX_DIRS {
                        if mask & (1 << dir) == 0 {
                            continue;
                        }
                        let t = &mut tan[dir * CHUNK..][..len];
                        let lt = self.tangent_of(l, dir, len, params, tans_before);
                        let rt = self.tangent_of(r, dir, len, params, tans_before);
                        combine(t, da, lt, db, rt, scale);
                    }
                }
            }
            if let Some(p) = node.param {
                let own = 1 + p.index();
                if mask & (1 << own) != 0 {
                    // d(p·v)/dp = v + p·dv/dp; the second term (already scaled above) exists
                    // only when p also appears below this node.
                    let t = &mut tan[own * CHUNK..][..len];
                    if self.child_mask(i) & (1 << own) != 0 {
                        for j in 0..len {
                            t[j] = t[j] + val[j];
                            val[j] = val[j] * scale;
                        }
                    } else {
                        for j in 0..len {
                            t[j] = val[j];
                            val[j] = val[j] * scale;
                        }
                    }
                } else {
                    for v in val.iter_mut() {
                        *v = *v * scale;
                    }
                }
            }
        }
    }

    /// The tangent mask of node `i` before its own parameter is applied.
    fn child_mask(&self, i: usize) -> u8 {
        match self.nodes[i].op {
            Op::X => 1,
            Op::Unary(u, _) if u.is_constant() => 0,
            Op::Unary(_, c) => self.masks[c],
            Op::Binary(_, l, r) => self.masks[l] | self.masks[r],
        }
    }
}

/// One chunk through every node, compiled for several instruction sets and chosen at run time
/// (AVX2+FMA where the CPU has it, baseline SSE2 otherwise): the kernels are plain loops that the
/// compiler vectorizes, so wider vectors are a free speed-up.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn run_chunk<F: Float>(
    program: &Program,
    x: &[F],
    params: &[F; MAX_PARAMS],
    wanted: u8,
    scratch: &mut Scratch<F>,
) {
    program.run_chunk_generic(x, params, wanted, scratch);
}

/// Reverse mode over one chunk, multiversioned like [`run_chunk`].
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn backprop_chunk<F: Float>(
    program: &Program,
    x: &[F],
    params: &[F; MAX_PARAMS],
    grad: &[F],
    dx: Option<&mut [F]>,
    want_dparams: bool,
    scratch: &mut Scratch<F>,
) -> [f64; MAX_PARAMS] {
    program.backprop_chunk_generic(x, params, grad, dx, want_dparams, scratch)
}

/// `into = a·partial` (or `a` where there is no partial), or `into += …` when `into` already
/// holds another path's contribution.
#[inline(always)]
fn accumulate<F: Float>(into: &mut [F], a: &[F], partial: Option<&[F]>, add: bool) {
    let len = into.len();
    let a = &a[..len];
    match (partial, add) {
        (Some(p), false) => {
            let p = &p[..len];
            for j in 0..len {
                into[j] = a[j] * p[j];
            }
        }
        (Some(p), true) => {
            let p = &p[..len];
            for j in 0..len {
                into[j] = into[j] + a[j] * p[j];
            }
        }
        (None, false) => into.copy_from_slice(a),
        (None, true) => {
            for j in 0..len {
                into[j] = into[j] + a[j];
            }
        }
    }
}

/// Σ a·b: in the working precision over blocks of [`SUM_BLOCK`], each summed in [`LANES`]
/// interleaved partial sums (independent additions, which the compiler turns into one vector
/// register), then in f64 across lanes and blocks, always in the same order.
#[inline(always)]
fn dot<F: Float>(a: &[F], b: &[F]) -> f64 {
    let mut total = 0f64;
    for (a, b) in a.chunks(SUM_BLOCK).zip(b.chunks(SUM_BLOCK)) {
        let mut lanes = [F::ZERO; LANES];
        let (a_whole, a_tail) = a.split_at(a.len() / LANES * LANES);
        let (b_whole, b_tail) = b.split_at(a_whole.len());
        for (a, b) in a_whole.chunks_exact(LANES).zip(b_whole.chunks_exact(LANES)) {
            for k in 0..LANES {
                lanes[k] = lanes[k] + a[k] * b[k];
            }
        }
        for (k, (&a, &b)) in a_tail.iter().zip(b_tail).enumerate() {
            lanes[k] = lanes[k] + a * b;
        }
        total += lanes.iter().map(|v| v.to_f64()).sum::<f64>();
    }
    total
}

/// Partial sums of [`dot`]: one 256-bit vector of f32.
const LANES: usize = 8;

/// A node's tangent in one direction over a chunk.
enum Tangent<'a, F> {
    /// Structurally zero: the direction does not occur below the node.
    Zero,
    /// The same value for every element (an `x` leaf's dy/dx).
    Const(F),
    /// One value per element.
    Vec(&'a [F]),
}

impl<F: Float> Tangent<'_, F> {
    fn write(&self, dst: &mut [F]) {
        match self {
            Tangent::Zero => dst.fill(F::ZERO),
            Tangent::Const(k) => dst.fill(*k),
            Tangent::Vec(v) => dst.copy_from_slice(v),
        }
    }
}

/// t = (da·lt + db·rt)·scale, with each tangent's kind resolved outside the loop.
#[inline(always)]
fn combine<F: Float>(
    t: &mut [F],
    da: &[F],
    lt: Tangent<'_, F>,
    db: &[F],
    rt: Tangent<'_, F>,
    scale: F,
) {
    let len = t.len();
    let (da, db) = (&da[..len], &db[..len]);
    match (lt, rt) {
        (Tangent::Zero, Tangent::Zero) => t.fill(F::ZERO),
        (Tangent::Vec(l), Tangent::Vec(r)) => {
            let (l, r) = (&l[..len], &r[..len]);
            for j in 0..len {
                t[j] = (da[j] * l[j] + db[j] * r[j]) * scale;
            }
        }
        (Tangent::Vec(l), Tangent::Zero) => {
            let l = &l[..len];
            for j in 0..len {
                t[j] = da[j] * l[j] * scale;
            }
        }
        (Tangent::Zero, Tangent::Vec(r)) => {
            let r = &r[..len];
            for j in 0..len {
                t[j] = db[j] * r[j] * scale;
            }
        }
        (Tangent::Const(a), Tangent::Const(b)) => {
            let (a, b) = (a * scale, b * scale);
            for j in 0..len {
                t[j] = da[j] * a + db[j] * b;
            }
        }
        (Tangent::Const(a), Tangent::Zero) => {
            let a = a * scale;
            for j in 0..len {
                t[j] = da[j] * a;
            }
        }
        (Tangent::Zero, Tangent::Const(b)) => {
            let b = b * scale;
            for j in 0..len {
                t[j] = db[j] * b;
            }
        }
        (Tangent::Const(a), Tangent::Vec(r)) => {
            let r = &r[..len];
            for j in 0..len {
                t[j] = (da[j] * a + db[j] * r[j]) * scale;
            }
        }
        (Tangent::Vec(l), Tangent::Const(b)) => {
            let l = &l[..len];
            for j in 0..len {
                t[j] = (da[j] * l[j] + db[j] * b) * scale;
            }
        }
    }
}

/// The single dispatch point for unary kernels over a chunk.
#[inline(always)]
fn apply_unary<F: Float>(u: Unary, x: &[F], y: &mut [F], dy: &mut [F]) {
    u.apply_slice(x, y, dy);
}

/// The single dispatch point for binary kernels over a chunk.
#[inline(always)]
fn apply_binary<F: Float>(b: Binary, x: &[F], z: &[F], y: &mut [F], da: &mut [F], db: &mut [F]) {
    b.apply_slice(x, z, y, da, db);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swish_with_parameters_worked_by_hand() {
        // y = α·x·σ(β·x) at x = 1, α = 2, β = 0.5: σ(0.5) = 0.6224593312018546
        let e: Expr = "alpha * x * sigmoid(beta * x)".parse().unwrap();
        let p = Program::new(&e);
        let out = p.eval_f64(&[1.0], [2.0, 0.5, 1.0]);
        let s = 0.622_459_331_201_854_6;
        assert!((out.y[0] - 2.0 * s).abs() < 1e-14);
        // dy/dα = x·σ(βx)
        assert!((out.dy_dparams[0][0] - s).abs() < 1e-14);
        // dy/dβ = α·x·σ'(βx)·x
        assert!((out.dy_dparams[1][0] - 2.0 * s * (1.0 - s)).abs() < 1e-14);
        // dy/dx = α·σ(βx) + α·x·σ'(βx)·β
        assert!((out.dy_dx[0] - (2.0 * s + 2.0 * s * (1.0 - s) * 0.5)).abs() < 1e-14);
        assert_eq!(out.dy_dparams[2][0], 0.0);
    }

    #[test]
    fn shared_parameter_sums_its_contributions() {
        // y = α·x + α·x = 2αx: dy/dα = 2x
        let e: Expr = "alpha * x + alpha * x".parse().unwrap();
        let out = Program::new(&e).eval_f64(&[3.0], [1.5, 1.0, 1.0]);
        assert_eq!(out.y[0], 9.0);
        assert_eq!(out.dy_dparams[0][0], 6.0);
        // y = α·tanh(α·x): dy/dα = tanh(αx) + α·x·(1 − tanh²(αx))
        let e: Expr = "alpha * tanh(alpha * x)".parse().unwrap();
        let out = Program::new(&e).eval_f64(&[0.7], [1.3, 1.0, 1.0]);
        let t = (1.3f64 * 0.7).tanh();
        assert!((out.dy_dparams[0][0] - (t + 1.3 * 0.7 * (1.0 - t * t))).abs() < 1e-14);
    }

    #[test]
    fn long_inputs_cross_chunk_boundaries() {
        let e: Expr = "max(alpha * x, tanh(beta * x))".parse().unwrap();
        let p = Program::new(&e);
        let xs: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) / 77.0).collect();
        let out = p.eval_f32(&xs, [0.5, 2.0, 1.0]);
        for (i, &x) in xs.iter().enumerate() {
            let a = 0.5 * x;
            // The kernels' own tanh (within 3 ulp of the library's).
            let t = crate::fast_math::tanh(2.0 * x);
            assert_eq!(out.y[i], if a >= t { a } else { t });
        }
        assert_eq!(p.values(&xs, [0.5, 2.0, 1.0]), out.y);
    }

    #[test]
    fn constants_have_zero_derivatives() {
        let e: Expr = "alpha * 1 + x".parse().unwrap();
        let out = Program::new(&e).eval_f64(&[2.0, -1.0], [3.0, 1.0, 1.0]);
        assert_eq!(out.y, vec![5.0, 2.0]);
        assert_eq!(out.dy_dx, vec![1.0, 1.0]);
        assert_eq!(out.dy_dparams[0], vec![1.0, 1.0]);
    }
}
