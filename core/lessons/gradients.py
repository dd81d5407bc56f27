"""Why vmap matters for gradients: per-sample gradients, kernel gradient fields, dK/dgamma.

`jax.grad` needs a function with a scalar output, so it sees one sample, one
point or one gamma at a time; `vmap` then batches it. Three uses, one per
section of the Gradients page:

* `compare_per_sample_grads`: a loop of `grad` against `vmap(grad)` for the
  notes' `predict` model (the functions of `core.lessons.predict`), compiled
  against compiled and eager against eager;
* `kernel_gradient_field`: `vmap(grad(k(., c)))` over a grid, the direction in
  which the kernel value grows fastest around a centre c;
* `summary_curve`: how the mean off-diagonal kernel value changes with gamma,
  differentiated by `grad` and batched over gammas by `vmap`.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from core.lessons.anatomy import agreement_tolerance
from core.kernels.gram import gram
from core.kernels.functions import KernelFn
from core.lessons.predict import (
    Params,
    per_sample_grads,
    per_sample_grads_loop,
    per_sample_grads_loop_jit,
    predict_vmap_in_axes,
)
from core.bench.interleave import MachineLoad, time_interleaved
from core.bench.timing import TimingResult, compile_ahead
from core.bench.report import ratio_interval

__all__ = [
    "regression_targets",
    "PerSampleGrads",
    "compare_per_sample_grads",
    "kernel_gradient_field",
    "kernel_values",
    "rbf_gradient",
    "field_grid",
    "gram_summary",
    "finite_difference_step",
    "SummaryCurve",
    "summary_curve",
    "gamma_range",
]


def regression_targets(X: np.ndarray, y: np.ndarray | None, seed: int = 0) -> tuple[np.ndarray, str]:
    """Targets in [-1, 1] for the squared loss of `predict` (whose output is a tanh).

    Labelled data: the first class is -1, every other class +1. Unlabelled data
    (no labels, or a single class): `tanh` of a seeded random linear function of
    the standardised features.

    Args:
      X: shape (N, D).
      y: shape (N,) or None.
      seed: of the random linear target.

    Returns:
      `(targets, description)`: targets shape (N,), dtype of X; a sentence for the page.
    """
    X = np.asarray(X)
    if y is not None and np.unique(y).size >= 2:
        first = np.unique(y)[0]
        return np.where(y == first, -1.0, 1.0).astype(X.dtype), (
            f"labels mapped to ±1: class {first} → −1, every other class → +1")
    Xf = X.astype(np.float64)
    std = Xf.std(axis=0)
    # A constant column has std 0: divide it by 1 instead (it is all zeros once centred).
    z = (Xf - Xf.mean(axis=0)) / np.where(std > 0, std, 1.0)
    v = np.random.default_rng(seed).normal(size=X.shape[1]) / np.sqrt(X.shape[1])
    return np.tanh(z @ v).astype(X.dtype), (
        f"no labels, so a seeded linear target: tanh(z·v), z the standardised features, "
        f"v random (seed {seed})")


@dataclasses.dataclass(frozen=True)
class PerSampleGrads:
    """A loop of `grad` against `vmap(grad)` on the same rows.

    Attributes:
      rows: how many rows (the first ones) the loop and the timed vmap ran on.
      max_abs_diff: largest |loop − vmap| over every gradient entry of those rows
        (either loop, of `grad` or of `jit(grad)`, against `jit(vmap(grad))`).
      loop, vmap: eager timings: a Python loop of `grad`, and `vmap(grad)`.
      loop_jit, vmap_jit: compiled timings: a loop of `jit(grad)` (compiled once
        for one sample, during its warm-up) and `jit(vmap(grad))`
        (`vmap_jit.compile_s` holds its compile time).
      norms: per-sample gradient norms sqrt(|dw|² + db²) for *all* N rows, shape (N,).
      residuals: `predict(params, x) − target` for all rows, shape (N,).
      tolerance: how far two correct computations may differ (see `agrees`).
      by_loop, by_vmap: `(dw, db)` of those rows, shapes (rows, D) and (rows,), from the
        timed loop of `grad` and the timed `jit(vmap(grad))`: the gradients compared.
    """

    rows: int
    max_abs_diff: float
    loop: TimingResult
    vmap: TimingResult
    vmap_jit: TimingResult
    loop_jit: TimingResult
    norms: np.ndarray
    residuals: np.ndarray
    tolerance: float
    by_loop: tuple[np.ndarray, np.ndarray]
    by_vmap: tuple[np.ndarray, np.ndarray]
    load: MachineLoad | None = None

    @property
    def agrees(self) -> bool:
        """Loop and vmap equal to round-off: the pre-activation's round-off
        (`agreement_tolerance`) times the largest |x| and the slope of
        2(tanh z − t)(1 − tanh² z) in z, which is below 8 for |t| ≤ 1."""
        return self.max_abs_diff <= self.tolerance

    @property
    def speedup(self) -> float:
        """Like with like, both compiled: loop of `jit(grad)` median over
        `jit(vmap(grad))`, the median of their per-round ratios on the same rows."""
        return self.speedup_interval[0]

    @property
    def speedup_eager(self) -> float:
        """Like with like, neither compiled: loop of `grad` median over `vmap(grad)`
        the median of their per-round ratios on the same rows."""
        return self.speedup_eager_interval[0]

    @property
    def speedup_interval(self) -> tuple[float, float, float]:
        """`speedup` with its 95 % interval from the paired rounds (`ratio_interval`)."""
        return ratio_interval(self.loop_jit, self.vmap_jit)

    @property
    def speedup_eager_interval(self) -> tuple[float, float, float]:
        """`speedup_eager` with its 95 % interval from the paired rounds (`ratio_interval`)."""
        return ratio_interval(self.loop, self.vmap)


_per_sample_grads_jit = jax.jit(per_sample_grads)


def compare_per_sample_grads(
    params: Params, X: ArrayLike, targets: ArrayLike, loop_rows: int = 200,
    budget_s: float = 1.0,
    on_progress: Callable[[float, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PerSampleGrads:
    """Per-sample gradients of the squared loss, by a loop and by `vmap`, timed.

    Args:
      params: `(w, b)`, w shape (D,).
      X: shape (N, D).
      targets: shape (N,).
      loop_rows: the loop runs on the first min(N, loop_rows) rows (one `grad`
        call per row in Python is slow); the vmap timings use the same rows.
      budget_s: seconds of timing for the four together (at least 5 rounds are made).
      on_progress: called with (fraction done in [0, 1], what runs next).
      should_stop: passed to `time_call`; True abandons the run.

    Raises:
      TimingCancelled: `should_stop()` returned True.
    """
    X = jnp.asarray(X)
    targets = jnp.asarray(targets, dtype=X.dtype)
    rows = min(X.shape[0], loop_rows)
    Xr, tr = X[:rows], targets[:rows]

    def tick(fraction: float, label: str) -> None:
        if on_progress is not None:
            on_progress(fraction, label)

    last: list[Any] = [None]

    def loop(p: Params, x: jax.Array, t: jax.Array) -> Params:
        last[0] = per_sample_grads_loop(p, x, t)  # kept: compared below with vmap's
        return last[0]

    tick(0.0, "jit(vmap(grad)): compiling …")
    program = compile_ahead(per_sample_grads, params, Xr, tr)
    # The four run in turns, round by round, so load from other processes falls on all
    # of them alike and each speedup is a median of per-round ratios. The first call of
    # each is a warm-up: the eager loop's compiles its primitives and the final stack
    # for this many rows (later calls still trace grad anew per row, the cost shown);
    # the jit loop's compiles jit(grad) for one sample (its repeats pay N dispatches).
    ways = {"loop": lambda: loop(params, Xr, tr),
            "loop_jit": lambda: per_sample_grads_loop_jit(params, Xr, tr),
            "vmap": lambda: per_sample_grads(params, Xr, tr),
            "vmap_jit": program}
    run = time_interleaved(
        ways, budget_s=budget_s, min_rounds=5, max_rounds=40, should_stop=should_stop,
        on_progress=lambda done, most: tick(0.1 + 0.8 * done / most,
                                            f"The four ways in turn, round {done} …"))
    loop_t, loop_jit_t, vmap_t = (run.results[k] for k in ("loop", "loop_jit", "vmap"))
    jit_t = run.results["vmap_jit"]
    by_vmap = program()
    tick(0.9, "Gradient norms of every row …")
    by_loop_jit = per_sample_grads_loop_jit(params, Xr, tr)
    diff = max(float(jnp.max(jnp.abs(a - b)))
               for ref in (last[0], by_loop_jit) for a, b in zip(ref, by_vmap))
    # Every row, compiled: one XLA program for the whole batch instead of eager
    # primitives each compiled for the new batch size.
    dw, db = by_vmap if rows == X.shape[0] else _per_sample_grads_jit(params, X, targets)
    norms = np.sqrt(np.sum(np.asarray(dw, np.float64) ** 2, axis=1) + np.asarray(db, np.float64) ** 2)
    residuals = np.asarray(predict_vmap_in_axes(params, X) - targets)
    tick(1.0, "Done")
    tol = 8 * max(1.0, float(jnp.max(jnp.abs(Xr)))) * agreement_tolerance(params, Xr)
    return PerSampleGrads(rows, diff, loop_t, vmap_t, jit_t, loop_jit_t, norms, residuals, tol,
                          tuple(np.asarray(a) for a in last[0]),
                          tuple(np.asarray(a) for a in by_vmap), run.load)


def kernel_gradient_field(kernel_fn: KernelFn, params: Mapping, center: ArrayLike,
                          grid: ArrayLike) -> jax.Array:
    """∇ₓ k(x, c) at every grid point: `vmap(grad(k(params, ., c)))`.

    Args:
      kernel_fn: vector form `k(params, x, y)`.
      params: the kernel's parameters.
      center: c, shape (D,).
      grid: the points x, shape (G, D).

    Returns:
      shape (G, D); for the RBF kernel −2γ(x − c) k(x, c), zero at x = c.
    """
    center = jnp.asarray(center)
    return jax.vmap(jax.grad(lambda x: kernel_fn(params, x, center)))(jnp.asarray(grid))


def kernel_values(kernel_fn: KernelFn, params: Mapping, center: ArrayLike,
                  grid: ArrayLike) -> jax.Array:
    """k(x, c) at every grid point, shape (G,) (the surface under the arrows)."""
    center = jnp.asarray(center)
    return jax.vmap(lambda x: kernel_fn(params, x, center))(jnp.asarray(grid))


def rbf_gradient(gamma: float, center: ArrayLike, grid: ArrayLike) -> np.ndarray:
    """The RBF kernel's gradient in closed form, −2γ(x − c) exp(−γ|x − c|²), in float64.

    The check on what `kernel_gradient_field` gets from `grad`.

    Args:
      gamma: scalar.
      center: c, shape (D,).
      grid: x, shape (G, D).

    Returns:
      shape (G, D).
    """
    diff = np.asarray(grid, np.float64) - np.asarray(center, np.float64)
    k = np.exp(-gamma * np.sum(diff**2, axis=1, keepdims=True))
    return -2 * gamma * diff * k


def field_grid(X: np.ndarray, per_side: int, pad: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regular grid over the bounding box of 2-D data, padded on every side.

    Args:
      X: shape (N, 2).
      per_side: grid points along each axis.
      pad: fraction of each side's span added at both ends.

    Returns:
      `(xs, ys, points)`: xs, ys shape (per_side,); points shape (per_side², 2),
      row-major (x varies fastest), in the dtype of X.
    """
    X = np.asarray(X)
    lo, hi = X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
    # All points equal along an axis: a zero span would give per_side copies of one
    # point, so give that axis a unit span around them instead.
    span = np.where(hi > lo, hi - lo, 1.0)
    mid = (lo + hi) / 2
    lo, hi = mid - span * (0.5 + pad), mid + span * (0.5 + pad)
    xs = np.linspace(lo[0], hi[0], per_side)
    ys = np.linspace(lo[1], hi[1], per_side)
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(X.dtype)
    return xs.astype(X.dtype), ys.astype(X.dtype), points


