"""Charts of the Fit page: the LML surface with the climb's path, the 1-D fit, held-out checks.

Same conventions as `ui.charts.shared`: a title, axis titles, hover values, NumPy arrays
to Plotly, Viridis for values. The surface is drawn in log10 coordinates with
ticks labelled in real units; cells where K has no Cholesky factor are NaN and
left blank (Plotly draws no contour there, and no hover says "nan").
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.bench.report import format_load, format_ratio_interval, format_seconds

__all__ = ["held_out_speedup_words", "surface_chart", "fit_chart", "held_out_chart", "timing_text", "timing_table",
           "surface_timing_table", "held_out_timing_table", "climb_drawer", "draw_surface_timing",
           "draw_climb_result", "SURFACE_TITLE"]

_ACCENT = "#ff4b4b"
SURFACE_TITLE = "Log marginal likelihood over (gamma, noise)"


def timing_text(median_s: float, spread_s: float) -> str:
    """"median ± spread" (spread: the interquartile range), both to 2 significant figures."""
    return f"{format_seconds(median_s, 2)} ± {format_seconds(spread_s, 2)}"


def timing_table(rows: Sequence[tuple[str, float, float, int]]) -> str:
    """A Markdown table of timings: (what, median s, spread s, repeats) per row, 2 significant figures."""
    lines = ["| | median | spread (IQR) | repeats |", "|---|---:|---:|---:|"]
    lines += [f"| {what} | {format_seconds(median, 2)} | {format_seconds(spread, 2)} | {repeats} |"
              for what, median, spread, repeats in rows]
    return "\n".join(lines)


def surface_timing_table(t: dict[str, np.ndarray]) -> str:
    """The surface's timings (`core.views.fit.surface_timing_section`) as the page's table:
    the one call by rows, every gamma at once (where it ran), the loop, the loop scaled."""
    records = {str(r["program"]): r for r in t["surface_timing"]}
    cells, loop_cells = int(t["surface_cells"]), int(t["surface_loop_cells"])
    by_row, loop = records["one jitted call, by rows"], records[f"double loop, {loop_cells} cells"]
    row = lambda what, r: (what, float(r["median_s"]), float(r["spread_s"]), int(r["repeats"]))  # noqa: E731
    rows = [row(f"one jitted call, one gamma row at a time (lax.map), all {cells:,} cells", by_row)]
    if "one jitted call, all at once" in records:
        rows.append(row(f"one jitted call, every gamma at once (plain nested vmap, "
                        f"{float(t['surface_all_at_once_bytes']) / 1e6:,.0f} MB of matrices)",
                        records["one jitted call, all at once"]))
    rows += [row(f"double loop, {loop_cells:,} cells (evenly spaced gamma rows)", loop),
             (f"double loop, scaled to all {cells:,} cells", float(t["surface_loop_all_s"]),
              float(loop["spread_s"]) * cells / loop_cells, int(loop["repeats"]))]
    return timing_table(rows)


def held_out_timing_table(records: np.ndarray, m: int) -> str:
    """The timings of the densities of m held-out points (`heldout_timing`: vmap, then the
    loop) as a table."""
    whats = (f"vmap over the {m} held-out points (one call)", f"loop over the {m} points ({m} calls)")
    return timing_table([(what, float(r["median_s"]), float(r["spread_s"]), int(r["repeats"]))
                         for what, r in zip(whats, records)])


def _log_ticks(lo: float, hi: float) -> dict:
    ticks = list(range(math.ceil(lo), math.floor(hi) + 1))
    return dict(tickvals=ticks, ticktext=[f"{10.0 ** t:g}" for t in ticks])


def surface_chart(gammas: np.ndarray, noises: np.ndarray, lml: np.ndarray,
                  chosen: tuple[float, float], path: np.ndarray | None = None,
                  clickable: bool = True) -> go.Figure:
    """Contours of the LML (G, S) over log10 gamma (x) and log10 noise (y).

    Args:
      gammas: shape (G,). noises: shape (S,). lml: shape (G, S), NaN where K did not factor.
      chosen: (gamma, noise) of the chosen point, drawn as a cross.
      path: shape (k, 2): the climb's (gamma, noise) points so far, drawn as a line.
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
    if path is not None and len(path):
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
              sd_y: np.ndarray, sd_f: np.ndarray, title: str,
              truth: np.ndarray | None = None, other_mean: np.ndarray | None = None,
              other_name: str = "") -> go.Figure:
    """1-D data (N,), the posterior mean on `grid` (G,), and ± 2 sd bands.

    The wide band is for a new observation (`sd_y`, noise included), the narrow one
    for f itself (`sd_f`). `other_mean` (G,), if given, is drawn dashed on top
    (kernel ridge regression).
    """
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


