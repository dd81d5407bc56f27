"""What the Kernel lab draws: kernel profiles, GP draws, spectra against gamma, diagnosis tables.

Same conventions as `ui.charts.shared`: title, axis titles with units, hover values,
NumPy arrays, Viridis for values, the Streamlit theme's colours for lines.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.lessons.spectrum import ROUNDOFF_MARGIN
from ui.charts.shared import matrix_heatmap

__all__ = ["kernel_profile_chart", "gp_samples_chart", "spectrum_sweep_heatmap",
           "effective_rank_chart", "sweep_figures", "profile_figure", "grid_heatmap", "data_heatmap", "diagnosis_tables",
           "draws_caption", "indefinite_warning", "overflow_message", "no_draws_warning",
           "sweep_overflow_warning"]

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


def diagnosis_tables(rows: Sequence[tuple[str, Mapping[str, np.ndarray]]],
                     jitter: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The diagnosis of each matrix as two tables, a row per matrix: eigenvalues, Cholesky.

    Two tables of four or five columns, not one of eight: each fits an 800 px window.

    Args:
      rows: (matrix name, `pd_diagnosis` | `cholesky_with_jitter` of its K).
      jitter: the jitter the last column tried.
    """
    names = [name for name, _ in rows]

    def column(field: str) -> list:
        return [row[field].item() for _, row in rows]

    spectrum = pd.DataFrame({
        "matrix": names, "N": column("n"), "smallest eigenvalue": column("min_eigenvalue"),
        "condition number": column("condition_number"),
        "indefinite beyond round-off": column("beyond_roundoff"),
    })
    cholesky = pd.DataFrame({
        "matrix": names, "Cholesky, no jitter": column("cholesky_ok"),
        "smallest working jitter": column("smallest_jitter"),
        f"Cholesky, jitter {jitter:.0e}": column("cholesky_with_jitter"),
    })
    return spectrum, cholesky


def draws_caption(jitter: float, need: float | None, dtype: str) -> str:
    """What the draws add to K's diagonal, and the smallest jitter `need` that works (if known)."""
    return (f"Added to the diagonal: jitter {jitter:.2g}"
            + ("" if need is None else
               " (K factors without any)." if need == 0 else
               f" (the smallest that lets Cholesky succeed on this K in {dtype} is {need:.2g}).")
            + " f = L z with L the Cholesky factor of K + jitter·I and z standard normal "
            "(seeded): the same z for every parameter, so moving a slider morphs the same "
            "draws. The band is ±2 prior standard deviations, ±2·sqrt(k(x, x) + jitter).")


def indefinite_warning(name: str, diagnosis: Mapping[str, np.ndarray]) -> str:
    """Why a K whose smallest eigenvalue is beyond round-off (`pd_diagnosis`) is a modelling error."""
    return (f"**{name}: K is not positive semi-definite.** Its smallest eigenvalue, "
            f"{float(diagnosis['min_eigenvalue']):.3g}, is far below anything round-off can "
            f"produce (at most about {ROUNDOFF_MARGIN:g}·eps·N·λₘₐₓ = "
            f"{float(diagnosis['roundoff_bound']):.1g}): this kernel "
            "is not valid on these points. The periodic kernel of a Euclidean distance, for "
            "example, is positive semi-definite in 1-D but not in general for D > 1. Jitter "
            "would hide a modelling error here, not round-off.")


def profile_figure(profile: Mapping[str, np.ndarray], stationary: bool, height: int) -> go.Figure:
    """`kernel_profile`'s line: against distance when `stationary`, else against y at x = 1."""
    if stationary:
        title, x_title = "k against distance", "distance r = |x − y| (data units)"
    else:
        title, x_title = "k(1, y): not stationary", "y (data units), with x fixed at 1"
    return kernel_profile_chart(profile["profile_x"], profile["profile_k"], title, x_title,
                                height=height)


def data_heatmap(on_data: Mapping[str, np.ndarray], title: str, labelled: bool,
                 height: int) -> tuple[go.Figure, str]:
    """`data_gram`'s K in its display order, pooled, and the caption that says how it is drawn."""
    order = on_data["data_order"]
    fig, factor = matrix_heatmap(on_data["K_data"][np.ix_(order, order)], title,
                                 "k(x<sub>i</sub>, x<sub>j</sub>)", height=height)
    caption = (("Points ordered by label. " if labelled else "")
               + (f"Pooled: each cell is the mean of {factor}×{factor} entries." if factor > 1 else ""))
    return fig, caption


def sweep_figures(sweep: Mapping[str, np.ndarray], n: int, current_gamma: float | None,
                  where: str) -> tuple[go.Figure, go.Figure]:
    """`gamma_sweep`'s eigenvalues (heatmap) and effective rank (line) of K on `where` (n points)."""
    gammas = sweep["sweep_gammas"]
    return (spectrum_sweep_heatmap(gammas, sweep["sweep_eigenvalues"], current_gamma,
                                   f"Eigenvalues of K on {where} against gamma"),
            effective_rank_chart(gammas, sweep["sweep_effective_rank"], n, current_gamma,
                                 f"Effective rank of K on {where}"))


def overflow_message(dtype: str) -> str:
    """What to do when K has infinite entries in `dtype`."""
    return (f"K overflows {dtype} here (infinite entries): lower the degree or gamma, "
            "standardize the data, or switch to float64.")


def no_draws_warning(error: Exception, need: float | None, dtype: str) -> str:
    """Why there are no draws (Cholesky failed), and the smallest jitter `need` that works."""
    return f"No draws: {error}" + ("" if need is None else
                                   f" The smallest jitter that works for this K in {dtype} is {need:.2g}.")


def sweep_overflow_warning(sweep: Mapping[str, np.ndarray], dtype: str, where: str) -> str | None:
    """Where the gamma sweep has no spectrum (K overflowed), or None when it has one everywhere."""
    finite = sweep["sweep_finite"]
    if np.all(finite):
        return None
    return (f"K overflows {dtype} for gamma ≥ {sweep['sweep_gammas'][~finite].min():.3g} on "
            f"{where}: no spectrum there (blank).")


def grid_heatmap(grid: Mapping[str, np.ndarray], height: int) -> tuple[go.Figure, str]:
    """`grid_gram`'s K on the 1-D grid, and the caption that says where point i sits."""
    n = len(grid["grid_x"])
    fig, _ = matrix_heatmap(grid["K_grid"], f"K on the 1-D grid ({n} points)",
                            "k(x<sub>i</sub>, x<sub>j</sub>)", height=height)
    low, high = grid["grid_x"][0], grid["grid_x"][-1]
    return fig, f"Point i sits at x = {low:g} + {high - low:g}·i/{n - 1}."
