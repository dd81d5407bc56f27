"""Error bounds shared by the tests of `core`, from the error analysis of each form.

u is the unit round-off of the dtype (2^-24 for float32, 2^-53 for float64). A
bound here holds on every CPU, whatever its instruction set does with FMA or the
order of a sum: it is derived, never measured.
"""

from __future__ import annotations

import numpy as np


def unit_roundoff(dtype) -> float:
    """u: half the spacing of floats at 1 in `dtype`."""
    return float(np.finfo(dtype).eps) / 2


def rbf_error_bound(X, Y, gamma: float, dtype, shifted: bool = False) -> float:
    """Largest absolute error of any registry method's RBF entry on these points.

    The worst form is the expansion |x|² + |y|² - 2 x·y: three dot products of D
    terms and two sums, each of size at most (|x| + |y|)², so its d² is off by at
    most (D + 2)·u·(|x| + |y|)² in any summation order (Higham, Accuracy and
    Stability of Numerical Algorithms, eq. 3.5). The direct forms err by
    (D + 3)·u·d², less; the centered forms by the same expansion bound on shifted
    points, each rounded once more by the shift (two spare units of u cover it,
    taking the larger of the raw and the shifted norms). exp(-γ d²) turns an error
    e in d² into at most γ·e in K (K <= 1), and adds its own rounding: XLA's and
    NumPy's exp are within 2 ulps, so 4u covers it and the final product γ·d².

    Args:
      X: (N, D) points; Y: (M, D) points or None for X; gamma: the RBF's gamma;
      dtype: the compute dtype.
      shifted: True for the forms that shift the points first (`shared_shift`):
        only the shifted norms count, so the bound holds far from the origin.

    Returns:
      The bound, a Python float.
    """
    u = unit_roundoff(dtype)
    X = np.asarray(X, np.float64)
    Y = X if Y is None else np.asarray(Y, np.float64)
    c = np.concatenate([X, Y]).mean(axis=0)
    size = (np.linalg.norm(X - c, axis=1).max() + np.linalg.norm(Y - c, axis=1).max()) ** 2
    if not shifted:
        size = max(size, (np.linalg.norm(X, axis=1).max() + np.linalg.norm(Y, axis=1).max()) ** 2)
    return float(gamma) * (X.shape[1] + 4) * u * size + 4 * u


def assert_within(actual, desired, bound, err_msg: str = "") -> None:
    """Assert |actual - desired| <= bound entrywise (bound: scalar or broadcastable array)."""
    actual = np.asarray(actual, np.float64)
    desired = np.asarray(desired, np.float64)
    assert actual.shape == desired.shape, (actual.shape, desired.shape, err_msg)
    excess = np.abs(actual - desired) - np.asarray(bound, np.float64)
    worst = np.unravel_index(np.argmax(excess), excess.shape) if excess.ndim else ()
    assert np.all(excess <= 0), (
        f"{err_msg}: |actual - desired| exceeds its bound at {worst}: "
        f"{actual[worst]!r} vs {desired[worst]!r}, bound {np.broadcast_to(bound, excess.shape)[worst]!r}")


def _sqrt_error(x, e):
    """Error of sqrt(x) when x is off by at most e: |√a - √b| <= min(√|a-b|, |a-b|/√a)."""
    r = np.sqrt(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r > 0, np.minimum(np.sqrt(e), e / np.where(r > 0, r, 1)), np.sqrt(e))


def _exp_error(t, e_t, u):
    """Error of exp(-t) computed from t off by e_t, with exp's own 2 ulps (4u relative)."""
    return np.exp(-t) * (np.expm1(e_t) + 4 * u * np.exp(e_t))


