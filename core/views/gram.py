"""The Gram explorer's view: K of the data, its distances, pooled K and its eigenvalues.

`gram_view` is made of the section functions the page calls one by one (each cached
on the page, each shown in its own place): the distances, K, the heatmap's block means,
the histogram of K's values, the spectrum, the difference from another batching method,
and the data in 2-D.
"""

from __future__ import annotations

from functools import partial
from typing import Mapping

import numpy as np

from core.dense.buckets import on_buckets
from core.dense.methods import rbf_from_sqdist, sqdist_by_form
from core.kernels.functions import KERNELS
from core.kernels.gram import gram_jit
from core.lessons.spectrum import definiteness, roundoff_bound
from core.lessons.spectrum import spectrum as eigenvalue_spectrum
from core.precision import dtype_scope
from core.scale.pooling import pool_mean, pooled_rbf_from_sqdist
from core.views.overview import data_2d

__all__ = ["SPECTRUM_AUTO_MAX_N", "HISTOGRAM_MAX_PAIRS", "HISTOGRAM_BINS", "display_order",
           "named_kernel_gram", "gram_distances", "gram_kernel", "pooled_gram",
           "off_diagonal_histogram", "gram_spectrum", "method_difference", "gram_view",
           "gram_figure"]

SPECTRUM_AUTO_MAX_N = 500  # eigvalsh is O(N³): beyond this the page waits for a click
HISTOGRAM_MAX_PAIRS = 500_000  # more pairs than this are sampled for the histogram
HISTOGRAM_BINS = 60


def display_order(y: np.ndarray | None, by_label: bool, n: int) -> np.ndarray:
    """The order of the n points on screen: by label (stable) when asked and labelled, else as given."""
    if by_label and y is not None:
        return np.argsort(y, kind="stable")
    return np.arange(n)


def named_kernel_gram(kernel: str, params: Mapping[str, float], X: np.ndarray) -> np.ndarray:
    """K(X, X) for the kernel `KERNELS[kernel]` by jitted Method I, shape (N, N), dtype of X."""
    with dtype_scope(X.dtype):
        p = {k: np.asarray(v, dtype=X.dtype) for k, v in params.items()}
        # Rows padded to a shape bucket: a few compiled programs, not one per N.
        return on_buckets(partial(gram_jit, KERNELS[kernel].fn, p), X, None)


def gram_distances(X: np.ndarray, *, distances: str, exact_diagonal: bool,
                   order: np.ndarray | None = None) -> np.ndarray:
    """Squared distances (N, N) the way a batching method computes them, dtype of X.

    Args:
      X: (N, D). distances: the method's `distance_method`; exact_diagonal: its `zero_diagonal`.
      order: (N,) a permutation: rows and columns in that order (the heatmaps'); None: X's.
    """
    S = sqdist_by_form(distances, X, None, exact_diagonal=exact_diagonal)
    return S if order is None else S[np.ix_(order, order)]


def gram_kernel(X: np.ndarray, S: np.ndarray | None, *, kernel: str, params: Mapping[str, float],
                order: np.ndarray | None = None) -> np.ndarray:
    """K (N, N) with rows and columns in `order` (None: X's), dtype of X.

    The RBF kernel is exp(-gamma·S) of the distances S (`gram_distances`, already in
    `order`): a new gamma costs one exponential. Any other kernel runs as jitted
    Method I on X (S unused) and is then put in `order`.
    """
    if kernel == "rbf":
        return rbf_from_sqdist(S, params["gamma"])
    K = named_kernel_gram(kernel, params, X)
    return K if order is None else K[np.ix_(order, order)]


def pooled_gram(K: np.ndarray | None = None, *, S: np.ndarray | None = None,
                gamma: float | None = None) -> dict[str, np.ndarray]:
    """The heatmap's cells: block means of K, at most `MAX_POOLED_SIDE` cells a side.

    Args:
      K: (N, N), in display order; or None with the RBF kernel's S and gamma, when the
        means are streamed from the distances without building K.

    Returns:
      "K_pooled" (ceil(N / f), ceil(N / f)) (K itself for f = 1), "factor" () f.
    """
    pooled, factor = pool_mean(K) if K is not None else pooled_rbf_from_sqdist(S, gamma)
    return {"K_pooled": pooled, "factor": np.asarray(factor)}


def off_diagonal_histogram(K: np.ndarray) -> dict[str, np.ndarray]:
    """The histogram of K's finite values above the diagonal (a seeded sample for large N).

    Returns:
      "counts" (HISTOGRAM_BINS,) int, "edges" (HISTOGRAM_BINS + 1,), "sampled" () bool:
      True when `HISTOGRAM_MAX_PAIRS` random pairs stand for the N(N - 1)/2 of them.
    """
    n = K.shape[0]
    sampled = n * (n - 1) // 2 > HISTOGRAM_MAX_PAIRS
    if not sampled:
        values = K[np.triu_indices(n, k=1)]
    else:
        rng = np.random.default_rng(0)
        i, j = rng.integers(0, n, HISTOGRAM_MAX_PAIRS), rng.integers(0, n, HISTOGRAM_MAX_PAIRS)
        keep = i != j
        values = K[i[keep], j[keep]]
    values = values[np.isfinite(values)]  # NaN or inf is no value to count
    counts, edges = (np.histogram(values, bins=HISTOGRAM_BINS) if values.size
                     else (np.zeros(0, int), np.zeros(1)))
    return {"counts": counts, "edges": edges, "sampled": np.asarray(sampled)}


