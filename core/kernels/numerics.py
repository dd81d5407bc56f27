"""The numerical hazards of the expansion `|x|² + |y|² − 2 x·y`, each guarded once.

Every dense method, the fast forms (`core.dense.fast`) and the block engine
(`core.scale`) compute squared distances, or RBF exponents `−γ|x − y|²`, with the
expansion. It has three hazards, and each has one function here:

* `shared_shift`: far from the origin the expansion subtracts huge, nearly equal
  numbers (float32 loses every digit at 1e4). Shifting X and Y by one shared
  point near the data removes that, and leaves distances unchanged, but only if
  both get *exactly* the same shift.
* `augmented_factors`: the exponent as ONE matrix product of augmented rows, so
  the only (N, M) arrays are the product and K.
* `clip_at_zero`: round-off leaves squared distances slightly negative (K above 1)
  and the diagonal of K(X, X) slightly off 1; both are set right here.

The functions take NumPy or JAX arrays alike (`augmented_factors` and
`clip_at_zero` also inside `jit`); `shared_shift` runs on the host, in float64.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["shared_shift", "augmented_factors", "clip_at_zero"]

Array = Any  # np.ndarray or jax.Array


def _xp(a: Array):
    return jnp if isinstance(a, jax.Array) else np


def _squared_norms(X: Array) -> Array:
    if isinstance(X, np.ndarray):
        return np.einsum("ik,ik->i", X, X)
    # Elementwise, not a dot: accelerators run float32 dots in reduced precision.
    return jnp.sum(X * X, axis=1)


def shared_shift(X: np.ndarray, Y: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """X and Y shifted by one shared point: their joint mean, summed in float64.

    Guards against cancellation far from the origin: after the shift the norms in
    the expansion are about the data's spread, not its offset. Distances do not
    change only if X and Y get the *same* shift, so the shift is one value,
    computed once on the host, never recomputed per use (XLA fuses `sum * (1/n)`
    into each use and may round it differently in each: X and Y then move by
    values a last bit apart, 2e-2 in d² at offset 1e5). The one rounding rule:
    the float64 mean is rounded once to the data's dtype, and that representable
    point is subtracted in the data's dtype, exactly (Sterbenz) for every point
    within a factor two of it.

    Args:
      X: shape (N, D), float32 or float64 (NumPy).
      Y: shape (M, D), dtype of X; None means Y = X (counted once).

    Returns:
      `(X - c, Y - c)`, NumPy arrays of X's dtype; for Y = None the second is the
      first (the same object).
    """
    X = np.asarray(X)
    total = X.sum(axis=0, dtype=np.float64)
    count = X.shape[0]
    if Y is not None:
        Y = np.asarray(Y)
        total = total + Y.sum(axis=0, dtype=np.float64)
        count += Y.shape[0]
    center = (total / max(count, 1)).astype(X.dtype)  # no points: no shift needed
    Xc = X - center
    return Xc, Xc if Y is None else Y - center


def augmented_factors(Xc: Array, Yc: Array, gamma: Array) -> tuple[Array, Array]:
    """Factors whose product is the RBF exponent: `A @ B = -gamma * |x_i - y_j|²`.

    `-γ|x - y|² = x·(2γ y) - γ|x|² - γ|y|²`, so with `A = [x, -γ|x|², 1]` and
    `B = [2γ y, 1, -γ|y|²]ᵀ` the exponent is ONE matrix product: the only (N, M)
    arrays are the product and K (the norms and gamma as separate (N, M) passes
    would each read and write K once more). 2γ always multiplies Y, so every caller
    rounds the same way. Pass points from `shared_shift`: the expansion cancels
    far from the origin.

    Args:
      Xc: shape (N, D); Yc: shape (M, D); gamma: a scalar; one float dtype,
        NumPy or JAX (also traced).

    Returns:
      `(A, B)`: A of shape (N, D + 2), B of shape (D + 2, M), dtype of Xc.
    """
    xp = _xp(Xc)
    g = xp.asarray(gamma, dtype=Xc.dtype)
    A = xp.concatenate([Xc, (-g * _squared_norms(Xc))[:, None],
                        xp.ones((Xc.shape[0], 1), Xc.dtype)], axis=1)
    B = xp.concatenate([(2 * g) * Yc.T, xp.ones((1, Yc.shape[0]), Yc.dtype),
                        (-g * _squared_norms(Yc))[None, :]], axis=0)
    return A, B


def clip_at_zero(values: Array, *, exponent: bool = False,
                 self_pairs: tuple[Array, Array] | None = None) -> Array:
    """Squared distances clipped at 0 (or exponents at 0 from above), self pairs exactly 0.

    Guards against two round-off artefacts of the expansion: a squared distance a
    hair below 0 (a NaN under a square root, a K entry above 1), and a distance
    from a point to itself that is not exactly 0 (a diagonal of K(X, X) off 1 in
    the last bits, which users read as "the kernel of a point with itself is not 1").

    Args:
      values: squared distances `d²` (kept >= 0), or RBF exponents `-γ d²`
        (`exponent=True`, kept <= 0); shape (B, T); NumPy (clipped in place) or JAX.
      exponent: True for exponents.
      self_pairs: `(row_ids, col_ids)`, shapes (B,) and (T,): entries whose row
        and column ids are equal are pairs of a point with itself, set to 0.

    Returns:
      The clipped values, shape and dtype of `values`.
    """
    if isinstance(values, np.ndarray):
        # A row of zeros, not a scalar 0: NumPy vectorises the row; the scalar is far slower.
        zeros = np.zeros(values.shape[-1:], values.dtype)
        (np.minimum if exponent else np.maximum)(values, zeros, out=values)
        if self_pairs is not None:
            rows, cols = self_pairs
            values[np.asarray(rows)[:, None] == np.asarray(cols)[None, :]] = 0
        return values
    values = jnp.minimum(values, 0) if exponent else jnp.maximum(values, 0)
    if self_pairs is not None:
        rows, cols = self_pairs
        values = jnp.where(rows[:, None] == cols[None, :], jnp.zeros_like(values), values)
    return values
