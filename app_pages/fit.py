"""Fit: a Gaussian process fitted by vmap over hyperparameters and grad through a Cholesky."""

from __future__ import annotations

import inspect

import numpy as np
import streamlit as st

from core.data.regression import REGRESSION_SETS
from core.errors import CoreError
from core.lessons.fit.model import (_point_log_density, log_density_of_points,
                                    log_density_of_points_loop, lml_surface, lml_surface_loop)
from core.views.fit import climb_section, curve_section, held_out_section, surface_timing_section
from ui.charts.fit import (climb_drawer, draw_climb_result, draw_surface_timing, fit_chart,
                           held_out_chart, held_out_speedup_words, held_out_timing_table,
                           surface_chart)
from ui.export import reproduce_control
from ui.state import fit as state
from ui.state.long_work import interruption_check
from ui.state.sidebar import render_sidebar
from ui.state.url import bound

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
dtype = bound(st.radio, "Fit precision (this page only)", ["float64", "float32"], key=state.URL.dtype,
              horizontal=True,
              help="float64 by default, as Gaussian-process libraries fit: in float32 the "
                   "Cholesky factor of K fails where the noise is below K's round-off "
                   "(blank cells on the surface).")

c1, c2, c3, c4 = st.columns(4)
name = bound(c1.selectbox, "Data", [*REGRESSION_SETS, "upload"], key=state.URL.data,
             format_func=lambda k: REGRESSION_SETS[k].label if k in REGRESSION_SETS else "Your upload")
max_train = REGRESSION_SETS[name].max_train if name in REGRESSION_SETS else max(state.N_CHOICES)
n = bound(c2.select_slider, "Training points N", [v for v in state.N_CHOICES if v <= max_train],
          value=100, key=state.URL.n,
          help="Held-out points: a quarter as many more (at least 10), for section 4.")
noise_sd = bound(c3.select_slider, "Data noise sd", state.NOISE_SD_CHOICES, value=0.2, key=state.URL.noise_sd,
                 disabled=name not in REGRESSION_SETS or not REGRESSION_SETS[name].uses_noise,
                 help="Standard deviation of the noise added to the synthetic targets.")
seed = bound(c4.number_input, "Seed", 0, 10_000, 0, key=state.URL.seed)
if name == "upload":
    data, data_key, target = state.uploaded_fit_data(n, seed, dtype)  # or a message and st.stop()
else:
    data = state.builtin_fit_data(name, n, noise_sd, seed, dtype)
    data_key = (name, n, noise_sd, seed, dtype)
st.caption(f"{data.spec.description} N = {data.X.shape[0]} training rows, D = {data.X.shape[1]}, "
           f"{data.X_test.shape[0]} held out.")
export_slot = st.container()  # filled once the chosen point and the climb are known

# --- 1. the surface --------------------------------------------------------------------
st.header("1. The surface: every (gamma, noise) in one call")
s1, s2 = st.columns(2)
side = bound(s1.select_slider, "Grid side (gammas × noises)", state.SIDE_CHOICES, value=64, key=state.URL.side)
amplitude = bound(s2.select_slider, "Amplitude", state.AMPLITUDES, value=1.0, key=state.URL.amp,
                  format_func=lambda v: f"{v:.3g}",
                  help="The surface is drawn at this amplitude; the climb moves it too.")
surface = state.surface(data_key, side, amplitude, data.X, data.y)

p1, p2 = st.columns(2)
gamma = bound(p1.select_slider, "gamma (chosen point)", state.GAMMAS, value=1.0, key=state.URL.gamma,
              format_func=lambda v: f"{v:.3g}", help="Or click a cell of the surface.")
noise = bound(p2.select_slider, "noise variance (chosen point)", state.NOISES, value=0.1, key=state.URL.noise,
              format_func=lambda v: f"{v:.3g}", help="Or click a cell of the surface.")

