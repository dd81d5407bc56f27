"""The Gram explorer's view: K of the data, its distances, pooled K and its eigenvalues."""

from __future__ import annotations

from functools import partial
from typing import Mapping

import numpy as np

from core.dense.buckets import on_buckets
from core.dense.methods import rbf_from_sqdist, sqdist_by_form
from core.kernels.functions import KERNELS
from core.kernels.gram import gram_jit
from core.lessons.spectrum import spectrum as eigenvalue_spectrum
from core.precision import dtype_scope
from core.scale.pooling import pool_mean

__all__ = ["SPECTRUM_AUTO_MAX_N", "display_order", "named_kernel_gram", "gram_view", "gram_figure"]

SPECTRUM_AUTO_MAX_N = 500  # eigvalsh is O(N³): beyond this the page waits for a click


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


def gram_view(X: np.ndarray, y: np.ndarray | None, *, kernel: str, params: Mapping[str, float],
              distances: str, exact_diagonal: bool, order_by_label: bool = True,
              spectrum: bool | None = None) -> dict[str, np.ndarray]:
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

    Returns:
      "K" (N, N) in the data's row order (the page's "Download K as .npy"), "sqdist"
      (N, N) the squared distances, "order" (N,) the heatmaps' row order, "X" and "y";
      "K_pooled" the block means the heatmap shows when N is above its display side;
      "eigenvalues" (N,) descending, when `spectrum` says so.
    """
    S = sqdist_by_form(distances, X, None, exact_diagonal=exact_diagonal)
    K = rbf_from_sqdist(S, params["gamma"]) if kernel == "rbf" else named_kernel_gram(kernel, params, X)
    order = display_order(y, order_by_label, X.shape[0])
    view = {"X": X, "sqdist": S, "K": K, "order": order}
    if y is not None:
        view["y"] = y
    pooled, factor = pool_mean(K[np.ix_(order, order)])
    if factor > 1:
        view["K_pooled"] = pooled
    if spectrum or (spectrum is None and X.shape[0] <= SPECTRUM_AUTO_MAX_N):
        view["eigenvalues"] = eigenvalue_spectrum(K).eigenvalues
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
