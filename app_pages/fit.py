"""Fit: a Gaussian process fitted by vmap over hyperparameters and grad through a Cholesky."""

from __future__ import annotations

import hashlib
import inspect

import numpy as np
import streamlit as st

from core.data import load_table
from core.errors import CoreError, DataError
from core.lessons.fit.model import (
    _point_log_density,
    log_density_of_points,
    log_density_of_points_loop,
    lml_surface,
    lml_surface_loop,
)
from core.lessons.fit.climb import climb
from core.lessons.fit.compare import (
    GAMMA_RANGE,
    NOISE_RANGE,
    compute_surface,
    fit_curve,
    held_out,
    time_surface,
)
from core.data.regression import REGRESSION_SETS, load_regression, regression_from_table
from core.precision import dtype_scope
from ui.export import reproduce_control
from ui.charts.fit import fit_chart, held_out_chart, surface_chart, timing_table
from ui.state.long_work import interruption_check
from ui.state.settings import log_grid, snap_log
from ui.state.sidebar import render_sidebar

N_CHOICES = (20, 50, 100, 200, 400, 800)
NOISE_SD_CHOICES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
SIDE_CHOICES = (16, 32, 48, 64, 96)
STEP_CHOICES = (25, 50, 100, 200, 400)
RATE_CHOICES = (0.01, 0.03, 0.1, 0.3)
GAMMAS = log_grid(*GAMMA_RANGE, 1.0, 10)
NOISES = log_grid(*NOISE_RANGE, 1.0, 10)
AMPLITUDES = log_grid(1e-2, 1e2, 1.0, 10)
BOUND = dict(bind="query-params")


@st.cache_data(max_entries=16, show_spinner=False)
def _data(name: str, n: int, noise_sd: float, seed: int, dtype: str):
    return load_regression(name, n, noise_sd, seed, dtype)


@st.cache_data(max_entries=8, show_spinner=False)
def _upload_data(sha: str, target: int, n: int, seed: int, dtype: str, _table: np.ndarray):
    return regression_from_table(_table, target, n, seed, dtype)


@st.cache_data(max_entries=16, show_spinner="Computing the surface: one jitted call …")
def _surface(data_key: tuple, side: int, amplitude: float, _X: np.ndarray, _y: np.ndarray):
    with dtype_scope(_X.dtype):
        return compute_surface(_X, _y, side, amplitude)


def _read_upload() -> None:
    """on_change of the uploader: read the table once; keep a message for a bad file."""
    file = st.session_state.get("fit_upload")
    st.session_state["_fit_table"] = None
    if file is not None:
        try:
            table = load_table(file)
        except DataError as err:
            st.session_state["_fit_table"] = ("error", str(err))
        else:
            st.session_state["_fit_table"] = (hashlib.sha1(table.tobytes()).hexdigest()[:16], table)


def _choose_clicked_point() -> None:
    """on_select of the surface: the clicked cell becomes the chosen point."""
    points = st.session_state["fit_surface"]["selection"]["points"]
    if points:
        st.session_state["fit_gamma"] = snap_log(GAMMAS, 10.0 ** points[0]["x"])
        st.session_state["fit_noise"] = snap_log(NOISES, 10.0 ** points[0]["y"])


def _move_to(gamma: float, noise: float, amplitude: float) -> None:
    st.session_state["fit_gamma"] = snap_log(GAMMAS, gamma)
    st.session_state["fit_noise"] = snap_log(NOISES, noise)
    st.session_state["fit_amp"] = snap_log(AMPLITUDES, amplitude)


# Its own data, kernel and precision: the sidebar's controls are drawn hidden (bound to the
# URL, kept for the other pages).
render_sidebar(uses=frozenset())

