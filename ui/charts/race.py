"""Figures and result sections of the Batching race page (the table: `ui.charts.race_table`).

Times arrive in seconds (`RaceRow.timing`) and are drawn in milliseconds on log
axes: one race spans a microsecond compiled call and a second-long Python loop.
Only rows that ran ("ok") have bars; the page lists the others with
their reasons.
Colours are left to the Streamlit theme except for the few marks that carry
meaning (tolerance lines, crossovers), which use mid-grey and red readable on
light and dark backgrounds alike.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.dense.methods import METHODS
from core.bench.race import BASELINE, REFERENCE, RaceRow
from core.bench.report import format_load, format_seconds, within_noise
from ui.state.settings import grid_label
from ui.charts.race_table import (ERROR_HINT, REFERENCE_WORDS, race_table, race_table_columns,
                                  ran_rows, speedup_words)

__all__ = ["raced_methods", "race_time_chart", "speedup_chart", "error_chart", "scaling_chart",
           "crossing_sentences", "method_label", "changed_parts", "show_race", "show_scaling",
           "show_environment"]

_NEUTRAL = "#888888"
_MARGIN = dict(l=10, r=10, t=60, b=10)
# Log axes labelled at powers of ten only, with unlabelled minor grid lines between:
# the default 2-5-10 labels crowd a range of six decades.
_DECADES = dict(dtick=1, minor=dict(dtick="D2", showgrid=True))


def _ms(seconds: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if s is None else s * 1e3 for s in seconds], dtype=np.float64)


def _log_vline(fig: go.Figure, x: float, text: str) -> None:
    """A dashed vertical line at data value x on a log x axis, labelled above the plot.

    Shapes take data values but annotations take log10 values on a log axis, so
    `add_vline(annotation_text=...)` would put the label at 10**x.
    """
    fig.add_vline(x=x, line=dict(color=_NEUTRAL, dash="dash", width=1.5))
    fig.add_annotation(x=math.log10(x), xref="x", y=1, yref="paper", yanchor="bottom",
                       text=text, showarrow=False, font=dict(size=11))


CACHE_HIT_WORDS = "cache hit"  # on the time chart's hover; the table's cell says "(cached)"


def _hover_rows(rows: Sequence[RaceRow]) -> np.ndarray:
    """Per row: label, median, min, IQR, repeats, compile, as strings (N, 6)."""
    def compile_words(r: RaceRow) -> str:
        if not r.compiled:
            return "no compile step"
        hit = f" ({CACHE_HIT_WORDS}: {r.timing.compile_cache})" if r.timing.compile_cache else ""
        return format_seconds(r.timing.compile_s, 2) + hit

    return np.array([[r.label, format_seconds(r.timing.median_s, 2), format_seconds(r.timing.min_s, 2),
                      format_seconds(r.timing.spread_s, 2), str(r.timing.repeats),
                      compile_words(r)] for r in rows], dtype=object).reshape(len(rows), 6)


def race_time_chart(rows: Sequence[RaceRow], title: str) -> go.Figure:
    """Horizontal bars, log x in ms: each method's median steady-state time per call,
    a whisker down to its fastest call, and beside it its one-off compile time."""
    ok = ran_rows(rows)
    labels = np.array([r.label for r in ok], dtype=object)
    median = _ms([r.timing.median_s for r in ok])
    fastest = _ms([r.timing.min_s for r in ok])
    compile_ms = _ms([r.timing.compile_s if r.compiled else None for r in ok])
    hover = _hover_rows(ok)
    fig = go.Figure()
    fig.add_trace(go.Bar(
        y=labels, x=median, orientation="h", name="steady state: median per call",
        error_x=dict(type="data", symmetric=False, array=np.zeros_like(median),
                     arrayminus=median - fastest, thickness=1.5, width=4),
        customdata=hover,
        hovertemplate="<b>%{customdata[0]}</b><br>median per call %{customdata[1]}<br>"
                      "fastest call %{customdata[2]} (whisker)<br>IQR %{customdata[3]}, "
                      "%{customdata[4]} repeats<extra></extra>"))
    fig.add_trace(go.Bar(
        y=labels, x=compile_ms, orientation="h", name="compile (once, jit only)",
        marker=dict(pattern=dict(shape="/")), customdata=hover,
        hovertemplate="<b>%{customdata[0]}</b><br>compile (once): %{customdata[5]}<br>"
                      "paid on the first call only<extra></extra>"))
    # The legend at the figure's foot (yref "container") in a bottom margin of its own:
    # placed in plot fractions (y = -0.15) it lands on the x-axis title when the plot
    # is short (few methods), as the anatomy page's chart did.
    fig.update_layout(
        title=dict(text=title), barmode="group", height=max(360, 110 + 46 * len(ok)),
        margin=dict(_MARGIN, b=60),
        legend=dict(orientation="h", yref="container", y=0, yanchor="bottom"),
        xaxis=dict(title="time (ms, log scale)", type="log", **_DECADES),
        yaxis=dict(title=None, autorange="reversed", automargin=True))
    return fig


def speedup_chart(rows: Sequence[RaceRow]) -> go.Figure:
    """Median of map + stack / median of each method, log x; 1× is the baseline."""
    ok = [r for r in ran_rows(rows) if r.speedup_vs_baseline is not None]
    labels = np.array([r.label for r in ok], dtype=object)
    speedup = np.array([r.speedup_vs_baseline for r in ok], dtype=np.float64)
    text = np.array([speedup_words(s) for s in speedup], dtype=object)
    fig = go.Figure(go.Bar(
        y=labels, x=speedup, orientation="h", text=text, textposition="auto",
        hovertemplate="<b>%{y}</b><br>%{x:.3g}× the speed of map + stack<extra></extra>"))
    _log_vline(fig, 1.0, f"{METHODS[BASELINE].label} = 1×")
    fig.update_layout(
        title=dict(text="Speedup over the notes' map + partial + np.stack"),
        height=max(300, 80 + 36 * len(ok)), margin=_MARGIN, showlegend=False,
        # Two short lines: one line ran past the figure's right edge in a half-width
        # column ("…log sca" at 1440 px).
        xaxis=dict(title="speedup over map + stack<br>(× faster, log scale)", type="log",
                   **_DECADES),
        yaxis=dict(title=None, autorange="reversed", automargin=True))
    return fig


def error_chart(rows: Sequence[RaceRow], dtype: str) -> go.Figure:
    """Max |K - K_float64| per method on a log axis, with the dtype's hint line.

    An exact match (error 0) cannot sit on a log axis: it is drawn at a floor
    (1e-3 × the smallest nonzero error shown) and its hover says "0 (identical)";
    the reference method's bar is labelled "0 (reference)".
    """
    ok = [r for r in ran_rows(rows) if r.max_abs_error is not None]
    labels = np.array([r.label for r in ok], dtype=object)
    err = np.array([r.max_abs_error for r in ok], dtype=np.float64)
    hint = ERROR_HINT[dtype]
    nonzero = err[err > 0]
    floor = min(float(nonzero.min()) if nonzero.size else hint, hint) * 1e-3
    shown = np.where(err > 0, err, floor)
    words = np.array(["0 (identical)" if e == 0 else f"{e:.3g}" + (" ⚠ above the hint"
                      if e > hint else "") for e in err], dtype=object)
    is_ref = np.array([r.method == REFERENCE for r in ok])
    words = np.where(is_ref, [f"{w}: this is the {REFERENCE_WORDS}" for w in words], words)
    fig = go.Figure(go.Bar(
        y=labels, x=shown, orientation="h", customdata=words,
        # The reference's own bar (0, drawn at the floor) says what it is.
        text=np.array([(f"0 ({REFERENCE_WORDS})" if e == 0 else REFERENCE_WORDS) if ref else ""
                       for e, ref in zip(err, is_ref)], dtype=object), textposition="outside",
        cliponaxis=False,
        marker=dict(pattern=dict(shape=np.array(["x" if e > hint else "" for e in err],
                                                dtype=object))),
        hovertemplate="<b>%{y}</b><br>max |K − K_float64| = %{customdata}<extra></extra>"))
    _log_vline(fig, hint, f"{dtype} hint {hint:.0e}")
    fig.update_layout(
        title=dict(text=f"Agreement with the float64 reference ({dtype} run)"),
        height=max(300, 80 + 36 * len(ok)), margin=_MARGIN, showlegend=False,
        xaxis=dict(title="max |K − K_float64|<br>(absolute, log scale)", type="log",
                   exponentformat="e", **_DECADES),
        yaxis=dict(title=None, autorange="reversed", automargin=True))
    return fig


def scaling_chart(rows: Sequence[RaceRow],
                  crossings: Sequence[tuple[float, str, str]]) -> go.Figure:
    """Median time per call against N, log-log, one line per method, crossovers marked.

    Each point's error bar spans its fastest to slowest repeat (the interval
    `crossovers` compares). A crossover's marker sits on the faster method's line,
    its time interpolated in log-log space between the two sizes around it (as
    `crossovers` finds N); it carries no text on the chart, where labels of nearby
    crossovers would overlap: hover it, or read the list under the chart.
    """
    ok = ran_rows(rows)
    fig = go.Figure()
    lines: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in dict.fromkeys(r.method for r in ok):
        mine = sorted((r for r in ok if r.method == name), key=lambda r: r.n)
        n = np.array([r.n for r in mine], dtype=np.float64)
        t = _ms([r.timing.median_s for r in mine])
        low = _ms([min(r.timing.times_s) for r in mine])
        high = _ms([max(r.timing.times_s) for r in mine])
        lines[name] = (n, t)
        hover = np.array([[format_seconds(r.timing.median_s, 2), format_seconds(min(r.timing.times_s), 2),
                           format_seconds(max(r.timing.times_s), 2), str(r.timing.repeats)]
                          for r in mine], dtype=object).reshape(len(mine), 4)
        fig.add_trace(go.Scatter(
            x=n, y=t, mode="lines+markers", name=mine[0].label, customdata=hover,
            error_y=dict(type="data", symmetric=False, array=high - t, arrayminus=t - low,
                         thickness=1, width=3),
            hovertemplate=f"<b>{mine[0].label}</b><br>N = %{{x:,}}<br>median per call "
                          "%{customdata[0]} (repeats %{customdata[1]} to %{customdata[2]}, "
                          "%{customdata[3]} of them)<extra></extra>"))
    if crossings:
        cx = np.array([c[0] for c in crossings], dtype=np.float64)
        cy = np.array([10 ** np.interp(math.log10(x), np.log10(lines[f][0]), np.log10(lines[f][1]))
                       for x, f, _ in crossings], dtype=np.float64)
        words = np.array(crossing_sentences(crossings, markdown=False), dtype=object)
        fig.add_trace(go.Scatter(
            x=cx, y=cy, mode="markers", name="crossover", customdata=words,
            marker=dict(symbol="x-thin-open", size=16, color=_NEUTRAL,
                        line=dict(width=3, color=_NEUTRAL)),
            hovertemplate="%{customdata}<extra></extra>"))
    fig.update_layout(
        title=dict(text="Median time per call against N (log-log; bars: fastest to slowest repeat)"),
        height=460, margin=_MARGIN, legend=dict(orientation="h", y=-0.2),
        xaxis=dict(title="N (points; K is N × N, log scale)", type="log",
                   tickvals=np.array(sorted({r.n for r in ok}), dtype=np.float64),
                   tickformat=",d"),
        yaxis=dict(title="median time per call (ms, log scale)", type="log", **_DECADES))
    return fig


def crossing_sentences(crossings: Sequence[tuple[float, str, str]],
                       markdown: bool = True) -> list[str]:
    """Each crossover in words, e.g. "jit · Method I overtakes ... above N ≈ 420".

    N is given to 2 significant figures: it is interpolated between two measured
    sizes, so more digits would claim a precision it does not have.
    """
    bold = "**" if markdown else ""
    return [f"{bold}{METHODS[f].label}{bold} overtakes {bold}{METHODS[s].label}{bold} "
            f"above N ≈ {float(f'{n:.2g}'):,.0f}" for n, f, s in crossings]


def raced_methods(rows: Sequence[RaceRow]) -> tuple[list[str], str]:
    """The methods a race ran, for its export: "auto" named by the method it picked.

    The registry's "auto" is added to METHODS when `core.dense` is imported, which the
    export's copy of the code does not do; it ran the method it picked, and so does
    the export (once, if that method was raced as well). Returns (names, a note or "").
    """
    names = list(dict.fromkeys(r.picked or r.method for r in rows))
    picked = [r.picked for r in rows if r.picked]
    note = (f"In the app, \"auto\" ran {METHODS[picked[0]].label}; here that method is raced "
            "by its own name." if picked else "")
    return names, note


def method_label(name: str) -> str:
    """A registry method's label, as the page's choices and status lines name it."""
    return METHODS[name].label


def changed_parts(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The settings, in words, whose values differ between a result's key and today's."""
    words = dict(data="the data (dataset, N, noise, seed or precision)", gamma="gamma",
                 methods="the methods", repeats="repeats", budget="the time budget",
                 n_values="the N values", d="D", dtype="the precision")
    return [words[k] for k in new if old.get(k) != new.get(k)]