def gram_summary(kernel_fn: KernelFn, params: Mapping, X: ArrayLike, gamma: ArrayLike) -> jax.Array:
    """s(γ): the mean off-diagonal entry of K, with `params['gamma']` set to γ.

    For the RBF kernel s(γ) = mean_{i≠j} exp(−γ d²_ij): near 1 when γ is small
    (every point looks alike), near 0 when γ is large (K → identity).

    Args:
      kernel_fn: vector form `k(params, x, y)`, with a "gamma" parameter.
      params: its other parameters (a "gamma" entry is replaced).
      X: shape (N, D), N ≥ 2.
      gamma: scalar.

    Returns:
      Scalar.
    """
    X = jnp.asarray(X)
    n = X.shape[0]
    K = gram(kernel_fn, {**params, "gamma": gamma}, X)
    return (jnp.sum(K) - jnp.trace(K)) / (n * (n - 1))


def finite_difference_step(gamma: ArrayLike, dtype: Any) -> np.ndarray:
    """The central-difference step for d/dγ at γ: γ·ε^(1/3), ε the dtype's round-off.

    Relative to γ, because the curve spans ten decades of γ: a fixed step would
    be larger than γ itself at the small end (stepping to a negative gamma) and
    lost in round-off at the large end. ε^(1/3) balances the round-off error of
    the difference (∝ ε/h) against its truncation error (∝ h²).
    """
    return np.asarray(gamma) * np.finfo(dtype).eps ** (1 / 3)