st.title("Fit")
st.markdown(
    "Gaussian-process regression with the RBF kernel: K = amplitude·exp(−gamma·d²) + noise·I, and "
    "the **log marginal likelihood** log p(y | X) = −½ yᵀK⁻¹y − ½ log|K| − (N/2) log 2π says how "
    "well each (gamma, noise) explains the data. `vmap` computes it for a whole grid of "
    "hyperparameters in one call; `grad` climbs it through the Cholesky factor of K. This page "
    "uses its own data with a target (the sidebar's data has none) and its own precision."
)
# float64 by default, as scikit-learn's GaussianProcessRegressor fits (NumPy's float64),
# whatever the sidebar's precision: in float32, K + noise·I has no Cholesky factor where the
# noise is below K's round-off, and the default surface had 31 of its 4,096 cells blank.
dtype = st.radio("Fit precision (this page only)", ["float64", "float32"], key="fit_dtype",
                 horizontal=True, **BOUND,
                 help="float64 by default, as Gaussian-process libraries fit: in float32 the "
                      "Cholesky factor of K fails where the noise is below K's round-off "
                      "(blank cells on the surface).")

c1, c2, c3, c4 = st.columns(4)
name = c1.selectbox("Data", [*REGRESSION_SETS, "upload"], key="fit_data", **BOUND,
                    format_func=lambda k: REGRESSION_SETS[k].label if k in REGRESSION_SETS else "Your upload")
max_train = REGRESSION_SETS[name].max_train if name in REGRESSION_SETS else max(N_CHOICES)
n_options = [v for v in N_CHOICES if v <= max_train]
n = c2.select_slider("Training points N", n_options, value=100, key="fit_n", **BOUND,
                     help="Held-out points: a quarter as many more (at least 10), for section 4.")
noise_sd = c3.select_slider("Data noise sd", NOISE_SD_CHOICES, value=0.2, key="fit_noise_sd",
                            disabled=name not in REGRESSION_SETS or not REGRESSION_SETS[name].uses_noise,
                            **BOUND, help="Standard deviation of the noise added to the synthetic targets.")
seed = c4.number_input("Seed", 0, 10_000, 0, key="fit_seed", **BOUND)
if name == "upload":
    st.file_uploader("A table with a target column: CSV or .npy, rows are points", key="fit_upload",
                     on_change=_read_upload, help="Read as numbers only; nothing in it is run.")
    upload = st.session_state.get("_fit_table")
    if upload is None:
        st.info("Upload a table to fit: one of its columns is the target, the others the features.",
                icon=":material/upload:")
        st.stop()
    if upload[0] == "error":
        st.error(f"The file was not loaded: {upload[1]}", icon=":material/error:")
        st.stop()
    sha, table = upload
    target = st.number_input("Target column (1 = the first)", 1, table.shape[1], table.shape[1],
                             key="fit_target", **BOUND) - 1
    try:
        data = _upload_data(sha, target, n, seed, dtype, table)
    except DataError as err:
        st.error(str(err), icon=":material/error:")
        st.stop()
    data_key = ("upload", sha, target, n, seed, dtype)
else:
    data = _data(name, n, noise_sd, seed, dtype)
    data_key = (name, n, noise_sd, seed, dtype)
spec = data.spec
st.caption(f"{spec.description} N = {data.X.shape[0]} training rows, D = {data.X.shape[1]}, "
           f"{data.X_test.shape[0]} held out.")
export_slot = st.container()  # filled once the chosen point and the climb are known

# --- 1. the surface --------------------------------------------------------------------
st.header("1. The surface: every (gamma, noise) in one call")
s1, s2 = st.columns(2)
side = s1.select_slider("Grid side (gammas × noises)", SIDE_CHOICES, value=64, key="fit_side", **BOUND)
amplitude = s2.select_slider("Amplitude", AMPLITUDES, value=1.0, key="fit_amp", format_func=lambda v: f"{v:.3g}",
                             **BOUND, help="The surface is drawn at this amplitude; the climb moves it too.")
surface = _surface(data_key, side, amplitude, data.X, data.y)

p1, p2 = st.columns(2)
gamma = p1.select_slider("gamma (chosen point)", GAMMAS, value=1.0, key="fit_gamma",
                         format_func=lambda v: f"{v:.3g}", **BOUND,
                         help="Or click a cell of the surface.")
