"""Gram explorer: the kernel matrix of the current data, live under the gamma slider."""

from __future__ import annotations

import io
from functools import cache
from typing import Callable

import numpy as np
import streamlit as st

from core.kernels.functions import KERNELS
from core.kernels.profiles import DISTANCE_PROFILES, NOT_LIVE_REASONS, pairwise_l1
from core.dense.methods import METHODS, rbf_from_sqdist, resolve
from core.lessons.projection import pca_2d
from core.lessons.spectrum import ROUNDOFF_MARGIN, definiteness, roundoff_bound, spectrum
from core.scale.pooling import pool_factor, pool_mean, pooled_rbf_from_sqdist
from core.scale.summary import GRID_SIZE, NODES_PER_CELL
from core.views.gram import gram_view
from ui.state.cache import gram_matrix, load_data, sqdist
from ui.charts.shared import matrix_heatmap, scatter_2d, spectrum_chart, value_histogram
from ui.components.live_heatmap import (cached_distances_payload, live_heatmap, pooled_exact_payload,
                                        shared_distances)
from ui.export import data_source, gram_method_note, gram_settings, reproduce_control
from ui.state.guard import dense_guard
from ui.state.settings import grid_label
from ui.state.sidebar import gamma_slider, hand_released_gamma, render_sidebar, with_current_gamma
from ui.state.url import bound

SPECTRUM_AUTO_MAX_N = 500  # eigvalsh is O(N³): beyond this it waits for a click
HISTOGRAM_MAX_PAIRS = 500_000  # more pairs than this are sampled for the histogram

settings = render_sidebar(gamma_in_page=True)
data = load_data(settings)
n, d = data.X.shape
kernel = KERNELS[settings.kernel]

st.title("Gram explorer")
st.markdown(
    f"**{data.name}**: N = {n:,} points in D = {d} dimensions, {settings.dtype}. "
    f"Kernel: {kernel.label}, $k(x, y) = {kernel.formula}$."
)
if data.note:
    st.caption(data.note)

method = resolve(settings.method, n, n, d, settings.dtype)
if not dense_guard(method, n, n, d, settings.dtype):
    st.stop()
if settings.kernel == "rbf":
    st.caption(f"Batching method: **{METHODS[settings.method].label}**"
               + (f" → {method.label}" if settings.method == "auto" else "")
               + ". Distances are computed once per data, method and dtype; moving gamma "
                 "only recomputes exp(−gamma·d²).")
else:
    st.caption("Batching methods apply to the RBF kernel; this kernel runs as jit · Method I "
               "(nested vmap of its vector form).")

order_by_label = data.y is not None and bound(
    st.toggle, "Order points by label (class structure shows as blocks)", value=True,
    key="w_gram_order")
# Every matrix below is computed in display order (cached that way), so a gamma
# change costs one exponential and no reindexing of N² entries.
order = np.argsort(data.y, kind="stable") if order_by_label else None
rank = np.empty(n, dtype=int)
rank[np.arange(n) if order is None else order] = np.arange(n)  # display row of each point


def selected_points() -> list[int]:
    """Point indices selected in the scatter below (its state from the last event)."""
    event = st.session_state.get("w_gram_scatter")
    points = event.selection.get("points", []) if event else []
    return sorted({int(p["customdata"]) for p in points if "customdata" in p})


LIVE_KEY = "w_gram_live"
LIVE = settings.kernel in DISTANCE_PROFILES


def _on_live_pick() -> None:
    # A clicked cell (display rows i, j; the first of each block when pooled):
    # both points are highlighted in the scatter, which a full rerun redraws.
    picked = st.session_state[LIVE_KEY].picked or {}
    f = pool_factor(n)
    rows = [r for key in ("i", "j") if isinstance(picked.get(key), int) and 0 <= picked[key] < n
            for r in range(picked[key], min(n, picked[key] + f))]
    display_to_point = np.arange(n) if order is None else order
    st.session_state["_gram_picked"] = sorted({int(display_to_point[r]) for r in rows})
    st.session_state["_gram_picked_new"] = True


def picked_points() -> list[int]:
    """Points of the heatmap cell clicked last (both of them), data order."""
    return st.session_state.get("_gram_picked", [])


