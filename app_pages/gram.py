"""Gram explorer: the kernel matrix of the current data, live under the gamma slider."""

from __future__ import annotations

from functools import cache

import streamlit as st

from core.dense.methods import resolve
from core.kernels.functions import KERNELS
from core.kernels.profiles import DISTANCE_PROFILES, NOT_LIVE_REASONS
from core.scale.pooling import pool_factor
from core.views.gram import (SPECTRUM_AUTO_MAX_N, display_order, gram_kernel, method_difference,
                             off_diagonal_histogram, pooled_gram)
from core.views.overview import data_2d
from ui.charts.gram import (compare_choice, compare_panel, display_rank, distance_heatmap,
                            download_panel, heatmap_panel, histogram_panel, live_distances, live_view,
                            method_caption, spectrum_panel)
from ui.charts.shared import projection_axis_titles, scatter_2d
from ui.export import gram_settings
from ui.state.cache import gram_matrix, load_data, spectrum_of, sqdist
from ui.state.gram import SCATTER_KEY, URL, picked_points, selected_points
from ui.state.guard import dense_guard
from ui.state.sidebar import gamma_slider, render_sidebar, with_current_gamma
from ui.state.url import bound

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
st.caption(method_caption(settings, method))

order_by_label = data.y is not None and bound(
    st.toggle, "Order points by label (class structure shows as blocks)", value=True,
    key=URL.order)
# Every matrix below is computed in display order (cached that way), so a gamma
# change costs one exponential and no reindexing of N² entries.
order = display_order(data.y, True, n) if order_by_label else None
rank = display_rank(order, n)  # display row of each point


@st.fragment
def kernel_view() -> None:
    # Only this fragment reruns when gamma moves: the data, the distances, the
    # scatter and the distance heatmap below are neither recomputed nor resent.
    if settings.kernel in DISTANCE_PROFILES:
        # The bound control (hidden: the live slider shows gamma) keeps gamma in the
        # URL and across pages; its caption and reset to the data's default show.
        gamma_slider(st, settings, shown=False)
        current = with_current_gamma(settings)
        S, key = live_distances(data, current, order)
        if current.kernel == "rbf":
            # exp(-gamma d²) of the very distances the browser has, built only when the
            # spectrum, the comparison or a download asks for it; above the display side
            # the heatmap's block means are streamed from S.
            K = cache(lambda: gram_kernel(data.X, S, kernel="rbf", params=current.params))
            pooled = pooled_gram(S=S, gamma=current.gamma) if pool_factor(n) > 1 else pooled_gram(K())
        else:
            K_other = gram_matrix(data, current, order)  # core's gram, cached
            K = lambda: K_other  # noqa: E731
            pooled = pooled_gram(K_other)
        live_view(current, n, S, key, pooled, order, [int(rank[p]) for p in selected_points()])
    else:
        left, right = st.columns([3, 2])
        with right:
            if any(p.name == "gamma" for p in kernel.params):
                gamma_slider(st, settings)  # first: a reset to the heuristic lands here
        current = with_current_gamma(settings)
        K_now = gram_matrix(data, current, order)  # display order
        K = lambda: K_now  # noqa: E731  (the sections below take K lazily, as the live path)
        selected = selected_points()
        with right:
            if settings.kernel in NOT_LIVE_REASONS:
                st.caption(f"No live preview while dragging: {NOT_LIVE_REASONS[settings.kernel]}. "
                           "Each release recomputes K on the server.")
            histogram_panel(off_diagonal_histogram(K_now))
        with left:
            heatmap_panel(pooled_gram(K_now), n, current, [int(rank[p]) for p in selected], selected)

    # The eigenvalues: automatic up to 500 points, then on a click (O(N³)).
    spectrum_key = (data.key, current.kernel, tuple(sorted(current.params.items())),
                    current.method, order is not None)
    if n <= SPECTRUM_AUTO_MAX_N or st.button("Compute the eigenvalue spectrum (O(N³))",
                                             key="w_gram_spectrum"):
        spectrum_panel(spectrum_of(spectrum_key, settings.dtype, K), n, settings.dtype)

    # K of another batching method against this one's, built only while the toggle is on.
    box, other = compare_choice(current, n, d)
    if other is not None:
        with box:
            compare_panel(method_difference(K(), sqdist(data, other, order), current.gamma), other)

    # The files are built only when a button is clicked, not on every drag of the slider.
    download_panel(data, settings, current, n, gram_settings(
        current, n, d, order_by_label, spectrum_clicked=bool(st.session_state.get("w_gram_spectrum")),
        compare_with=other), f"{kernel.label} kernel, $k(x, y) = {kernel.formula}$")


kernel_view()

# Below the fragment: nothing here depends on gamma, so dragging it leaves these alone.
left, right = st.columns(2)
with left:
    points = data_2d(data.X)
    st.plotly_chart(scatter_2d(points["Z"], data.y,
                               "The data: select points to highlight their rows in K",
                               projection_axis_titles(d, points["explained"]),
                               sorted(set(selected_points()) | set(picked_points()))),
                    key=SCATTER_KEY, on_select="rerun", selection_mode=("points", "box", "lasso"))
with right:
    distance_heatmap(sqdist(data, settings.method if settings.kernel == "rbf" else "jit_method1",
                            order))