noise = p2.select_slider("noise variance (chosen point)", NOISES, value=0.1, key="fit_noise",
                         format_func=lambda v: f"{v:.3g}", **BOUND, help="Or click a cell of the surface.")

surface_slot = st.empty()
climb_key = ("climb", data_key)
kept_climb = st.session_state.get("_fit_climb")
path = kept_climb["path"] if kept_climb and kept_climb["key"] == climb_key else None
m1, m2 = st.columns(2)
m1.metric("Grid maximum LML", f"{surface.best_lml:.5g}" if np.isfinite(surface.best_lml) else "none",
          help="The largest finite value on the grid (the star).")
m2.metric(f"Cells ({side} × {side})", f"{side * side:,}", help="All in one jitted call.")
if np.isfinite(surface.best_lml):
    st.caption(f"The star: gamma = {surface.best_gamma:.2g}, noise = {surface.best_noise:.2g}, "
               f"amplitude = {amplitude:.3g} (the grid's best cell, not the exact maximum).")
if surface.failed:
    st.info(f"{surface.failed:,} of {side * side:,} cells are blank: there K = amplitude·exp(−gamma·d²) "
            f"+ noise·I has no Cholesky factor in {dtype} (noise too small for the round-off of K). "
            "Switch **Fit precision** above to float64 to fill most of them.", icon=":material/info:")
with st.expander("The code that computes the surface: one jitted call of nested vmap"):
    st.code(inspect.getsource(lml_surface) + "\n\n# the page calls:\nlml_surface(X, y, gammas, noises, amplitude)",
            language="python")
    st.markdown("The Python double loop it replaces:")
    st.code(inspect.getsource(lml_surface_loop), language="python")
    if st.button("Time the one call against the double loop", key="fit_time_surface"):
        bar = st.progress(0.0, text="Timing …")
        with dtype_scope(dtype):
            timing = time_surface(data.X, data.y, side, amplitude,
                                  on_progress=lambda f, label: bar.progress(f, text=label))
        bar.empty()
        st.session_state["_fit_timing"] = ((data_key, side, amplitude), timing)
    kept = st.session_state.get("_fit_timing")
    if kept and kept[0] == (data_key, side, amplitude):
        t = kept[1]
        scale = t.cells / t.loop_cells
        rows = [(f"one jitted call, one gamma row at a time (lax.map), all {t.cells:,} cells",
                 t.by_row.median_s, t.by_row.spread_s, t.by_row.repeats)]
        if t.all_at_once is not None:
            rows.append((f"one jitted call, every gamma at once (plain nested vmap, "
                         f"{t.all_at_once_bytes / 1e6:,.0f} MB of matrices)",
                         t.all_at_once.median_s, t.all_at_once.spread_s, t.all_at_once.repeats))
        rows += [(f"double loop, {t.loop_cells:,} cells (evenly spaced gamma rows)", t.loop.median_s,
                  t.loop.spread_s, t.loop.repeats),
                 (f"double loop, scaled to all {t.cells:,} cells", t.loop_all_s, t.loop.spread_s * scale,
                  t.loop.repeats)]
        st.markdown(timing_table(rows))
        st.metric("Loop (scaled) / one call by rows", f"{t.speedup:.2g}×",
                  help="Medians. The first call of each was a warm-up (it compiled).")
        if t.all_at_once is None:
            st.caption(f"The plain nested vmap was not run: it would factor {t.all_at_once_bytes / 1e9:.2g} GB "
                       "of matrices at once.")
        st.caption(f"Why the page goes by rows: vmap over everything turns {t.cells:,} small Cholesky "
                   "factorizations into one batched call on all the matrices at once. On a CPU that batch "
                   "does not fit in cache, so each pass over it goes to main memory; one gamma row at a "
                   "time keeps the batch small, in the same single call, with the same numbers. Compare "
                   "the two rows above on this machine.")
        st.caption(f"Largest |loop − one call| over the cells both computed: {t.max_abs_diff:.2g} "
                   f"(LML values of order {abs(surface.best_lml):.2g}; round-off in {dtype}).")

