"""Plotly figure builders shared by the pages.

Every chart gets a title, axis titles with units and hover values; colours come
from perceptually uniform scales (Viridis for values, a diverging scale centred
on zero for differences) and the Streamlit theme, so light and dark both work.
Arrays go to Plotly as NumPy arrays (sent as typed binary), never as lists.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from core.scale.pooling import MAX_POOLED_SIDE, pool_mean

__all__ = ["cell_centres", "pooled_heatmap_figure", "matrix_heatmap", "projection_axis_titles",
           "scatter_2d", "value_histogram", "histogram_bars", "spectrum_chart"]


def cell_centres(n: int, factor: int) -> np.ndarray:
    """The point index at the centre of each pooled cell along a side of n points.

    Cell c covers points c·f … min(n, (c + 1)·f) − 1; its centre is the middle of
    them (a whole number for f = 1, so unpooled cells sit on their own index). The
    last cell is shorter when f does not divide n.
    """
    starts = np.arange(0, n, factor)
    stops = np.minimum(starts + factor, n)
    return (starts + stops - 1) / 2


def pooled_heatmap_figure(
    pooled: np.ndarray,
    factor: int,
    shape: tuple[int, int],
    title: str,
    value_name: str,
    *,
    colorscale: str = "Viridis",
    zmin: float | None = None,
    zmax: float | None = None,
    zmid: float | None = None,
    highlight_rows: Sequence[int] = (),
    height: int = 520,
) -> go.Figure:
    """A heatmap of already pooled means of an (N, M) matrix, over point indices.

    Args:
      pooled: (ceil(N / f), ceil(M / f)) means of f × f blocks (f = 1: the matrix).
      factor: f, points per cell side.
      shape: (N, M), the shape of the matrix the cells pool: the axes run over its
        point indices, -0.5 … N - 0.5, whatever the number of cells.
      title, value_name: the chart title and the colour bar's title.
      highlight_rows: point indices (rows) to mark with a line.

    Returns:
      The figure: each cell drawn over the points it covers (x, y: the cells'
      centres in point indices, `cell_centres`).
    """
    n, m = shape
    rows, cols = cell_centres(n, factor), cell_centres(m, factor)
    if pooled.shape != (rows.size, cols.size):
        raise ValueError(f"{pooled.shape} cells do not pool a {n} × {m} matrix by {factor}.")
    if factor > 1:  # hover has no arithmetic: the cell's centre (x.5 for an even f)
        where = (f"cell centred on row %{{y:,.1f}}, col %{{x:,.1f}}<br>"
                 f"({factor}×{factor} points pooled)")
        what = f"mean {value_name}"
    else:
        where, what = "row %{y}, col %{x}", value_name
    fig = go.Figure(go.Heatmap(
        z=pooled, x=cols, y=rows, colorscale=colorscale, zmin=zmin, zmax=zmax, zmid=zmid,
        # Above the matrix, not beside it: in a narrow column the width is what is scarce.
        colorbar=dict(title=dict(text=value_name, side="right"), orientation="h", thickness=10,
                      y=1.01, yanchor="bottom", len=1.0),
        hovertemplate=f"{where}<br>{what} = %{{z:.4g}}<extra></extra>",
    ))
    for r in highlight_rows:
        fig.add_hline(y=r, line=dict(color="#ff4b4b", width=1))
    subtitle = f" (pooled: each cell is the mean of {factor}×{factor} entries)" if factor > 1 else ""
    # Square cells with tight axes at any width: y is tied to x (scaleanchor), both axes
    # shrink their domain rather than pad their range (constrain="domain"), and the
    # ranges end at the outer edges of the first and last points. Without constrain on
    # y, a plot area taller than wide pads the rows to e.g. -400…800 and shrinks the
    # matrix inside it. The ranges are in point indices, as x and y: ranges in cell
    # indices (0…447) showed only the first cell of a pooled N = 100,000.
    fig.update_layout(
        title=dict(text=title + subtitle), height=height, margin=dict(l=10, r=10, t=90, b=10),
        xaxis=dict(title="column j (point index)", range=[-0.5, m - 0.5], constrain="domain",
                   showgrid=False, zeroline=False),
        yaxis=dict(title="row i (point index)", range=[n - 0.5, -0.5], scaleanchor="x",
                   scaleratio=1, constrain="domain", constraintoward="top", showgrid=False,
                   zeroline=False),
    )
    return fig


def matrix_heatmap(
    M: np.ndarray,
    title: str,
    value_name: str,
    **options,
) -> tuple[go.Figure, int]:
    """A heatmap of M (N, M), pooled to at most MAX_POOLED_SIDE cells a side.

    Args:
      M: the matrix.
      title, value_name, options: as `pooled_heatmap_figure`.

    Returns:
      `(figure, factor)`: factor 1 means every entry is drawn; f > 1 means each
      cell is the mean of an f × f block (the caller says so on the page).
    """
    pooled, factor = pool_mean(M, MAX_POOLED_SIDE)
    return pooled_heatmap_figure(pooled, factor, M.shape, title, value_name, **options), factor


def projection_axis_titles(d: int, explained: np.ndarray) -> tuple[str, str]:
    """The scatter's axis titles for D-dimensional data in 2-D: x₁, x₂ up to D = 2, else
    the principal components with the share of variance each keeps (`explained` (2,))."""
    if d <= 2:
        return "x₁", "x₂"
    return f"PC 1 ({explained[0]:.0%} of variance)", f"PC 2 ({explained[1]:.0%})"


def scatter_2d(Z: np.ndarray, labels: np.ndarray | None, title: str, axis_titles: tuple[str, str],
               selected: Sequence[int] = ()) -> go.Figure:
    """Points Z (N, 2), coloured by label; selected points drawn larger."""
    color = labels.astype(str) if labels is not None else None
    fig = go.Figure()
    groups = np.unique(color) if color is not None else [None]
    for g in groups:
        idx = np.flatnonzero(color == g) if g is not None else np.arange(Z.shape[0])
        fig.add_trace(go.Scatter(
            x=Z[idx, 0], y=Z[idx, 1], mode="markers", name=f"label {g}" if g is not None else "points",
            customdata=idx, marker=dict(size=6, opacity=0.8),
            hovertemplate="point %{customdata}<br>(%{x:.3g}, %{y:.3g})<extra></extra>",
        ))
    if len(selected):
        sel = np.asarray(selected)
        fig.add_trace(go.Scatter(x=Z[sel, 0], y=Z[sel, 1], mode="markers", name="selected",
                                 marker=dict(size=12, symbol="circle-open", color="#ff4b4b",
                                             line=dict(width=2)), hoverinfo="skip"))
    fig.update_layout(title=title, height=420, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title=axis_titles[0], yaxis_title=axis_titles[1],
                      legend=dict(orientation="h", yanchor="top", y=-0.2), dragmode="select")
    return fig


def value_histogram(values: np.ndarray, title: str, value_name: str) -> go.Figure:
    """Histogram of the finite `values` (any shape), counts on the y axis.

    NaN marks "not computed yet" in partial results (the Scale page); np.histogram
    cannot take it, and it is not a value to count.
    """
    values = np.asarray(values).ravel()
    values = values[np.isfinite(values)]
    counts, edges = np.histogram(values, bins=60) if values.size else (np.zeros(0, int), np.zeros(1))
    return histogram_bars(counts, edges, title, value_name)


def histogram_bars(counts: np.ndarray, edges: np.ndarray, title: str, value_name: str) -> go.Figure:
    """A histogram already counted: `counts` (B,) in the bins between `edges` (B + 1,)."""
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(go.Bar(x=centres, y=counts, width=np.diff(edges),
                           hovertemplate=f"{value_name} ≈ %{{x:.3g}}<br>count %{{y}}<extra></extra>"))
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title=value_name, yaxis_title="number of entries", bargap=0)
    return fig


def spectrum_chart(eigenvalues: np.ndarray, title: str) -> go.Figure:
    """Eigenvalues (N,) in descending order, |λ| on a log axis, coloured by sign.

    A log axis cannot show λ ≤ 0, and dropping them hides an indefinite matrix:
    the negative ones are drawn at |λ| in red (exact zeros at the smallest
    positive |λ| shown, marked "0" on hover), so every eigenvalue has a marker.
    """
    ev = np.asarray(eigenvalues, dtype=np.float64)
    k = np.arange(1, ev.size + 1)
    mag = np.abs(ev)
    floor = float(mag[mag > 0].min()) if np.any(mag > 0) else 1.0
    shown = np.where(mag > 0, mag, floor)
    fig = go.Figure()
    for mask, name, color in ((ev > 0, "λ > 0", "#1f77b4"), (ev <= 0, "λ ≤ 0 (drawn at |λ|)", "#d62728")):
        if not np.any(mask):
            continue
        fig.add_trace(go.Scatter(
            x=k[mask], y=shown[mask], customdata=ev[mask], mode="markers", name=name,
            marker=dict(size=4, color=color),
            hovertemplate="λ<sub>%{x}</sub> = %{customdata:.3g}<extra></extra>"))
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title="index k (descending order)",
                      yaxis_title="|eigenvalue| |λ<sub>k</sub>|", yaxis_type="log",
                      legend=dict(orientation="h", y=-0.25))
    return fig
