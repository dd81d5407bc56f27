"""Plotly figures of the Precision lab: error against offset, on log-log axes.

Same conventions as `ui.charts.shared`: title, axis titles with units, hover values,
NumPy arrays, the Streamlit theme's colours (light and dark).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go

__all__ = ["error_vs_offset_chart"]


def error_vs_offset_chart(
    offsets: np.ndarray,
    errors: Mapping[str, np.ndarray],
    title: str,
    error_name: str,
    floor: float,
    current_offset: float | None = None,
    guide: tuple[str, np.ndarray] | None = None,
) -> go.Figure:
    """Max error of each method (one line each) against the offset, log-log.

    Args:
      offsets: shape (P,), positive.
      errors: method label -> shape (P,) errors (0 allowed).
      title: chart title.
      error_name: y axis title with units, e.g. "max |ΔK| (K is unitless)".
      floor: errors below it (exact zeros included) are drawn at it, since a log
        axis has no 0; hover shows the true value.
      current_offset: drawn as a vertical line, if given.
      guide: (name, shape (P,)) drawn dashed, e.g. the cancellation estimate.
    """
    fig = go.Figure()
    for label, err in errors.items():
        err = np.asarray(err, dtype=float)
        fig.add_trace(go.Scatter(
            x=offsets, y=np.maximum(err, floor), customdata=err, mode="lines+markers", name=label,
            hovertemplate=f"{label}<br>offset %{{x:.3g}}<br>{error_name} = %{{customdata:.3g}}"
                          "<extra></extra>",
        ))
    if guide is not None:
        name, values = guide
        fig.add_trace(go.Scatter(x=offsets, y=np.maximum(values, floor), mode="lines", name=name,
                                 line=dict(dash="dash", color="gray"),
                                 hovertemplate=f"{name}<br>offset %{{x:.3g}}<br>%{{y:.3g}}<extra></extra>"))
    if current_offset is not None and current_offset > 0:
        fig.add_vline(x=current_offset, line=dict(color="gray", dash="dot", width=1),
                      annotation_text="current offset", annotation_position="bottom right")
    fig.update_layout(
        title=title, height=440, margin=dict(l=10, r=10, t=50, b=10),
        xaxis=dict(title="offset added to every coordinate (data units)", type="log"),
        yaxis=dict(title=error_name, type="log", exponentformat="power"),
        legend=dict(orientation="h", yanchor="top", y=-0.2),
    )
    return fig