# --- 2. the climb ----------------------------------------------------------------------
st.header("2. The climb: grad through the Cholesky")
st.markdown(
    "From the chosen point, Adam (optax) ascends the LML in θ = (log gamma, log noise, "
    "log amplitude), with `jax.value_and_grad` differentiating through `jnp.linalg.cholesky`. "
    "The path is drawn on the surface as it goes (the surface is at a fixed amplitude: the path "
    "is the climb's shadow on it). Changing any control stops the climb."
)
k1, k2, k3 = st.columns([1, 1, 1])
steps = k1.select_slider("Most steps", STEP_CHOICES, value=100, key="fit_steps", **BOUND)
rate = k2.select_slider("Learning rate (log space)", RATE_CHOICES, value=0.1, key="fit_rate", **BOUND)
start = k3.button("Climb from the chosen point", key="fit_climb_button", type="primary")


def draw_surface(path_points, clickable: bool, key: str | None) -> None:
    fig = surface_chart(surface.gammas, surface.noises, surface.lml, (gamma, noise), path_points,
                        clickable=clickable)
    if key:
        surface_slot.plotly_chart(fig, key=key, on_select=_choose_clicked_point,
                                  selection_mode="points")
    else:
        surface_slot.plotly_chart(fig)


climb_error = None
if start:
    check = interruption_check()
    bar = st.progress(0.0, text="Climbing …")
    points = []
    try:
        with dtype_scope(dtype):
            for s in climb(data.X, data.y, gamma, noise, amplitude, steps=steps, learning_rate=rate):
                points.append(s)
                check()  # a click or a new setting abandons the climb here
                if s.step % 5 == 0:
                    draw_surface([(p.gamma, p.noise) for p in points], clickable=False, key=None)
                    bar.progress(s.step / steps, text=f"Step {s.step} of at most {steps}: LML {s.lml:.5g}")
    except CoreError as err:
        climb_error = str(err)
    bar.empty()
    st.session_state["_fit_climb"] = {"key": climb_key, "path": [(p.gamma, p.noise) for p in points],
                                      "steps": points, "error": climb_error, "settings": dict(
                                          gamma=float(gamma), noise=float(noise),
                                          amplitude=float(amplitude), steps=int(steps),
                                          learning_rate=float(rate))}
    kept_climb = st.session_state["_fit_climb"]
    path = kept_climb["path"]
draw_surface(path, clickable=True, key="fit_surface")
st.caption("Click a cell to choose the start point; the star is the grid's maximum.")
if kept_climb and kept_climb["key"] == climb_key and kept_climb["steps"]:
    first, last = kept_climb["steps"][0], kept_climb["steps"][-1]
    if kept_climb["error"]:
        st.error(f"The climb stopped at step {last.step}: {kept_climb['error']}", icon=":material/error:")
    r1, r2 = st.columns(2)
    r1.metric("LML", f"{last.lml:.5g}", delta=f"{last.lml - first.lml:+.3g} from the start")
    r2.metric("|∇θ LML| at the end", f"{last.grad_norm:.2g}", help=f"After {last.step} steps.")
    st.markdown(f"The climb ended after {last.step} steps at gamma = **{last.gamma:.3g}**, noise = "
                f"**{last.noise:.3g}**, amplitude = **{last.amplitude:.3g}** (started at "
                f"{first.gamma:.3g}, {first.noise:.3g}, {first.amplitude:.3g}).")
    st.button("Move the chosen point to the climb's end", key="fit_use_end", on_click=_move_to,
              args=(last.gamma, last.noise, last.amplitude))

with export_slot:
    reproduce_control("fit", None, dict(
        data=name, n=n, noise_sd=float(noise_sd), seed=int(seed), dtype=dtype, side=side,
        amplitude=float(amplitude), gamma=float(gamma), noise=float(noise),
        climbed=kept_climb.get("settings") if path is not None else None,
        timed_surface=bool(kept and kept[0] == (data_key, side, amplitude)),
        **({"upload_path": st.session_state["fit_upload"].name, "target": int(target)}
           if name == "upload" else {})), notes=[
        "Your own table: put its path in `SETTINGS['upload_path']`." if name == "upload" else
        "The page's own data with a target, made by the same seeded code.",
        "The climb runs here when you climbed in the app (`climbed`: its start and settings)."])

