"""The Workbench's view, as arrays: the user's kernel batched three ways, and K over gamma.

`workbench_arrays` takes the kernel as a Python function k(params, x, y). The app never
runs a user's kernel in its own process: the page gets the same numbers from
`core.workbench.run.workbench_view` (a bounded worker, the same `WAYS` and
`gamma_frames`); this function is what the "Reproduce in Python" export runs on the
user's machine, where the kernel is the user's own Python.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import jax
import numpy as np

from core.precision import dtype_scope
from core.scale.pooling import pool_mean
from core.views.gram import display_order
from core.workbench.timings import time_kernel_ways
from core.workbench.ways import WAYS, gamma_frames

__all__ = ["FRAME_COUNT", "FRAME_SIDE", "FRAME_DECADES", "frame_gammas", "pooled_frame",
           "timing_table", "workbench_arrays", "workbench_figure"]

# The live heatmap's precomputed gammas: 64 from a thousandth to a thousand times the
# data's default, each K pooled to at most 128 × 128 cells.
FRAME_COUNT, FRAME_SIDE, FRAME_DECADES = 64, 128, 3
_FRAME_CHUNK_BYTES = 64 << 20  # full (N, N) matrices one chunk of the frames may hold


def frame_gammas(default_gamma: float) -> np.ndarray:
    """The live heatmap's gammas: `FRAME_COUNT` log-spaced around the data's default gamma."""
    centre = math.log10(default_gamma)
    return np.logspace(centre - FRAME_DECADES, centre + FRAME_DECADES, FRAME_COUNT)


def pooled_frame(K: np.ndarray) -> dict[str, np.ndarray]:
    """K (N, N) as the live heatmap shows it after a release: "K_pooled", block means at
    most `FRAME_SIDE` cells a side (K itself up to that), and "factor" () the block's side."""
    pooled, factor = pool_mean(K, FRAME_SIDE)
    return {"K_pooled": pooled, "factor": np.asarray(factor)}


def timing_table(timings: Mapping[str, Any]) -> np.ndarray:
    """`time_kernel_ways`'s results as one record per program (the page's timing table).

    Returns:
      shape (P,), fields "program" (text), "median_s", "fastest_s", "slowest_s",
      "repeats", "compile_s" (seconds).
    """
    table = np.zeros(len(timings), dtype=[("program", "U24"), ("median_s", "f8"),
                                          ("fastest_s", "f8"), ("slowest_s", "f8"),
                                          ("repeats", "i8"), ("compile_s", "f8")])
    for row, (name, t) in zip(table, timings.items()):
        row["program"], row["median_s"], row["repeats"] = name, t.median_s, len(t.times_s)
        row["fastest_s"], row["slowest_s"] = min(t.times_s), max(t.times_s)
        row["compile_s"] = float("nan") if t.compile_s is None else t.compile_s
    return table


def workbench_arrays(kernel: Callable[..., Any], X: np.ndarray, y: np.ndarray | None, *,
                     params: Mapping[str, float], default_gamma: float | None = None,
                     timed: bool = True) -> dict[str, np.ndarray]:
    """The Gram matrix of `kernel` three ways on X, and pooled K over a grid of gammas.

    Args:
      kernel: k(params, x, y) for x, y of shape (D,), returning one number.
      X: (N, D), float32 or float64: the computation's dtype. y: labels or None; the
        rows are put in label order, as on the page.
      params: the kernel's parameters (gamma included when the kernel reads it).
      default_gamma: the data's default gamma, the centre of the frames' grid; None
        (or no gamma in params): no frames.

    Returns:
      "X" (N, D) in the page's row order; "K" (N, N) by Method I (nested vmap),
      "K_method_two" and "K_pair_list" the same matrix batched the other two ways;
      with a gamma, "frame_gammas" (FRAME_COUNT,) and "frames" (FRAME_COUNT, c, c)
      float32, K pooled to at most FRAME_SIDE cells a side at each of them, and
      "K_pooled" (c, c), K pooled so at the gamma of `params` (`pooled_frame`); with `timed`,
      "timings": each way and the built-in RBF timed here, on this machine (`timing_table`).
    """
    X = X[display_order(y, True, X.shape[0])]
    view = {"X": X}
    with dtype_scope(X.dtype):
        p = {k: np.asarray(v, dtype=X.dtype) for k, v in params.items()}
        for name, key in (("Method I", "K"), ("Method II", "K_method_two"),
                          ("pair list", "K_pair_list")):
            view[key] = np.asarray(jax.jit(WAYS[name][0](kernel))(X, X, p))
        if default_gamma is not None and "gamma" in p:
            gammas = frame_gammas(default_gamma).astype(X.dtype)
            rest = {k: v for k, v in p.items() if k != "gamma"}
            batch = int(max(1, min(gammas.size, _FRAME_CHUNK_BYTES // max(1, view["K"].nbytes))))
            frames = jax.jit(gamma_frames(kernel, FRAME_SIDE, batch))(X, gammas, rest)
            view["frame_gammas"], view["frames"] = gammas, np.asarray(frames)
            view["K_pooled"] = pooled_frame(view["K"])["K_pooled"]
    if timed:  # measured where this runs, never copied from the app
        view["timings"] = timing_table(time_kernel_ways(kernel, "", X, params, X.dtype.name))
    return view


def workbench_figure(view: dict[str, np.ndarray]):
    """The page's main figure: K of the user's kernel as a heatmap, in label order (Plotly)."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=view["K"], colorscale="Viridis", colorbar={"title": "k"}))
    fig.update_layout(title="K of your kernel, rows and columns in label order", width=560,
                      height=520, yaxis={"autorange": "reversed", "scaleanchor": "x"})
    return fig