def live_distances(current) -> tuple[np.ndarray, tuple]:
    """The distances the live heatmap draws from (display order, shared, read-only), and their key."""
    if DISTANCE_PROFILES[current.kernel].distance == "l1":
        key = (data.key, "l1", order is not None)
        make = lambda: pairwise_l1(data.X if order is None else data.X[order])  # noqa: E731
    else:
        # RBF: the chosen batching method's distances; the other kernels run as Method I.
        method = current.method if current.kernel == "rbf" else "jit_method1"
        key = (data.key, method, order is not None)
        make = lambda: sqdist(data, method, order)  # noqa: E731
    return shared_distances(key, make), key


def live_view(current, S: np.ndarray, key: tuple, pooled: np.ndarray, factor: int,
              selected: list[int]) -> None:
    """The live heatmap: distances once per data, the exact pooled K of this gamma per release."""
    profile = DISTANCE_PROFILES[current.kernel]
    display_to_point = np.arange(n) if order is None else order
    live = cached_distances_payload(key, profile.distance, profile.code, S, display_to_point)
    exact = pooled_exact_payload(pooled, factor, n, current.gamma,
                                 float(current.params.get("alpha", 1.0)), profile.code,
                                 [int(rank[p]) for p in selected], token=0)
    live_heatmap(live.payload, exact, key=LIVE_KEY, on_gamma=lambda: hand_released_gamma(LIVE_KEY),
                 on_picked=_on_live_pick)
    if st.session_state.pop("_gram_picked_new", False):
        st.rerun()  # the scatter, outside this fragment, shows the clicked pair
    st.caption("Drag the gamma slider (or focus it and use the arrow keys, Page Up/Down, Home/End): "
               "the heatmap and the histogram follow in your browser from distances sent once. "
               "On release the exact K from core replaces the preview.")
    factor = pool_factor(n)
    if factor > 1 and live.worst_error is not None:
        side = -(-n // factor)
        lo, hi = live.gammas
        # Measured for exp(-t·s) at each t of the grid. Every live kernel is completely
        # monotone in s with k = 1 at s = 0: a mixture of those exponentials over t.
        st.caption(f"Pooled for display: {n:,}×{n:,} entries shown as {side}×{side} cells, "
                   f"each the mean of a {factor}×{factor} block. While you drag, each cell is "
                   f"previewed from a {NODES_PER_CELL}-point rule for its block's distances s "
                   f"(a Gauss rule, its weights fitted to exp(−t·s)). Measured on these data, "
                   f"every cell is within {live.worst_error:.3f} of its block's exact mean of "
                   f"exp(−t·s) at {GRID_SIZE} values of t doubling from {lo:.2g} to {hi:.2g} (t is "
                   "the RBF and Laplacian kernels' gamma; the other live kernels are mixtures of "
                   "such exponentials, so their errors are of the same size). "
                   "After release it is the exact block mean of core's K.")




@st.fragment
def kernel_view() -> None:
    # Only this fragment reruns when gamma moves: the data, the distances, the
    # scatter and the distance heatmap below are neither recomputed nor resent.
    if LIVE:
        # The bound control (hidden: the live slider shows gamma) keeps gamma in the
        # URL and across pages; its caption and reset to the data's default show.
        gamma_slider(st, settings, shown=False)
        current = with_current_gamma(settings)
        S, key = live_distances(current)
        if current.kernel == "rbf":
            # exp(-gamma d²) of the very distances the browser has (what gram_matrix does,
            # without a 64 MB cache copy per release). Above the display side only the
            # block means are shown, streamed from S: the full K is built only when the
            # spectrum, the comparison or a download asks for it.
            K = cache(lambda: rbf_from_sqdist(S, current.gamma))
            pooled, factor = (pooled_rbf_from_sqdist(S, current.gamma) if pool_factor(n) > 1
                              else (K(), 1))
        else:
            K_other = gram_matrix(data, current, order)  # core's gram, cached
            K = lambda: K_other  # noqa: E731
            pooled, factor = pool_mean(K_other)
        live_view(current, S, key, pooled, factor, selected_points())
        spectrum_view(K, current)
        compare_view(K, current)
        download_view(K, current)
        return
    left, right = st.columns([3, 2])
    with right:
        if any(p.name == "gamma" for p in kernel.params):
            gamma_slider(st, settings)  # first: a reset to the heuristic lands here
    current = with_current_gamma(settings)
    K_now = gram_matrix(data, current, order)  # display order
    K = lambda: K_now  # noqa: E731  (the views below take K lazily, as the live path)
    selected = selected_points()
    with right:
        if settings.kernel in NOT_LIVE_REASONS:
            st.caption(f"No live preview while dragging: {NOT_LIVE_REASONS[settings.kernel]}. "
                       "Each release recomputes K on the server.")
        values, sampled = off_diagonal_sample(K_now)
        title = "Kernel values off the diagonal" + (" (random sample of pairs)" if sampled else "")
        st.plotly_chart(value_histogram(values, title, "k(x<sub>i</sub>, x<sub>j</sub>)"),
                        key="w_gram_hist")
    with left:
        fig, factor = matrix_heatmap(K_now, f"K, gamma = {grid_label(current.gamma)}",
                                     "k(x<sub>i</sub>, x<sub>j</sub>)",
                                     zmin=0 if current.kernel == "rbf" else None,
                                     zmax=1 if current.kernel == "rbf" else None,
                                     highlight_rows=[int(rank[p]) for p in selected])
        st.plotly_chart(fig, key="w_gram_heatmap")
        if factor > 1:
            st.caption(f"Pooled for display: {n:,}×{n:,} entries shown as "
                       f"{fig.data[0].z.shape[0]}×{fig.data[0].z.shape[1]} cells, "
                       f"each the mean of a {factor}×{factor} block.")
        if selected:
            st.caption(f"Highlighted rows (points selected in the scatter below): "
                       f"{', '.join(map(str, selected[:20]))}" + ("…" if len(selected) > 20 else ""))
    spectrum_view(K, current)
    compare_view(K, current)
    download_view(K, current)


@st.cache_data(max_entries=16, show_spinner="Computing the eigenvalues (O(N³))…")
def cached_spectrum(key: tuple, _K: Callable[[], np.ndarray]):
    """`spectrum(K())`, cached on (data, kernel, parameters, method): once per gamma
    (K is built only on a cache miss)."""
    return spectrum(_K())


def spectrum_view(K: Callable[[], np.ndarray], current) -> None:
    """The eigenvalues of K (`K()` builds it, display order), automatic up to 500 points."""
    key = (data.key, current.kernel, tuple(sorted(current.params.items())), current.method,
           order is not None)
    if n <= SPECTRUM_AUTO_MAX_N or st.button("Compute the eigenvalue spectrum (O(N³))",
                                             key="w_gram_spectrum"):
        spec = cached_spectrum(key, K)
        verdict = definiteness(spec, settings.dtype)
        non_positive = int(np.sum(spec.eigenvalues <= 0))
        c1, c2 = st.columns([2, 1])
        c1.plotly_chart(spectrum_chart(spec.eigenvalues, "Eigenvalues of K"), key="w_gram_spec")
        c1.caption(f"{non_positive:,} of {n:,} eigenvalues are ≤ 0 (red, drawn at |λ|)."
                   if non_positive else f"All {n:,} eigenvalues are positive.")
        c2.metric("Effective rank", f"{spec.effective_rank:.1f}", help="exp(entropy of λ/Σλ): "
                  "1 for a matrix of ones, N for the identity.")
        c2.metric("Condition number", f"{spec.condition_number:.3g}",
                  help="Largest over smallest eigenvalue; inf when K is singular in working precision.")
        limit = roundoff_bound(n, float(np.max(np.abs(spec.eigenvalues))), settings.dtype)
        c2.metric("Smallest eigenvalue", f"{spec.min_eigenvalue:.3g}",
                  help=f"Round-off can move an eigenvalue by up to about {limit:.2g} here "
                       f"({ROUNDOFF_MARGIN:g}·ε·N·max|λ|, {settings.dtype}).")
        if verdict == "indefinite":
            c2.warning(f"K is **indefinite**: its smallest eigenvalue {spec.min_eigenvalue:.3g} "
                       f"is far below the round-off bound −{limit:.2g}. This kernel is not "
                       "positive semi-definite on these points (the Kernel lab's check says "
                       "the same); jitter would only hide that.", icon=":material/warning:")
        elif verdict == "positive semi-definite to round-off":
            c2.caption(f"K is positive semi-definite to round-off: the eigenvalues ≤ 0 are all "
                       f"above −{limit:.2g}, within what round-off explains.")
        else:
            c2.caption("K is positive definite: every eigenvalue is above 0.")


def off_diagonal_sample(K: np.ndarray) -> tuple[np.ndarray, bool]:
    """K's values above the diagonal, or a seeded sample of them for large N."""
    if n * (n - 1) // 2 <= HISTOGRAM_MAX_PAIRS:
        return K[np.triu_indices(n, k=1)], False
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, n, HISTOGRAM_MAX_PAIRS), rng.integers(0, n, HISTOGRAM_MAX_PAIRS)
    keep = i != j
    return K[i[keep], j[keep]], True


