"""Figures of the Scale page: block-engine results drawn without ever having K.

The pooled means come from `core.scale` already pooled (at most MAX_POOLED_SIDE cells a side),
so the heatmap draws each cell over the point indices it covers; row sums
of up to a million points are drawn as a band (min to max) and a mean line over
buckets of rows, so the browser gets at most a few thousand values.
"""

from __future__ import annotations

import math

from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.bench.report import format_seconds
from ui.charts.shared import pooled_heatmap_figure, value_histogram
from ui.charts.words import counted

__all__ = ["pooled_heatmap", "row_sum_profile", "row_sum_histogram", "format_duration",
           "format_count", "progress_text", "show_result"]

MAX_PROFILE_POINTS = 1500


def pooled_heatmap(pooled: np.ndarray, factor: int, n: int, title: str,
                   done_rows: int | None = None) -> go.Figure:
    """The block engine's pooled means of K(X, X) as a heatmap over point indices.

    Args:
      pooled: (ceil(N / f), ceil(N / f)) means; NaN cells (rows not computed yet)
        are left blank.
      factor: f, points per cell side.
      n: N: the axes run over point indices 0 … N - 1.
      title: the chart title.
      done_rows: rows computed so far when the result is partial; None if complete.
    """
    fig = pooled_heatmap_figure(pooled, factor, (n, n), title,
                                "k(x<sub>i</sub>, x<sub>j</sub>)", zmin=0, zmax=1)
    notes = [f"pooled: each cell is the mean of {factor}×{factor} entries"] if factor > 1 else []
    if done_rows is not None and done_rows < n:
        notes.append(f"partial: {done_rows:,} of {n:,} rows ({done_rows / n:.0%})")
    subtitle = f"<br><sup>{' · '.join(notes)}</sup>" if notes else ""
    fig.update_layout(title=dict(text=title + subtitle), margin=dict(t=70))
    return fig


