"""The Scale page's view: the block engine's pooled K and row sums of the page's own points."""

from __future__ import annotations

import numpy as np

from core.kernels.functions import median_heuristic_gamma
from core.scale.pooling import MAX_POOLED_SIDE
from core.scale.run import run_blocks
from core.scale.synthetic import synthetic_points

__all__ = ["scale_view", "scale_figure"]


def scale_view(*, kind: str, n: int, d: int, seed: int, dtype: str, gamma_factor: float,
               rows_per_device: int | None = None, computed: bool = True) -> dict[str, np.ndarray]:
    """What the Scale page shows for one setting of its controls.

    Args:
      kind, n, d, seed, dtype: the synthetic points (`synthetic_points`), N up to a million.
      gamma_factor: gamma as a multiple of the median heuristic (on 1,000 sampled points).
      rows_per_device: rows per step and device; None: the engine's default for the platform.
      computed: the page's "Compute" was clicked and finished; False: only gamma (the
        page shows no result before the click).

    Returns:
      "gamma" (); with `computed`, "pooled" (at most MAX_POOLED_SIDE cells a side: the
      size cap, whatever N) the heatmap's block means of K, "pool_factor" () points per
      cell side, "row_sums" (N,) float64 Σⱼ k(xᵢ, xⱼ).
    """
    X = synthetic_points(kind, n, d, seed, dtype)
    gamma = gamma_factor * median_heuristic_gamma(X)
    view = {"gamma": np.asarray(gamma)}
    if computed:
        result = run_blocks(X, gamma, rows_per_device=rows_per_device, max_side=MAX_POOLED_SIDE)
        view["pooled"] = result.pooled
        view["pool_factor"] = np.asarray(result.pool_factor)
        view["row_sums"] = result.row_sums
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
