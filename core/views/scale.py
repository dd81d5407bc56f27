"""The Scale page's view: the block engine's pooled K and row sums of the page's own points.

The page draws from the same sections the view is made of: `scale_points` (the
data and the median heuristic), `scale_setup` (gamma, the block plan and the memory
figures shown before anything runs), `start_blocks` (the engine, which the page
steps under a progress bar), `block_results` (what a finished or partial run
shows) and `dense_check` (the optional comparison with a dense K).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from core.dense.memory import DENSE_MEMORY_BUDGET_BYTES, check_dense_budget, dense_gram_bytes
from core.dense.auto import choose_auto
from core.dense.methods import get_method
from core.errors import TooLargeError
from core.kernels.functions import median_heuristic_gamma
from core.scale.plan import BlockResult, plan_blocks
from core.scale.pooling import MAX_POOLED_SIDE, pool_mean
from core.scale.run import BlockRun
from core.scale.synthetic import synthetic_points

__all__ = ["scale_points", "scale_setup", "start_blocks", "block_results", "dense_check",
           "scale_view", "scale_figure"]


def scale_points(kind: str, n: int, d: int, seed: int, dtype: str) -> dict[str, np.ndarray]:
    """The page's synthetic points and the median heuristic gamma on them.

    Returns:
      "X" (N, D) in `dtype` (`synthetic_points`); "gamma_median" () the median
      heuristic on 1,000 sampled points (`median_heuristic_gamma`).
    """
    X = synthetic_points(kind, n, d, seed, dtype)
    return {"X": X, "gamma_median": np.asarray(median_heuristic_gamma(X))}


def scale_setup(n: int, d: int, dtype: str, gamma_median: float, gamma_factor: float,
                rows_per_device: int | None = None) -> dict[str, Any]:
    """What the page shows before anything runs: gamma, the block plan, the memory a dense K needs.

    Args:
      n, d, dtype: the points' shape and precision.
      gamma_median: `scale_points`'s median heuristic; gamma_factor: gamma as a multiple of it.
      rows_per_device: rows per step and device; None: the engine's default for the platform.

    Returns:
      "gamma" (); the plan on all of JAX's devices: "steps", "block_rows",
      "rows_per_device", "tile_cols", "n_tiles", "pool", "pooled_shape" (2,),
      "n_devices", "platform" (str); bytes: "dense_bytes" (K alone), "budget_bytes"
      (the dense budget), "engine_bytes" (what the block engine holds), and for the
      dense method the app would run ("dense_method", its registry name):
      "dense_peak_bytes", "dense_fits" (bool), "dense_check_refusal" (str; "" when a
      dense check, one copy more, fits the budget).
    """
    devices = jax.devices()
    plan = plan_blocks(n, n, n_devices=len(devices), rows_per_device=rows_per_device,
                       platform=devices[0].platform)
    itemsize = np.dtype(dtype).itemsize
    # What the app's dense pages would run at this size: "auto"'s pick (by name, as
    # `core.dense` registers "auto" itself only when imported whole).
    dense = get_method(choose_auto(n, n, d, dtype))
    try:
        check_dense_budget(n, n, dtype, copies=dense.copies + 1, what="The dense check")
        refusal = ""
    except TooLargeError as err:
        refusal = str(err)
    peak = dense_gram_bytes(n, n, dtype, dense.copies)
    return {
        "gamma": np.asarray(gamma_factor * gamma_median),
        "steps": np.asarray(plan.n_blocks), "block_rows": np.asarray(plan.block_rows),
        "rows_per_device": np.asarray(plan.rows_per_device),
        "tile_cols": np.asarray(plan.tile_cols), "n_tiles": np.asarray(plan.n_tiles),
        "pool": np.asarray(plan.pool), "pooled_shape": np.asarray(plan.pooled_shape),
        "n_devices": np.asarray(len(devices)), "platform": np.asarray(devices[0].platform),
        "dense_bytes": np.asarray(dense_gram_bytes(n, n, dtype)),
        "budget_bytes": np.asarray(DENSE_MEMORY_BUDGET_BYTES),
        "engine_bytes": np.asarray(plan.device_bytes(d, itemsize) + plan.host_bytes(itemsize)),
        "dense_method": np.asarray(dense.name), "dense_peak_bytes": np.asarray(peak),
        "dense_fits": np.asarray(peak <= DENSE_MEMORY_BUDGET_BYTES),
        "dense_check_refusal": np.asarray(refusal),
    }


def start_blocks(X: np.ndarray, gamma: float, rows_per_device: int | None = None) -> BlockRun:
    """The block engine on the page's points, ready to step (`BlockRun.steps`); nothing runs yet."""
    return BlockRun(X, gamma, rows_per_device=rows_per_device, max_side=MAX_POOLED_SIDE)


