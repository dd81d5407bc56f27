"""Kernel lab: every kernel of `core`, sums and products, GP prior draws, and why Cholesky fails.

The lab's kernel has its own controls (so it can be a sum or a product); the
sidebar's data, N and precision apply. Everything is computed by `core`
(`core.kernels.composite`, `core.lessons.gp`) through caches keyed on small scalars.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import streamlit as st

from core.kernels.composite import OPS, KernelChoice, kernel_gram
from core.errors import CoreError
from core.lessons.spectrum import ROUNDOFF_MARGIN, roundoff_bound
from core.lessons.gp import (
    GRID_HIGH,
    GRID_LOW,
    CholeskyError,
    cholesky_ok,
    gamma_sweep_values,
    grid_1d,
    pd_report,
    prior_samples,
    prior_sd,
    spectrum_point,
    spectrum_sweep,
    subsample,
)
from core.kernels.functions import KERNELS, ParamSpec
from core.dense.methods import METHODS
from core.views.kernels import DIAGNOSE_MAX_N, kernel_profile
from ui.state.cache import heuristic_gamma, load_data
from ui.export import data_source, reproduce_control
from ui.charts.shared import matrix_heatmap
from ui.charts.kernels import (
    effective_rank_chart,
    gp_samples_chart,
    kernel_profile_chart,
    spectrum_sweep_heatmap,
)
from ui.state.settings import log_grid, snap_log
from ui.state.sidebar import render_sidebar
from ui.state.url import bound, from_link

PROFILE_HEIGHT, HEATMAP_HEIGHT = 300, 460  # px
JITTERS = tuple(float(f"{10.0 ** (k / 2):.3g}") for k in range(-24, 1))  # 1e-12 … 1, ½ decade
DEFAULT_JITTER = 1e-5
OVERFLOW = ("K overflows {dtype} here (infinite entries): lower the degree or gamma, "
            "standardize the data, or switch to float64.")


def _grid(spec: ParamSpec) -> tuple[float, ...]:
    return log_grid(spec.low, spec.high, spec.default)


def _param_controls(slot: str, symbol: str, kernel: str) -> dict[str, float]:
    """Sliders for `kernel`'s parameters, keyed `w_kern_<slot>_<param>`."""
    values = {}
    for p in KERNELS[kernel].params:
        key = f"w_kern_{slot}_{p.name}"
        label = f"{symbol} {p.label}" + (" (log scale)" if p.log else "")
        if p.log:
            # Buttons set it through session state; another kernel's grid may not hold it.
            if st.session_state.get(key) is not None:
                snapped = snap_log(_grid(p), st.session_state[key])
                if snapped != st.session_state[key]:
                    st.session_state[key] = snapped
            values[p.name] = bound(st.select_slider, label, options=_grid(p), value=p.default,
                                   key=key, format_func=lambda v: f"{v:.3g}")
        elif p.integer:
            values[p.name] = bound(st.slider, label, int(p.low), int(p.high), int(p.default),
                                   step=1, key=key)
        else:
            values[p.name] = bound(st.slider, label, float(p.low), float(p.high), float(p.default),
                                   step=(p.high - p.low) / 100, key=key)
    return values


def _kernel_select(slot: str, symbol: str, default: str) -> str:
    return bound(st.selectbox, f"Kernel {symbol}", list(KERNELS), key=f"w_kern_{slot}",
                 index=list(KERNELS).index(default), format_func=lambda k: KERNELS[k].label)


def _choice(key: tuple) -> KernelChoice:
    return KernelChoice(*key)


@st.cache_data(max_entries=32, show_spinner=False)
def _grid_gram(choice_key: tuple, n: int, dtype: str) -> np.ndarray:
    return kernel_gram(_choice(choice_key), grid_1d(n), dtype=dtype)


@st.cache_data(max_entries=4, show_spinner=False)
def _data_gram(data_key: tuple, choice_key: tuple, _X: np.ndarray) -> np.ndarray:
    return kernel_gram(_choice(choice_key), _X, dtype=_X.dtype)


