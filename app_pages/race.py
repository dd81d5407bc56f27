"""Batching race: the registry's ways of batching the RBF Gram matrix, timed.

Races run only on a click (timing takes seconds) and keep their results in the
session, labelled with the settings they ran under; a run that is interrupted
(any click or setting change reruns the script) keeps nothing.
"""

from __future__ import annotations

import streamlit as st

from core.kernels.functions import KERNELS
from core.dense.methods import METHODS
from core.bench.race import BASELINE, REFERENCE
from core.views.race import race_on_data, scaling_with_n
from ui.state.cache import heuristic_gamma, load_data
from ui.export import data_source, reproduce_control
from ui.charts.race import changed_parts, method_label, raced_methods, show_race, show_scaling
from ui.state.sidebar import render_sidebar
from ui.state.settings import grid_label
from ui.state.url import bound
from ui.state.race_run import URL, interrupted_run, run_with_progress

DEFAULT_METHODS = ("map_stack", "jit_method1", "jit_method2", "vmap_nojit", "jit_expansion",
                   "jit_centered", "sklearn", "scipy_cdist")
DEFAULT_SCALING_METHODS = ("map_stack", "vmap_nojit", "jit_method1", "scipy_cdist")
N_GRID = (30, 100, 300, 1000, 2000, 3000, 4000)  # the sidebar's N stops at 4,000 too
DEFAULT_N_VALUES = (100, 300, 1000, 3000)
BUDGETS_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
ss = st.session_state


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
    f"\"cached\"). Each result is checked against a float64 reference ({method_label(REFERENCE)} "
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
interrupted = interrupted_run()
if interrupted:
    st.info(f"The last {interrupted} stopped before it finished (a click or a new setting "
            "starts a new run of the page), so nothing from it was kept. Run it again for "
            "results.", icon=":material/stop_circle:")

# --- race on the current data ---

st.header("Race on the current data")
default = list(dict.fromkeys([*DEFAULT_METHODS, settings.method]))
methods = bound(st.multiselect, "Methods to time", list(METHODS), format_func=method_label,
                help="Run in this order, on the same data. The sidebar's method is "
                     "included by default.", default=default, key=URL.methods)
c2, c3, _ = st.columns([1, 1, 2])
repeats = bound(c2.slider, "Repeats", 1, 30, help="Timed calls per method, after one warm-up call.",
                value=5, key=URL.repeats)
budget = bound(c3.select_slider, "Budget per method", BUDGETS_S, format_func=lambda s: f"{s:g} s",
               help="Repeats stop once a method has used this much time "
                    "(at least one timed call is always made).",
               value=1.0, key=URL.budget)
declined = {m: METHODS[m].declines(n, n, d, dtype) for m in methods}
declined = {m: reason for m, reason in declined.items() if reason}
if declined:
    st.caption("Skipped at this size, with the reason:\n" + "\n".join(
        f"- {reason}" for reason in declined.values()))
if methods and BASELINE not in methods:
    st.caption(f"Add **{method_label(BASELINE)}** to see speedups over the notes' baseline.")
race_key = dict(data=data.key, gamma=gamma, methods=tuple(methods), repeats=repeats, budget=budget)

if not methods:
    st.info("Choose at least one method to race.", icon=":material/checklist:")
if st.button("Run the race", type="primary", key="w_race_run", icon=":material/play_arrow:",
             disabled=not methods):
    section = run_with_progress("race", len(methods), lambda **kw: race_on_data(
        data.X, gamma, methods, dtype, repeats, budget, data.name, **kw),
        lambda i, name: method_label(name))
    if section is not None:  # stored only when complete
        ss["_race_result"] = dict(key=race_key, rows=section["rows"], env=section["env"],
                                  csv=str(section["race_csv"]), data=data.name, n=n, d=d,
                                  gamma=gamma, source=data_source(settings))

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
    show_race(result)

# --- scaling with N ---

st.header("Scaling with N")
st.markdown(f"The race again at several sizes, on seeded standard normal data with D = {d} "
            "(the current data's D), gamma from the median heuristic at each N. A crossover is "
            "marked only where the faster method changes and that holds across repeats: at the "
            "sizes on either side, every repeat of one beat every repeat of the other. Where "
            "the repeats overlap, the lines may cross by noise alone.")
n_values = bound(st.multiselect, "N values", N_GRID, format_func=lambda v: f"{v:,}",
                 default=list(DEFAULT_N_VALUES), key=URL.scale_n)
scale_methods = bound(st.multiselect, "Methods", list(METHODS), format_func=method_label,
                      default=list(DEFAULT_SCALING_METHODS), key=URL.scale_methods)
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
    section = run_with_progress("scaling run", len(n_values) * per_n, lambda **kw: scaling_with_n(
        n_values, d, scale_methods, dtype, settings.seed, repeats, budget, **kw),
        lambda i, name: f"{method_label(name)} at N = {n_values[(i - 1) // per_n]:,}", show_n=True)
    if section is not None:
        ss["_race_scaling"] = dict(key=scale_key, rows=section["rows"], env=section["env"],
                                   crossings=section["crossings"], seed=settings.seed,
                                   csv=str(section["scaling_csv"]))

scaled = ss.get("_race_scaling")
if scaled is not None:
    stale = changed_parts(scaled["key"], scale_key)
    if stale:
        st.warning(f"This chart is from previous settings: {', '.join(stale)} changed since. "
                   "Run scaling again for the current ones.", icon=":material/history:")
    show_scaling(scaled, d, dtype)

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
