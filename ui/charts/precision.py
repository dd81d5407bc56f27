"""What the Precision lab draws: its controls' grids, the error table, the |ΔK| heatmaps,
and error against offset on log-log axes.

Same conventions as `ui.charts.shared`: title, axis titles with units, hover values,
NumPy arrays, the Streamlit theme's colours (light and dark). Each helper takes the
arrays of a section of `core.views.precision` as it returned them.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.charts.shared import matrix_heatmap

__all__ = ["OFFSETS", "SCALES", "TABLE_COLUMNS", "number", "floor_of", "error_table",
           "error_heatmaps", "sweep_chart", "matmul_table", "error_vs_offset_chart"]

# 0, then 1-2-5 steps: round numbers a user can read off the slider.
OFFSETS = (0.0, *(float(f"{m * 10.0**e:.3g}") for e in range(-1, 5) for m in (1, 2, 5)), 1e5)
SCALES = tuple(float(f"{m * 10.0**e:.3g}") for e in range(-2, 2) for m in (1, 2, 5)) + (100.0,)

# The table's columns: heading -> the array of `precision_at_offset` it shows.
TABLE_COLUMNS = {"max |ΔK|": "k_max_error", "median |ΔK|": "k_median_error",
                 "max |Δd²|": "d2_max_error", "median |Δd²|": "d2_median_error",
                 "d² < 0 before clipping": "negatives", "max |Kᵢᵢ − 1|": "diagonal_deviation"}


def number(x: float) -> str:
    """An offset or spread as the sliders write it: 1,000 and 0.1, not 1e+03."""
    return f"{x:,.0f}" if x >= 1000 else f"{x:g}"


def floor_of(dtype: str) -> float:
    """The smallest error drawn: eps/100, below the dtype's round-off (a log axis has no 0)."""
    return float(np.finfo(dtype).eps) / 100


def error_table(at_offset: Mapping[str, np.ndarray], labels: Sequence[str]) -> pd.DataFrame:
    """One row per method (its label), one column per error summary of `precision_at_offset`."""
    return pd.DataFrame({"method": list(labels),
                         **{heading: at_offset[field] for heading, field in TABLE_COLUMNS.items()}})


def error_heatmaps(at_offset: Mapping[str, np.ndarray], labels: Sequence[str],
                   floor: float) -> list[go.Figure]:
    """log₁₀ |ΔK| of each method (one figure each) on one shared colour scale.

    Entries below `floor` (exact ones included) are drawn at it.
    """
    top = float(np.max(at_offset["k_max_error"]))
    zmin, zmax = np.log10(floor), np.log10(max(top, floor * 10))
    rows = zip(labels, at_offset["k_abs_error"], at_offset["k_max_error"])
    return [matrix_heatmap(np.log10(np.maximum(error, floor)), f"{label}<br>max |ΔK| = {worst:.2e}",
                           "log₁₀|ΔK|", zmin=zmin, zmax=zmax, height=340)[0]
            for label, error, worst in rows]


def sweep_chart(sweep: Mapping[str, np.ndarray], labels: Sequence[str], metric: str,
                setting: str, floor: float, current_offset: float) -> go.Figure:
    """`precision_sweep`'s max errors of K (metric "K") or of d² (with the cancellation guide).

    Args:
      setting: what the title adds in parentheses, e.g. "float32, N = 200, D = 5, spread 1".
    """
    if metric == "K":
        errors = dict(zip(labels, sweep["sweep_k_max_error"]))
        return error_vs_offset_chart(sweep["sweep_offsets"], errors,
                                     f"max |ΔK| against offset ({setting})", "max |ΔK| (unitless)",
                                     floor, current_offset)
    errors = dict(zip(labels, sweep["sweep_d2_max_error"]))
    guide = ("eps·D·(offset² + spread²): round-off of one |x|²", sweep["cancellation_scale"])
    return error_vs_offset_chart(sweep["sweep_offsets"], errors,
                                 f"max |Δd²| against offset ({setting})",
                                 "max |Δd²| (squared data units)", floor, current_offset, guide)


def matmul_table(effect: Mapping[str, np.ndarray], labels: Sequence[str]) -> pd.DataFrame:
    """`precision_matmul_effect`'s max |K(highest) − K(default)|, one row per method."""
    return pd.DataFrame({"method": list(labels),
                         "max |K(highest) − K(default)|": effect["matmul_effect"]})


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
