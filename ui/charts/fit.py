"""Charts of the Fit page: the LML surface with the climb's path, the 1-D fit, held-out checks.

Same conventions as `ui.charts.shared`: a title, axis titles, hover values, NumPy arrays
to Plotly, Viridis for values. The surface is drawn in log10 coordinates with
ticks labelled in real units; cells where K has no Cholesky factor are NaN and
left blank (Plotly draws no contour there, and no hover says "nan").
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

__all__ = ["surface_chart", "fit_chart", "held_out_chart", "seconds_2sf", "timing_text", "timing_table",
           "SURFACE_TITLE"]

_ACCENT = "#ff4b4b"
SURFACE_TITLE = "Log marginal likelihood over (gamma, noise)"


def seconds_2sf(s: float) -> str:
    """A duration to 2 significant figures in s, ms, µs or ns ("12 ms", "1.3 s")."""
    if s is None or not np.isfinite(s):
        return "n/a"
    s = float(f"{s:.2g}")
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if abs(s) >= scale or unit == "ns":
            v = s / scale
            decimals = max(0, 1 - int(math.floor(math.log10(abs(v))))) if v else 0
            return f"{v:.{decimals}f} {unit}"
    return f"{s:.2g} s"


def timing_text(median_s: float, spread_s: float) -> str:
    """"median ± spread" (spread: the interquartile range), both to 2 significant figures."""
    return f"{seconds_2sf(median_s)} ± {seconds_2sf(spread_s)}"


def timing_table(rows: Sequence[tuple[str, float, float, int]]) -> str:
    """A Markdown table of timings: (what, median s, spread s, repeats) per row, 2 significant figures."""
    lines = ["| | median | spread (IQR) | repeats |", "|---|---:|---:|---:|"]
    lines += [f"| {what} | {seconds_2sf(median)} | {seconds_2sf(spread)} | {repeats} |"
              for what, median, spread, repeats in rows]
    return "\n".join(lines)


def _log_ticks(lo: float, hi: float) -> dict:
    ticks = list(range(math.ceil(lo), math.floor(hi) + 1))
    return dict(tickvals=ticks, ticktext=[f"{10.0 ** t:g}" for t in ticks])


def surface_chart(gammas: np.ndarray, noises: np.ndarray, lml: np.ndarray,
                  chosen: tuple[float, float], path: Sequence[tuple[float, float]] | None = None,
                  clickable: bool = True) -> go.Figure:
    """Contours of the LML (G, S) over log10 gamma (x) and log10 noise (y).

    Args:
      gammas: shape (G,). noises: shape (S,). lml: shape (G, S), NaN where K did not factor.
      chosen: (gamma, noise) of the chosen point, drawn as a cross.
      path: the climb's (gamma, noise) points so far, drawn as a line.
      clickable: add an invisible marker on every grid cell, so that a click
        selects a cell (Plotly fires no click on contour traces).
    """
    gx, ny = np.log10(gammas), np.log10(noises)
    finite = lml[np.isfinite(lml)]
    fig = go.Figure()
    if finite.size:
        top = float(finite.max())
        # The LML falls off by thousands far from the top: colour the upper part only.
        low = max(float(np.percentile(finite, 20)), top - 20.0 * max(1.0, abs(top)))
        fig.add_trace(go.Contour(
            x=gx, y=ny, z=lml.T, zmin=low, zmax=top, colorscale="Viridis", ncontours=30,
            colorbar=dict(title=dict(text="LML")), connectgaps=False, name="LML",
            hovertemplate="gamma = 10^%{x:.2f}<br>noise = 10^%{y:.2f}<br>LML = %{z:.4g}<extra></extra>",
        ))
        i, j = np.unravel_index(np.nanargmax(lml), lml.shape)
        fig.add_trace(go.Scatter(
            x=[gx[i]], y=[ny[j]], mode="markers", name="grid maximum",
            marker=dict(symbol="star", size=16, color="white", line=dict(color="black", width=1)),
            hovertemplate=f"grid maximum<br>gamma = {gammas[i]:.3g}<br>noise = {noises[j]:.3g}"
                          f"<br>LML = {lml[i, j]:.4g}<extra></extra>"))
    if clickable:
        xx, yy = np.meshgrid(gx, ny, indexing="ij")
        fig.add_trace(go.Scatter(
            x=xx.ravel(), y=yy.ravel(), mode="markers", name="click to choose",
            marker=dict(size=9, color="rgba(0,0,0,0)"), showlegend=False,
            hovertemplate="click: start here<extra></extra>"))
    if path:
        p = np.log10(np.asarray(path, dtype=float))
        fig.add_trace(go.Scatter(
            x=p[:, 0], y=p[:, 1], mode="lines+markers", name="climb", line=dict(color=_ACCENT, width=3),
            marker=dict(size=4, color=_ACCENT)))
    fig.add_trace(go.Scatter(
        x=[math.log10(chosen[0])], y=[math.log10(chosen[1])], mode="markers", name="chosen point",
        marker=dict(symbol="x", size=14, color=_ACCENT, line=dict(color="white", width=1))))
    fig.update_layout(
        title=SURFACE_TITLE, height=480, margin=dict(l=10, r=10, t=50, b=10),
        xaxis=dict(title="gamma (log scale)", range=[gx[0], gx[-1]], **_log_ticks(gx[0], gx[-1])),
        yaxis=dict(title="noise variance (log scale)", range=[ny[0], ny[-1]], **_log_ticks(ny[0], ny[-1])),
        legend=dict(orientation="h", y=-0.18), clickmode="event+select", dragmode=False)
    return fig


def fit_chart(X: np.ndarray, y: np.ndarray, grid: np.ndarray, mean: np.ndarray,
              variance: np.ndarray, noise: float, title: str,
              truth: np.ndarray | None = None, other_mean: np.ndarray | None = None,
              other_name: str = "") -> go.Figure:
    """1-D data (N,), the posterior mean on `grid` (G,), and ± 2 sd bands.

    The wide band is for a new observation (variance includes the noise), the
    narrow one for f itself (variance − noise). `other_mean` (G,), if given, is
    drawn dashed on top (kernel ridge regression).
    """
    sd_y = np.sqrt(np.maximum(variance, 0.0))
    sd_f = np.sqrt(np.maximum(variance - noise, 0.0))
    fig = go.Figure()
    for sd, name, alpha in ((sd_y, "± 2 sd, new observation", 0.15), (sd_f, "± 2 sd, f", 0.3)):
        fig.add_trace(go.Scatter(
            x=np.concatenate([grid, grid[::-1]]), y=np.concatenate([mean + 2 * sd, (mean - 2 * sd)[::-1]]),
            fill="toself", fillcolor=f"rgba(31,119,180,{alpha})", line=dict(width=0), name=name,
            hoverinfo="skip"))
    if truth is not None:
        fig.add_trace(go.Scatter(x=grid, y=truth, mode="lines", name="true function",
                                 line=dict(color="gray", dash="dot")))
    fig.add_trace(go.Scatter(x=grid, y=mean, mode="lines", name="posterior mean",
                             line=dict(color="#1f77b4", width=3)))
    if other_mean is not None:
        fig.add_trace(go.Scatter(x=grid, y=other_mean, mode="lines", name=other_name,
                                 line=dict(color=_ACCENT, dash="dash", width=2)))
    fig.add_trace(go.Scatter(x=X, y=y, mode="markers", name="training data",
                             marker=dict(size=7, color="#444444", opacity=0.85,
                                         line=dict(color="white", width=1))))  # seen on light and dark
    fig.update_layout(title=title, height=420, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title="x", yaxis_title="y", legend=dict(orientation="h", y=-0.2))
    return fig


def held_out_chart(y_test: np.ndarray, mean: np.ndarray, variance: np.ndarray, title: str) -> go.Figure:
    """Held-out targets (M,) against the predicted mean, with ± 2 sd error bars."""
    lo, hi = float(min(y_test.min(), mean.min())), float(max(y_test.max(), mean.max()))
    fig = go.Figure([
        go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect prediction",
                   line=dict(color="gray", dash="dot")),
        go.Scatter(x=y_test, y=mean, mode="markers", name="held-out point",
                   error_y=dict(type="data", array=2 * np.sqrt(np.maximum(variance, 0.0)), visible=True,
                                thickness=1),
                   marker=dict(size=6, color="#1f77b4")),
    ])
    fig.update_layout(title=title, height=420, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title="true y", yaxis_title="predicted mean ± 2 sd",
                      legend=dict(orientation="h", y=-0.2))
    return fig