def held_out_chart(y_test: np.ndarray, mean: np.ndarray, sd: np.ndarray, title: str) -> go.Figure:
    """Held-out targets (M,) against the predicted mean, with ± 2 sd error bars."""
    lo, hi = float(min(y_test.min(), mean.min())), float(max(y_test.max(), mean.max()))
    fig = go.Figure([
        go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect prediction",
                   line=dict(color="gray", dash="dot")),
        go.Scatter(x=y_test, y=mean, mode="markers", name="held-out point",
                   error_y=dict(type="data", array=2 * sd, visible=True,
                                thickness=1),
                   marker=dict(size=6, color="#1f77b4")),
    ])
    fig.update_layout(title=title, height=420, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis_title="true y", yaxis_title="predicted mean ± 2 sd",
                      legend=dict(orientation="h", y=-0.2))
    return fig


def climb_drawer(slot, bar, surface: dict[str, np.ndarray], chosen: tuple[float, float], steps: int,
                 check: Callable[[], None]) -> Callable[[np.ndarray], None]:
    """The climb's `on_step`: every 5 steps, the path so far on the surface in `slot` and the
    progress in `bar`; `check()` first (it raises when a click or a new setting abandons it)."""
    def on_step(rows: np.ndarray) -> None:
        check()
        if len(rows) % 5 == 1:  # steps 0, 5, 10, ...
            slot.plotly_chart(surface_chart(surface["gammas"], surface["noises"], surface["lml"], chosen,
                                            rows[:, :2], clickable=False))
            bar.progress((len(rows) - 1) / steps,
                         text=f"Step {len(rows) - 1} of at most {steps}: LML {rows[-1, 3]:.5g}")
    return on_step


def held_out_speedup_words(interval: np.ndarray, other_cores: float) -> str:
    """What the held-out speedup means: its range (or that it is within noise) and the load."""
    words = (f"The loop over vmap: {format_ratio_interval(*(float(v) for v in interval))}, the two "
             "timed in turn, round by round.")
    return f"{words} {format_load(other_cores)}".strip()


def draw_surface_timing(t: dict[str, np.ndarray], best_lml: float, dtype: str) -> None:
    """The surface's timings (`core.views.fit.surface_timing_section`): the table, the speedup
    and what they mean."""
    st.markdown(surface_timing_table(t))
    st.metric("Loop (scaled) / one call by rows", f"{float(t['surface_speedup']):.2g}×",
              help="Every way ran in turn, round by round: the median of the per-round ratios. "
                   "The first call of each was a warm-up (it compiled).")
    st.caption(f"Range: {format_ratio_interval(*t['surface_speedup_interval'])}. "
               + format_load(float(t["surface_other_cores"])))
    if len(t["surface_timing"]) == 2:
        st.caption(f"The plain nested vmap was not run: it would factor "
                   f"{float(t['surface_all_at_once_bytes']) / 1e9:.2g} GB of matrices at once.")
    st.caption(f"Why the page goes by rows: vmap over everything turns {int(t['surface_cells']):,} small "
               "Cholesky factorizations into one batched call on all the matrices at once. On a CPU that "
               "batch does not fit in cache, so each pass over it goes to main memory; one gamma row at a "
               "time keeps the batch small, in the same single call, with the same numbers. Compare "
               "the two rows above on this machine.")
    st.caption(f"Largest |loop − one call| over the cells both computed: {float(t['surface_max_abs_diff']):.2g} "
               f"(LML values of order {abs(best_lml):.2g}; round-off in {dtype}).")


def draw_climb_result(climbed: dict[str, np.ndarray], move_to: Callable[..., None]) -> None:
    """Where the climb (`core.views.fit.climb_section`) ended: its error if K stopped factoring,
    the LML gained, the gradient left, and a button that calls `move_to(gamma, noise, amplitude)`."""
    (g0, n0, a0, lml0, _), (g1, n1, a1, lml1, grad1) = climbed["climb"][0], climbed["climb"][-1]
    last_step = len(climbed["climb"]) - 1
    if error := str(climbed["climb_error"]):
        st.error(f"The climb stopped at step {last_step}: {error}", icon=":material/error:")
    r1, r2 = st.columns(2)
    r1.metric("LML", f"{lml1:.5g}", delta=f"{lml1 - lml0:+.3g} from the start")
    r2.metric("|∇θ LML| at the end", f"{grad1:.2g}", help=f"After {last_step} steps.")
    st.markdown(f"The climb ended after {last_step} steps at gamma = **{g1:.3g}**, noise = "
                f"**{n1:.3g}**, amplitude = **{a1:.3g}** (started at {g0:.3g}, {n0:.3g}, {a0:.3g}).")
    st.button("Move the chosen point to the climb's end", key="fit_use_end", on_click=move_to,
              args=(float(g1), float(n1), float(a1)))
