"""Plotly figures for the "vmap, further" page.

Times are medians with their interquartile spread as error bars, labelled to 2
significant figures; sizes and times that span decades get log axes.
"""

from __future__ import annotations

import inspect
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.bench.report import format_seconds

__all__ = ["time_bars", "steps_chart", "noise_scatter", "size_lines", "memory_chart",
           "equation_bars", "source"]

_MARGIN = dict(l=10, r=10, t=60, b=10)


def time_bars(labels: Sequence[str], medians_s: Sequence[float], spreads_s: Sequence[float],
              title: str, height: int = 320) -> go.Figure:
    """Horizontal bars of median seconds per call (log axis), in the order given, top down."""
    med = np.asarray(medians_s, np.float64)[::-1]
    text = np.asarray([format_seconds(v, 2) for v in med], dtype=object)
    fig = go.Figure(go.Bar(
        x=med, y=np.asarray(labels, dtype=object)[::-1], orientation="h", text=text,
        # at the bar's base: its end carries the spread's whisker, which the text would cover
        textposition="inside", insidetextanchor="start", customdata=text,
        error_x=dict(type="data", array=np.asarray(spreads_s, np.float64)[::-1] / 2, visible=True),
        hovertemplate="%{y}<br>median %{customdata} per call<extra></extra>"))
    fig.update_layout(title=title, height=height, margin=_MARGIN,
                      xaxis=dict(title="median time per call (seconds, log scale)", type="log"),
                      yaxis=dict(title=None, automargin=True))
    return fig


def steps_chart(steps: np.ndarray, trips: int, title: str,
                inputs: np.ndarray | None = None) -> go.Figure:
    """Each element's own Newton steps (sorted) and the batched loop's trip count; with
    `inputs`, each bar's input a (in the same order) is its hover's customdata."""
    rank = np.argsort(np.asarray(steps), kind="stable")
    order = np.asarray(steps)[rank]
    bar = dict(hovertemplate="element %{x} (sorted)<br>%{y} steps<extra></extra>")
    if inputs is not None:
        bar = dict(customdata=np.asarray(inputs)[rank],
                   hovertemplate="element %{x} (sorted), a = %{customdata:.3g}<br>%{y} steps"
                                 "<extra></extra>")
    fig = go.Figure(go.Bar(x=np.arange(order.size), y=order, name="steps this element needs", **bar))
    fig.add_trace(go.Scatter(x=np.array([0, order.size - 1]), y=np.array([trips, trips]),
                             mode="lines", name=f"trips the batched loop ran: {trips}",
                             line=dict(color="#ff4b4b", dash="dash")))
    fig.update_layout(title=title, height=340, margin=_MARGIN,
                      xaxis=dict(title="element (sorted by steps)"),
                      yaxis=dict(title="loop trips"), legend=dict(orientation="h", y=-0.25))
    return fig


def noise_scatter(one_key: np.ndarray, split: np.ndarray, title: str) -> go.Figure:
    """The noise each row got, one key beside split keys: (N, 2) each, or (N, 1) against row."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("one key, in_axes=None",
                                                        "split keys, in_axes=0"))
    for col, noise in ((1, one_key), (2, split)):
        if noise.shape[1] >= 2:
            x, y, xt, yt = noise[:, 0], noise[:, 1], "noise in feature 0", "noise in feature 1"
        else:
            x, y, xt, yt = np.arange(len(noise)), noise[:, 0], "row", "noise in feature 0"
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers", marker=dict(size=5, opacity=0.6),
                                 showlegend=False,
                                 hovertemplate="(%{x:.3g}, %{y:.3g})<extra></extra>"), 1, col)
        fig.update_xaxes(title_text=xt, row=1, col=col)
        fig.update_yaxes(title_text=yt, row=1, col=col)
    fig.update_layout(title=title, height=380, margin=_MARGIN)
    return fig


def size_lines(sizes: Sequence[int], series: dict[str, tuple[Sequence[float], Sequence[float]]],
               x_title: str, title: str) -> go.Figure:
    """Median time against a size, log-log, one line per method; error bars = spread."""
    fig = go.Figure()
    for name, (medians, spreads) in series.items():
        med = np.asarray(medians, np.float64)
        fig.add_trace(go.Scatter(
            x=np.asarray(sizes), y=med, mode="lines+markers", name=name,
            error_y=dict(type="data", array=np.asarray(spreads, np.float64) / 2, visible=True),
            customdata=np.asarray([format_seconds(v, 2) for v in med], dtype=object),
            hovertemplate=f"{name}<br>{x_title} = %{{x}}<br>%{{customdata}}<extra></extra>"))
    fig.update_layout(title=title, height=360, margin=_MARGIN,
                      xaxis=dict(title=x_title, type="log"),
                      yaxis=dict(title="median time per call (s, log scale)", type="log"),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def memory_chart(labels: Sequence[str], temp_bytes: Sequence[int], medians_s: Sequence[float],
                 spreads_s: Sequence[float], title: str) -> go.Figure:
    """Two panels over the batch sizes: XLA's scratch memory and the median time."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("scratch memory (XLA's memory analysis)",
                                                        "time per call"))
    names = np.asarray(labels, dtype=object)
    temp = np.asarray(temp_bytes, np.float64)
    fig.add_trace(go.Bar(x=names, y=np.maximum(temp, 1.0), showlegend=False,
                         customdata=np.asarray([f"{int(t):,} bytes" for t in temp], dtype=object),
                         hovertemplate="batch %{x}<br>%{customdata}<extra></extra>"), 1, 1)
    med = np.asarray(medians_s, np.float64)
    fig.add_trace(go.Bar(x=names, y=med, showlegend=False,
                         error_y=dict(type="data", array=np.asarray(spreads_s) / 2, visible=True),
                         customdata=np.asarray([format_seconds(v, 2) for v in med], dtype=object),
                         hovertemplate="batch %{x}<br>%{customdata}<extra></extra>"), 1, 2)
    fig.update_yaxes(title_text="bytes (log scale)", type="log", row=1, col=1)
    fig.update_yaxes(title_text="seconds (log scale)", type="log", row=1, col=2)
    fig.update_xaxes(title_text="batch_size b", type="category", row=1, col=1)
    fig.update_xaxes(title_text="batch_size b", type="category", row=1, col=2)
    fig.update_layout(title=title, height=380, margin=_MARGIN)
    return fig


def equation_bars(counts: dict[str, dict[str, int]], title: str) -> go.Figure:
    """Grouped bars: how many equations of each primitive each form's jaxpr has."""
    primitives = sorted({p for c in counts.values() for p in c})
    fig = go.Figure([go.Bar(name=form, x=np.asarray(primitives, dtype=object),
                            y=np.asarray([c.get(p, 0) for p in primitives]),
                            hovertemplate=f"{form}<br>%{{x}}: %{{y}}<extra></extra>")
                     for form, c in counts.items()])
    fig.update_layout(title=title, height=340, barmode="group", margin=_MARGIN,
                      xaxis=dict(title="primitive"), yaxis=dict(title="equations in the jaxpr"),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def source(*fns) -> None:
    """Show the source of the functions that just ran."""
    st.code("\n\n".join(inspect.getsource(f) for f in fns), language="python")