def _buckets(values: np.ndarray, max_points: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Start index, min, mean and max of consecutive buckets of `values` (NaN-free)."""
    size = max(1, math.ceil(values.size / max_points))
    starts = np.arange(0, values.size, size)
    return (starts, np.minimum.reduceat(values, starts), np.add.reduceat(values, starts)
            / np.diff(np.append(starts, values.size)), np.maximum.reduceat(values, starts))


# Plotly draws <sub> in titles and hover text: real subscripts, not a raw "x_i".
ROW_SUM = "row sum Σ<sub>j</sub> k(x<sub>i</sub>, x<sub>j</sub>)"


def row_sum_profile(row_sums: np.ndarray, title: str) -> go.Figure:
    """Row sums along the point index: a mean line in a min–max band per bucket of rows.

    Args:
      row_sums: (n_done,) the rows computed so far, in order.
      title: the chart title.
    """
    starts, low, mean, high = _buckets(np.asarray(row_sums, dtype=np.float64), MAX_PROFILE_POINTS)
    size = int(starts[1] - starts[0]) if starts.size > 1 else 1
    where = f"rows %{{x}}…%{{x}}+{size - 1}" if size > 1 else "row %{x}"
    fig = go.Figure()
    if size > 1:
        fig.add_trace(go.Scatter(x=starts, y=high, mode="lines", line=dict(width=0),
                                 hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=starts, y=low, mode="lines", line=dict(width=0), fill="tonexty",
                                 name=f"min–max over {size:,} rows", hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=starts, y=mean, mode="lines", name="mean" if size > 1 else "row sum",
        customdata=np.stack([low, high], axis=1),
        hovertemplate=(f"{where}<br>mean %{{y:.4g}} (min %{{customdata[0]:.4g}}, "
                       "max %{customdata[1]:.4g})<extra></extra>") if size > 1
        else f"{where}<br>row sum %{{y:.4g}}<extra></extra>"))
    fig.update_layout(title=title, height=360, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title="point index i", yaxis_title=ROW_SUM,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    return fig


def row_sum_histogram(row_sums: np.ndarray, title: str) -> go.Figure:
    """Histogram of the row sums, counted in points."""
    fig = value_histogram(np.asarray(row_sums, dtype=np.float64), title, ROW_SUM)
    fig.update_layout(yaxis_title="number of points")
    fig.update_traces(hovertemplate="row sum ≈ %{x:.4g}<br>%{y} points<extra></extra>")
    return fig


def format_duration(seconds: float | None) -> str:
    """A wall-clock duration for a progress line: "0.4 s", "42 s", "3 min 05 s", "1 h 02 min"."""
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def format_count(count: int) -> str:
    """A large count in words to 3 significant figures: "4,000,000", "4.51 billion"."""
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if count >= scale and count >= 1e7:
            return f"{count / scale:.3g} {word}"
    return f"{count:,}"


def progress_text(done: int, total: int, elapsed: float, eta: float | None) -> str:
    """The progress bar's line: rows done, elapsed, and the time left once it is known."""
    left = "estimating the time left…" if eta is None else f"about {format_duration(eta)} left"
    return (f"{done:,} of {total:,} rows ({done / total:.0%}) · {format_duration(elapsed)} "
            f"elapsed · {left}")


def show_result(view: dict[str, Any], n: int, partial: bool) -> None:
    """A block run's metrics, plan, heatmap, row-sum figures and quantiles.

    Args:
      view: `core.views.scale.block_results` of the run.
      n: N, the points (K is N × N).
      partial: the run stopped before its last row (titles and keys say so).
    """
    done = int(view["done_rows"])
    if done == 0:
        st.caption("No row was finished before it stopped.")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Entries of K done", format_count(done * n),
              help=f"{done:,} rows × {n:,} columns = {done * n:,} entries. "
                   + ("K(X, X) is symmetric: the engine computes only the tiles from each "
                      "step's diagonal on and mirrors the others into the later rows' sums."
                      if view["symmetric"] else ""))
    c2.metric("Wall time (one run)", format_seconds(float(view["elapsed_s"]), 2),
              help="Including the one-off compilation of the block step.")
    steady = float(view["steady_seconds_per_entry"])
    c3.metric("Cost per entry (one run)",
              "n/a" if math.isnan(steady) else format_seconds(steady, 2),
              help="Wall time per entry after the first step (which compiles the block step). "
                   "Per entry of K done, computed or mirrored, so this is the number to "
                   "compare across N (benchmarks/block_engine.py measures it, and the cost "
                   "per computed entry, with their spread). With "
                   f"the first step: {format_seconds(float(view['seconds_per_entry']), 2)}.")
    st.caption(f"{counted(int(view['steps']), 'step')} of {int(view['block_rows']):,} rows "
               f"({counted(int(view['n_devices']), 'device')} × "
               f"{int(view['rows_per_device']):,} rows), each walking the columns "
               f"{'from its own diagonal on ' if view['symmetric'] else ''}"
               f"in tiles of {int(view['tile_cols']):,} (at most {int(view['n_tiles'])} a step).")
    st.plotly_chart(pooled_heatmap(view["pooled"], int(view["pool_factor"]), n,
                                   "K, pooled block by block", done if partial else None),
                    key="w_scale_partial_heatmap" if partial else "w_scale_heatmap")
    left, right = st.columns(2)
    left.plotly_chart(row_sum_profile(view["row_sums"], "Row sums along the points"),
                      key="w_scale_profile_partial" if partial else "w_scale_profile")
    right.plotly_chart(row_sum_histogram(view["row_sums"], "How the row sums are spread"),
                       key="w_scale_hist_partial" if partial else "w_scale_hist")
    q = view["row_sum_quantiles"]
    m1, m2, m3 = st.columns(3)
    m1.metric("Smallest row sum", f"{q[0]:.6g}")
    m2.metric("Median row sum", f"{q[1]:.6g}")
    m3.metric("Largest row sum", f"{q[2]:.6g}")
    st.caption("A row sum Σⱼ k(xᵢ, xⱼ) is the kernel mass around point i (the diagonal adds "
               "1): large in dense regions, 1 for an isolated point, N when gamma → 0.")