def compare_view(K: Callable[[], np.ndarray], current) -> None:
    """K of another batching method against this one's (`K()`, built only when opened)."""
    if current.kernel != "rbf":
        return
    if not bound(st.toggle, "Compare with another batching method", key="w_gram_compare"):
        return
    with st.container(border=True):
        names = [m for m in METHODS if m != settings.method]
        other = bound(st.selectbox, "Other method", names, format_func=lambda m: METHODS[m].label,
                      key="w_gram_other", index=names.index("jit_expansion")
                      if "jit_expansion" in names else 0)
        reason = resolve(other, n, n, d, settings.dtype).declines(n, n, d, settings.dtype)
        if reason:
            st.info(reason)
            return
        K2 = rbf_from_sqdist(sqdist(data, other, order), current.gamma)
        # In K's dtype, no float64 copy: two values within a factor 2 of each other
        # subtract exactly (Sterbenz); others round once, far below their difference.
        diff = np.subtract(K2, K(), out=K2)
        err = float(np.max(np.abs(diff)))
        st.metric(f"max |K({METHODS[other].label}) − K(this)|", f"{err:.3g}")
        lim = err or 1.0
        fig, _ = matrix_heatmap(diff, "Difference of the two methods",
                                "ΔK", colorscale="RdBu", zmin=-lim, zmax=lim, zmid=0, height=420)
        st.plotly_chart(fig, key="w_gram_diff")


