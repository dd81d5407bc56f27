"""The Overview's view: the data projected to 2-D, and the vmap ladder's output shapes."""

from __future__ import annotations

import numpy as np

from core.lessons.anatomy import vmap_ladder
from core.lessons.predict import init_params
from core.lessons.projection import pca_2d
from core.precision import dtype_scope

__all__ = ["shape_text", "data_2d", "vmap_ladder_table", "overview_view", "overview_figure"]


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as the ladder's table writes it: "(400, 400)", or "() scalar"."""
    return str(tuple(shape)) if shape else "() scalar"


def data_2d(X: np.ndarray) -> dict[str, np.ndarray]:
    """The data as the scatter plots draw it: "Z" (N, 2) float64, X itself centred when
    D ≤ 2, else its first two principal components; "explained" (2,) the fraction of
    variance each axis keeps."""
    Z, explained = pca_2d(X)
    return {"Z": Z, "explained": explained}


def vmap_ladder_table(X: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """The vmap ladder on X (N, D), computed in X's dtype with `init_params(D, seed)`.

    Returns:
      "ladder_calls", "ladder_inputs" and "ladder_shapes" (5,) strings: each call, what
      it is given, and the output shape measured by running it (the last only traced:
      `jax.eval_shape`).
    """
    params = init_params(X.shape[1], seed, dtype=X.dtype.type)
    with dtype_scope(X.dtype):
        steps = vmap_ladder(X, params)
    return {"ladder_calls": np.array([" ".join(s.code.split()) for s in steps]),
            "ladder_inputs": np.array([s.inputs for s in steps]),
            "ladder_shapes": np.array([shape_text(s.shape) for s in steps])}


def overview_view(X: np.ndarray, y: np.ndarray | None, *, seed: int) -> dict[str, np.ndarray]:
    """What the Overview shows for the sidebar's data.

    Args:
      X: (N, D) data, float32 or float64 (the dtype computed in). y: (N,) labels or None.
      seed: the sidebar's seed, of `init_params(D, seed)` (predict's w and b).

    Returns:
      "Z" (N, 2) float64, the scatter plot's points (X itself, centred, when D ≤ 2; else
      its first two principal components), "explained" (2,) the fraction of variance
      each axis keeps (`data_2d`), "y" (N,) when labelled; "ladder_calls", "ladder_inputs"
      and "ladder_shapes" (5,) strings, the ladder's calls, their inputs and the output
      shapes measured by running them (the last only traced: `jax.eval_shape`;
      `vmap_ladder_table`).
    """
    view = {**data_2d(X), **vmap_ladder_table(X, seed)}
    if y is not None:
        view["y"] = y
    return view


def overview_figure(view: dict[str, np.ndarray]):
    """The page's scatter plot of the data in 2-D, coloured by label (Plotly)."""
    import plotly.graph_objects as go

    Z, labels = view["Z"], view.get("y")
    fig = go.Figure()
    groups = np.unique(labels) if labels is not None else [None]
    for g in groups:
        idx = np.flatnonzero(labels == g) if g is not None else np.arange(Z.shape[0])
        fig.add_trace(go.Scatter(x=Z[idx, 0], y=Z[idx, 1], mode="markers",
                                 name=f"label {g}" if g is not None else "points"))
    fig.update_layout(title="The data in 2-D (principal components above D = 2)",
                      xaxis_title="PC 1", yaxis_title="PC 2")
    return fig