def gram_spectrum(K: np.ndarray, dtype: str) -> dict[str, np.ndarray]:
    """The eigenvalues of K (N, N) and what they say, K computed in `dtype`.

    Returns:
      "eigenvalues" (N,) float64 descending; "effective_rank", "condition_number",
      "min_eigenvalue", "roundoff_bound" (how far round-off can move an eigenvalue),
      "non_positive" (how many are ≤ 0) and "definiteness" (words) as 0-d arrays.
    """
    spec = eigenvalue_spectrum(K)
    ev = spec.eigenvalues
    bound = roundoff_bound(ev.size, float(np.max(np.abs(ev))), dtype) if ev.size else 0.0
    return {"eigenvalues": ev, "effective_rank": np.asarray(spec.effective_rank),
            "condition_number": np.asarray(spec.condition_number),
            "min_eigenvalue": np.asarray(spec.min_eigenvalue), "roundoff_bound": np.asarray(bound),
            "non_positive": np.asarray(int(np.sum(ev <= 0))),
            "definiteness": np.asarray(definiteness(spec, dtype))}


def method_difference(K: np.ndarray, S_other: np.ndarray, gamma: float) -> dict[str, np.ndarray]:
    """The RBF K of another batching method (from its distances S_other, K's order) minus K.

    Returns:
      "K_difference" (N, N) in K's dtype, "max_abs_difference" () its largest |entry|.
    """
    # In K's dtype, no float64 copy: two values within a factor 2 of each other
    # subtract exactly (Sterbenz); others round once, far below their difference.
    K_other = rbf_from_sqdist(S_other, gamma)
    diff = np.subtract(K_other, K, out=K_other)
    return {"K_difference": diff, "max_abs_difference": np.asarray(float(np.max(np.abs(diff))))}


def gram_view(X: np.ndarray, y: np.ndarray | None, *, kernel: str, params: Mapping[str, float],
              distances: str, exact_diagonal: bool, order_by_label: bool = True,
              spectrum: bool | None = None, compare_distances: str | None = None,
              compare_exact_diagonal: bool = True) -> dict[str, np.ndarray]:
    """What the Gram explorer shows for one setting of its controls.

    Args:
      X: (N, D) data, float32 or float64. y: (N,) labels or None.
      kernel: a key of `KERNELS`; params: its parameters (gamma included).
      distances: how the batching method computes squared distances (its
        `distance_method`: "vmap", "dot", "centered", ...), for the RBF kernel's K and
        the distance heatmap; exact_diagonal: the method's `zero_diagonal`.
      order_by_label: the heatmaps' rows in label order (classes as blocks).
      spectrum: whether to compute the eigenvalues: None, as the page does without a click
        (up to `SPECTRUM_AUTO_MAX_N` points); True once the user pressed its button.
      compare_distances, compare_exact_diagonal: another batching method's distances
        (RBF only), when the page compares it with this one; None: no comparison.

    Returns:
      "K" (N, N) in the data's row order (the page's "Download K as .npy"), "sqdist"
      (N, N) the squared distances, "order" (N,) the heatmaps' row order, "X" and "y";
      "K_pooled" the block means the heatmap shows when N is above its display side;
      "histogram_counts" and "histogram_edges", the histogram of K's values off the
      diagonal; "Z" (N, 2) and "explained" (2,), the scatter plot of the data;
      with the spectrum, `gram_spectrum`'s arrays ("eigenvalues" (N,) descending, ...);
      with a comparison, "K_difference" (N, N) in display order and "max_abs_difference".
    """
    S = gram_distances(X, distances=distances, exact_diagonal=exact_diagonal)
    K = gram_kernel(X, S, kernel=kernel, params=params)
    order = display_order(y, order_by_label, X.shape[0])
    view = {"X": X, "sqdist": S, "K": K, "order": order}
    if y is not None:
        view["y"] = y
    K_shown = K[np.ix_(order, order)]
    pooled = (pooled_gram(S=S[np.ix_(order, order)], gamma=params["gamma"]) if kernel == "rbf"
              else pooled_gram(K_shown))
    if int(pooled["factor"]) > 1:
        view["K_pooled"] = pooled["K_pooled"]
    histogram = off_diagonal_histogram(K_shown)
    view["histogram_counts"], view["histogram_edges"] = histogram["counts"], histogram["edges"]
    view.update(data_2d(X))
    if spectrum or (spectrum is None and X.shape[0] <= SPECTRUM_AUTO_MAX_N):
        view.update(gram_spectrum(K, X.dtype.name))
    if compare_distances is not None and kernel == "rbf":
        S_other = gram_distances(X, distances=compare_distances,
                                 exact_diagonal=compare_exact_diagonal, order=order)
        view.update(method_difference(K_shown, S_other, params["gamma"]))
    return view


def gram_figure(view: dict[str, np.ndarray]):
    """The page's main figure: K as a heatmap, rows and columns in display order (Plotly)."""
    import plotly.graph_objects as go

    order = view["order"]
    z = view.get("K_pooled", view["K"][np.ix_(order, order)])
    fig = go.Figure(go.Heatmap(z=z, colorscale="Viridis", colorbar={"title": "k"}))
    fig.update_layout(title="K (rows and columns in display order)", width=560, height=520,
                      yaxis={"autorange": "reversed", "scaleanchor": "x"})
    return fig