surface_slot = st.empty()
climb_key = ("climb", data_key)
climbed = state.kept("climb", climb_key)
best_lml = float(surface["best_lml"])
m1, m2 = st.columns(2)
m1.metric("Grid maximum LML", f"{best_lml:.5g}" if np.isfinite(best_lml) else "none",
          help="The largest finite value on the grid (the star).")
m2.metric(f"Cells ({side} × {side})", f"{side * side:,}", help="All in one jitted call.")
if np.isfinite(best_lml):
    st.caption(f"The star: gamma = {float(surface['best_gamma']):.2g}, noise = "
               f"{float(surface['best_noise']):.2g}, amplitude = {amplitude:.3g} (the grid's best "
               "cell, not the exact maximum).")
if failed := int(surface["failed"]):
    st.info(f"{failed:,} of {side * side:,} cells are blank: there K = amplitude·exp(−gamma·d²) "
            f"+ noise·I has no Cholesky factor in {dtype} (noise too small for the round-off of K). "
            "Switch **Fit precision** above to float64 to fill most of them.", icon=":material/info:")
timing_key = (data_key, side, amplitude)
with st.expander("The code that computes the surface: one jitted call of nested vmap"):
    st.code(inspect.getsource(lml_surface) + "\n\n# the page calls:\nlml_surface(X, y, gammas, noises, amplitude)",
            language="python")
    st.markdown("The Python double loop it replaces:")
    st.code(inspect.getsource(lml_surface_loop), language="python")
    if st.button("Time the one call against the double loop", key="fit_time_surface"):
        bar = st.progress(0.0, text="Timing …")
        state.keep("timing", timing_key, surface_timing_section(
            data.X, data.y, dtype, side, amplitude, on_progress=lambda f, label: bar.progress(f, text=label)))
        bar.empty()
    if (t := state.kept("timing", timing_key)) is not None:
        draw_surface_timing(t, best_lml, dtype)

# --- 2. the climb ----------------------------------------------------------------------
st.header("2. The climb: grad through the Cholesky")
st.markdown(
    "From the chosen point, Adam (optax) ascends the LML in θ = (log gamma, log noise, "
    "log amplitude), with `jax.value_and_grad` differentiating through `jnp.linalg.cholesky`. "
    "The path is drawn on the surface as it goes (the surface is at a fixed amplitude: the path "
    "is the climb's shadow on it). Changing any control stops the climb."
)
k1, k2, k3 = st.columns([1, 1, 1])
steps = bound(k1.select_slider, "Most steps", state.STEP_CHOICES, value=100, key=state.URL.steps)
rate = bound(k2.select_slider, "Learning rate (log space)", state.RATE_CHOICES, value=0.1, key=state.URL.rate)
if k3.button("Climb from the chosen point", key="fit_climb_button", type="primary"):
    check, bar = interruption_check(), st.progress(0.0, text="Climbing …")
    settings = dict(gamma=float(gamma), noise=float(noise), amplitude=float(amplitude), steps=int(steps),
                    learning_rate=float(rate))
    climbed = climb_section(data.X, data.y, dtype, **settings, on_step=climb_drawer(
        surface_slot, bar, surface, (gamma, noise), steps, check))
    bar.empty()
    climbed["settings"] = settings
    state.keep("climb", climb_key, climbed)
path = climbed["climb"][:, :2] if climbed is not None else None
surface_slot.plotly_chart(surface_chart(surface["gammas"], surface["noises"], surface["lml"], (gamma, noise),
                                        path), key="fit_surface", on_select=state.choose_clicked_point,
                          selection_mode="points")
st.caption("Click a cell to choose the start point; the star is the grid's maximum.")
if climbed is not None and len(climbed["climb"]):
    draw_climb_result(climbed, state.move_to)

with export_slot:
    reproduce_control("fit", None, dict(
        data=name, n=n, noise_sd=float(noise_sd), seed=int(seed), dtype=dtype, side=side,
        amplitude=float(amplitude), gamma=float(gamma), noise=float(noise),
        climbed=climbed["settings"] if climbed is not None else None,
        timed_surface=state.kept("timing", timing_key) is not None,
        **({"upload_path": st.session_state["fit_upload"].name, "target": int(target)}
           if name == "upload" else {})), notes=[
        "Your own table: put its path in `SETTINGS['upload_path']`." if name == "upload" else
        "The page's own data with a target, made by the same seeded code.",
        "The climb runs here when you climbed in the app (`climbed`: its start and settings)."])