@st.cache_data(max_entries=32, show_spinner=False)
def _profile(choice_key: tuple, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    return kernel_profile(_choice(choice_key), dtype)


@st.cache_data(max_entries=32, show_spinner=False)
def _samples(choice_key: tuple, n: int, draws: int, seed: int, jitter: float, dtype: str):
    return prior_samples(_choice(choice_key), grid_1d(n), draws, seed, jitter, dtype=dtype)


@st.cache_data(max_entries=32, show_spinner=False)
def _report(matrix_key: tuple, _K: np.ndarray):
    return pd_report(_K)


@st.cache_data(max_entries=64, show_spinner=False)
def _factors(matrix_key: tuple, jitter: float, _K: np.ndarray) -> bool:
    return cholesky_ok(_K, jitter)


@st.cache_data(max_entries=512, show_spinner=False)
def _spectrum(matrix_key: tuple, choice_at_gamma: tuple, gamma: float, dtype: str,
              _X: np.ndarray):
    # Keyed on the kernel *at this gamma*: dragging a gamma slider reuses the sweep.
    return spectrum_point(_choice(choice_at_gamma), _X, gamma, dtype)


def _set_gamma(keys: list[str], gamma: float) -> None:
    for key in keys:
        st.session_state[key] = snap_log(_grid(KERNELS["rbf"].params[0]), gamma)


def _set_jitter(jitter: float) -> None:
    st.session_state["w_kern_jitter"] = next((j for j in JITTERS if j >= jitter), JITTERS[-1])


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
op = bound(c0.radio, "Combine", list(OPS), format_func=OPS.get, key="w_kern_op")
n_grid = bound(c0.slider, "1-D grid points", 20, 400, 150, step=10, key="w_kern_grid_n",
               help=f"Evenly spaced in [{GRID_LOW:g}, {GRID_HIGH:g}]; more points are "
               "closer together, so K is closer to singular.")
with c1:
    k1 = _kernel_select("k1", "k₁", "rbf")
    p1 = _param_controls("k1", "k₁", k1)
k2, p2 = "rbf", {}
if op != "single":
    with c2:
        k2 = _kernel_select("k2", "k₂", "periodic")
        p2 = _param_controls("k2", "k₂", k2)
choice = KernelChoice.make(op, k1, p1, k2, p2)
key = dataclasses.astuple(choice)
gamma_keys = [f"w_kern_{slot}_gamma" for slot, (name, params) in zip(("k1", "k2"), choice.parts)
              if "gamma" in dict(params)]
st.latex(rf"k(x, y) = {choice.formula}")
export_slot = st.container()  # filled once the draws' controls are read
if gamma_keys:
    g_data = heuristic_gamma(settings)
    c1.button(f"Median-heuristic gamma: {g_data:.3g}", key="w_kern_use_heuristic",
              on_click=_set_gamma, args=(gamma_keys, g_data),
              help="Sets gamma to the median heuristic 1/(2·median d²) of the sidebar's data: "
                   "a lengthscale that suits the dataset (the grid spans 10 units).")

# The profile is a line: full width and short. The two matrices side by side (each half
# the page: three columns left them about 150 px square on an 800 px window).
x, k = _profile(key, dtype)
if choice.stationary:
    fig = kernel_profile_chart(x, k, "k against distance", "distance r = |x − y| (data units)",
                               height=PROFILE_HEIGHT)
else:
    fig = kernel_profile_chart(x, k, "k(1, y): not stationary", "y (data units), with x fixed at 1",
                               height=PROFILE_HEIGHT)
st.plotly_chart(fig, key="w_kern_profile")
if not choice.stationary:
    st.caption("This kernel depends on where x and y are, not only on their distance, "
               "so it is drawn against y for one fixed x.")
mid, right = st.columns(2)
K_grid = _grid_gram(key, n_grid, dtype)
with mid:
    if np.all(np.isfinite(K_grid)):
        fig, _ = matrix_heatmap(K_grid, f"K on the 1-D grid ({n_grid} points)",
                                "k(x<sub>i</sub>, x<sub>j</sub>)", height=HEATMAP_HEIGHT)
        st.plotly_chart(fig, key="w_kern_grid_heatmap")
        st.caption(f"Point i sits at x = {GRID_LOW:g} + {GRID_HIGH - GRID_LOW:g}·i/{n_grid - 1}.")
    else:
        st.error(OVERFLOW.format(dtype=dtype), icon=":material/error:")
reason = METHODS["jit_method1"].declines(n_data, n_data, d_data, dtype)
K_data = None
with right:
    if reason:
        st.info(reason, icon=":material/memory:")
    else:
        K_data = _data_gram(data.key, key, data.X)
    if K_data is not None and not np.all(np.isfinite(K_data)):
        st.error(OVERFLOW.format(dtype=dtype), icon=":material/error:")
    elif K_data is not None:
        order = np.argsort(data.y, kind="stable") if data.y is not None else np.arange(n_data)
        fig, factor = matrix_heatmap(K_data[np.ix_(order, order)],
                                     f"K on {data.name} (N = {n_data:,})",
                                     "k(x<sub>i</sub>, x<sub>j</sub>)", height=HEATMAP_HEIGHT)
        st.plotly_chart(fig, key="w_kern_data_heatmap")
        st.caption(("Points ordered by label. " if data.y is not None else "")
                   + (f"Pooled: each cell is the mean of {factor}×{factor} entries."
                      if factor > 1 else ""))

# --- GP prior samples -------------------------------------------------------------------
st.subheader("Draws from the Gaussian-process prior")
grid_key = ("grid", key, n_grid, dtype)
try:
    grid_report = _report(grid_key, K_grid)
except CoreError as err:
    grid_report = None
    st.error(f"The grid's K cannot be diagnosed: {err}", icon=":material/error:")
# The jitter starts at (and, until the user moves it, follows) the smallest value
# on the slider's grid with which this K factors, so the draws work from the start.
auto_jitter = (DEFAULT_JITTER if grid_report is None
               else next((j for j in JITTERS if j >= grid_report.smallest_jitter), JITTERS[-1]))
# A shared link that names a jitter keeps it: its first run does not follow.
ss = st.session_state
if not from_link("w_kern_jitter") and ss.get("w_kern_jitter", auto_jitter) == ss.get("_kern_auto_jitter", auto_jitter):
    ss["w_kern_jitter"] = auto_jitter
ss["_kern_auto_jitter"] = auto_jitter
g1, g2, g3 = st.columns(3)
draws = bound(g1.slider, "Number of draws", 1, 10, 5, key="w_kern_draws")
seed = bound(g2.number_input, "Seed of the draws", 0, 2**31 - 1, 0, step=1, key="w_kern_seed")
jitter = bound(g3.select_slider, "Jitter added to the diagonal (log scale)", options=JITTERS,
               value=DEFAULT_JITTER, key="w_kern_jitter",
               format_func=lambda j: f"{j:.0e}" if j < 1 else "1")
with export_slot:
    reproduce_control("kernels", data_source(settings), dict(
        op=op, k1=k1, p1=dict(p1), k2=k2, p2=dict(p2), dtype=dtype, n_grid=int(n_grid),
        draws=int(draws), seed=int(seed), jitter=float(jitter),
        sweep_on=st.session_state.get("w_kern_sweep_on", "grid"), data_seed=int(settings.seed)),
        notes=[f"The kernel $k(x, y) = {choice.formula}$ on a 1-D grid of {n_grid} points and "
               f"on {data.name}: its profile, its Gram matrices, {draws} draws from the GP prior "
               "with this jitter, and its spectrum as gamma sweeps its range."])
try:
    f = _samples(key, n_grid, draws, int(seed), float(jitter), dtype)
    st.plotly_chart(gp_samples_chart(grid_1d(n_grid)[:, 0], f, prior_sd(K_grid, jitter),
                                     f"{draws} draws of f ~ GP(0, k), {choice.label}, {dtype}"),
                    key="w_kern_samples")
    need = grid_report.smallest_jitter if grid_report else None
    st.caption(f"Added to the diagonal: jitter {jitter:.2g}"
               + ("" if need is None else
                  " (K factors without any)." if need == 0 else
                  f" (the smallest that lets Cholesky succeed on this K in {dtype} is {need:.2g}).")
               + " f = L z with L the Cholesky factor of K + jitter·I and z standard normal "
               "(seeded): the same z for every parameter, so moving a slider morphs the same "
               "draws. The band is ±2 prior standard deviations, ±2·sqrt(k(x, x) + jitter).")
except CholeskyError as err:
    need = grid_report.smallest_jitter if grid_report else None
    st.warning(f"No draws: {err}" + (f" The smallest jitter that works for this K in {dtype} "
                                     f"is {need:.2g}." if need is not None else ""),
               icon=":material/warning:")
    if need is not None:
        st.button(f"Use jitter {next((j for j in JITTERS if j >= need), JITTERS[-1]):.0e}",
                  key="w_kern_fix_jitter", on_click=_set_jitter, args=(need,))

# --- positive definiteness --------------------------------------------------------------
st.subheader("Is K positive definite in working precision?")
X_diag = subsample(data.X, DIAGNOSE_MAX_N, settings.seed)
data_key = ("data", data.key, key, X_diag.shape[0])
matrices = [("1-D grid", K_grid, grid_key, grid_report)]
if K_data is not None:
    K_sub = K_data if X_diag.shape[0] == n_data else kernel_gram(choice, X_diag, dtype=dtype)
    try:
        matrices.append((data.name, K_sub, data_key, _report(data_key, K_sub)))
    except CoreError as err:
        st.error(f"{data.name}'s K cannot be diagnosed: {err}", icon=":material/error:")
rows = [(name, rep, _factors(mkey, float(jitter), K)) for name, K, mkey, rep in matrices
        if rep is not None]
# Two tables of four or five columns, not one of eight: one fits an 800 px window.
names = [name for name, _, _ in rows]
spectrum_table = pd.DataFrame({
    "matrix": names,
    "N": [rep.n for _, rep, _ in rows],
    "smallest eigenvalue": [rep.min_eigenvalue for _, rep, _ in rows],
    "condition number": [rep.condition_number for _, rep, _ in rows],
    "indefinite beyond round-off": [rep.beyond_roundoff for _, rep, _ in rows],
})
cholesky_table = pd.DataFrame({
    "matrix": names,
    "Cholesky, no jitter": [rep.cholesky_ok for _, rep, _ in rows],
    "smallest working jitter": [rep.smallest_jitter for _, rep, _ in rows],
    f"Cholesky, jitter {jitter:.0e}": [ok for _, _, ok in rows],
})
sci = st.column_config.NumberColumn(format="%.3e")
st.markdown("**Eigenvalues**")
st.dataframe(spectrum_table, hide_index=True, key="w_kern_spectrum_table", placeholder="—",
             column_config={"smallest eigenvalue": sci, "condition number": sci})
st.markdown(f"**Cholesky factor in {dtype}**")
st.dataframe(cholesky_table, hide_index=True, key="w_kern_diag_table", placeholder="—",
             column_config={"smallest working jitter": sci})
if K_data is not None and X_diag.shape[0] < n_data:
    st.caption(f"{data.name}: a seeded subset of {X_diag.shape[0]} of its {n_data:,} points "
               "(eigenvalues cost N³).")
st.caption(f"Eigenvalues by a float64 solver on K's {dtype} values; condition number "
           "'inf' where the smallest is ≤ 0. Cholesky runs in the sidebar's precision.")
for name, rep, _ in rows:
    if rep.beyond_roundoff:
        st.warning(
            f"**{name}: K is not positive semi-definite.** Its smallest eigenvalue, "
            f"{rep.min_eigenvalue:.3g}, is far below anything round-off can produce (at most "
            f"about {ROUNDOFF_MARGIN:g}·eps·N·λₘₐₓ = "
            f"{roundoff_bound(rep.n, rep.max_eigenvalue, dtype):.1g}): this kernel "
            "is not valid on these points. The periodic kernel of a Euclidean distance, for "
            "example, is positive semi-definite in 1-D but not in general for D > 1. Jitter "
            "would hide a modelling error here, not round-off.", icon=":material/warning:")
st.markdown(
    "In exact arithmetic a kernel's Gram matrix has no negative eigenvalue. In floating "
    "point every eigenvalue carries an error of about eps·N·λₘₐₓ (eps = 1.2e-7 in "
    "float32, 2.2e-16 in float64), so a smooth kernel on close points, whose small "
    "eigenvalues fall below that, gets some that are zero or negative, and Cholesky "
    "stops at a non-positive pivot. **Jitter** adds the same small number to every "
    "eigenvalue: the smallest jitter that works is about the size of that round-off, "
    "which is why float32 needs one hundreds of millions of times larger than float64 "
    "(switch the precision in the sidebar and compare)."
)

# --- spectrum against gamma -------------------------------------------------------------
st.subheader("The spectrum as gamma sweeps its range")
if not choice.has_gamma:
    st.info(f"{choice.label} has no gamma to sweep: pick a kernel with one (any but the "
            "linear kernel).", icon=":material/info:")
    st.stop()
on = bound(st.radio, "Sweep the Gram matrix of", ["grid", "data"], horizontal=True,
           key="w_kern_sweep_on", format_func={"grid": "the 1-D grid",
                                               "data": f"{data.name}"}.get)
if on == "data" and K_data is None:
    st.info(reason, icon=":material/memory:")
    st.stop()
X_sweep = grid_1d(n_grid) if on == "grid" else X_diag
sweep_key = ("grid", n_grid) if on == "grid" else ("data", data.key, X_diag.shape[0])
gammas = gamma_sweep_values()
progress = st.progress(0.0, text="Sweeping gamma…")
sweep = spectrum_sweep(
    choice, X_sweep, gammas, dtype,
    evaluate=lambda c, X, g, dt: _spectrum(sweep_key, dataclasses.astuple(c.with_gamma(g)), g, dt, X),
    on_progress=lambda i, total: progress.progress(i / total, text=f"Sweeping gamma: {i}/{total}"),
)
progress.empty()
if not np.all(sweep.finite):
    st.warning(f"K overflows {dtype} for gamma ≥ {sweep.gammas[~sweep.finite].min():.3g} on "
               f"{'the 1-D grid' if on == 'grid' else data.name}: no spectrum there (blank).",
               icon=":material/warning:")
current = dict(choice.p1).get("gamma", dict(choice.p2).get("gamma"))
left, right = st.columns(2)
where = "the 1-D grid" if on == "grid" else data.name
with left:
    st.plotly_chart(spectrum_sweep_heatmap(sweep.gammas, sweep.eigenvalues, current,
                                           f"Eigenvalues of K on {where} against gamma"),
                    key="w_kern_sweep_heatmap")
with right:
    st.plotly_chart(effective_rank_chart(sweep.gammas, sweep.effective_rank, X_sweep.shape[0],
                                         current, f"Effective rank of K on {where}"),
                    key="w_kern_rank_chart")
st.caption("Every component's gamma is set to the swept value; the dotted line marks the "
           "current gamma. Blank cells: eigenvalues ≤ 0 in floating point.")
st.markdown(
    "**The two limits** (of the RBF kernel and its stationary relatives; a linear or "
    "polynomial part of a sum keeps its own shape). As gamma → 0 every k(x, y) → 1: K "
    "becomes the matrix of ones, one eigenvalue N and the rest 0, effective rank 1 — every "
    "point looks like every other. As "
    "gamma → ∞ every k(x, y) with x ≠ y → 0: K becomes the identity, N eigenvalues of 1, "
    "effective rank N — every point is alone. In between the eigenvalues decay, and how fast "
    "they fall below round-off is how much jitter a Cholesky factor will need. (Effective "
    "rank: exp of the entropy of λ/Σλ.)"
)