# --- 3. the fit ------------------------------------------------------------------------
st.header("3. The fit at the chosen point")
try:
    with dtype_scope(dtype):
        if data.X.shape[1] == 1:
            curve = fit_curve(data.X, data.y, gamma, noise, amplitude)
        heldout = held_out(data.X, data.y, data.X_test, data.y_test, gamma, noise, amplitude)
except CoreError as err:
    st.error(str(err), icon=":material/error:")
    st.stop()
if data.X.shape[1] == 1:
    left, right = st.columns(2)
    truth = spec.truth(curve.grid[:, None]) if spec.truth is not None else None
    left.plotly_chart(fit_chart(data.X[:, 0], data.y, curve.grid, curve.posterior.mean,
                                curve.posterior.variance, noise, "GP posterior mean ± 2 sd", truth),
                      key="fit_fit_chart")
    right.plotly_chart(fit_chart(data.X[:, 0], data.y, curve.grid, curve.posterior.mean,
                                 curve.posterior.variance, noise,
                                 "Kernel ridge regression (λ = noise) on the GP mean", truth,
                                 other_mean=curve.krr_mean, other_name="kernel ridge mean"),
                       key="fit_krr_chart")
    rel = curve.max_gap / max(curve.scale, np.finfo(dtype).tiny)
    st.metric("max |GP mean − kernel ridge mean| / max |GP mean|", f"{rel:.2g}",
              help="Kernel ridge regression solves (K + λI)w = y by LU; the GP uses the Cholesky factor. "
                   "With λ = noise the two means are the same function, so they differ by round-off only.")
    st.caption(f"The same mean, two names: kernel ridge's k*ᵀ(K + λI)⁻¹y with λ = noise = {noise:.3g} "
               "is the GP's posterior mean. The GP adds the bands: wide for a new observation "
               "(noise included), narrow for f itself.")
else:
    st.info(f"{spec.label} has D = {data.X.shape[1]} features: no curve to draw. The chart in "
            "section 4 shows the held-out predictions instead.", icon=":material/info:")

# --- 4. batched predictions -------------------------------------------------------------
st.header("4. Batched predictions: every held-out point by vmap")
st.markdown(
    "The predictive density of each held-out point, log N(y* | mean(x*), variance(x*)), is a function "
    "of one point. K is factored once; then `vmap` maps the one-point function over the held-out "
    "rows in one call, where the loop makes one call per row (both timed on the same factor)."
)
h1, h2, h3 = st.columns(3)
h1.metric("Mean log density (held out)", f"{heldout.mean_log_density:.4g}",
          help=f"Over {len(heldout.batched)} held-out points; higher is better.")
h2.metric("max |vmap − loop|", f"{heldout.max_abs_diff:.2g}",
          help="Both compute the same densities; they agree to round-off.")
h3.metric("Speedup of vmap", f"{heldout.speedup:.2g}×",
          help="Loop median over vmap median.")
m = len(heldout.batched)
st.markdown(timing_table([
    (f"vmap over the {m} held-out points (one call)", heldout.vmap_timing.median_s,
     heldout.vmap_timing.spread_s, heldout.vmap_timing.repeats),
    (f"loop over the {m} points ({m} calls)", heldout.loop_timing.median_s,
     heldout.loop_timing.spread_s, heldout.loop_timing.repeats),
]))
st.plotly_chart(held_out_chart(data.y_test, heldout.posterior.mean, heldout.posterior.variance,
                               f"Held-out points: predicted mean ± 2 sd against the truth"),
                key="fit_heldout_chart")
with st.expander("The code: the one-point density and its vmap"):
    st.code("\n\n".join(inspect.getsource(f) for f in (_point_log_density, log_density_of_points,
                                                          log_density_of_points_loop)), language="python")
