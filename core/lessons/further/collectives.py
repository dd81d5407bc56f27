"""`axis_name`: collectives across the batch inside `vmap`, and `axis_size`.

Under `vmap(f, axis_name="rows")` each call of `f` sees one row, yet
`lax.psum(v, "rows")` sums `v` over every row of the batch: vmap turns the
collective into a reduction over the batch axis. Here each call of `f` builds one
row of the RBF Gram matrix and a collective finishes it.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["AXIS", "normalised_row", "centred_row", "COLLECTIVE_ROWS", "batched_rows",
           "collective_jaxpr", "axis_size_seen", "copies_without_a_mapped_input"]

AXIS = "rows"


def normalised_row(x: jax.Array, X: jax.Array, gamma: float) -> jax.Array:
    """Row i of the normalised Gram matrix D^-1/2 K D^-1/2 (D: the row sums of K).

    Args:
      x: (D,) the point of this row; X: (N, D) every point; gamma: RBF width.
    Returns:
      (N,) K[i, j] / sqrt(d_i d_j). Call it under vmap(axis_name=AXIS) over X.
    """
    row = jnp.exp(-gamma * jnp.sum((X - x) ** 2, axis=-1))  # K[i, :], (N,)
    degrees = lax.psum(row, AXIS)  # sum over the batch of rows: column sums = all d_j (K symmetric)
    return row / jnp.sqrt(row.sum() * degrees)


def centred_row(x: jax.Array, X: jax.Array, gamma: float) -> jax.Array:
    """Row i of the centred Gram matrix H K H (H = I - 11ᵀ/N), as kernel PCA needs.

    Args and returns as `normalised_row`.
    """
    row = jnp.exp(-gamma * jnp.sum((X - x) ** 2, axis=-1))  # K[i, :], (N,)
    column_means = lax.pmean(row, AXIS)  # (N,): the mean over the batch of rows
    return row - column_means - row.mean() + lax.pmean(row.mean(), AXIS)


COLLECTIVE_ROWS: dict[str, tuple[str, Callable]] = {
    "psum": ("normalise: D^-1/2 K D^-1/2 with lax.psum", normalised_row),
    "pmean": ("centre: H K H with lax.pmean", centred_row),
}


def batched_rows(name: str, X: jax.Array, gamma: float) -> jax.Array:
    """Every row at once: (N, N), the row function of `COLLECTIVE_ROWS[name]` under vmap."""
    row_fn = COLLECTIVE_ROWS[name][1]
    return jax.vmap(row_fn, in_axes=(0, None, None), axis_name=AXIS)(X, X, gamma)


def collective_jaxpr(name: str, n: int, d: int, dtype: str) -> str:
    """The jaxpr of `batched_rows(name, ...)` for X of shape (n, d): psum becomes reduce_sum."""
    X = jax.ShapeDtypeStruct((n, d), jnp.dtype(dtype))
    return str(jax.make_jaxpr(lambda X: batched_rows(name, X, 1.0))(X))


def axis_size_seen(X: jax.Array) -> jax.Array:
    """(N,): what `lax.axis_size(AXIS)` returns inside the vmapped call, for each row."""
    return jax.vmap(lambda x: lax.axis_size(AXIS) + 0 * x[0].astype(jnp.int32),
                    axis_name=AXIS)(X)


def copies_without_a_mapped_input(x: jax.Array, copies: int) -> jax.Array:
    """(copies, D): vmap with no mapped input needs `axis_size`; row k is (k + 1)·x."""
    return jax.vmap(lambda x: (lax.axis_index(AXIS) + 1) * x, in_axes=None,
                    axis_size=copies, axis_name=AXIS)(x)


def numpy_reference(name: str, X: np.ndarray, gamma: float) -> np.ndarray:
    """The same matrix in float64 NumPy, whole: what the page compares against."""
    X = np.asarray(X, np.float64)
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-gamma * sq)
    if name == "psum":
        d = K.sum(axis=1)
        return K / np.sqrt(np.outer(d, d))
    H = np.eye(len(X)) - 1.0 / len(X)
    return H @ K @ H
