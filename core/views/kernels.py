"""The Kernel lab's view: a kernel (or a sum or product of two) and what it does.

Its shape as a function of distance, its Gram matrix on the 1-D grid and on the data,
draws from the Gaussian-process prior, whether K is positive definite in working
precision, and its spectrum as gamma sweeps its range. The page computes these parts
apart (each cached on its own scalars, the sweep one gamma at a time): each is a
section here, and `kernel_lab_view` is their sum.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from core.kernels.composite import KernelChoice, kernel_gram, kernel_values
from core.lessons.gp import (GRID_HIGH, GRID_LOW, CholeskyError, cholesky_ok, gamma_sweep_values,
                             grid_1d, pd_report, prior_samples, prior_sd, spectrum_point,
                             spectrum_sweep, subsample)
from core.lessons.spectrum import roundoff_bound
from core.views.gram import display_order

__all__ = ["PROFILE_POINTS", "DIAGNOSE_MAX_N", "DIAGNOSIS_FIELDS", "kernel_profile", "grid_gram",
           "data_gram", "prior_draws", "pd_diagnosis", "cholesky_with_jitter", "gamma_sweep",
           "kernel_lab_view", "kernel_lab_figure"]

PROFILE_POINTS = 201
DIAGNOSE_MAX_N = 500  # eigenvalues are O(N³): larger data are diagnosed on a seeded subset
# What `pd_diagnosis` and `cholesky_with_jitter` say of one matrix (the page's two tables).
DIAGNOSIS_FIELDS = ("n", "min_eigenvalue", "max_eigenvalue", "condition_number",
                    "beyond_roundoff", "roundoff_bound", "cholesky_ok", "smallest_jitter",
                    "cholesky_with_jitter")


def kernel_profile(choice: KernelChoice, dtype: str) -> dict[str, np.ndarray]:
    """The kernel as a line: k(0, r) against distance r when stationary, else k(1, y) against y.

    Returns:
      "profile_x", "profile_k", both shape (PROFILE_POINTS,).
    """
    if choice.stationary:
        r = grid_1d(PROFILE_POINTS, 0.0, GRID_HIGH - GRID_LOW)
        return {"profile_x": r[:, 0], "profile_k": kernel_values(choice, [0.0], r, dtype=dtype)}
    y = grid_1d(PROFILE_POINTS)
    return {"profile_x": y[:, 0], "profile_k": kernel_values(choice, [1.0], y, dtype=dtype)}


def grid_gram(choice: KernelChoice, n_grid: int, dtype: str) -> dict[str, np.ndarray]:
    """K on the 1-D grid: "grid_x" (n_grid,) the points, "K_grid" (n_grid, n_grid)."""
    grid = grid_1d(n_grid)
    return {"grid_x": grid[:, 0], "K_grid": kernel_gram(choice, grid, dtype=dtype)}


def data_gram(choice: KernelChoice, X: np.ndarray, y: np.ndarray | None, dtype: str,
              data_seed: int = 0) -> dict[str, np.ndarray]:
    """K on the data, and the points whose K is diagnosed (a seeded subset when N is large).

    Returns:
      "K_data" (N, N) in the data's row order; "data_order" (N,) the heatmap's order (by
      label when labelled); "X_diagnosed" (n, D), n = min(N, DIAGNOSE_MAX_N), and its
      "K_diagnosed" (n, n) (K_data itself when n = N).
    """
    K = kernel_gram(choice, X, dtype=dtype)
    X_sub = subsample(X, DIAGNOSE_MAX_N, data_seed)
    K_sub = K if X_sub.shape[0] == X.shape[0] else kernel_gram(choice, X_sub, dtype=dtype)
    return {"K_data": K, "data_order": display_order(y, True, X.shape[0]),
            "X_diagnosed": X_sub, "K_diagnosed": K_sub}


def prior_draws(choice: KernelChoice, K_grid: np.ndarray, draws: int, seed: int, jitter: float,
                dtype: str) -> dict[str, np.ndarray]:
    """Draws from the GP prior on the 1-D grid of `K_grid` (n_grid, n_grid).

    Returns:
      "samples" (n_grid, draws) and "prior_sd" (n_grid,), sqrt(k(x, x) + jitter).

    Raises:
      CholeskyError: the jitter is too small for this K.
    """
    samples = prior_samples(choice, grid_1d(K_grid.shape[0]), draws, seed, jitter, dtype=dtype)
    return {"samples": samples, "prior_sd": prior_sd(K_grid, jitter)}


def pd_diagnosis(K: np.ndarray) -> dict[str, np.ndarray]:
    """Whether K (N, N) is positive definite in its dtype: `pd_report`'s numbers, as 0-d arrays.

    Returns:
      "n", "min_eigenvalue", "max_eigenvalue", "condition_number", "cholesky_ok",
      "smallest_jitter", "roundoff_bound" (how far round-off can move an eigenvalue) and
      "beyond_roundoff" (the smallest eigenvalue is below minus that: an invalid kernel).

    Raises:
      CholeskyError: K has NaN or infinite entries (the kernel overflowed).
    """
    rep = pd_report(K)
    return {"n": np.asarray(rep.n), "min_eigenvalue": np.asarray(rep.min_eigenvalue),
            "max_eigenvalue": np.asarray(rep.max_eigenvalue),
            "condition_number": np.asarray(rep.condition_number),
            "cholesky_ok": np.asarray(rep.cholesky_ok),
            "smallest_jitter": np.asarray(rep.smallest_jitter),
            "roundoff_bound": np.asarray(roundoff_bound(rep.n, rep.max_eigenvalue, rep.dtype)),
            "beyond_roundoff": np.asarray(rep.beyond_roundoff)}


def cholesky_with_jitter(K: np.ndarray, jitter: float) -> dict[str, np.ndarray]:
    """"cholesky_with_jitter": whether K + jitter·I factors in K's dtype (0-d bool)."""
    return {"cholesky_with_jitter": np.asarray(cholesky_ok(K, jitter))}