def kernel_error_bound(name: str, params, X, Y, dtype, d2_error=None) -> np.ndarray:
    """Largest absolute error of each entry of a `core.kernels` Gram matrix in `dtype`.

    The forward error of each kernel's vector form, step by step from what it
    rounds (Higham's model: each operation errs by at most u relative; a sum or
    dot of D terms by D·u times the sum of their magnitudes in any order):
      d² = Σ(x - y)², direct: (D + 3)·u·d² (or `d2_error` for another form);
      √ of a value off by e: min(√e, e / r), so the square root at 0 stays bounded;
      exp(-t): e^-t·(e^e_t - 1) from t's error e_t, plus exp's own 4u·K;
      powers: |dK/db| times b's error, plus pow's rounding (exp(y log b): (4 + 2|y log b|)·u·K);
      sin of the scaled distance π r / p: |cos| <= 1 carries θ's error, plus 4u of its own.
    Each parameter is rounded once to `dtype` (u relative).

    Args:
      name: a key of `core.kernels.KERNELS`; params: its parameters.
      X: (N, D) points; Y: (M, D) points (the exact values, e.g. already in `dtype`).
      dtype: the compute dtype.
      d2_error: (N, M) absolute error of the squared distances, if not the direct form's.

    Returns:
      (N, M) float64 bound.
    """
    u = unit_roundoff(dtype)
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    D = X.shape[1]
    diff = X[:, None, :] - Y[None, :, :]
    d2 = np.sum(diff * diff, axis=-1)
    e_d2 = (D + 3) * u * d2 if d2_error is None else np.asarray(d2_error, np.float64)
    g = float(params.get("gamma", 1.0))
    if name == "rbf":
        t = g * d2
        return _exp_error(t, g * e_d2 + 2 * u * t, u)
    if name == "laplacian":
        l1 = np.sum(np.abs(diff), axis=-1)
        t = g * l1
        return _exp_error(t, g * (D + 1) * u * l1 + 2 * u * t, u)
    if name in ("matern32", "matern52"):
        c = np.sqrt(3.0 if name == "matern32" else 5.0)
        q = 2 * g * d2
        r = np.sqrt(q)
        e_r = _sqrt_error(q, 2 * g * e_d2 + 2 * u * q) + u * r
        s = c * r
        e_s = c * e_r + 2 * u * s
        lo, hi = np.maximum(s - e_s, 0), s + e_s
        if name == "matern32":  # K = (1 + s) e^-s, |K'| = s e^-s
            K, slope, own = (1 + s) * np.exp(-s), hi * np.exp(-lo), 6 * u
        else:  # K = (1 + s + s²/3) e^-s, |K'| = s (1 + s) e^-s / 3
            K, slope, own = (1 + s + s * s / 3) * np.exp(-s), hi * (1 + hi) * np.exp(-lo) / 3, 9 * u
        return slope * e_s + own * K
    if name == "rational_quadratic":
        a = float(params["alpha"])
        q = g * d2 / a
        b = 1 + q
        e_b = g * e_d2 / a + 4 * u * q + u * b
        K = b ** -a
        slope = a * np.maximum(b - e_b, 1.0) ** (-a - 1)  # b >= 1 computed and exact
        return slope * e_b + (4 + 2 * a * np.log(b + e_b)) * u * K
    if name == "periodic":
        p = float(params["period"])
        r = np.sqrt(d2)
        e_r = _sqrt_error(d2, e_d2) + u * r
        theta = np.pi * r / p
        e_sin = np.pi / p * e_r + 4 * u * theta + 4 * u
        sin = np.abs(np.sin(theta))
        t = 4 * g * sin**2
        return _exp_error(t, 4 * g * ((2 * sin + e_sin) * e_sin + u * sin**2) + 3 * u * t, u)
    dot = X @ Y.T
    absdot = np.abs(X) @ np.abs(Y).T
    if name == "linear":
        c = float(params["c"])
        return (D + 1) * u * absdot + 2 * u * abs(c)
    if name == "polynomial":
        c0, deg = float(params["coef0"]), float(params["degree"])
        z = g * dot + c0
        e_z = g * D * u * absdot + 3 * u * g * np.abs(dot) + 2 * u * abs(c0) + u * np.abs(z)
        K = np.abs(z) ** deg
        return deg * (np.abs(z) + e_z) ** (deg - 1) * e_z + (deg + 3 + 2 * deg * np.abs(np.log(np.abs(z)))) * u * K
    raise ValueError(f"no error analysis for kernel {name!r}")


def reference_kernel_error_bound(name: str, params, X, Y) -> np.ndarray:
    """Error of a float64 reference (scikit-learn/NumPy) for `kernel_error_bound`'s entries.

    scikit-learn forms d² by the expansion |x|² + |y|² - 2x·y or by cdist of
    rescaled points: (D + 6)·u·(|x| + |y|)² covers both; its other steps
    (length_scale = 1/√(2γ) and back) round a few more times than `core`'s, which
    doubling the float64 bound covers.
    """
    u = unit_roundoff(np.float64)
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    size = (np.linalg.norm(X, axis=1)[:, None] + np.linalg.norm(Y, axis=1)[None, :]) ** 2
    return 2 * kernel_error_bound(name, params, X, Y, np.float64, (X.shape[1] + 6) * u * size)