def show_environment(env: dict[str, Any]) -> None:
    """One caption: the devices, cores, library versions and dtype a run was timed with."""
    devices = ", ".join(sorted({f"{x['platform']} ({x['device_kind']})"
                                for x in env["jax_devices"]}))
    st.caption(f"Timed on {devices}, {env['cpu_count']} CPU cores; jax {env['jax']}, "
               f"numpy {env['numpy']}, scikit-learn {env['scikit-learn']}, scipy {env['scipy']}, "
               f"Python {env['python']}; {env['dtype']}; {env['timestamp_utc']}.")


def show_race(result: dict[str, Any]) -> None:
    """A finished race on the data: the winner, the table, the reasons, the charts, the CSV.

    Args:
      result: `core.views.race.race_on_data`'s "rows", "env", "race_csv", with the
        page's "key" (repeats, budget), "data" (label), "n", "d", "gamma".
    """
    rows, rkey = result["rows"], result["key"]
    rdtype = rows[0].dtype
    st.markdown(f"**Race on {result['data']}**: N = {result['n']:,}, D = {result['d']}, "
                f"{rdtype}, gamma = {grid_label(result['gamma'])}, up to {rkey['repeats']} "
                f"repeats, {rkey['budget']:g} s per method.")
    ran = ran_rows(rows)
    if ran:
        fastest, *others = sorted(ran, key=lambda r: r.timing.median_s)
        versus = ("" if fastest.speedup_vs_baseline is None else
                  f", {speedup_words(fastest.speedup_vs_baseline)} the speed of map + stack")
        tied = [r.label for r in others if within_noise(r.timing, fastest.timing)]
        tie = (f" Within noise of it on this machine now: {', '.join(tied)} (the methods ran in "
               "turn, round by round, and these ratios' ranges hold 1)." if tied else "")
        st.success(f"Fastest per call: **{fastest.label}**, "
                   f"{format_seconds(fastest.timing.median_s, 2)} (median, IQR "
                   f"{format_seconds(fastest.timing.spread_s, 2)}){versus}.{tie}",
                   icon=":material/trophy:")
        st.caption(format_load(fastest.timing.other_cores))
        st.dataframe(race_table(rows, rdtype), key="w_race_table", hide_index=True,
                     placeholder="—", column_config=race_table_columns(rows, rdtype))
    for r in rows:
        if r.status != "ok":
            (st.info if r.status == "declined" else st.error)(
                f"**{r.label}** {r.status}: {r.reason}", icon=":material/block:")
    if ran:
        st.plotly_chart(race_time_chart(rows, "Time per call (log scale): steady state and "
                                              "one-off compile"), key="w_race_time_chart")
        left, right = st.columns(2)
        if any(r.speedup_vs_baseline is not None for r in ran):
            left.plotly_chart(speedup_chart(rows), key="w_race_speedup_chart")
        else:
            left.caption(f"No speedups: {METHODS[BASELINE].label} did not run in this race.")
        if any(r.max_abs_error is not None for r in ran):
            right.plotly_chart(error_chart(rows, rdtype), key="w_race_error_chart")
    show_environment(result["env"])
    st.download_button("Download the results (CSV)", result["csv"],
                       file_name=f"batching_race_n{result['n']}_{rdtype}.csv",
                       mime="text/csv", key="w_race_csv", on_click="ignore",
                       icon=":material/download:",
                       help="One row per method with its timings, error and status, plus "
                            "versions, device and dtype on every row.")


