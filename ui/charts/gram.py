"""What the Gram explorer draws: the live or Plotly heatmap of K, its histogram, the
spectrum, the comparison of two batching methods, the downloads, and the distances.

Every number comes in as an argument, from `core.views.gram`'s sections (the page's
caches call them); these functions only lay it out.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import streamlit as st

from core.dense.methods import METHODS, GramMethod, resolve
from core.kernels.profiles import DISTANCE_PROFILES, pairwise_l1
from core.lessons.spectrum import ROUNDOFF_MARGIN
from core.scale.summary import GRID_SIZE, NODES_PER_CELL
from core.views.gram import gram_view
from ui.charts.shared import histogram_bars, matrix_heatmap, pooled_heatmap_figure, spectrum_chart
from ui.components.live_heatmap import (cached_distances_payload, live_heatmap, pooled_exact_payload,
                                        shared_distances)
from ui.export import data_source, gram_method_note, reproduce_control
from ui.state.cache import Data, sqdist
from ui.state.gram import LIVE_KEY, URL, keep_picked, rerun_if_picked
from ui.state.settings import Settings, grid_label
from ui.state.sidebar import hand_released_gamma
from ui.state.url import bound

__all__ = ["K_LABEL", "method_caption", "display_rank", "live_distances", "live_view",
           "heatmap_panel", "histogram_panel", "spectrum_panel", "compare_choice", "compare_panel",
           "download_panel", "distance_heatmap"]

K_LABEL = "k(x<sub>i</sub>, x<sub>j</sub>)"


def method_caption(settings: Settings, method: GramMethod) -> str:
    """Which batching method computes K (what "auto" picked), or why it does not apply."""
    if settings.kernel != "rbf":
        return ("Batching methods apply to the RBF kernel; this kernel runs as jit · Method I "
                "(nested vmap of its vector form).")
    return (f"Batching method: **{METHODS[settings.method].label}**"
            + (f" → {method.label}" if settings.method == "auto" else "")
            + ". Distances are computed once per data, method and dtype; moving gamma "
              "only recomputes exp(−gamma·d²).")


def display_rank(order: np.ndarray | None, n: int) -> np.ndarray:
    """The display row of each point (n,), for points in `order` (None: as given)."""
    rank = np.empty(n, dtype=int)
    rank[np.arange(n) if order is None else order] = np.arange(n)
    return rank


def live_distances(data: Data, current: Settings, order: np.ndarray | None) -> tuple[np.ndarray, tuple]:
    """The distances the live heatmap draws from (display order, shared, read-only), and their key.

    The L1 kernels' distances are the live preview's own (the exact K comes from core);
    the RBF kernel's are its batching method's, the other kernels' Method I's (`sqdist`).
    """
    if DISTANCE_PROFILES[current.kernel].distance == "l1":
        key = (data.key, "l1", order is not None)
        make = lambda: pairwise_l1(data.X if order is None else data.X[order])  # noqa: E731
    else:
        method = current.method if current.kernel == "rbf" else "jit_method1"
        key = (data.key, method, order is not None)
        make = lambda: sqdist(data, method, order)  # noqa: E731
    return shared_distances(key, make), key


def live_view(current: Settings, n: int, S: np.ndarray, key: tuple, pooled: dict[str, Any],
              order: np.ndarray | None, highlight_rows: list[int]) -> None:
    """The live heatmap: distances once per data, the exact pooled K of this gamma per release.

    Args:
      pooled: `pooled_gram`'s "K_pooled" and "factor" for K at `current.gamma`, display order.
      highlight_rows: display rows of the points selected in the scatter.
    """
    profile = DISTANCE_PROFILES[current.kernel]
    display_to_point = np.arange(n) if order is None else order
    live = cached_distances_payload(key, profile.distance, profile.code, S, display_to_point)
    factor = int(pooled["factor"])
    exact = pooled_exact_payload(pooled["K_pooled"], factor, n, current.gamma,
                                 float(current.params.get("alpha", 1.0)), profile.code,
                                 highlight_rows, token=0)
    live_heatmap(live.payload, exact, key=LIVE_KEY, on_gamma=lambda: hand_released_gamma(LIVE_KEY),
                 on_picked=lambda: keep_picked(n, order))
    rerun_if_picked()
    st.caption("Drag the gamma slider (or focus it and use the arrow keys, Page Up/Down, Home/End): "
               "the heatmap and the histogram follow in your browser from distances sent once. "
               "On release the exact K from core replaces the preview.")
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


def heatmap_panel(pooled: dict[str, Any], n: int, current: Settings, highlight_rows: list[int],
                  selected: list[int]) -> None:
    """K as a Plotly heatmap (kernels without a live preview), from `pooled_gram`'s cells."""
    factor = int(pooled["factor"])
    rbf = current.kernel == "rbf"
    fig = pooled_heatmap_figure(pooled["K_pooled"], factor, (n, n),
                                f"K, gamma = {grid_label(current.gamma)}", K_LABEL,
                                zmin=0 if rbf else None, zmax=1 if rbf else None,
                                highlight_rows=highlight_rows)
    st.plotly_chart(fig, key="w_gram_heatmap")
    if factor > 1:
        side = pooled["K_pooled"].shape
        st.caption(f"Pooled for display: {n:,}×{n:,} entries shown as {side[0]}×{side[1]} cells, "
                   f"each the mean of a {factor}×{factor} block.")
    if selected:
        st.caption(f"Highlighted rows (points selected in the scatter below): "
                   f"{', '.join(map(str, selected[:20]))}" + ("…" if len(selected) > 20 else ""))