@partial(jax.jit, static_argnames=("kernel_fn", "fixed"))
def _curve(kernel_fn: KernelFn, fixed: tuple, X: jax.Array, gammas: jax.Array,
           steps: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    # The other parameters are static (Python numbers): an integer degree stays an
    # integer power, and only gamma is traced and differentiated.
    params = dict(fixed)
    summary = partial(gram_summary, kernel_fn, params, X)
    values, slopes = jax.vmap(jax.value_and_grad(summary))(gammas)
    fd = (jax.vmap(summary)(gammas + steps) - jax.vmap(summary)(gammas - steps)) / (2 * steps)
    return values, slopes, fd


@dataclasses.dataclass(frozen=True)
class SummaryCurve:
    """s(γ) and ds/dγ over a range of gammas, with a finite-difference check.

    Attributes:
      gammas, values, derivative, finite_difference: shape (G,) each.
      n_used: rows of X the summary was computed on (a seeded subsample when large).
    """

    gammas: np.ndarray
    values: np.ndarray
    derivative: np.ndarray
    finite_difference: np.ndarray
    n_used: int

    @property
    def max_relative_gap(self) -> float:
        """max |grad − FD| over the largest |grad|: the check, scaled to the curve."""
        scale = float(np.max(np.abs(self.derivative))) or 1.0
        return float(np.max(np.abs(self.derivative - self.finite_difference))) / scale


def summary_curve(kernel_fn: KernelFn, params: Mapping, X: ArrayLike, gammas: ArrayLike,
                  max_points: int = 300, seed: int = 0) -> SummaryCurve:
    """s(γ), ds/dγ by `vmap(value_and_grad)` over gammas, and central differences.

    Call inside the data's `dtype_scope`.

    Args:
      kernel_fn: vector form with a "gamma" parameter.
      params: the kernel's other parameters (Python numbers).
      X: shape (N, D), N ≥ 2.
      gammas: shape (G,), positive.
      max_points: above this many rows, a seeded subsample is used (K is N × N
        for every gamma).
      seed: of the subsample.
    """
    X = np.asarray(X)
    if X.shape[0] < 2:
        raise ValueError("The mean off-diagonal kernel value needs at least 2 points.")
    if X.shape[0] > max_points:
        X = X[np.sort(np.random.default_rng(seed).choice(X.shape[0], max_points, replace=False))]
    gammas = np.asarray(gammas, dtype=X.dtype)
    steps = finite_difference_step(gammas, X.dtype).astype(X.dtype)
    fixed = tuple(sorted((k, v if isinstance(v, int) else float(v))
                         for k, v in params.items() if k != "gamma"))
    values, slopes, fd = _curve(kernel_fn, fixed, jnp.asarray(X), jnp.asarray(gammas),
                                jnp.asarray(steps))
    return SummaryCurve(gammas, np.asarray(values), np.asarray(slopes), np.asarray(fd), X.shape[0])


def gamma_range(center: float, current: float, decades: float = 3.0, per_decade: int = 10) -> np.ndarray:
    """Log-spaced gammas `decades` either side of `center`, widened to include `current`.

    Returns:
      shape (G,), float64, increasing.
    """
    lo = min(np.log10(center) - decades, np.log10(current) - 0.5)
    hi = max(np.log10(center) + decades, np.log10(current) + 0.5)
    return np.logspace(lo, hi, int(round((hi - lo) * per_decade)) + 1)