def download_view(K: Callable[[], np.ndarray], current) -> None:
    """.npy and .csv of K in data order, built (with K) only when a button is clicked."""
    # The files are built only when a button is clicked (callables), not on
    # every drag of the slider; they hold K in the data's own row order.
    view_settings = gram_settings(current, n, d, order_by_label,
                                  spectrum_clicked=bool(st.session_state.get("w_gram_spectrum")))

    def data_order() -> np.ndarray:  # what the export reproduces, without its spectrum
        return gram_view(data.X, data.y, **{**view_settings, "spectrum": False})["K"]

    def as_npy() -> bytes:
        buf = io.BytesIO()
        np.save(buf, data_order(), allow_pickle=False)
        return buf.getvalue()

    def as_csv() -> str:
        text = io.StringIO()
        np.savetxt(text, data_order(), delimiter=",", fmt="%.9g")
        return text.getvalue()

    c1, c2 = st.columns(2)
    stem = f"gram_{current.kernel}_gamma{grid_label(current.gamma)}_n{n}"
    c1.download_button("Download K as .npy", as_npy, file_name=stem + ".npy",
                       mime="application/octet-stream", key="w_gram_dl_npy", on_click="ignore")
    if n <= 2000:  # a CSV of N² numbers is ~N²·12 bytes: 48 MB at 2000
        c2.download_button("Download K as .csv", as_csv, file_name=stem + ".csv",
                           mime="text/csv", key="w_gram_dl_csv", on_click="ignore")
    else:
        c2.caption("CSV download is offered up to N = 2,000; use .npy above that.")
    reproduce_control("gram", data_source(settings), view_settings, notes=[
        f"The Gram matrix of {data.name} under the {kernel.label} kernel, "
        f"$k(x, y) = {kernel.formula}$: K[i, j] = k(x_i, x_j). `K` is in "
        "the data's row order (the page's download); the heatmap shows it in `order`."],
        settings_note=gram_method_note(current, n, d))


kernel_view()

# Below the fragment: nothing here depends on gamma, so dragging it leaves these alone.
left, right = st.columns(2)
with left:
    Z, explained = pca_2d(data.X)
    axis = ("x₁", "x₂") if d <= 2 else (f"PC 1 ({explained[0]:.0%} of variance)",
                                         f"PC 2 ({explained[1]:.0%})")
    st.plotly_chart(scatter_2d(Z, data.y, "The data: select points to highlight their rows in K",
                               axis, sorted(set(selected_points()) | set(picked_points()))),
                    key="w_gram_scatter", on_select="rerun", selection_mode=("points", "box", "lasso"))
with right:
    D2 = sqdist(data, settings.method if settings.kernel == "rbf" else "jit_method1", order)
    fig, _ = matrix_heatmap(D2, "Squared distances d(x<sub>i</sub>, x<sub>j</sub>)", "d²",
                            height=440)
    st.plotly_chart(fig, key="w_gram_dist")
