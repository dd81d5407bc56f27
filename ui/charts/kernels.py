"""Plotly figures of the Kernel lab: kernel profiles, GP draws, spectra against gamma.

Same conventions as `ui.charts.shared`: title, axis titles with units, hover values,
NumPy arrays, Viridis for values, the Streamlit theme's colours for lines.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

__all__ = ["kernel_profile_chart", "gp_samples_chart", "spectrum_sweep_heatmap",
           "effective_rank_chart"]

_MARGIN = dict(l=10, r=10, t=50, b=10)


def kernel_profile_chart(x: np.ndarray, k: np.ndarray, title: str, x_title: str,
                         height: int = 380) -> go.Figure:
    """A line of kernel values k (shape (P,)) against x (shape (P,)), `height` px tall."""
    fig = go.Figure(go.Scatter(x=x, y=k, mode="lines", name="k",
                               hovertemplate="%{x:.3g} → k = %{y:.4g}<extra></extra>"))
    fig.update_layout(title=title, height=height, margin=_MARGIN, xaxis_title=x_title,
                      yaxis_title="kernel value k (unitless)", showlegend=False)
    return fig


def gp_samples_chart(x: np.ndarray, samples: np.ndarray, prior_sd: np.ndarray,
                     title: str) -> go.Figure:
    """GP draws: samples (P, S) against x (P,), with the prior's ±2 sd band (sd shape (P,))."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]),
                             y=np.concatenate([2 * prior_sd, -2 * prior_sd[::-1]]),
                             fill="toself", mode="none", fillcolor="rgba(128,128,128,0.18)",
                             name="prior ±2 sd", hoverinfo="skip"))
    for j in range(samples.shape[1]):
        fig.add_trace(go.Scatter(x=x, y=samples[:, j], mode="lines", name=f"draw {j + 1}",
                                 hovertemplate=f"draw {j + 1}<br>x = %{{x:.3g}}<br>"
                                               "f(x) = %{y:.3g}<extra></extra>"))
    fig.update_layout(title=title, height=440, margin=_MARGIN,
                      xaxis_title="x (grid, data units)", yaxis_title="f(x) (prior draw, unitless)",
                      legend=dict(orientation="v", x=1.01, xanchor="left", y=1))
    return fig


def spectrum_sweep_heatmap(gammas: np.ndarray, eigenvalues: np.ndarray,
                           current_gamma: float | None, title: str) -> go.Figure:
    """log10 of each eigenvalue (rows of `eigenvalues`, shape (G, N)) against gamma (G,).

    Eigenvalues ≤ 0 (numerically singular directions) are left blank: a log
    has no value there, and blank says "below zero in floating point".
    """
    ev = np.asarray(eigenvalues, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(ev > 0, np.log10(np.where(ev > 0, ev, 1.0)), np.nan).T  # (N, G)
    k = np.arange(1, ev.shape[1] + 1)
    fig = go.Figure(go.Heatmap(
        x=np.log10(gammas), y=k, z=z, colorscale="Viridis", customdata=np.broadcast_to(gammas, z.shape),
        colorbar=dict(title=dict(text="log₁₀ λ")),
        hovertemplate=("gamma = %{customdata:.3g}<br>k = %{y}<br>"
                       "log₁₀ λ<sub>k</sub> = %{z:.3g}<extra></extra>"),
    ))
    if current_gamma is not None:
        fig.add_vline(x=np.log10(current_gamma), line=dict(color="#ff4b4b", width=1, dash="dot"))
    fig.update_layout(title=title, height=420, margin=_MARGIN,
                      xaxis_title="log₁₀ gamma (gamma in 1/data units²)",
                      yaxis=dict(title="eigenvalue index k (descending)", autorange="reversed"))
    return fig


def effective_rank_chart(gammas: np.ndarray, effective_rank: np.ndarray, n: int,
                         current_gamma: float | None, title: str) -> go.Figure:
    """Effective rank (G,) against gamma (G,) on a log x axis, with its limits 1 and N."""
    fig = go.Figure(go.Scatter(x=gammas, y=effective_rank, mode="lines+markers",
                               name="effective rank",
                               hovertemplate="gamma = %{x:.3g}<br>effective rank %{y:.3g}"
                                             "<extra></extra>"))
    fig.add_hline(y=1, line=dict(dash="dash", color="gray"),
                  annotation_text="gamma → 0: K → ones, rank 1", annotation_position="top right")
    fig.add_hline(y=n, line=dict(dash="dash", color="gray"),
                  annotation_text=f"gamma → ∞: K → I, rank N = {n}",
                  annotation_position="bottom left")
    if current_gamma is not None:
        fig.add_vline(x=current_gamma, line=dict(color="#ff4b4b", width=1, dash="dot"))
    fig.update_layout(title=title, height=420, margin=_MARGIN, showlegend=False,
                      xaxis=dict(title="gamma (1/data units², log scale)", type="log"),
                      yaxis=dict(title="effective rank (number of eigenvalues)",
                                 range=[0, n * 1.08]))
    return fig