def histogram_panel(histogram: dict[str, Any]) -> None:
    """`off_diagonal_histogram`'s bars: K's values above the diagonal (or a sample of them)."""
    title = "Kernel values off the diagonal" + (" (random sample of pairs)"
                                                if bool(histogram["sampled"]) else "")
    st.plotly_chart(histogram_bars(histogram["counts"], histogram["edges"], title, K_LABEL),
                    key="w_gram_hist")


def spectrum_panel(spec: dict[str, Any], n: int, dtype: str) -> None:
    """`gram_spectrum`'s eigenvalues (chart), its metrics, and what they say about K."""
    non_positive, limit = int(spec["non_positive"]), float(spec["roundoff_bound"])
    smallest = float(spec["min_eigenvalue"])
    c1, c2 = st.columns([2, 1])
    c1.plotly_chart(spectrum_chart(spec["eigenvalues"], "Eigenvalues of K"), key="w_gram_spec")
    c1.caption(f"{non_positive:,} of {n:,} eigenvalues are ≤ 0 (red, drawn at |λ|)."
               if non_positive else f"All {n:,} eigenvalues are positive.")
    c2.metric("Effective rank", f"{float(spec['effective_rank']):.1f}", help="exp(entropy of λ/Σλ): "
              "1 for a matrix of ones, N for the identity.")
    c2.metric("Condition number", f"{float(spec['condition_number']):.3g}",
              help="Largest over smallest eigenvalue; inf when K is singular in working precision.")
    c2.metric("Smallest eigenvalue", f"{smallest:.3g}",
              help=f"Round-off can move an eigenvalue by up to about {limit:.2g} here "
                   f"({ROUNDOFF_MARGIN:g}·ε·N·max|λ|, {dtype}).")
    verdict = str(spec["definiteness"])
    if verdict == "indefinite":
        c2.warning(f"K is **indefinite**: its smallest eigenvalue {smallest:.3g} "
                   f"is far below the round-off bound −{limit:.2g}. This kernel is not "
                   "positive semi-definite on these points (the Kernel lab's check says "
                   "the same); jitter would only hide that.", icon=":material/warning:")
    elif verdict == "positive semi-definite to round-off":
        c2.caption(f"K is positive semi-definite to round-off: the eigenvalues ≤ 0 are all "
                   f"above −{limit:.2g}, within what round-off explains.")
    else:
        c2.caption("K is positive definite: every eigenvalue is above 0.")