def block_results(result: BlockResult) -> dict[str, np.ndarray]:
    """What the page shows of a block run, finished or partial (the first `done_rows` rows).

    Returns:
      "pooled" (at most MAX_POOLED_SIDE cells a side, NaN where rows are not done) the
      heatmap's block means of K, "pool_factor" () points per cell side, "row_sums"
      (done_rows,) float64 Σⱼ k(xᵢ, xⱼ), "row_sum_quantiles" (3,) their min, median
      and max (NaN with no row done), "done_rows", "elapsed_s", "seconds_per_entry",
      "steady_seconds_per_entry" (NaN with one step), "symmetric" (bool), and the plan
      it ran: "steps", "block_rows", "n_devices", "rows_per_device", "tile_cols", "n_tiles".
    """
    done = result.done_rows
    sums = result.row_sums[:done]
    steady = result.steady_seconds_per_entry
    plan = result.plan
    return {
        "pooled": result.pooled, "pool_factor": np.asarray(result.pool_factor),
        "row_sums": sums,
        "row_sum_quantiles": np.quantile(sums, [0, 0.5, 1]) if done else np.full(3, np.nan),
        "done_rows": np.asarray(done), "elapsed_s": np.asarray(result.elapsed_s),
        "seconds_per_entry": np.asarray(result.seconds_per_entry),
        "steady_seconds_per_entry": np.asarray(np.nan if steady is None else steady),
        "symmetric": np.asarray(result.symmetric),
        "steps": np.asarray(plan.n_blocks), "block_rows": np.asarray(plan.block_rows),
        "n_devices": np.asarray(plan.n_devices),
        "rows_per_device": np.asarray(plan.rows_per_device),
        "tile_cols": np.asarray(plan.tile_cols), "n_tiles": np.asarray(plan.n_tiles),
    }


def dense_check(X: np.ndarray, gamma: float, method: str, pooled: np.ndarray,
                row_sums: np.ndarray) -> dict[str, np.ndarray]:
    """The block engine's results against K computed whole by a dense method.

    Args:
      X, gamma: the points and gamma the engine ran on; method: a registry name.
      pooled, row_sums: the engine's complete `block_results`.

    Returns:
      "pooled_dense", "row_sums_dense" (float64) the same reductions of the dense K;
      "max_pooled_difference" () max |pooled − pooled_dense|, "max_row_sum_difference"
      () the largest relative difference of the row sums.
    """
    K = get_method(method).compute(X, None, gamma)
    pooled_dense = pool_mean(K, MAX_POOLED_SIDE)[0]
    sums_dense = K.sum(axis=1, dtype=np.float64)
    return {"pooled_dense": pooled_dense, "row_sums_dense": sums_dense,
            "max_pooled_difference": np.max(np.abs(pooled - pooled_dense)),
            "max_row_sum_difference": np.max(np.abs(row_sums - sums_dense) / sums_dense)}


def scale_view(*, kind: str, n: int, d: int, seed: int, dtype: str, gamma_factor: float,
               rows_per_device: int | None = None, computed: bool = True,
               checked: bool = False) -> dict[str, np.ndarray]:
    """What the Scale page shows for one setting of its controls.

    Args:
      kind, n, d, seed, dtype: the synthetic points (`synthetic_points`), N up to a million.
      gamma_factor: gamma as a multiple of the median heuristic (on 1,000 sampled points).
      rows_per_device: rows per step and device; None: the engine's default for the platform.
      computed: the page's "Compute" was clicked and finished; False: only what the
        page shows before the click (`scale_setup`).
      checked: with `computed`, also the dense check (`dense_check`), where its
        memory fits the budget.

    Returns:
      `scale_setup`'s arrays (among them "gamma" ()); with `computed`, `block_results`'
      ("pooled", "pool_factor", "row_sums" (N,) float64 Σⱼ k(xᵢ, xⱼ), ...); with
      `checked`, `dense_check`'s.
    """
    points = scale_points(kind, n, d, seed, dtype)
    view = scale_setup(n, d, dtype, float(points["gamma_median"]), gamma_factor, rows_per_device)
    if computed:
        run = start_blocks(points["X"], float(view["gamma"]), rows_per_device)
        for _ in run.steps():
            pass
        view.update(block_results(run.result()))
        if checked and not str(view["dense_check_refusal"]):
            view.update(dense_check(points["X"], float(view["gamma"]), str(view["dense_method"]),
                                    view["pooled"], view["row_sums"]))
    return view


def scale_figure(view: dict[str, np.ndarray]):
    """The page's pooled heatmap of K over the point indices (Plotly)."""
    import plotly.graph_objects as go

    if "pooled" not in view:
        return go.Figure().update_layout(title="Nothing computed: set computed=True")
    f = int(view["pool_factor"])
    centres = np.arange(view["pooled"].shape[0]) * f + (f - 1) / 2
    fig = go.Figure(go.Heatmap(z=view["pooled"], x=centres, y=centres, colorscale="Viridis",
                               zmin=0, zmax=1, colorbar={"title": "k"}))
    fig.update_layout(title=f"K, pooled block by block ({f}×{f} entries a cell)", width=560,
                      height=520, yaxis={"autorange": "reversed", "scaleanchor": "x"})
    return fig