def rbf_entry_error_bound(X, Y, gamma: float, dtype, shifted: bool = False) -> np.ndarray:
    """`rbf_error_bound` entry by entry: (N, M), for sums of many entries.

    The same analysis with each pair's own sizes, and the factor K = exp(-γ d²)
    that `rbf_error_bound` bounds by 1 kept: an error e in d² moves K by at most
    K·(e^(γe) - 1), and exp adds 4u·K.
    """
    u = unit_roundoff(dtype)
    X = np.asarray(X, np.float64)
    Y = X if Y is None else np.asarray(Y, np.float64)
    c = np.concatenate([X, Y]).mean(axis=0)

    def pair_size(A, B):
        return (np.linalg.norm(A, axis=1)[:, None] + np.linalg.norm(B, axis=1)[None, :]) ** 2

    size = pair_size(X - c, Y - c)
    if not shifted:
        size = np.maximum(size, pair_size(X, Y))
    d2 = np.sum((X[:, None, :] - Y[None, :, :]) ** 2, axis=-1)
    e = float(gamma) * ((X.shape[1] + 4) * u * size + u * d2)
    return np.exp(-float(gamma) * d2) * (np.expm1(e) + 4 * u * np.exp(e))


def _tanh_parts(w, b, X, targets, dtype):
    """p = tanh(w·x + b) per row and its error, both (N,), in float64 (see the two bounds below)."""
    u = unit_roundoff(dtype)
    w, X = np.asarray(w, np.float64), np.asarray(X, np.float64)
    b = float(np.asarray(b, np.float64))
    z = X @ w + b
    e_z = (X.shape[1] + 1) * u * (np.abs(X) @ np.abs(w) + abs(b))
    p = np.tanh(z)
    slope = 1 - np.tanh(np.maximum(np.abs(z) - e_z, 0)) ** 2
    return p, slope * e_z + 8 * u * np.abs(p)


def tanh_dot_error_bound(w, b, X, dtype) -> np.ndarray:
    """Largest error of `tanh(w·x + b)` per row of X (N, D) computed in `dtype`: (N,).

    w·x + b is a dot of D + 1 terms: (D + 1)·u·(Σ|w_i x_i| + |b|) in any order
    (Higham eq. 3.5); tanh carries it with slope 1 - tanh² (<= 1, taken at the
    smallest |z| in reach), and adds its own rounding: XLA's tanh is a rational
    approximation within a few ulps, 4 ulps (8u·|p|) allowed. w, b, X are the
    exact values (already in dtype).
    """
    return _tanh_parts(w, b, X, None, dtype)[1]


def tanh_loss_grad_error_bound(w, b, X, targets, dtype) -> np.ndarray:
    """Largest error of f = d/db (tanh(w·x + b) - t)² = 2 (p - t)(1 - p²) per row: (N,).

    From p's error e (`tanh_dot_error_bound`): a = p - t is off by e + u·(|a| + e);
    c = 1 - p² (autodiff's (1 + p)(1 - p) or 1 - p·p) by 2|p|·e + e² + 3u·(1 + p²);
    their product by Δa·c + a·Δc + Δa·Δc plus one rounding; ×2 is exact. The
    per-sample gradient in w is f·x, one more rounding: |x|·Δf + u·|f x|.
    """
    u = unit_roundoff(dtype)
    p, e = _tanh_parts(w, b, X, targets, dtype)
    a = np.abs(p - np.asarray(targets, np.float64))
    c = 1 - p * p
    da = e + u * (a + e)
    dc = 2 * np.abs(p) * e + e * e + 3 * u * (1 + p * p)
    return 2 * (da * c + a * dc + da * dc + u * (a + da) * (c + dc))


def _summary_bounds(n: int, gammas, dtype, parts) -> dict[str, np.ndarray]:
    """The analysis of `rbf_summary_bounds` for a kernel described by `parts`.

    parts(g, h) returns, over the off-diagonal pairs: K, its bound dK, the entries
    ∂K/∂γ and their autodiff bound; then Σ|K_ii| (computed once, in both the sum and
    the trace, so only their rounding counts) and bounds on |s''| and |s'''| over [g - 2h, g + 2h].
    """
    u = unit_roundoff(dtype)
    P = n * (n - 1)
    sums = (n * n + n + 2) * u  # a sum of n² entries (and the trace) in any order
    eps = float(np.finfo(dtype).eps)
    out = {"value": [], "slope": [], "fd": []}

    def value_error(g, h=0.0):
        K, dK, _, _, diag, *_ = parts(g, h)
        return (dK.sum() + sums * (np.abs(K).sum() + diag)) / P + u * abs(K.sum()) / P

    for g in np.asarray(gammas, np.float64):
        h = g * eps ** (1 / 3)
        K, dK, Kg, e_Kg, _, m2, m3 = parts(g, h)
        slope = Kg.sum() / P
        slope_err = (e_Kg.sum() + sums * np.abs(Kg).sum()) / P + u * abs(slope)
        rho = 2 * u * (g + h) / h
        fd = (h * h / 6 * m3 + rho * abs(slope) + 2 * u * (g + h) * m2
              + (value_error(g - 2 * h) + value_error(g + 2 * h)) / (2 * h) * (1 + rho)
              + 3 * u * abs(slope))
        out["value"].append(value_error(g))
        out["slope"].append(slope_err)
        out["fd"].append(fd)
    return {k: np.array(v) for k, v in out.items()}


