"""Kernel lab: every kernel of `core`, sums and products, GP prior draws, and why Cholesky fails.

The lab's kernel has its own controls (so it can be a sum or a product); the
sidebar's data, N and precision apply. Every number drawn comes from a section of
`core.views.kernels` (what the export runs), through caches keyed on small scalars.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.dense.methods import METHODS
from core.errors import CoreError
from core.kernels.composite import OPS, KernelChoice
from core.lessons.gp import GRID_HIGH, GRID_LOW, CholeskyError
from core.views.kernels import gamma_sweep
from ui.charts.kernels import (data_heatmap, diagnosis_tables, draws_caption, gp_samples_chart,
                               grid_heatmap, indefinite_warning, no_draws_warning, overflow_message,
                               profile_figure, sweep_figures, sweep_overflow_warning)
from ui.export import data_source, reproduce_control
from ui.state.cache import heuristic_gamma, load_data
from ui.state.kernel_lab import (JITTERS, URL, cached_data_gram, cached_diagnosis,
                                 cached_draws, cached_grid_gram, cached_profile, cached_spectrum,
                                 diagnose, follow_smallest_jitter, gamma_keys, jitter_at_least,
                                 kernel_controls, set_gamma, set_jitter)
from ui.state.sidebar import render_sidebar
from ui.state.url import bound

PROFILE_HEIGHT, HEATMAP_HEIGHT = 300, 460  # px

# The lab's kernel has its own controls on the page: the sidebar shows its data and
# precision only (its kernel, gamma and method are drawn hidden, kept for the other pages).
settings = render_sidebar(uses=frozenset({"data", "seed", "precision"}),
                          data_note="The Kernel lab sets its kernel and parameters on the page: "
                                    "the sidebar's Kernel, gamma and batching method do not apply "
                                    "here (they keep their values for the other pages); its data "
                                    "and precision do.")
data = load_data(settings)
dtype = settings.dtype
n_data, d_data = data.X.shape

st.title("Kernel lab")
st.markdown(
    "Every kernel of `core.kernels.functions`, and the sum or product of two, with its parameters as "
    "sliders: its shape, its Gram matrix, draws from the Gaussian process it defines, and why "
    "a Cholesky factor of that matrix can fail. The lab's kernel has its own controls; the "
    f"sidebar's data (**{data.name}**, N = {n_data:,}, D = {d_data}) and precision "
    f"(**{dtype}**) apply."
)

# --- the kernel -------------------------------------------------------------------------
c0, c1, c2 = st.columns([1, 2, 2])
op = bound(c0.radio, "Combine", list(OPS), format_func=OPS.get, key=URL.op)
n_grid = bound(c0.slider, "1-D grid points", 20, 400, 150, step=10, key=URL.grid_n,
               help=f"Evenly spaced in [{GRID_LOW:g}, {GRID_HIGH:g}]; more points are "
               "closer together, so K is closer to singular.")
k1, p1, k2, p2 = kernel_controls(op, c1, c2)
choice = KernelChoice.make(op, k1, p1, k2, p2)
st.latex(rf"k(x, y) = {choice.formula}")
export_slot = st.container()  # filled once the draws' controls are read
if gamma_keys(choice):
    g_data = heuristic_gamma(settings)
    c1.button(f"Median-heuristic gamma: {g_data:.3g}", key="w_kern_use_heuristic",
              on_click=set_gamma, args=(gamma_keys(choice), g_data),
              help="Sets gamma to the median heuristic 1/(2·median d²) of the sidebar's data: "
                   "a lengthscale that suits the dataset (the grid spans 10 units).")

# The profile is a line: full width and short. The two matrices side by side (each half
# the page: three columns left them about 150 px square on an 800 px window).
st.plotly_chart(profile_figure(cached_profile(choice, dtype), choice.stationary, PROFILE_HEIGHT),
                key="w_kern_profile")
if not choice.stationary:
    st.caption("This kernel depends on where x and y are, not only on their distance, "
               "so it is drawn against y for one fixed x.")
mid, right = st.columns(2)
grid = cached_grid_gram(choice, n_grid, dtype)
K_grid = grid["K_grid"]
with mid:
    if np.all(np.isfinite(K_grid)):
        fig, caption = grid_heatmap(grid, HEATMAP_HEIGHT)
        st.plotly_chart(fig, key="w_kern_grid_heatmap")
        st.caption(caption)
    else:
        st.error(overflow_message(dtype), icon=":material/error:")
reason = METHODS["jit_method1"].declines(n_data, n_data, d_data, dtype)
on_data = None if reason else cached_data_gram(data.key, choice, int(settings.seed), data.X, data.y)
with right:
    if reason:
        st.info(reason, icon=":material/memory:")
    elif not np.all(np.isfinite(on_data["K_data"])):
        st.error(overflow_message(dtype), icon=":material/error:")
    else:
        fig, caption = data_heatmap(on_data, f"K on {data.name} (N = {n_data:,})",
                                    data.y is not None, HEATMAP_HEIGHT)
        st.plotly_chart(fig, key="w_kern_data_heatmap")
        st.caption(caption)

# --- GP prior samples -------------------------------------------------------------------
st.subheader("Draws from the Gaussian-process prior")
grid_key = ("grid", choice, n_grid, dtype)
try:
    grid_diagnosis = cached_diagnosis(grid_key, K_grid)
except CoreError as err:
    grid_diagnosis = None
    st.error(f"The grid's K cannot be diagnosed: {err}", icon=":material/error:")
need = None if grid_diagnosis is None else float(grid_diagnosis["smallest_jitter"])
auto_jitter = follow_smallest_jitter(need)  # until the user moves it: draws work at once
g1, g2, g3 = st.columns(3)
draws = bound(g1.slider, "Number of draws", 1, 10, 5, key=URL.draws)
seed = bound(g2.number_input, "Seed of the draws", 0, 2**31 - 1, 0, step=1, key=URL.seed)
# The widget's own default is the followed one: Streamlit leaves a control at its default
# out of the URL, and a user's jitter equal to a fixed DEFAULT_JITTER vanished from a copied
# link, which then opened this K's own jitter.
jitter = bound(g3.select_slider, "Jitter added to the diagonal (log scale)", options=JITTERS,
               value=auto_jitter, key=URL.jitter,
               format_func=lambda j: f"{j:.0e}" if j < 1 else "1")
with export_slot:
    reproduce_control("kernels", data_source(settings), dict(
        op=op, k1=k1, p1=dict(p1), k2=k2, p2=dict(p2), dtype=dtype, n_grid=int(n_grid),
        draws=int(draws), seed=int(seed), jitter=float(jitter),
        sweep_on=st.session_state.get(URL.sweep_on, "grid"), data_seed=int(settings.seed)),
        notes=[f"The kernel $k(x, y) = {choice.formula}$ on a 1-D grid of {n_grid} points and "
               f"on {data.name}: its profile, its Gram matrices, {draws} draws from the GP prior "
               "with this jitter, and its spectrum as gamma sweeps its range."])
try:
    prior = cached_draws(choice, n_grid, draws, int(seed), float(jitter), dtype, K_grid)
    st.plotly_chart(gp_samples_chart(grid["grid_x"], prior["samples"], prior["prior_sd"],
                                     f"{draws} draws of f ~ GP(0, k), {choice.label}, {dtype}"),
                    key="w_kern_samples")
    st.caption(draws_caption(jitter, need, dtype))
except CholeskyError as err:
    st.warning(no_draws_warning(err, need, dtype), icon=":material/warning:")
    if need is not None:
        st.button(f"Use jitter {jitter_at_least(need):.0e}", key="w_kern_fix_jitter",
                  on_click=set_jitter, args=(need,))

# --- positive definiteness --------------------------------------------------------------
st.subheader("Is K positive definite in working precision?")
rows = [] if grid_diagnosis is None else [("1-D grid", diagnose(grid_key, K_grid, jitter))]
if on_data is not None:
    K_sub = on_data["K_diagnosed"]
    try:
        rows.append((data.name, diagnose(("data", data.key, choice, len(K_sub)), K_sub, jitter)))
    except CoreError as err:
        st.error(f"{data.name}'s K cannot be diagnosed: {err}", icon=":material/error:")
spectrum_table, cholesky_table = diagnosis_tables(rows, jitter)
sci = st.column_config.NumberColumn(format="%.3e")
st.markdown("**Eigenvalues**")
st.dataframe(spectrum_table, hide_index=True, key="w_kern_spectrum_table", placeholder="—",
             column_config={"smallest eigenvalue": sci, "condition number": sci})
st.markdown(f"**Cholesky factor in {dtype}**")
st.dataframe(cholesky_table, hide_index=True, key="w_kern_diag_table", placeholder="—",
             column_config={"smallest working jitter": sci})
if on_data is not None and len(K_sub) < n_data:
    st.caption(f"{data.name}: a seeded subset of {len(K_sub)} of its {n_data:,} points "
               "(eigenvalues cost N³).")
st.caption(f"Eigenvalues by a float64 solver on K's {dtype} values; condition number "
           "'inf' where the smallest is ≤ 0. Cholesky runs in the sidebar's precision.")
for name, diagnosis in rows:
    if diagnosis["beyond_roundoff"]:
        st.warning(indefinite_warning(name, diagnosis), icon=":material/warning:")
st.markdown(
    "In exact arithmetic a kernel's Gram matrix has no negative eigenvalue. In floating point "
    "every eigenvalue carries an error of about eps·N·λₘₐₓ (eps = 1.2e-7 in float32, 2.2e-16 "
    "in float64), so a smooth kernel on close points, whose small eigenvalues fall below that, "
    "gets some that are zero or negative, and Cholesky stops at a non-positive pivot. "
    "**Jitter** adds the same small number to every eigenvalue: the smallest jitter that works "
    "is about the size of that round-off, which is why float32 needs one hundreds of millions "
    "of times larger than float64 (switch the precision in the sidebar and compare).")

# --- spectrum against gamma -------------------------------------------------------------
st.subheader("The spectrum as gamma sweeps its range")
if not choice.has_gamma:
    st.info(f"{choice.label} has no gamma to sweep: pick a kernel with one (any but the "
            "linear kernel).", icon=":material/info:")
    st.stop()
on = bound(st.radio, "Sweep the Gram matrix of", ["grid", "data"], horizontal=True,
           key=URL.sweep_on, format_func={"grid": "the 1-D grid",
                                               "data": f"{data.name}"}.get)
if on == "data" and on_data is None:
    st.info(reason, icon=":material/memory:")
    st.stop()
X_sweep = grid["grid_x"][:, None] if on == "grid" else on_data["X_diagnosed"]
points_key = ("grid", n_grid) if on == "grid" else ("data", data.key, len(X_sweep))
progress = st.progress(0.0, text="Sweeping gamma…")
sweep = gamma_sweep(
    choice, X_sweep, dtype,
    evaluate=lambda c, X, g, dt: cached_spectrum(points_key, c.with_gamma(g), g, dt, X),
    on_progress=lambda i, total: progress.progress(i / total, text=f"Sweeping gamma: {i}/{total}"),
)
progress.empty()
where = "the 1-D grid" if on == "grid" else data.name
if sweep_overflow_warning(sweep, dtype, where):
    st.warning(sweep_overflow_warning(sweep, dtype, where), icon=":material/warning:")
current = dict(choice.p1).get("gamma", dict(choice.p2).get("gamma"))
spectrum_fig, rank_fig = sweep_figures(sweep, len(X_sweep), current, where)
left, right = st.columns(2)
left.plotly_chart(spectrum_fig, key="w_kern_sweep_heatmap")
right.plotly_chart(rank_fig, key="w_kern_rank_chart")
st.caption("Every component's gamma is set to the swept value; the dotted line marks the "
           "current gamma. Blank cells: eigenvalues ≤ 0 in floating point.")
st.markdown(
    "**The two limits** (of the RBF kernel and its stationary relatives; a linear or polynomial "
    "part of a sum keeps its own shape). As gamma → 0 every k(x, y) → 1: K becomes the matrix "
    "of ones, one eigenvalue N and the rest 0, effective rank 1 — every point looks like every "
    "other. As gamma → ∞ every k(x, y) with x ≠ y → 0: K becomes the identity, N eigenvalues "
    "of 1, effective rank N — every point is alone. In between the eigenvalues decay, and how "
    "fast they fall below round-off is how much jitter a Cholesky factor will need. (Effective "
    "rank: exp of the entropy of λ/Σλ.)")
