"""Charts of the vmap anatomy page: timings of the batched forms, the late-binding trap.

Same conventions as `ui.charts.shared`: a title, axis titles with units, hover values,
NumPy arrays to Plotly, the default Streamlit theme for light and dark.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from core.bench.report import format_seconds

__all__ = ["timing_bars", "late_binding_chart"]


def timing_bars(labels: Sequence[str], medians_s: Sequence[float], title: str,
                spreads_s: Sequence[float] | None = None, height: int = 320) -> go.Figure:
    """Horizontal bars of median run times on a log axis, fastest at the top.

    Args:
      labels: one name per bar.
      medians_s: median seconds per call, same length.
      title: the chart title.
      spreads_s: interquartile ranges in seconds, drawn as error bars (± half the
        IQR) and given on hover; optional.
    """
    med = np.asarray(medians_s, dtype=np.float64)
    order = np.argsort(med)[::-1]  # Plotly draws the first bar at the bottom
    names = np.asarray(labels, dtype=object)[order]
    text = np.asarray([format_seconds(v, 2) for v in med[order]], dtype=object)  # 2 sig. figures
    error = None
    if spreads_s is not None:
        error = dict(type="data", array=np.asarray(spreads_s, dtype=np.float64)[order] / 2,
                     visible=True)
    fig = go.Figure(go.Bar(
        x=med[order], y=names, orientation="h", text=text, textposition="auto", error_x=error,
        customdata=text if spreads_s is None else np.asarray(
            [f"{t} (IQR {format_seconds(v, 2)})" for t, v in
             zip(text, np.asarray(spreads_s, dtype=np.float64)[order])], dtype=object),
        hovertemplate="%{y}<br>median %{customdata} per call<extra></extra>",
    ))
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(title="median time per call (seconds, log scale)", type="log"),
                      yaxis=dict(title=None, automargin=True))
    return fig


def late_binding_chart(before: np.ndarray, partial_after: np.ndarray, lambda_after: np.ndarray,
                       new_reference: np.ndarray, title: str) -> go.Figure:
    """Predictions per point: before the rebinding, and each batched function after it.

    Args:
      before, partial_after, lambda_after, new_reference: shape (M,) each.
    """
    idx = np.arange(before.shape[0])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=idx, y=before, mode="lines", name="before (partial = lambda)",
                             line=dict(width=6, color="#9aa0a6"),
                             hovertemplate="point %{x}<br>before: %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=idx, y=new_reference, mode="lines", name="predict with the new params",
                             line=dict(width=6, color="#f2b134"),
                             hovertemplate="point %{x}<br>new params: %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=idx, y=partial_after, mode="markers", name="partial, after",
                             marker=dict(symbol="circle-open", size=9, line=dict(width=2),
                                         color="#1f77b4"),
                             hovertemplate="point %{x}<br>partial after: %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=idx, y=lambda_after, mode="markers", name="lambda, after",
                             marker=dict(symbol="x", size=8, color="#d62728"),
                             hovertemplate="point %{x}<br>lambda after: %{y:.4f}<extra></extra>"))
    # The legend at the bottom of the figure (yref "container") under a margin that holds
    # two rows of it: placed in plot fractions (y = -0.2) it sat on the x-axis title.
    fig.update_layout(title=title, height=400, margin=dict(l=10, r=10, t=50, b=80),
                      xaxis_title="point index i", yaxis_title="prediction tanh(w·xᵢ + b)",
                      legend=dict(orientation="h", yref="container", y=0, yanchor="bottom"))
    return fig
