#!/usr/bin/env python3
"""Regenerates the hard-coded coefficient tables of pangaea-nn (needs only `mpmath`).

    python3 crates/pangaea-nn/tools/fit_coefficients.py

1. Chebyshev series for the exponentially scaled Bessel functions and erfc, used by
   `src/activation/special.rs` (interpolation at 50-80 Chebyshev nodes in 40-digit arithmetic,
   truncated where the coefficients fall below 1e-11):
   - i0e(x) on [0, 8] in t = x/4 - 1, and sqrt(x)*i0e(x) on [8, inf) in u = 16/x - 1;
   - i1e(x)/x on [0, 8] in t, and sqrt(x)*i1e(x) on [8, inf) in u;
   - erfc(x)*exp(x^2) on [0, inf) in t = (x - 2)/(x + 2).
2. The PAU (P5/Q4, denominator 1 + |b1 x + ... + b4 x^4|) coefficients that approximate leaky
   ReLU (slope 0.01) on [-3, 3], used by `src/baseline/pau.rs`: linearised least squares on 2001
   equally spaced points, then Gauss-Newton on the true (absolute-value) residuals.
"""
import mpmath as mp

mp.mp.dps = 40


def cheb(f, n):
    """Chebyshev interpolation coefficients of f on [-1, 1] at n first-kind nodes."""
    nodes = [mp.cos(mp.pi * (j + mp.mpf(1) / 2) / n) for j in range(n)]
    fv = [f(t) for t in nodes]
    cs = []
    for k in range(n):
        s = mp.fsum(fv[j] * mp.cos(mp.pi * k * (j + mp.mpf(1) / 2) / n) for j in range(n))
        cs.append(2 * s / n)
    cs[0] /= 2
    return cs


def show(name, cs, thr=1e-11):
    last = max(i for i, c in enumerate(cs) if abs(c) > thr)
    print(f"const {name}: [f64; {last + 1}] = [")
    for c in cs[: last + 1]:
        print(f"    {mp.nstr(c, 17, min_fixed=0, max_fixed=0)},")
    print("];")


def i0e(x):
    return mp.exp(-abs(x)) * mp.besseli(0, x)


def i1e(x):
    return mp.exp(-abs(x)) * mp.besseli(1, x)


def high(f):
    def g(u):
        x = 16 / (u + 1)
        return mp.sqrt(x) * f(x)

    return g


def erfc_scaled(t):
    if t == 1:
        return mp.mpf(0)
    x = 2 * (1 + t) / (1 - t)
    return mp.erfc(x) * mp.exp(x * x)


show("I0E_LOW", cheb(lambda t: i0e(4 * (t + 1)), 50))
show("I1E_OVER_X_LOW", cheb(lambda t: i1e(4 * (t + 1)) / (4 * (t + 1)), 50))
show("I0E_HIGH", cheb(high(i0e), 50))
show("I1E_HIGH", cheb(high(i1e), 50))
show("ERFC_SCALED", cheb(erfc_scaled, 80))

# --- PAU fit -------------------------------------------------------------------------------
mp.mp.dps = 30
leaky = lambda x: x if x >= 0 else mp.mpf("0.01") * x
xs = [mp.mpf(-3) + 6 * mp.mpf(i) / 2000 for i in range(2001)]


def pau(p, x):
    num = sum(p[k] * x**k for k in range(6))
    q = sum(p[5 + k] * x**k for k in range(1, 5))
    return num / (1 + abs(q))


A = mp.matrix(len(xs), 10)
y = mp.matrix(len(xs), 1)
for i, x in enumerate(xs):
    for k in range(6):
        A[i, k] = x**k
    for k in range(1, 5):
        A[i, 5 + k] = -leaky(x) * x**k
    y[i] = leaky(x)
sol = mp.lu_solve(A.T * A, A.T * y)
p = [sol[i] for i in range(10)]
for _ in range(15):
    r = mp.matrix([pau(p, x) - leaky(x) for x in xs])
    J = mp.matrix(len(xs), 10)
    h = mp.mpf("1e-12")
    for j in range(10):
        pp, pm = list(p), list(p)
        pp[j] += h
        pm[j] -= h
        for i, x in enumerate(xs):
            J[i, j] = (pau(pp, x) - pau(pm, x)) / (2 * h)
    d = mp.lu_solve(J.T * J, J.T * r)
    p = [p[j] - d[j] for j in range(10)]
res = [pau(p, x) - leaky(x) for x in xs]
print("// PAU max |error| on [-3, 3]:", mp.nstr(max(abs(v) for v in res), 4),
      "rms:", mp.nstr(mp.sqrt(sum(v * v for v in res) / len(xs)), 4))
print("const PAU_LEAKY_RELU_NUMERATOR: [f64; 6] = [" + ", ".join(mp.nstr(v, 17) for v in p[:6]) + "];")
print("const PAU_LEAKY_RELU_DENOMINATOR: [f64; 4] = [" + ", ".join(mp.nstr(v, 17) for v in p[6:]) + "];")
