"""The Kernel lab's view: a kernel (or a sum or product of two) and what it does.

Its shape as a function of distance, its Gram matrix on the 1-D grid and on the data,
draws from the Gaussian-process prior, and its spectrum as gamma sweeps its range.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from core.kernels.composite import KernelChoice, kernel_gram, kernel_values
from core.lessons.gp import (GRID_HIGH, GRID_LOW, CholeskyError, gamma_sweep_values, grid_1d,
                             prior_samples, prior_sd, spectrum_sweep, subsample)

__all__ = ["PROFILE_POINTS", "DIAGNOSE_MAX_N", "kernel_profile", "kernel_lab_view", "kernel_lab_figure"]

PROFILE_POINTS = 201
DIAGNOSE_MAX_N = 500  # eigenvalues are O(N³): larger data are diagnosed on a seeded subset


def kernel_profile(choice: KernelChoice, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """The kernel as a line: k(0, r) against distance r when stationary, else k(1, y) against y.

    Returns:
      `(x, k)`, both shape (PROFILE_POINTS,).
    """
    if choice.stationary:
        r = grid_1d(PROFILE_POINTS, 0.0, GRID_HIGH - GRID_LOW)
        return r[:, 0], kernel_values(choice, [0.0], r, dtype=dtype)
    y = grid_1d(PROFILE_POINTS)
    return y[:, 0], kernel_values(choice, [1.0], y, dtype=dtype)


def kernel_lab_view(X: np.ndarray, y: np.ndarray | None, *, op: str, k1: str,
                    p1: Mapping[str, float], k2: str, p2: Mapping[str, float], dtype: str,
                    n_grid: int, draws: int, seed: int, jitter: float, sweep_on: str = "grid",
                    data_seed: int = 0) -> dict[str, np.ndarray]:
    """What the Kernel lab shows for one setting of its controls.

    Args:
      X: (N, D) the sidebar's data; y: its labels or None (not used: the order of K).
      op: "single", "sum" or "product"; k1, k2: keys of `KERNELS`; p1, p2: their
        parameters (k2 ignored for "single").
      dtype: "float32" or "float64". n_grid: points of the 1-D grid.
      draws, seed, jitter: the GP prior draws (jitter added to K's diagonal).
      sweep_on: "grid" or "data": whose K the gamma sweep diagonalises (the data
        through a seeded subset of at most DIAGNOSE_MAX_N points, seed `data_seed`).

    Returns:
      "profile_x", "profile_k" (PROFILE_POINTS,); "K_grid" (n_grid, n_grid); "K_data"
      (N, N) in the data's row order; "samples" (n_grid, draws) and "prior_sd" (n_grid,)
      when Cholesky succeeds with this jitter; "sweep_gammas" (G,), "sweep_eigenvalues"
      (G, M) and "sweep_effective_rank" (G,) when the kernel has a gamma.
    """
    choice = KernelChoice.make(op, k1, p1, k2, p2)
    grid = grid_1d(n_grid)
    x, k = kernel_profile(choice, dtype)
    K_grid = kernel_gram(choice, grid, dtype=dtype)
    view = {"profile_x": x, "profile_k": k, "K_grid": K_grid,
            "K_data": kernel_gram(choice, X, dtype=dtype)}
    try:
        view["samples"] = prior_samples(choice, grid, draws, seed, jitter, dtype=dtype)
        view["prior_sd"] = prior_sd(K_grid, jitter)
    except CholeskyError:
        pass  # the page says so and offers the smallest jitter that works
    if choice.has_gamma:
        X_sweep = grid if sweep_on == "grid" else subsample(X, DIAGNOSE_MAX_N, data_seed)
        sweep = spectrum_sweep(choice, X_sweep, gamma_sweep_values(), dtype)
        view["sweep_gammas"] = sweep.gammas
        view["sweep_eigenvalues"] = sweep.eigenvalues
        view["sweep_effective_rank"] = sweep.effective_rank
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