def show_scaling(scaled: dict[str, Any], d: int, dtype: str) -> None:
    """A finished scaling run: the log-log chart, its crossovers, what was skipped, the CSV.

    Args:
      scaled: `core.views.race.scaling_with_n`'s "rows", "crossings", "env", and "csv".
      d, dtype: the page's D and precision (the CSV's file name).
    """
    st.plotly_chart(scaling_chart(scaled["rows"], scaled["crossings"]), key="w_race_scale_chart")
    if scaled["crossings"]:
        st.markdown("\n".join(f"- {s}" for s in crossing_sentences(scaled["crossings"])))
    else:
        st.caption("No clear crossover in this range: wherever the order of two methods "
                   "changes, their repeats overlap at the sizes around it (or the order never "
                   "changes).")
    skipped = [r for r in scaled["rows"] if r.status != "ok"]
    if skipped:
        with st.expander(f"Skipped at some sizes ({len(skipped)})"):
            for r in skipped:
                st.markdown(f"- N = {r.n:,}, **{r.label}** {r.status}: {r.reason}")
    show_environment(scaled["env"])
    st.download_button("Download the scaling results (CSV)", scaled["csv"],
                       file_name=f"batching_scaling_d{d}_{dtype}.csv", mime="text/csv",
                       key="w_race_scale_csv", on_click="ignore", icon=":material/download:")