def compare_choice(current: Settings, n: int, d: int) -> tuple[Any, str | None]:
    """The comparison's toggle and its other method: (its bordered box, the method), or
    (None, None) while closed or for other kernels; a method that declines these data says why."""
    if current.kernel != "rbf":
        return None, None
    if not bound(st.toggle, "Compare with another batching method", key=URL.compare):
        return None, None
    box = st.container(border=True)
    names = [m for m in METHODS if m != current.method]
    with box:
        other = bound(st.selectbox, "Other method", names, format_func=lambda m: METHODS[m].label,
                      key=URL.other, index=names.index("jit_expansion")
                      if "jit_expansion" in names else 0)
        reason = resolve(other, n, n, d, current.dtype).declines(n, n, d, current.dtype)
        if reason:
            st.info(reason)
            return box, None
    return box, other


def compare_panel(difference: dict[str, Any], other: str) -> None:
    """`method_difference`'s largest |ΔK| and its heatmap."""
    err = float(difference["max_abs_difference"])
    st.metric(f"max |K({METHODS[other].label}) − K(this)|", f"{err:.3g}")
    lim = err or 1.0
    fig, _ = matrix_heatmap(difference["K_difference"], "Difference of the two methods",
                            "ΔK", colorscale="RdBu", zmin=-lim, zmax=lim, zmid=0, height=420)
    st.plotly_chart(fig, key="w_gram_diff")


def download_panel(data: Data, settings: Settings, current: Settings, n: int,
                   view_settings: dict[str, Any], kernel_text: str) -> None:
    """.npy and .csv of K in data order (`gram_view`'s "K", built only when a button is
    clicked), and "Reproduce in Python" with the same settings."""
    def data_order() -> np.ndarray:  # what the export reproduces, without spectrum or comparison
        quick = {**view_settings, "spectrum": False, "compare_distances": None}
        return gram_view(data.X, data.y, **quick)["K"]

    c1, c2 = st.columns(2)
    stem = f"gram_{current.kernel}_gamma{grid_label(current.gamma)}_n{n}"
    c1.download_button("Download K as .npy", lambda: _npy_bytes(data_order()),
                       file_name=stem + ".npy", mime="application/octet-stream",
                       key="w_gram_dl_npy", on_click="ignore")
    if n <= 2000:  # a CSV of N² numbers is ~N²·12 bytes: 48 MB at 2000
        c2.download_button("Download K as .csv", lambda: _csv_text(data_order()),
                           file_name=stem + ".csv", mime="text/csv", key="w_gram_dl_csv",
                           on_click="ignore")
    else:
        c2.caption("CSV download is offered up to N = 2,000; use .npy above that.")
    reproduce_control("gram", data_source(settings), view_settings, notes=[
        f"The Gram matrix of {data.name} under the {kernel_text}: K[i, j] = k(x_i, x_j). `K` is in "
        "the data's row order (the page's download); the heatmap shows it in `order`."],
        settings_note=gram_method_note(current, n, data.X.shape[1]))


def _npy_bytes(K: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, K, allow_pickle=False)
    return buf.getvalue()


def _csv_text(K: np.ndarray) -> str:
    text = io.StringIO()
    np.savetxt(text, K, delimiter=",", fmt="%.9g")
    return text.getvalue()


def distance_heatmap(S: np.ndarray) -> None:
    """The squared distances (N, N) in display order, pooled like K."""
    fig, _ = matrix_heatmap(S, "Squared distances d(x<sub>i</sub>, x<sub>j</sub>)", "d²", height=440)
    st.plotly_chart(fig, key="w_gram_dist")
