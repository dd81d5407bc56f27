"""What the Fit page computes and compares: the surface on its grid, timed against the
loop; the 1-D fit beside kernel ridge regression; held-out densities by vmap and by loop.

Every comparison returns both results, their largest difference and the timings
(`core.bench.timing`: warm-up first, results forced, medians with spread).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import jax.numpy as jnp
import numpy as np

from core.bench.interleave import time_interleaved
from core.bench.report import ratio_interval
from core.bench.timing import TimingResult
from core.lessons.fit.model import (
    GPPosterior,
    gp_posterior,
    factor_K,
    kernel_ridge_mean,
    lml_surface,
    lml_surface_loop,
    log_density_of_points,
    log_density_of_points_loop,
)

__all__ = ["GAMMA_RANGE", "NOISE_RANGE", "surface_axes", "Surface", "compute_surface",
           "ALL_AT_ONCE_MAX_BYTES", "all_at_once_bytes", "SurfaceTiming", "time_surface", "FitCurve", "fit_curve", "HeldOut", "held_out"]

GAMMA_RANGE = (1e-3, 1e2)
NOISE_RANGE = (1e-6, 1e1)


def surface_axes(side: int, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """`side` log-spaced gammas over GAMMA_RANGE and noises over NOISE_RANGE, each (side,)."""
    return (np.logspace(*np.log10(GAMMA_RANGE), side).astype(dtype),
            np.logspace(*np.log10(NOISE_RANGE), side).astype(dtype))


@dataclasses.dataclass(frozen=True)
class Surface:
    """The LML on a (G, S) grid.

    Attributes:
      gammas: (G,). noises: (S,). lml: (G, S), NaN where K did not factor.
      best_gamma, best_noise, best_lml: the grid's largest finite LML and where (NaN if none).
      failed: how many cells are NaN.
    """

    gammas: np.ndarray
    noises: np.ndarray
    lml: np.ndarray
    best_gamma: float
    best_noise: float
    best_lml: float
    failed: int


def compute_surface(X: np.ndarray, y: np.ndarray, side: int, amplitude: float) -> Surface:
    """`lml_surface` on `surface_axes(side)` in X's dtype (call inside its dtype_scope)."""
    gammas, noises = surface_axes(side, X.dtype)
    lml = np.asarray(lml_surface(X, y, gammas, noises, X.dtype.type(amplitude)), dtype=np.float64)
    finite = np.isfinite(lml)
    if finite.any():
        i, j = np.unravel_index(np.nanargmax(np.where(finite, lml, np.nan)), lml.shape)
        best = (float(gammas[i]), float(noises[j]), float(lml[i, j]))
    else:
        best = (math.nan, math.nan, math.nan)
    return Surface(gammas.astype(np.float64), noises.astype(np.float64), lml, *best,
                   failed=int((~finite).sum()))


ALL_AT_ONCE_MAX_BYTES = 7e8  # the plain nested vmap holds every K at once (and XLA temporaries): not beyond this


def all_at_once_bytes(n: int, side: int, itemsize: int) -> float:
    """Bytes of the G·S matrices of N × N that the plain nested vmap factors together."""
    return float(side) * side * n * n * itemsize


@dataclasses.dataclass(frozen=True)
class SurfaceTiming:
    """The surface's one jitted call (two chunkings) against the Python double loop.

    Attributes:
      by_row: `lml_surface` with one gamma row at a time (the page's call).
      all_at_once: `lml_surface` with every gamma at once (the plain nested vmap);
        None when its matrices would exceed ALL_AT_ONCE_MAX_BYTES.
      loop: the double loop over `loop_cells` cells (evenly spaced gamma rows).
      loop_cells, cells: cells the loop ran; cells of the whole surface.
      max_abs_diff: largest |loop − one call| over the cells both computed (finite ones).
      all_at_once_bytes: the memory the plain nested vmap needs for its matrices.
    """

    by_row: TimingResult
    all_at_once: TimingResult | None
    loop: TimingResult
    loop_cells: int
    cells: int
    max_abs_diff: float
    all_at_once_bytes: float

    @property
    def loop_all_s(self) -> float:
        """The loop's median scaled to every cell (it makes one call per cell)."""
        return self.loop.median_s * self.cells / self.loop_cells

    @property
    def speedup_interval(self) -> tuple[float, float, float]:
        """Loop (scaled to every cell) / the page's call: the median of the per-round
        ratios (timed in the same rounds) and its range (`ratio_interval`)."""
        scale = self.cells / self.loop_cells
        return tuple(scale * r for r in ratio_interval(self.loop, self.by_row))

    @property
    def speedup(self) -> float:
        """`speedup_interval`'s ratio."""
        return self.speedup_interval[0]


