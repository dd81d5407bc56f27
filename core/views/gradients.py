"""The Gradients page's view: per-sample gradients, a kernel's gradient field, ds/dgamma,
one section function each.

The page draws each section from its function (the timed comparison once per data, seed
and rows; the field as its centre moves; the curve cached on its gamma range);
`gradients_view` is all of them. The timings of the loop and of vmap(grad) are measured
wherever the view runs (never copied from the app); every other number is the page's own.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from core.bench.report import ratio_interval
from core.kernels.functions import KERNELS
from core.lessons.gradients import (compare_per_sample_grads, field_grid, gamma_range,
                                    kernel_gradient_field, kernel_values, rbf_gradient,
                                    regression_targets, summary_curve)
from core.lessons.predict import init_params
from core.lessons.projection import pca_2d
from core.precision import dtype_scope

__all__ = ["SURFACE_SIDE", "ARROW_SIDE", "SUMMARY_MAX_POINTS", "kernel_has_gamma",
           "sample_targets", "per_sample_gradients", "norm_projection", "gradient_field",
           "gamma_span", "gamma_curve", "gradients_view", "gradients_figure"]

SURFACE_SIDE, ARROW_SIDE = 90, 21  # grid points per side: the contour, the arrows
SUMMARY_MAX_POINTS = 300


def kernel_has_gamma(kernel: str) -> bool:
    """Whether `KERNELS[kernel]` has a gamma (the ds/dγ section needs one)."""
    return any(p.name == "gamma" for p in KERNELS[kernel].params)


def sample_targets(X: np.ndarray, y: np.ndarray | None, *, seed: int) -> dict[str, np.ndarray]:
    """The regression targets of the squared loss: "targets" (N,), "targets_text" () how made."""
    targets, text = regression_targets(X, y, seed)
    return {"targets": targets, "targets_text": np.array(text)}


def _timings(result) -> np.ndarray:
    table = np.zeros(4, dtype=[("variant", "U24"), ("median_s", "f8"), ("q25_s", "f8"),
                               ("q75_s", "f8"), ("repeats", "i8"), ("compile_s", "f8")])
    for i, (name, t) in enumerate((("loop of grad", result.loop), ("vmap(grad)", result.vmap),
                                   ("loop of jit(grad)", result.loop_jit),
                                   ("jit(vmap(grad))", result.vmap_jit))):
        q25, q75 = np.percentile(t.times_s, [25, 75])
        table[i] = (name, t.median_s, q25, q75, t.repeats,
                    float("nan") if t.compile_s is None else t.compile_s)
    return table


def per_sample_gradients(X: np.ndarray, targets: np.ndarray, *, seed: int, loop_rows: int,
                         budget_s: float = 0.5,
                         on_progress: Callable[[float, str], None] | None = None
                         ) -> dict[str, np.ndarray]:
    """A loop of grad against vmap(grad) on the first R = min(N, loop_rows) rows, timed.

    Args:
      X: (N, D) data, float32 or float64 (the dtype computed in); targets: (N,).
      seed: of `init_params(D, seed)`.
      loop_rows: the loops run on the first R rows.
      budget_s: seconds of timing for the four together.
      on_progress: called with (fraction done, what runs next).

    Returns:
      "grads_vmap_dw" (R, D), "grads_vmap_db" (R,) by jit(vmap(grad)) and "grads_loop_dw",
      "grads_loop_db" by a loop of grad (equal to round-off); "grad_max_abs_diff" () the
      largest |loop − vmap| (either loop), "grad_agrees" () within round-off, "grad_rows" ()
      R; "grad_norms" (N,) every row's gradient norm; "grad_timings" (4,) records measured
      here (compile_s: jit(vmap(grad))'s only); "grad_speedup" (3,) loop of jit(grad) over
      jit(vmap(grad)) and "grad_speedup_eager" (3,) loop of grad over vmap(grad), each
      (median of the per-round ratios, low, high: its 95 % interval; the four are timed
      in turns, round by round); "grad_loop_per_row_s" () and "grad_loop_all_rows_s" ()
      the loop of grad's median per row, and that times N; "grad_other_cores" () other
      processes' CPU during the timing, in cores (NaN: not measured).
    """
    n, d = X.shape
    weights = init_params(d, seed, dtype=X.dtype.type)
    with dtype_scope(X.dtype):
        result = compare_per_sample_grads(weights, X, targets, loop_rows=min(n, loop_rows),
                                          budget_s=budget_s, on_progress=on_progress)
    per_row = result.loop.median_s / result.rows
    return {"grads_vmap_dw": result.by_vmap[0], "grads_vmap_db": result.by_vmap[1],
            "grads_loop_dw": result.by_loop[0], "grads_loop_db": result.by_loop[1],
            "grad_max_abs_diff": np.array(result.max_abs_diff),
            "grad_agrees": np.array(result.agrees), "grad_rows": np.array(result.rows),
            "grad_norms": result.norms, "grad_timings": _timings(result),
            "grad_speedup": np.array(ratio_interval(result.loop_jit, result.vmap_jit)),
            "grad_speedup_eager": np.array(ratio_interval(result.loop, result.vmap)),
            "grad_loop_per_row_s": np.array(per_row), "grad_loop_all_rows_s": np.array(per_row * n),
            "grad_other_cores": np.array(np.nan if result.loop.other_cores is None
                                         else result.loop.other_cores)}


def norm_projection(X: np.ndarray) -> dict[str, np.ndarray]:
    """Where the gradient norms are drawn: "norm_points" (N, 2), X itself centred for D ≤ 2,
    else its first two principal components; "norm_explained" (2,) their share of variance."""
    Z, explained = pca_2d(X)
    return {"norm_points": Z, "norm_explained": explained}


def gradient_field(X: np.ndarray, *, kernel: str, params: Mapping[str, float],
                   center_index: int) -> dict[str, np.ndarray]:
    """∇ₓk(x, c) around the centre c = X[center_index], for 2-D X.

    Returns:
      "field_xs", "field_ys" (SURFACE_SIDE,), "field_surface" (SURFACE_SIDE, SURFACE_SIDE)
      k(x, c); "field_points" (ARROW_SIDE², 2) and "field_gradients" (ARROW_SIDE², 2)
      ∇ₓk(x, c) there; "field_center" (2,); "field_at_center" (2,) ∇ₓk(c, c); for RBF,
      "field_rbf_gap" () max |vmap(grad) − (−2γ(x − c)k)| over the arrows.
    """
    fn = KERNELS[kernel].fn
    center = X[center_index]
    xs, ys, surface_points = field_grid(X, SURFACE_SIDE)
    _, _, arrow_points = field_grid(X, ARROW_SIDE)
    with dtype_scope(X.dtype):
        surface = np.asarray(kernel_values(fn, params, center, surface_points))
        field = np.asarray(kernel_gradient_field(fn, params, center, arrow_points))
        at_center = np.asarray(kernel_gradient_field(fn, params, center, center[None]))[0]
    view = {"field_xs": xs, "field_ys": ys,
            "field_surface": surface.reshape(SURFACE_SIDE, SURFACE_SIDE),
            "field_points": arrow_points, "field_gradients": field, "field_center": center,
            "field_at_center": at_center}
    if kernel == "rbf":
        closed_form = rbf_gradient(params["gamma"], center, arrow_points)
        view["field_rbf_gap"] = np.array(np.max(np.abs(field - closed_form)))
    return view


def gamma_span(default_gamma: float, gamma: float) -> tuple[float, float, int]:
    """The ds/dγ curve's gammas (`gamma_range` around the data's gamma, with the current one)
    as (first, last, count): the scalars the page caches the curve on."""
    gammas = gamma_range(default_gamma, gamma)
    return float(gammas[0]), float(gammas[-1]), len(gammas)


def gamma_curve(kernel: str, params: Mapping[str, float], X: np.ndarray, lo: float, hi: float,
                count: int) -> dict[str, np.ndarray]:
    """s(γ) and ds/dγ of `KERNELS[kernel]` on X at `count` log-spaced gammas from lo to hi.

    params' "gamma" is replaced by each γ.

    Returns:
      "curve_gammas", "curve_values" s(γ), "curve_derivative" ds/dγ by grad,
      "curve_finite_difference" (G,); "curve_max_relative_gap" () max |grad − FD| over
      max |grad|; "curve_n_used" () the points used (a seeded subsample above
      SUMMARY_MAX_POINTS).
    """
    gammas = np.logspace(np.log10(lo), np.log10(hi), count)
    fixed = {k: v for k, v in params.items() if k != "gamma"}
    with dtype_scope(X.dtype):
        curve = summary_curve(KERNELS[kernel].fn, fixed, X, gammas, max_points=SUMMARY_MAX_POINTS)
    return {"curve_gammas": curve.gammas, "curve_values": curve.values,
            "curve_derivative": curve.derivative,
            "curve_finite_difference": curve.finite_difference,
            "curve_max_relative_gap": np.array(curve.max_relative_gap),
            "curve_n_used": np.array(curve.n_used)}


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
      The sections' arrays: `sample_targets` ("targets*"), `per_sample_gradients`
      ("grads_*", "grad_*"), `norm_projection` ("norm_*"); for D = 2 `gradient_field`
      ("field_*"); with a gamma `gamma_curve` ("curve_*").
    """
    view = sample_targets(X, y, seed=seed)
    view.update(per_sample_gradients(X, view["targets"], seed=seed, loop_rows=loop_rows,
                                     budget_s=budget_s))
    view.update(norm_projection(X))
    if X.shape[1] == 2:
        view.update(gradient_field(X, kernel=kernel, params=params, center_index=center_index))
    if kernel_has_gamma(kernel):
        view.update(gamma_curve(kernel, params, X, *gamma_span(default_gamma, params["gamma"])))
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
