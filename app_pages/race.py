"""Batching race: the registry's ways of batching the RBF Gram matrix, timed.

Races run only on a click (timing takes seconds) and keep their results in the
session, labelled with the settings they ran under; a run that is interrupted
(any click or setting change reruns the script) keeps nothing.
"""

from __future__ import annotations

import datetime
from typing import Any, Callable

import streamlit as st

from core.kernels.functions import KERNELS
from core.dense.methods import METHODS
from core.precision import dtype_scope
from core.bench.race import BASELINE, REFERENCE, RaceRow, crossovers, race, scaling_race
from core.bench.records import race_csv
from core.bench.timing import TimingCancelled, environment_info
from core.bench.report import format_seconds
from ui.state.cache import heuristic_gamma, load_data
from ui.export import data_source, reproduce_control
from ui.charts.race import (
    crossing_sentences,
    error_chart,
    race_table,
    race_table_columns,
    race_time_chart,
    raced_methods,
    scaling_chart,
    speedup_chart,
    speedup_words,
)
from ui.state.sidebar import render_sidebar
from ui.state.settings import grid_label
from ui.state.url import bound
from ui.state.long_work import should_stop_for_streamlit

DEFAULT_METHODS = ("map_stack", "jit_method1", "jit_method2", "vmap_nojit", "jit_expansion",
                   "jit_centered", "sklearn", "scipy_cdist")
DEFAULT_SCALING_METHODS = ("map_stack", "vmap_nojit", "jit_method1", "scipy_cdist")
N_GRID = (30, 100, 300, 1000, 2000, 3000, 4000)  # the sidebar's N stops at 4,000 too
DEFAULT_N_VALUES = (100, 300, 1000, 3000)
BUDGETS_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
ss = st.session_state


def label(name: str) -> str:
    return METHODS[name].label


def run_with_progress(what: str, steps: int, work: Callable[..., list[RaceRow]],
                      describe: Callable[[int, str], str], show_n: bool = False
                      ) -> list[RaceRow] | None:
    """Run `work(on_step=..., on_row=..., should_stop=...)` under a progress bar and status.

    Returns the rows, or None if the run was cancelled or failed (message shown).
    `describe(i, name)` names step i of `steps` for the status line; `show_n` puts
    each row's N in its line of the log.
    """
    ss["_race_running"] = what  # cleared on completion: a leftover means it was interrupted
    progress = st.progress(0.0, text=f"Starting the {what}…")
    stop_slot = st.empty()
    stop_slot.button("Stop", key=f"w_race_stop_{what.split()[0]}", icon=":material/stop:",
                     help="Abandons this run; nothing from it is kept.")
    started = datetime.datetime.now()
    rows: list[RaceRow] | None = None
    with st.status(f"Running the {what}…", expanded=True) as status:
        def on_step(i: int, total: int, name: str, phase: str) -> None:
            if phase == "start":
                text = f"{describe(i, name)} ({i} of {total})"
                progress.progress((i - 1) / total, text=text)
                status.update(label=f"Timing {text}")
            else:
                progress.progress(i / total, text=f"{i} of {total} done")

        def on_row(i: int, total: int, row: RaceRow) -> None:
            where = f"N = {row.n:,} · " if show_n else ""
            status.write(f"{where}**{row.label}**: {row.summary()}")

        try:
            rows = work(on_step=on_step, on_row=on_row, should_stop=should_stop_for_streamlit())
        except TimingCancelled as err:
            status.update(label=str(err), state="error")
        except (ValueError, MemoryError) as err:
            status.update(label=f"The {what} failed: {err}", state="error")
        else:
            took = (datetime.datetime.now() - started).total_seconds()
            status.update(label=f"The {what} finished: {steps} steps in {format_seconds(took)}",
                          state="complete", expanded=False)
    progress.empty()
    stop_slot.empty()
    ss.pop("_race_running", None)
    return rows