def time_surface(X: np.ndarray, y: np.ndarray, side: int, amplitude: float, loop_rows: int = 4,
                 budget_s: float = 3.0, on_progress: Callable[[float, str], None] | None = None
                 ) -> SurfaceTiming:
    """Time `lml_surface` by rows and all at once, and `lml_surface_loop` on `loop_rows` rows.

    The loop's rows are spread evenly over the gammas: where K does not factor,
    LAPACK stops early, so the first rows alone (small gammas) would flatter it.
    Call inside X's dtype_scope; every call is made once before it is timed (compiling).
    """
    gammas, noises = surface_axes(side, X.dtype)
    Xj, yj, amp = jnp.asarray(X), jnp.asarray(y), X.dtype.type(amplitude)
    rows = gammas[np.linspace(0, side - 1, min(loop_rows, side)).round().astype(int)]
    report = on_progress or (lambda f, label: None)
    size = all_at_once_bytes(X.shape[0], side, X.dtype.itemsize)
    ways = {"by_row": lambda: lml_surface(Xj, yj, gammas, noises, amp),
            "loop": lambda: lml_surface_loop(Xj, yj, rows, noises, amp)}
    if size <= ALL_AT_ONCE_MAX_BYTES:
        ways["all_at_once"] = lambda: lml_surface(Xj, yj, gammas, noises, amp, gammas_at_once=side)
    report(0.0, "Compiling, then timing every way in turn …")
    # In turn, round by round: load from other processes falls on all of them alike.
    run = time_interleaved(ways, budget_s=budget_s * len(ways), min_rounds=3, max_rounds=9,
                           on_progress=lambda done, most: report(
                               done / most, f"Every way in turn, round {done} …"))
    by_row, loop, all_at_once = (run.results.get(k) for k in ("by_row", "loop", "all_at_once"))
    fast = np.asarray(lml_surface(Xj, yj, rows, noises, amp), dtype=np.float64)
    slow = lml_surface_loop(Xj, yj, rows, noises, amp)
    both = np.isfinite(fast) & np.isfinite(slow)
    report(1.0, "Done")
    diff = float(np.max(np.abs(fast[both] - slow[both]))) if both.any() else math.nan
    return SurfaceTiming(by_row, all_at_once, loop, len(rows) * side, side * side, diff, size)


@dataclasses.dataclass(frozen=True)
class FitCurve:
    """The 1-D fit on a grid, and kernel ridge regression's mean beside it.

    Attributes:
      grid: (G,) x values spanning the data. posterior: mean and variance there.
      krr_mean: (G,) kernel ridge regression with lambda = noise.
      max_gap: max |posterior mean − krr mean|; scale: max |posterior mean| (for a relative gap).
    """

    grid: np.ndarray
    posterior: GPPosterior
    krr_mean: np.ndarray
    max_gap: float
    scale: float


def fit_curve(X: np.ndarray, y: np.ndarray, gamma: float, noise: float, amplitude: float,
              points: int = 200) -> FitCurve:
    """The posterior of 1-D data X (N, 1) on `points` x values, beside kernel ridge regression.

    Raises:
      CholeskyError: K does not factor at this point (see `gp_posterior`).
    """
    lo, hi = float(X.min()), float(X.max())
    pad = 0.1 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, points).astype(X.dtype)
    post = gp_posterior(X, y, grid[:, None], gamma, noise, amplitude)
    post = GPPosterior(np.asarray(post.mean, np.float64), np.asarray(post.variance, np.float64))
    krr = np.asarray(kernel_ridge_mean(X, y, grid[:, None], gamma, noise, amplitude), np.float64)
    return FitCurve(grid.astype(np.float64), post, krr, float(np.max(np.abs(post.mean - krr))),
                    float(np.max(np.abs(post.mean))))


@dataclasses.dataclass(frozen=True)
class HeldOut:
    """Predictive log densities of the held-out points, by vmap and by a loop.

    Attributes:
      batched, loop: (M,) log p(y*ᵢ | X, y) each way. max_abs_diff: between them.
      posterior: mean and variance at the held-out rows (for the chart).
      vmap_timing, loop_timing: the two ways timed.
    """

    batched: np.ndarray
    loop: np.ndarray
    max_abs_diff: float
    posterior: GPPosterior
    vmap_timing: TimingResult
    loop_timing: TimingResult

    @property
    def speedup_interval(self) -> tuple[float, float, float]:
        """Loop / vmap: the median of the per-round ratios and its range (`ratio_interval`)."""
        return ratio_interval(self.loop_timing, self.vmap_timing)

    @property
    def speedup(self) -> float:
        """`speedup_interval`'s ratio."""
        return self.speedup_interval[0]

    @property
    def mean_log_density(self) -> float:
        return float(np.mean(self.batched))


def held_out(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, gamma: float,
             noise: float, amplitude: float, budget_s: float = 1.0) -> HeldOut:
    """`log_density_of_points` (vmap) against its loop, checked and timed.

    K is factored once (`factor_K`) and both ways share that factor: the timings
    compare only the batching of the per-point work. Call inside X's dtype_scope.

    Raises:
      CholeskyError: K does not factor at this point.
    """
    post = gp_posterior(X, y, X_test, gamma, noise, amplitude)  # raises the clear error first
    t = X.dtype.type
    hyper = (t(gamma), t(noise), t(amplitude))
    Xj = jnp.asarray(X)
    L, alpha = factor_K(Xj, jnp.asarray(y), *hyper)
    args = (jnp.asarray(X_test), jnp.asarray(y_test), Xj, L, alpha, *hyper)
    batched = np.asarray(log_density_of_points(*args), np.float64)  # compiles, outside the timing
    loop = log_density_of_points_loop(*args)
    # Both in turn, round by round (core.bench.interleave).
    run = time_interleaved({"vmap": lambda: log_density_of_points(*args),
                            "loop": lambda: log_density_of_points_loop(*args)},
                           budget_s=2 * budget_s, min_rounds=5, max_rounds=25)
    vmap_timing, loop_timing = run.results["vmap"], run.results["loop"]
    return HeldOut(batched, loop, float(np.max(np.abs(batched - loop))),
                   GPPosterior(np.asarray(post.mean, np.float64), np.asarray(post.variance, np.float64)),
                   vmap_timing, loop_timing)
