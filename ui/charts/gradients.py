"""What the Gradients page draws: the timings, gradient norms, a kernel's gradient field
(a fragment), s(gamma); each from core.views.gradients.

Charts follow `ui.charts.shared`: a title, axis titles with units, hover values, NumPy
arrays to Plotly (arrows are NaN-separated segments, not lists), Viridis for values,
the default Streamlit theme for light and dark.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.kernels.functions import KERNELS
from core.views.gradients import ARROW_SIDE, gradient_field
from ui.charts.anatomy import timing_bars
from ui.export import data_source, reproduce_control
from ui.state.settings import Settings, grid_label
from ui.state.url import bound, url_keys

__all__ = ["URL", "gradient_timing_chart", "norm_axis_titles", "gradient_norm_scatter",
           "gradient_field_chart", "field_section", "summary_value_chart",
           "summary_derivative_chart", "arrow_segments"]

# The Gradients page's URL names: the rows of the loop of grad, the gradient field's centre.
URL = url_keys("gradients", loop_rows="w_grad_loop_rows", center="w_grad_center")


def gradient_timing_chart(view: dict[str, np.ndarray]) -> go.Figure:
    """The four variants' time per call on the same rows (median, IQR bars)."""
    t, rows = view["grad_timings"], int(view["grad_rows"])
    return timing_bars([f"{v} ({rows} rows)" for v in t["variant"]], t["median_s"],
                       "Per-sample gradients: time per call (median; bars: IQR)",
                       t["q75_s"] - t["q25_s"])


def norm_axis_titles(view: dict[str, np.ndarray], d: int) -> tuple[str, str]:
    """The norm scatter's axes: the features for D ≤ 2, else the principal components."""
    explained = view["norm_explained"]
    return ("x₁", "x₂") if d <= 2 else (f"PC 1 ({explained[0]:.0%} of variance)",
                                         f"PC 2 ({explained[1]:.0%})")

_ACCENT = "#ff4b4b"


def gradient_norm_scatter(Z: np.ndarray, norms: np.ndarray, title: str,
                          axis_titles: tuple[str, str]) -> go.Figure:
    """The points Z (N, 2), coloured by their per-sample gradient norm (N,)."""
    idx = np.arange(Z.shape[0])
    fig = go.Figure(go.Scatter(
        x=Z[:, 0], y=Z[:, 1], mode="markers", customdata=np.stack([idx, norms], axis=1),
        marker=dict(size=7, color=norms, colorscale="Viridis", showscale=True,
                    colorbar=dict(title=dict(text="‖∇ loss‖"))),
        hovertemplate="point %{customdata[0]}<br>‖∇ loss‖ = %{customdata[1]:.3g}<extra></extra>",
    ))
    fig.update_layout(title=title, height=420, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title=axis_titles[0], yaxis_title=axis_titles[1])
    return fig


