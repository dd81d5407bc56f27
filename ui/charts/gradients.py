"""Charts of the Gradients page: gradient norms, a kernel's gradient field, s(gamma).

Same conventions as `ui.charts.shared`: a title, axis titles with units, hover values,
NumPy arrays to Plotly (arrows are NaN-separated segments, not lists), Viridis
for values, the default Streamlit theme for light and dark.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.state.settings import grid_label

__all__ = ["gradient_norm_scatter", "gradient_field_chart", "summary_value_chart",
           "summary_derivative_chart", "arrow_segments"]

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
