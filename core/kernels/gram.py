"""Gram matrices and a matrix product, each built from a vector-form function by `vmap`.

* `gram` is the notes' "Method I": one call of nested `vmap` over lambdas.
* `covariance_matrix` is "Method II": `in_axes`/`out_axes` say which argument is
  batched and where the batch axis of the output goes.
* `vmap_matmul` builds `A @ B` from `vdot` alone: vector·vector → matrix·vector →
  matrix·matrix, one `vmap` per step.
"""

from __future__ import annotations

from typing import Callable, Mapping

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from core.kernels.functions import KernelFn

__all__ = ["gram", "gram_jit", "covariance_matrix", "vv", "mv", "mm", "vmap_matmul"]


def gram(kernel_func: KernelFn, params: Mapping, X: ArrayLike, Y: ArrayLike | None = None) -> jax.Array:
    """Method I: the Gram matrix `K[i, j] = kernel_func(params, X[i], Y[j])`.

    Args:
      kernel_func: vector form `k(params, x, y)` for x, y of shape (D,).
      params: the kernel's parameters, e.g. `{"gamma": 0.5}`.
      X: shape (N, D).
      Y: shape (M, D); None means Y = X.

    Returns:
      shape (N, M).
    """
    X = jnp.asarray(X)
    Y = X if Y is None else jnp.asarray(Y)
    K = jax.vmap(lambda x: jax.vmap(lambda y: kernel_func(params, x, y))(Y))(X)
    assert K.shape == (X.shape[0], Y.shape[0]), K.shape
    return K


# The kernel function is a Python callable, so it is static: one compilation per
# kernel (and per shape/dtype), while params stay traced and a new gamma reuses it.
gram_jit = jax.jit(gram, static_argnums=0)


def covariance_matrix(kernel_func: Callable[[jax.Array, jax.Array], jax.Array],
                      x: ArrayLike, y: ArrayLike) -> jax.Array:
    """Method II: the matrix `C[i, j] = kernel_func(x[i], y[j])` by `in_axes`/`out_axes`.

    Args:
      kernel_func: `k(x, y)` for two vectors of shape (D,) (fix params first,
        e.g. with `functools.partial(rbf_kernel, params)`).
      x: shape (N, D).
      y: shape (M, D).

    Returns:
      shape (N, M).
    """
    mapx1 = jax.vmap(lambda x, y: kernel_func(x, y), in_axes=(0, None), out_axes=0)
    mapx2 = jax.vmap(lambda x, y: mapx1(x, y), in_axes=(None, 0), out_axes=1)
    return mapx2(x, y)


def vv(x: ArrayLike, y: ArrayLike) -> jax.Array:
    """vector·vector: `vdot` of two (K,) vectors; scalar."""
    return jnp.vdot(x, y)


# matrix·vector: rows of A (axis 0) against one vector, results stacked on axis 0.
mv = jax.vmap(vv, (0, None), 0)
# matrix·matrix: A against each column of B (axis 1), results stacked as columns.
mm = jax.vmap(mv, (None, 1), 1)


def vmap_matmul(A: ArrayLike, B: ArrayLike) -> jax.Array:
    """`A @ B` built from `vdot` by two `vmap`s.

    Args:
      A: shape (N, K).
      B: shape (K, M).

    Returns:
      shape (N, M).
    """
    A = jnp.asarray(A)
    B = jnp.asarray(B)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"Cannot multiply shapes {A.shape} and {B.shape}: need (N, K) and (K, M).")
    return mm(A, B)