def gamma_sweep(choice: KernelChoice, X: np.ndarray, dtype: str,
                evaluate: Callable = spectrum_point,
                on_progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """The spectrum of K on X (n, D) as every gamma of the kernel sweeps `gamma_sweep_values()`.

    Args:
      evaluate: one gamma's `spectrum_point` (the app passes a cached wrapper).
      on_progress: `on_progress(done, total)` after each gamma.

    Returns:
      "sweep_gammas" (G,), "sweep_eigenvalues" (G, n) descending, "sweep_effective_rank"
      (G,), "sweep_finite" (G,) bool, False where K overflowed (that row is NaN).
    """
    sweep = spectrum_sweep(choice, X, gamma_sweep_values(), dtype, evaluate=evaluate,
                           on_progress=on_progress)
    return {"sweep_gammas": sweep.gammas, "sweep_eigenvalues": sweep.eigenvalues,
            "sweep_effective_rank": sweep.effective_rank, "sweep_finite": sweep.finite}


def kernel_lab_view(X: np.ndarray, y: np.ndarray | None, *, op: str, k1: str,
                    p1: Mapping[str, float], k2: str, p2: Mapping[str, float], dtype: str,
                    n_grid: int, draws: int, seed: int, jitter: float, sweep_on: str = "grid",
                    data_seed: int = 0) -> dict[str, np.ndarray]:
    """What the Kernel lab shows for one setting of its controls.

    Args:
      X: (N, D) the sidebar's data; y: its labels or None (the heatmap's order).
      op: "single", "sum" or "product"; k1, k2: keys of `KERNELS`; p1, p2: their
        parameters (k2 ignored for "single").
      dtype: "float32" or "float64". n_grid: points of the 1-D grid.
      draws, seed, jitter: the GP prior draws (jitter added to K's diagonal).
      sweep_on: "grid" or "data": whose K the gamma sweep diagonalises (the data
        through a seeded subset of at most DIAGNOSE_MAX_N points, seed `data_seed`).

    Returns:
      the sections' arrays: `kernel_profile`, `grid_gram`, `data_gram`; `prior_draws`
      when Cholesky succeeds with this jitter; the diagnosis of each matrix that has
      one (no overflow): "diagnosed" (R,) its names ("grid", "data") and
      "diagnosis_<field>" (R,) for each of DIAGNOSIS_FIELDS; `gamma_sweep` when the
      kernel has a gamma.
    """
    choice = KernelChoice.make(op, k1, p1, k2, p2)
    view = kernel_profile(choice, dtype) | grid_gram(choice, n_grid, dtype)
    view |= data_gram(choice, X, y, dtype, data_seed)
    try:
        view |= prior_draws(choice, view["K_grid"], draws, seed, jitter, dtype)
    except CholeskyError:
        pass  # the page says so and offers the smallest jitter that works
    rows = {}
    for name, K in (("grid", view["K_grid"]), ("data", view["K_diagnosed"])):
        try:
            rows[name] = pd_diagnosis(K) | cholesky_with_jitter(K, jitter)
        except CholeskyError:
            continue  # K overflowed: the page says so, and diagnoses the other
    view["diagnosed"] = np.array(list(rows), dtype=str)
    for field in DIAGNOSIS_FIELDS:
        view[f"diagnosis_{field}"] = np.array([row[field] for row in rows.values()])
    if choice.has_gamma:
        X_sweep = view["grid_x"][:, None] if sweep_on == "grid" else view["X_diagnosed"]
        view |= gamma_sweep(choice, X_sweep, dtype)
    return view


def kernel_lab_figure(view: dict[str, np.ndarray]):
    """The page's draws from the GP prior (or, without them, the kernel's profile), in Plotly."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if "samples" in view:
        x = np.linspace(GRID_LOW, GRID_HIGH, view["samples"].shape[0])
        for j in range(view["samples"].shape[1]):
            fig.add_trace(go.Scatter(x=x, y=view["samples"][:, j], mode="lines", name=f"draw {j + 1}"))
        fig.update_layout(title="Draws from the GP prior", xaxis_title="x", yaxis_title="f(x)")
    else:
        fig.add_trace(go.Scatter(x=view["profile_x"], y=view["profile_k"], mode="lines"))
        fig.update_layout(title="The kernel's profile", xaxis_title="r", yaxis_title="k")
    return fig