def environment(dtype: str) -> dict[str, Any]:
    with dtype_scope(dtype):  # x64_enabled as the race ran
        return {**environment_info(), "dtype": dtype}


def changed_parts(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    words = dict(data="the data (dataset, N, noise, seed or precision)", gamma="gamma",
                 methods="the methods", repeats="repeats", budget="the time budget",
                 n_values="the N values", d="D", dtype="the precision")
    return [words[k] for k in new if old.get(k) != new.get(k)]


def show_environment(env: dict[str, Any]) -> None:
    devices = ", ".join(sorted({f"{x['platform']} ({x['device_kind']})" for x in env["jax_devices"]}))
    st.caption(f"Timed on {devices}, {env['cpu_count']} CPU cores; jax {env['jax']}, "
               f"numpy {env['numpy']}, scikit-learn {env['scikit-learn']}, scipy {env['scipy']}, "
               f"Python {env['python']}; {env['dtype']}; {env['timestamp_utc']}.")


# --- the page ------------------------------------------------------------------

settings = render_sidebar()
data = load_data(settings)
n, d = data.X.shape
gamma = settings.gamma if settings.gamma is not None else heuristic_gamma(settings)
dtype = settings.dtype

st.title("Batching race")
st.markdown(
    "Every method below computes the same RBF Gram matrix $K_{ij} = \\exp(-\\gamma\\,"
    "\\|x_i - x_j\\|^2)$ in a different way, from the notes' `map` + `partial` + `np.stack` "
    "(the baseline, 1×) to one `jax.jit`-compiled nested `vmap`. Compiled methods are compiled "
    "ahead of time, so their one-off compile cost is shown apart from the steady-state time per "
    "call. The compile is timed on a fresh copy of each method's program: tracing, lowering "
    "and XLA's compile all run, as on a first call in a new process, and nothing is read from "
    "JAX's compilation caches, in memory or on disk (a compile served from one would read "
    f"\"cached\"). Each result is checked against a float64 reference ({label(REFERENCE)} "
    "run in float64), whose own error therefore reads \"0 (reference)\".")
st.markdown(f"**{data.name}**: N = {n:,} points in D = {d} dimensions, {dtype}, "
            f"gamma = {grid_label(gamma)}; K is {n:,} × {n:,}.")
if data.note:
    st.caption(data.note)
export_slot = st.container()  # filled once the page knows which races it shows
if settings.kernel != "rbf":
    st.info(f"The race times the RBF kernel (the notes' example); the sidebar's "
            f"{KERNELS[settings.kernel].label} kernel is not used on this page.",
            icon=":material/info:")
interrupted = ss.pop("_race_running", None)
if interrupted:
    st.info(f"The last {interrupted} stopped before it finished (a click or a new setting "
            "starts a new run of the page), so nothing from it was kept. Run it again for "
            "results.", icon=":material/stop_circle:")

# --- race on the current data ---

st.header("Race on the current data")
default = list(dict.fromkeys([*DEFAULT_METHODS, settings.method]))
methods = bound(st.multiselect, "Methods to time", list(METHODS), format_func=label,
                help="Run in this order, on the same data. The sidebar's method is "
                     "included by default.", default=default, key="w_race_methods")
c2, c3, _ = st.columns([1, 1, 2])
repeats = bound(c2.slider, "Repeats", 1, 30, help="Timed calls per method, after one warm-up call.",
                value=5, key="w_race_repeats")
budget = bound(c3.select_slider, "Budget per method", BUDGETS_S, format_func=lambda s: f"{s:g} s",
               help="Repeats stop once a method has used this much time "
                    "(at least one timed call is always made).",
               value=1.0, key="w_race_budget")
declined = {m: METHODS[m].declines(n, n, d, dtype) for m in methods}
declined = {m: reason for m, reason in declined.items() if reason}
if declined:
    st.caption("Skipped at this size, with the reason:\n" + "\n".join(
        f"- {reason}" for reason in declined.values()))
if methods and BASELINE not in methods:
    st.caption(f"Add **{label(BASELINE)}** to see speedups over the notes' baseline.")
race_key = dict(data=data.key, gamma=gamma, methods=tuple(methods), repeats=repeats, budget=budget)

if not methods:
    st.info("Choose at least one method to race.", icon=":material/checklist:")
if st.button("Run the race", type="primary", key="w_race_run", icon=":material/play_arrow:",
             disabled=not methods):
    rows = run_with_progress(
        "race", len(methods),
        lambda **kw: race(data.X, None, gamma, methods, dtype, repeats=repeats, budget_s=budget,
                          **kw),
        lambda i, name: label(name))
    if rows is not None:  # stored only when complete
        env = environment(dtype)
        ss["_race_result"] = dict(key=race_key, rows=rows, env=env, data=data.name, n=n, d=d,
                                  gamma=gamma, csv=race_csv(rows, env, extra=dict(
                                      dataset=data.name, gamma=gamma, budget_s=budget)),
                                  source=data_source(settings))

result = ss.get("_race_result")
if result is None:
    st.caption("No results yet: choose methods and click **Run the race**. Nothing is timed "
               "until you do.")
else:
    stale = changed_parts(result["key"], race_key)
    if stale:
        c1, c2 = st.columns([5, 1])
        c1.warning(f"These results are from previous settings: {', '.join(stale)} changed "
                   "since. Run the race again for the current ones.", icon=":material/history:")
        c2.button("Clear them", key="w_race_clear", on_click=lambda: ss.pop("_race_result", None))
    rows, rkey = result["rows"], result["key"]
    rdtype = rows[0].dtype
    st.markdown(f"**Race on {result['data']}**: N = {result['n']:,}, D = {result['d']}, "
                f"{rdtype}, gamma = {grid_label(result['gamma'])}, up to {rkey['repeats']} "
                f"repeats, {rkey['budget']:g} s per method.")
    ran = [r for r in rows if r.status == "ok"]
    if ran:
        fastest = min(ran, key=lambda r: r.timing.median_s)
        versus = ("" if fastest.speedup_vs_baseline is None else
                  f", {speedup_words(fastest.speedup_vs_baseline)} the speed of map + stack")
        st.success(f"Fastest per call: **{fastest.label}**, "
                   f"{format_seconds(fastest.timing.median_s, 2)} (median, IQR "
                   f"{format_seconds(fastest.timing.spread_s, 2)}){versus}.",
                   icon=":material/trophy:")
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
            left.caption(f"No speedups: {label(BASELINE)} did not run in this race.")
        if any(r.max_abs_error is not None for r in ran):
            right.plotly_chart(error_chart(rows, rdtype), key="w_race_error_chart")
    show_environment(result["env"])
    st.download_button("Download the results (CSV)", result["csv"],
                       file_name=f"batching_race_n{result['n']}_{rdtype}.csv",
                       mime="text/csv", key="w_race_csv", on_click="ignore",
                       icon=":material/download:",
                       help="One row per method with its timings, error and status, plus "
                            "versions, device and dtype on every row.")

# --- scaling with N ---

st.header("Scaling with N")
st.markdown(f"The race again at several sizes, on seeded standard normal data with D = {d} "
            "(the current data's D), gamma from the median heuristic at each N. A crossover is "
            "marked only where the faster method changes and that holds across repeats: at the "
            "sizes on either side, every repeat of one beat every repeat of the other. Where "
            "the repeats overlap, the lines may cross by noise alone.")
n_values = bound(st.multiselect, "N values", N_GRID, format_func=lambda v: f"{v:,}",
                 default=list(DEFAULT_N_VALUES), key="w_race_scale_n")
scale_methods = bound(st.multiselect, "Methods", list(METHODS), format_func=label,
                      default=list(DEFAULT_SCALING_METHODS), key="w_race_scale_methods")
n_values = sorted(n_values)
st.caption(f"Uses the repeats ({repeats}) and budget ({budget:g} s) above. Each (N, method) "
           "takes at most about the budget plus its compile time; methods past their size "
           "limit are skipped at that N.")
scale_key = dict(n_values=tuple(n_values), d=d, methods=tuple(scale_methods), dtype=dtype,
                 repeats=repeats, budget=budget)
if len(n_values) < 2 or not scale_methods:
    st.info("Choose at least two N values and one method.", icon=":material/checklist:")
if st.button("Run scaling", key="w_race_scale_run", icon=":material/show_chart:",
             disabled=len(n_values) < 2 or not scale_methods):
    per_n = len(scale_methods)
    rows = run_with_progress(
        "scaling run", len(n_values) * per_n,
        lambda **kw: scaling_race(n_values, d, scale_methods, dtype, seed=settings.seed,
                                  repeats=repeats, budget_s=budget, **kw),
        lambda i, name: f"{label(name)} at N = {n_values[(i - 1) // per_n]:,}", show_n=True)
    if rows is not None:
        env = environment(dtype)
        ss["_race_scaling"] = dict(key=scale_key, rows=rows, env=env, crossings=crossovers(rows),
                                   seed=settings.seed,
                                   csv=race_csv(rows, env, extra=dict(
                                       dataset=f"standard normal, D = {d}", gamma="median heuristic",
                                       budget_s=budget)))

scaled = ss.get("_race_scaling")
if scaled is not None:
    stale = changed_parts(scaled["key"], scale_key)
    if stale:
        st.warning(f"This chart is from previous settings: {', '.join(stale)} changed since. "
                   "Run scaling again for the current ones.", icon=":material/history:")
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

with export_slot:
    ran, auto_note = raced_methods(result["rows"]) if result else ([], "")
    reproduce_control("race", (result or {}).get("source") or data_source(settings), dict(
        race_run=None if result is None else dict(
            gamma=float(result["gamma"]), methods=ran, dtype=result["rows"][0].dtype,
            repeats=result["key"]["repeats"], budget_s=result["key"]["budget"],
            dataset=result["data"]),
        scaling_run=None if scaled is None else dict(
            n_values=list(scaled["key"]["n_values"]), d=scaled["key"]["d"],
            methods=raced_methods(scaled["rows"])[0], dtype=scaled["key"]["dtype"],
            seed=scaled.get("seed", settings.seed), repeats=scaled["key"]["repeats"],
            budget_s=scaled["key"]["budget"])), notes=[
        "The races you ran in the app, run again here: every time is measured on this "
        "machine, nothing is copied. `--save DIR` also writes race.csv (and scaling.csv) in "
        "the format of the page's CSV download. A race you did not run is None."],
        settings_note=auto_note)

# --- sources ---

st.header("How each method is written")
st.caption("The code below is read with `inspect.getsource` from the very functions the race "
           "runs; compiled methods run them under `jax.jit`, all with the same compiler options "
           "(`core/compile_options.py`: XLA asks for 512-bit vectors, which changes the speed "
           "on CPUs that have them, never the result).")
for name, method in METHODS.items():
    runs = method.resolve(n, n, d, dtype)  # "auto": its pick, as the race runs and ticks it
    tags = [] if runs is method else [f"runs {runs.label} at this size"]
    tags.append("jax.jit" if runs.compiled else "not compiled")
    if method.peer:
        tags.append("peer library")
    if name == BASELINE:
        tags.append("baseline")
    with st.expander(f"{method.label} · {', '.join(tags)}"):
        st.markdown(method.explanation)
        limit = method.declines(n, n, d, dtype)
        st.caption(limit if limit else f"Runs at the current size (N = {n:,}, D = {d}, {dtype}).")
        st.code(method.source, language="python")