def rbf_summary_bounds(X, gammas, dtype) -> dict[str, np.ndarray]:
    """Error bounds of `core.lessons.gradients.summary_curve` for the RBF kernel, each (G,).

    s(γ) = (ΣK - tr K) / (n(n - 1)) in dtype, at γ rounded to dtype:
      value: each entry within `kernel_error_bound` (γ's rounding included), the
        sum of n² entries (n² - 1)·u·ΣK in any order, the trace, the difference
        and the division a few u more: (n² + n + 2)·u·ΣK / P, P = n(n - 1), + u·|s|;
      slope (autodiff): entry -d²K from K's error (d²·ΔK), d²'s ((D + 3)·u·d²·K)
        and two products (2u), summed the same way;
      fd (central difference, step h = γ·ε^(1/3) in dtype): truncation
        h²/6·max|s'''| (s''' = -mean(d⁶ K), largest at γ - h); the evaluation points
        γ ± h rounded, so the step is off by ρ <= 2u(γ + h)/h relative and the
        centre by 2u(γ + h) (times |s''| = mean(d⁴ K)); the two values' errors
        over 2h; the difference and division, 3u.
    All against the exact values at the float64 γ. X holds the exact points
    (already in dtype).
    """
    u = unit_roundoff(dtype)
    X = np.asarray(X, np.float64)
    n, D = X.shape
    off = ~np.eye(n, dtype=bool)
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)[off]

    def parts(g, h):
        K = np.exp(-g * d2)
        dK = kernel_error_bound("rbf", {"gamma": g}, X, X, dtype)[off]
        low = np.exp(-(g - 2 * h) * d2)
        return (K, dK, -d2 * K, d2 * dK + (D + 5) * u * d2 * K, n,
                np.mean(d2**2 * low), np.mean(d2**3 * low))

    return _summary_bounds(n, gammas, dtype, parts)


def polynomial_summary_bounds(X, gammas, coef0: float, degree: int, dtype) -> dict[str, np.ndarray]:
    """`rbf_summary_bounds` for the polynomial kernel (γ x·y + c0)^p, p an integer.

    ∂K/∂γ = p z^(p-1) x·y, z = γ x·y + c0; autodiff's error from z's (e_z, as in
    `kernel_error_bound`): p (p - 1)(|z| + e_z)^(p-2) e_z |x·y|, x·y's own D·u·Σ|x y|,
    and p + 2 roundings of the power and products. |s''| and |s'''| from
    p(p-1) z^(p-2) (x·y)² and p(p-1)(p-2) z^(p-3) (x·y)³ with |z| + 2h|x·y|.
    """
    u = unit_roundoff(dtype)
    X = np.asarray(X, np.float64)
    n, D = X.shape
    off = ~np.eye(n, dtype=bool)
    dot, absdot = (X @ X.T)[off], (np.abs(X) @ np.abs(X).T)[off]
    p = int(degree)

    def parts(g, h):
        z = g * dot + coef0
        params = {"gamma": g, "coef0": coef0, "degree": p}
        dK = kernel_error_bound("polynomial", params, X, X, dtype)[off]
        e_z = g * D * u * absdot + 3 * u * g * np.abs(dot) + 2 * u * abs(coef0) + u * np.abs(z)
        Kg = p * z ** (p - 1) * dot
        e_Kg = p * ((p - 1) * (np.abs(z) + e_z) ** max(p - 2, 0) * e_z * np.abs(dot)
                    + np.abs(z) ** (p - 1) * (D * u * absdot + (p + 2) * u * np.abs(dot)))
        zmax = np.abs(z) + 2 * h * np.abs(dot)
        m2 = np.mean(p * (p - 1) * zmax ** max(p - 2, 0) * dot**2)
        m3 = np.mean(p * (p - 1) * (p - 2) * zmax ** max(p - 3, 0) * np.abs(dot) ** 3)
        diag = np.sum(np.abs(g * np.sum(X * X, axis=1) + coef0) ** p)
        return z**p, dK, Kg, e_Kg, diag, m2, m3

    return _summary_bounds(n, gammas, dtype, parts)
