"""Squared Euclidean distances: the vector form and its batched matrix forms.

The vector form `sqeuclidean_distances(x, y)` is the notes' definition for two
D-vectors. `pairwise_sqeuclidean(X, Y, method=...)` builds the (N, M) matrix in
six ways that differ in speed and in float32 accuracy:

=========== =================================================== ==============
method      how                                                 float32 far
                                                                from origin
=========== =================================================== ==============
vmap        nested `vmap` of the vector form, jitted            accurate
broadcast   `X[:, None, :] - Y[None, :, :]` by hand, jitted     accurate
einsum      `XX + YY - 2XY` with `einsum`, jitted               cancels
dot         `XX + YY - 2XY` with `dot`, jitted                  cancels
centered    expansion after `shared_shift` (float64 mean)       accurate
numpy       `XX + YY - 2XY` with NumPy's `einsum`, no JAX       cancels
=========== =================================================== ==============

"Cancels": `x·x + y·y - 2x·y` subtracts large, nearly equal numbers when the
points sit far from the origin, so float32 loses most digits (even the sign).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import scipy.spatial.distance
import sklearn.metrics.pairwise
from jax.typing import ArrayLike

from core.kernels.numerics import clip_at_zero, shared_shift
from core.precision import as_float_array, dtype_scope

__all__ = [
    "DISTANCE_METHODS",
    "sqdist_vmap",
    "sqdist_broadcast",
    "sqdist_einsum",
    "sqdist_dot",
    "sqdist_numpy",
    "sqeuclidean_distances",
    "safe_sqrt",
    "pairwise_sqeuclidean",
    "pairwise_sqeuclidean_jax",
    "check_feature_sizes",
]


def sqeuclidean_distances(x: ArrayLike, y: ArrayLike) -> jax.Array:
    """Squared Euclidean distance of two vectors, the notes' vector form.

    Args:
      x: shape (D,).
      y: shape (D,).

    Returns:
      Scalar `sum((x - y) ** 2)`, dtype of the inputs.
    """
    return jnp.sum((x - y) ** 2)


def safe_sqrt(r2: jax.Array) -> jax.Array:
    """`sqrt(r2)` whose gradient stays finite at `r2 == 0`.

    sqrt'(0) is infinite, and `jnp.where` alone does not help: the gradient of the
    branch not taken is still computed and `0 * inf` is NaN. So the zeros are
    replaced by ones *before* the square root and put back after it.
    """
    zeros = r2 <= 0
    safe = jnp.where(zeros, jnp.ones_like(r2), r2)
    return jnp.where(zeros, jnp.zeros_like(r2), jnp.sqrt(safe))


def sqdist_vmap(X: jax.Array, Y: jax.Array) -> jax.Array:
    # Inner vmap walks Y for one x, outer vmap walks X: the notes' pairwise form.
    row = jax.vmap(sqeuclidean_distances, in_axes=(None, 0))
    return jax.vmap(row, in_axes=(0, None))(X, Y)


def sqdist_broadcast(X: jax.Array, Y: jax.Array) -> jax.Array:
    diff = X[:, None, :] - Y[None, :, :]
    return jnp.sum(diff * diff, axis=-1)


def sqdist_einsum(X: jax.Array, Y: jax.Array) -> jax.Array:
    XX = jnp.einsum("ik,ik->i", X, X)
    YY = jnp.einsum("ik,ik->i", Y, Y)
    XY = jnp.einsum("ik,jk->ij", X, Y)
    return XX[:, None] + YY[None, :] - 2 * XY


def sqdist_dot(X: jax.Array, Y: jax.Array) -> jax.Array:
    XX = jnp.sum(X * X, axis=1)
    YY = jnp.sum(Y * Y, axis=1)
    XY = jnp.dot(X, Y.T)
    return XX[:, None] + YY[None, :] - 2 * XY


_JAX_FORMS = {
    "vmap": sqdist_vmap,
    "broadcast": sqdist_broadcast,
    "einsum": sqdist_einsum,
    "dot": sqdist_dot,
}

# "centered" is the dot form of points shifted on the host (`shared_shift`, in
# float64: XLA without x64 has no float64 to sum in); scikit-learn and SciPy are
# peers, computed in their own way (see _peer_form).
DISTANCE_METHODS = (*_JAX_FORMS, "centered", "numpy", "sklearn", "scipy")


@partial(jax.jit, static_argnames=("method", "squared", "same", "clip"))
def pairwise_sqeuclidean_jax(
    X: jax.Array,
    Y: jax.Array,
    method: str = "vmap",
    squared: bool = True,
    same: bool = False,
    clip: bool = True,
) -> jax.Array:
    """Jitted pairwise squared distances (or distances), for use inside JAX code.

    Args:
      X: shape (N, D).
      Y: shape (M, D).
      method: "vmap", "broadcast", "einsum" or "dot" (for "centered", shift the
        points with `shared_shift` first and use "dot").
      squared: False returns distances with a gradient-safe square root.
      same: True when Y is X: the diagonal is set to exactly 0, as the expansion
        leaves round-off there that shows up as RBF diagonals below 1.
      clip: False returns the raw form, round-off negatives and all.

    Returns:
      shape (N, M), dtype of X; round-off negatives clipped to 0.
    """
    if method not in _JAX_FORMS:
        raise ValueError(f"pairwise_sqeuclidean_jax computes {', '.join(_JAX_FORMS)}, not "
                         f"{method!r}: for 'centered', shift the points with shared_shift "
                         "and use 'dot', or call pairwise_sqeuclidean.")
    if not clip:
        return _JAX_FORMS[method](X, Y)
    ids = jnp.arange(X.shape[0])
    d2 = clip_at_zero(_JAX_FORMS[method](X, Y), self_pairs=(ids, ids) if same else None)
    return d2 if squared else safe_sqrt(d2)


def check_feature_sizes(X: np.ndarray, Y: np.ndarray) -> None:
    """Raise a clear ValueError unless X is (N, D) and Y is (M, D)."""
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(
            f"Expected 2-D arrays of shape (N, D) and (M, D), got {X.shape} and {Y.shape}: "
            "reshape a single vector x to x[None, :]."
        )
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but Y has {Y.shape[1]}: both need the same "
            "number of columns D."
        )


def sqdist_numpy(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    XX = np.einsum("ik,ik->i", X, X)
    YY = np.einsum("ik,ik->i", Y, Y)
    XY = np.einsum("ik,jk->ij", X, Y)
    return XX[:, None] + YY[None, :] - 2 * XY


def _peer_form(method: str, X: np.ndarray, Y: np.ndarray | None) -> np.ndarray:
    if method == "sklearn":  # upcasts float32 to float64 in blocks
        return sklearn.metrics.pairwise.euclidean_distances(X, Y, squared=True)
    return scipy.spatial.distance.cdist(X, X if Y is None else Y, "sqeuclidean").astype(X.dtype)


def pairwise_sqeuclidean(
    X: ArrayLike,
    Y: ArrayLike | None = None,
    method: str = "vmap",
    squared: bool = True,
    dtype: str | None = None,
    clip: bool = True,
) -> np.ndarray:
    """Pairwise squared Euclidean distances as a NumPy array.

    Args:
      X: shape (N, D).
      Y: shape (M, D); None means Y = X (and an exactly zero diagonal).
      method: one of `DISTANCE_METHODS` (see the module docstring).
      squared: False returns Euclidean distances instead.
      dtype: "float32" or "float64"; None keeps float64 input as float64 and
        computes everything else in float32.
      clip: False keeps the round-off negatives of the expansions (and the
        diagonal they leave), to show them; needs squared=True.

    Returns:
      shape (N, M), the compute dtype; never negative unless clip=False.
    """
    if method not in DISTANCE_METHODS:
        raise ValueError(f"Unknown method {method!r}: choose one of {', '.join(DISTANCE_METHODS)}.")
    X = as_float_array(X, dtype)
    same = Y is None
    Y = X if same else as_float_array(Y, X.dtype)
    check_feature_sizes(X, Y)
    if not clip and not squared:
        raise ValueError("clip=False needs squared=True: a square root of a negative is NaN.")
    if method in ("numpy", "sklearn", "scipy"):
        d2 = sqdist_numpy(X, Y) if method == "numpy" else _peer_form(method, X, None if same else Y)
        if clip:
            ids = np.arange(X.shape[0])
            d2 = clip_at_zero(d2, self_pairs=(ids, ids) if same else None)
        return d2 if squared else np.sqrt(d2)
    if method == "centered":
        X, Y = shared_shift(X, None if same else Y)
        method = "dot"
    with dtype_scope(X.dtype):
        out = pairwise_sqeuclidean_jax(X, Y, method=method, squared=squared, same=same, clip=clip)
        return np.asarray(out)