# --- 3. the fit ------------------------------------------------------------------------
st.header("3. The fit at the chosen point")
try:
    curve = curve_section(data, dtype, gamma, noise, amplitude) if data.X.shape[1] == 1 else None
except CoreError as err:
    st.error(str(err), icon=":material/error:")
    st.stop()
if curve is not None:
    left, right = st.columns(2)
    fit_args = (data.X[:, 0], data.y, curve["grid"], curve["posterior_mean"], curve["posterior_sd"],
                curve["posterior_f_sd"])
    left.plotly_chart(fit_chart(*fit_args, "GP posterior mean ± 2 sd", curve.get("truth")),
                      key="fit_fit_chart")
    right.plotly_chart(fit_chart(*fit_args, "Kernel ridge regression (λ = noise) on the GP mean",
                                 curve.get("truth"), other_mean=curve["krr_mean"],
                                 other_name="kernel ridge mean"), key="fit_krr_chart")
    st.metric("max |GP mean − kernel ridge mean| / max |GP mean|", f"{float(curve['krr_relative_gap']):.2g}",
              help="Kernel ridge regression solves (K + λI)w = y by LU; the GP uses the Cholesky factor. "
                   "With λ = noise the two means are the same function, so they differ by round-off only.")
    st.caption(f"The same mean, two names: kernel ridge's k*ᵀ(K + λI)⁻¹y with λ = noise = {noise:.3g} "
               "is the GP's posterior mean. The GP adds the bands: wide for a new observation "
               "(noise included), narrow for f itself.")
else:
    st.info(f"{data.spec.label} has D = {data.X.shape[1]} features: no curve to draw. The chart in "
            "section 4 shows the held-out predictions instead.", icon=":material/info:")

# --- 4. batched predictions -------------------------------------------------------------
st.header("4. Batched predictions: every held-out point by vmap")
st.markdown(
    "The predictive density of each held-out point, log N(y* | mean(x*), variance(x*)), is a function "
    "of one point. K is factored once; then `vmap` maps the one-point function over the held-out "
    "rows in one call, where the loop makes one call per row (both timed on the same factor)."
)
try:  # timed: last on the page, once everything above is drawn
    with st.spinner("Timing vmap against the loop, round by round …"):
        heldout = held_out_section(data, dtype, gamma, noise, amplitude)
except CoreError as err:
    st.error(str(err), icon=":material/error:")
    st.stop()
m = len(heldout["heldout_log_density"])
h1, h2, h3 = st.columns(3)
h1.metric("Mean log density (held out)", f"{float(heldout['heldout_mean_log_density']):.4g}",
          help=f"Over {m} held-out points; higher is better.")
h2.metric("max |vmap − loop|", f"{float(heldout['heldout_max_abs_diff']):.2g}",
          help="Both compute the same densities; they agree to round-off.")
h3.metric("Speedup of vmap", f"{float(heldout['heldout_speedup']):.2g}×",
          help="The loop's time over vmap's: the median of their per-round ratios (both ran in "
               "turn, round by round).")
st.caption(held_out_speedup_words(heldout["heldout_speedup_interval"],
                                  float(heldout["heldout_other_cores"])))
st.markdown(held_out_timing_table(heldout["heldout_timing"], m))
st.plotly_chart(held_out_chart(data.y_test, heldout["heldout_mean"], heldout["heldout_sd"],
                               "Held-out points: predicted mean ± 2 sd against the truth"),
                key="fit_heldout_chart")
with st.expander("The code: the one-point density and its vmap"):
    st.code("\n\n".join(inspect.getsource(f) for f in (_point_log_density, log_density_of_points,
                                                          log_density_of_points_loop)), language="python")