def arrow_segments(tails: np.ndarray, vectors: np.ndarray, max_length: float,
                   head: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """x and y coordinates of arrows as one NaN-separated polyline (for one trace).

    Arrows are scaled together so that the longest is `max_length` long: their
    relative lengths stay those of the vectors.

    Args:
      tails: shape (G, 2).
      vectors: shape (G, 2).
      max_length: data units.
      head: arrowhead length as a fraction of the arrow.

    Returns:
      `(x, y)`, each shape (9 G,): shaft, then two head strokes, each ended by NaN.
    """
    lengths = np.linalg.norm(vectors, axis=1)
    longest = lengths.max() if lengths.size and lengths.max() > 0 else 1.0
    shafts = vectors * (max_length / longest)
    heads = tails + shafts
    # A zero vector has no direction: its head strokes collapse onto its tail
    # instead of becoming 0/0 = NaN.
    norm = np.linalg.norm(shafts, axis=1, keepdims=True)
    unit = np.divide(shafts, norm, out=np.zeros_like(shafts), where=norm > 0)
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    back = -unit * norm * head
    wing1 = heads + np.stack([c * back[:, 0] - s * back[:, 1], s * back[:, 0] + c * back[:, 1]], axis=1)
    wing2 = heads + np.stack([c * back[:, 0] + s * back[:, 1], -s * back[:, 0] + c * back[:, 1]], axis=1)
    nan = np.full(tails.shape[0], np.nan)
    xs = np.stack([tails[:, 0], heads[:, 0], nan, heads[:, 0], wing1[:, 0], nan,
                   heads[:, 0], wing2[:, 0], nan], axis=1).ravel()
    ys = np.stack([tails[:, 1], heads[:, 1], nan, heads[:, 1], wing1[:, 1], nan,
                   heads[:, 1], wing2[:, 1], nan], axis=1).ravel()
    return xs, ys


def gradient_field_chart(xs: np.ndarray, ys: np.ndarray, surface: np.ndarray,
                         arrow_points: np.ndarray, gradients: np.ndarray, center: np.ndarray,
                         data: np.ndarray, title: str) -> go.Figure:
    """k(x, c) as a filled contour, ∇ₓk(x, c) as arrows, the data and the centre c on top.

    Args:
      xs, ys: the surface grid, shapes (nx,), (ny,).
      surface: k on that grid, shape (ny, nx).
      arrow_points: arrow tails, shape (G, 2); gradients there, shape (G, 2).
      center: c, shape (2,).
      data: the data points, shape (N, 2).
    """
    spacing = float(np.min(np.diff(np.unique(arrow_points[:, 0])))) if len(arrow_points) > 1 else 1.0
    ax, ay = arrow_segments(arrow_points, gradients, 0.9 * spacing)
    mag = np.linalg.norm(gradients, axis=1)
    fig = go.Figure()
    fig.add_trace(go.Contour(
        x=xs, y=ys, z=surface, colorscale="Viridis", ncontours=20, line=dict(width=0),
        colorbar=dict(title=dict(text="k(x, c)")), name="k(x, c)",
        hovertemplate="x = (%{x:.3g}, %{y:.3g})<br>k(x, c) = %{z:.3g}<extra></extra>",
    ))
    # A dark halo under a white stroke: readable on every part of the Viridis surface.
    fig.add_trace(go.Scatter(x=ax, y=ay, mode="lines", line=dict(color="rgba(0,0,0,0.55)", width=3.5),
                             hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=ax, y=ay, mode="lines", line=dict(color="white", width=1.5),
                             name="∇ₓ k(x, c) (scaled)", hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=arrow_points[:, 0], y=arrow_points[:, 1], mode="markers", showlegend=False,
        marker=dict(size=10, opacity=0), name="gradient",
        customdata=np.column_stack([gradients, mag]),
        hovertemplate="x = (%{x:.3g}, %{y:.3g})<br>∇ₓk = (%{customdata[0]:.3g}, "
                      "%{customdata[1]:.3g})<br>‖∇ₓk‖ = %{customdata[2]:.3g}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=data[:, 0], y=data[:, 1], mode="markers", name="data points",
        marker=dict(size=4, color="rgba(255,255,255,0.35)", line=dict(width=0.5, color="black")),
        customdata=np.arange(data.shape[0]),
        hovertemplate="point %{customdata}<br>(%{x:.3g}, %{y:.3g})<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=center[:1], y=center[1:2], mode="markers", name="centre c",
        marker=dict(size=16, symbol="star", color=_ACCENT, line=dict(width=1, color="white")),
        hovertemplate="centre c = (%{x:.3g}, %{y:.3g})<extra></extra>",
    ))
    fig.update_layout(title=title, height=600, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(title="x₁ (data units)", range=[xs[0], xs[-1]], constrain="domain"),
                      yaxis=dict(title="x₂ (data units)", range=[ys[0], ys[-1]], scaleanchor="x"),
                      legend=dict(orientation="h", y=-0.12))
    return fig


@st.fragment
def field_section(settings: Settings, X: np.ndarray, data_name: str, loop_rows: int,
                  default_gamma: float, export_note: str) -> None:
    """Section 2: ∇ₓk(x, c) around a centre point the user picks (2-D data only).

    A fragment: moving the centre reruns only this section, and the export follows it.
    """
    n, d = X.shape
    kernel = KERNELS[settings.kernel]
    st.header("2. The gradient field of the kernel")
    center_index = (bound(st.slider, "Centre point (index into X)", 0, n - 1, 0, key=URL.center)
                    if d == 2 else 0)
    reproduce_control("gradients", data_source(settings), dict(
        seed=int(settings.seed), kernel=settings.kernel, params=dict(settings.params),
        loop_rows=int(loop_rows), center_index=int(center_index),
        default_gamma=float(default_gamma)), notes=[export_note])
    if d != 2:
        st.info(f"The field is drawn for 2-D data only: {data_name} has D = {d} features, and "
                "arrows in a 2-D projection would not be the gradient. Choose Blobs, Two moons, "
                "Circles or Uniform square in the sidebar.", icon=":material/info:")
        return
    st.markdown(
        f"For a centre point c, `vmap(grad(lambda x: k(params, x, c)))` over a grid gives "
        f"∇ₓk(x, c) at every grid point: the direction in which the {kernel.label} kernel's "
        "similarity to c grows fastest. It points towards c and vanishes at c itself."
    )
    field = gradient_field(X, kernel=settings.kernel, params=settings.params,
                           center_index=center_index)
    st.plotly_chart(gradient_field_chart(
        field["field_xs"], field["field_ys"], field["field_surface"], field["field_points"],
        field["field_gradients"], field["field_center"], X,
        f"∇ₓ k(x, c) around point {center_index} ({kernel.label})"), key="w_grad_field_chart")
    c1, c2 = st.columns(2)
    at_center = field["field_at_center"]
    # + 0.0 turns a signed zero into 0: "-0" would read as a (tiny) negative gradient.
    c1.metric("∇ₓk at x = c", f"({at_center[0] + 0.0:.3g}, {at_center[1] + 0.0:.3g})",
              help="Zero for the smooth kernels: the kernel peaks at c.")
    if "field_rbf_gap" in field:
        c2.metric("max |vmap(grad) − (−2γ(x − c)k)|", f"{field['field_rbf_gap']:.3g}",
                  help="Against the RBF gradient in closed form.")
    elif settings.kernel == "laplacian":
        c2.caption("The Laplacian kernel has a kink at c: there `grad` returns one of its "
                   "subgradients, not zero.")
    st.caption(f"Arrows on a {ARROW_SIDE}×{ARROW_SIDE} grid, scaled together so the longest "
               "fills one grid cell; hover an arrow's tail for its value.")


def _mark_gamma(fig: go.Figure, gamma: float) -> None:
    fig.add_vline(x=gamma, line=dict(color=_ACCENT, dash="dash", width=2),
                  annotation_text=f"current γ = {grid_label(gamma)}", annotation_position="top")


def summary_value_chart(gammas: np.ndarray, values: np.ndarray, gamma: float, title: str) -> go.Figure:
    """s(γ) against γ on a log axis, with the current γ marked."""
    fig = go.Figure(go.Scatter(x=gammas, y=values, mode="lines", name="s(γ)",
                               hovertemplate="γ = %{x:.3g}<br>s(γ) = %{y:.4g}<extra></extra>"))
    _mark_gamma(fig, gamma)
    fig.update_layout(title=title, height=380, margin=dict(l=10, r=10, t=60, b=10),
                      xaxis=dict(title="γ (1 / data units², log scale)", type="log"),
                      yaxis=dict(title="s(γ): mean off-diagonal k(xᵢ, xⱼ)", range=[-0.02, 1.02]),
                      showlegend=False)
    return fig


def summary_derivative_chart(gammas: np.ndarray, derivative: np.ndarray, finite_difference: np.ndarray,
                             gamma: float, title: str) -> go.Figure:
    """ds/dγ from `jax.grad` (line) and from central differences (markers)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=gammas, y=derivative, mode="lines", name="jax.grad",
                             line=dict(width=3),
                             hovertemplate="γ = %{x:.3g}<br>grad: %{y:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=gammas, y=finite_difference, mode="markers", name="finite difference",
                             marker=dict(symbol="circle-open", size=8, color="#f28e2b",
                                         line=dict(width=2)),
                             hovertemplate="γ = %{x:.3g}<br>finite difference: %{y:.4g}<extra></extra>"))
    _mark_gamma(fig, gamma)
    fig.update_layout(title=title, height=380, margin=dict(l=10, r=10, t=60, b=10),
                      xaxis=dict(title="γ (1 / data units², log scale)", type="log"),
                      yaxis=dict(title="ds/dγ (data units²)"),
                      legend=dict(orientation="h", y=-0.2))
    return fig
