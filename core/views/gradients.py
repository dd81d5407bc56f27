"""The Gradients page's view: per-sample gradients, a kernel's gradient field, ds/dgamma.

The timings of the loop and of vmap(grad) are measured wherever the view runs (never
copied from the app); every other number is the page's own.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from core.kernels.functions import KERNELS
from core.lessons.gradients import (SummaryCurve, compare_per_sample_grads, field_grid,
                                    gamma_range, kernel_gradient_field, kernel_values,
                                    regression_targets, summary_curve)
from core.lessons.predict import init_params, per_sample_grads, per_sample_grads_loop
from core.precision import dtype_scope

__all__ = ["SURFACE_SIDE", "ARROW_SIDE", "SUMMARY_MAX_POINTS", "gamma_curve", "gradients_view",
           "gradients_figure"]

SURFACE_SIDE, ARROW_SIDE = 90, 21  # grid points per side: the contour, the arrows
SUMMARY_MAX_POINTS = 300


def gamma_curve(kernel: str, params: Mapping[str, float], X: np.ndarray, lo: float, hi: float,
                count: int) -> SummaryCurve:
    """s(γ) and ds/dγ of `KERNELS[kernel]` on X at `count` log-spaced gammas from lo to hi.

    The page caches it on these scalars; params' "gamma" is replaced by each γ.
    """
    gammas = np.logspace(np.log10(lo), np.log10(hi), count)
    fixed = {k: v for k, v in params.items() if k != "gamma"}
    with dtype_scope(X.dtype):
        return summary_curve(KERNELS[kernel].fn, fixed, X, gammas, max_points=SUMMARY_MAX_POINTS)


def _timings(result) -> np.ndarray:
    table = np.zeros(4, dtype=[("variant", "U24"), ("median_s", "f8"), ("q25_s", "f8"),
                               ("q75_s", "f8"), ("repeats", "i8")])
    for i, (name, t) in enumerate((("loop of grad", result.loop), ("vmap(grad)", result.vmap),
                                   ("loop of jit(grad)", result.loop_jit),
                                   ("jit(vmap(grad))", result.vmap_jit))):
        q25, q75 = np.percentile(t.times_s, [25, 75])
        table[i] = (name, t.median_s, q25, q75, t.repeats)
    return table


def gradients_view(X: np.ndarray, y: np.ndarray | None, *, seed: int, kernel: str,
                   params: Mapping[str, float], loop_rows: int, center_index: int,
                   default_gamma: float, budget_s: float = 0.5) -> dict[str, np.ndarray]:
    """What the Gradients page shows for the sidebar's data and kernel and its own controls.

    Args:
      X: (N, D) data, float32 or float64 (the dtype computed in). y: (N,) labels or None
        (the targets: ±1 by label, else a seeded linear target).
      seed: of `init_params(D, seed)` and of the unlabelled target.
      kernel, params: a key of `KERNELS` and its parameters (gamma included).
      loop_rows: the loop of grad runs on the first min(N, loop_rows) rows.
      center_index: the gradient field's centre point, a row of X (2-D data only).
      default_gamma: the data's median-heuristic gamma, the centre of the gamma range.
      budget_s: seconds of timing per variant (the page's half second).

    Returns:
      "targets" (N,); "grads_vmap_dw" (R, D), "grads_vmap_db" (R,) by vmap(grad) and
      "grads_loop_dw", "grads_loop_db" by a loop of grad on the first R rows (equal to
      round-off); "grad_norms" (N,) every row's gradient norm; "grad_timings" (4,)
      records measured here. For D = 2: "field_xs", "field_ys" (SURFACE_SIDE,),
      "field_surface" (SURFACE_SIDE, SURFACE_SIDE) k(x, c), "field_points"
      (ARROW_SIDE², 2) and "field_gradients" (ARROW_SIDE², 2) ∇ₓk(x, c), "field_center"
      (2,). With a gamma: "curve_gammas", "curve_values" s(γ), "curve_derivative" ds/dγ
      by grad, "curve_finite_difference" (G,).
    """
    n, d = X.shape
    targets, _ = regression_targets(X, y, seed)
    weights = init_params(d, seed, dtype=X.dtype.type)
    rows = min(n, loop_rows)
    view = {"targets": targets}
    with dtype_scope(X.dtype):
        result = compare_per_sample_grads(weights, X, targets, loop_rows=rows, budget_s=budget_s)
        by_vmap = per_sample_grads(weights, X[:rows], targets[:rows])
        by_loop = per_sample_grads_loop(weights, X[:rows], targets[:rows])
    view["grads_vmap_dw"], view["grads_vmap_db"] = (np.asarray(a) for a in by_vmap)
    view["grads_loop_dw"], view["grads_loop_db"] = (np.asarray(a) for a in by_loop)
    view["grad_norms"], view["grad_timings"] = result.norms, _timings(result)
    fn = KERNELS[kernel].fn
    if d == 2:
        center = X[center_index]
        xs, ys, surface_points = field_grid(X, SURFACE_SIDE)
        _, _, arrow_points = field_grid(X, ARROW_SIDE)
        with dtype_scope(X.dtype):
            surface = np.asarray(kernel_values(fn, params, center, surface_points))
            field = np.asarray(kernel_gradient_field(fn, params, center, arrow_points))
        view.update(field_xs=xs, field_ys=ys, field_surface=surface.reshape(SURFACE_SIDE, SURFACE_SIDE),
                    field_points=arrow_points, field_gradients=field, field_center=center)
    if any(p.name == "gamma" for p in KERNELS[kernel].params):
        gammas = gamma_range(default_gamma, params["gamma"])
        curve = gamma_curve(kernel, params, X, float(gammas[0]), float(gammas[-1]), len(gammas))
        view.update(curve_gammas=curve.gammas, curve_values=curve.values,
                    curve_derivative=curve.derivative,
                    curve_finite_difference=curve.finite_difference)
    return view


def gradients_figure(view: dict[str, np.ndarray]):
    """The page's gradient field (2-D data), else its ds/dγ curve, in Plotly."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if "field_surface" in view:
        fig.add_trace(go.Contour(x=view["field_xs"], y=view["field_ys"], z=view["field_surface"],
                                 colorscale="Viridis", name="k(x, c)"))
        p, g = view["field_points"], view["field_gradients"]
        scale = 0.9 * float(np.ptp(view["field_xs"])) / 20 / max(float(np.max(np.abs(g))), 1e-30)
        fig.add_trace(go.Scatter(x=np.column_stack([p[:, 0], p[:, 0] + scale * g[:, 0],
                                                    np.full(len(p), np.nan)]).ravel(),
                                 y=np.column_stack([p[:, 1], p[:, 1] + scale * g[:, 1],
                                                    np.full(len(p), np.nan)]).ravel(),
                                 mode="lines", line={"color": "white"}, name="∇ₓ k(x, c)"))
        c = view["field_center"]
        fig.add_trace(go.Scatter(x=c[:1], y=c[1:], mode="markers", name="centre c",
                                 marker={"symbol": "star", "size": 14}))
        fig.update_layout(title="∇ₓ k(x, c) around the centre", yaxis={"scaleanchor": "x"})
    elif "curve_gammas" in view:
        fig.add_trace(go.Scatter(x=view["curve_gammas"], y=view["curve_derivative"],
                                 mode="lines", name="jax.grad"))
        fig.add_trace(go.Scatter(x=view["curve_gammas"], y=view["curve_finite_difference"],
                                 mode="markers", name="finite difference"))
        fig.update_layout(title="ds/dγ", xaxis={"type": "log", "title": "γ"})
    return fig
