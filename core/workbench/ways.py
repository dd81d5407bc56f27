"""The ways the workbench batches a kernel written for one pair, as functions to jit.

Each takes `(X, Y, params)` (X: (N, D), Y: (M, D), params: a dict of arrays) and
returns the (N, M) Gram matrix:

* `method_one`: the notes' Method I, nested `vmap` (`core.kernels.gram.gram`);
* `method_two`: the notes' Method II, `in_axes`/`out_axes` (`covariance_matrix`);
* `pair_list`: one `vmap` over the list of all N·M pairs, reshaped.

`gamma_frames` adds one more `vmap`, over gamma, chunked by `lax.map(batch_size=...)`,
and pools each matrix to block means inside the program, so G full matrices never
exist at once.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from core.errors import UserCodeError
from core.kernels.gram import covariance_matrix, gram
from core.scale.pooling import pool_edges, pool_factor

__all__ = ["WAYS", "method_one", "method_two", "pair_list", "check_scalar_kernel",
           "pooled_in_jax", "gamma_frames"]

Kernel = Callable[[Mapping[str, Any], jax.Array, jax.Array], jax.Array]


def method_one(kernel: Kernel) -> Callable[..., jax.Array]:
    """Method I: `vmap(x -> vmap(y -> k(params, x, y))(Y))(X)`, shape (N, M)."""
    def method_one_gram(X: jax.Array, Y: jax.Array, params: Mapping[str, Any]) -> jax.Array:
        return gram(kernel, params, X, Y)
    return method_one_gram


def method_two(kernel: Kernel) -> Callable[..., jax.Array]:
    """Method II: params fixed by `partial`, then `in_axes=(0, None)` and `(None, 0)`
    with `out_axes=1`; shape (N, M)."""
    def method_two_gram(X: jax.Array, Y: jax.Array, params: Mapping[str, Any]) -> jax.Array:
        return covariance_matrix(functools.partial(kernel, params), X, Y)
    return method_two_gram


def pair_list(kernel: Kernel) -> Callable[..., jax.Array]:
    """One vmap over the N·M pairs: rows of X repeated, rows of Y tiled; shape (N, M).

    The pair list holds (N·M, D) copies of the inputs: the most memory of the three.
    """
    def pair_list_gram(X: jax.Array, Y: jax.Array, params: Mapping[str, Any]) -> jax.Array:
        n, m = X.shape[0], Y.shape[0]
        xs = jnp.repeat(X, m, axis=0)        # x_0 M times, then x_1 M times, ...
        ys = jnp.tile(Y, (n, 1))             # y_0 ... y_{M-1}, N times
        k = jax.vmap(kernel, in_axes=(None, 0, 0))(params, xs, ys)
        return k.reshape(n, m)
    return pair_list_gram


# name -> (builder, a one-line description the page can show).
WAYS: dict[str, tuple[Callable[[Kernel], Callable[..., jax.Array]], str]] = {
    "Method I": (method_one, "nested vmap: vmap(lambda x: vmap(lambda y: k(params, x, y))(Y))(X)"),
    "Method II": (method_two, "covariance_matrix: in_axes=(0, None), then (None, 0) with out_axes=1"),
    "pair list": (pair_list, "vmap(k, in_axes=(None, 0, 0))(params, repeat(X), tile(Y)).reshape(N, M)"),
}


def check_scalar_kernel(kernel: Kernel, d: int, dtype: Any, params: Mapping[str, Any]) -> Any:
    """The kernel's output for one pair, by `jax.eval_shape` (nothing runs).

    Returns:
      the `ShapeDtypeStruct` of k(params, x, y) for x, y of shape (d,).

    Raises:
      UserCodeError: the output is not one real number.
    """
    x = jax.ShapeDtypeStruct((d,), jnp.dtype(dtype))
    out = jax.eval_shape(kernel, params, x, x)
    shape = getattr(out, "shape", None)
    if shape is None:
        raise UserCodeError("kernel must return one number for one pair x, y; it returned "
                            f"{type(out).__name__}, not an array.")
    if shape != ():
        raise UserCodeError(f"kernel must return one number for one pair x, y; it returned "
                            f"shape {tuple(shape)} (x and y have shape ({d},)). Reduce it, "
                            "e.g. with np.sum(...).")
    if jnp.issubdtype(out.dtype, jnp.complexfloating):
        raise UserCodeError("kernel must return a real number; it returned a complex one.")
    return out


def pooled_in_jax(K: jax.Array, side: int) -> jax.Array:
    """Block means of K (N, N) inside a program: `core.scale.pooling.pool_mean`'s cells.

    Returns:
      float32, shape (ceil(N / f), ceil(N / f)) with f = `pool_factor(N, side)`.
    """
    n = K.shape[0]
    f = pool_factor(n, side)
    if f == 1:
        return K.astype(jnp.float32)
    cells = math.ceil(n / f)
    pad = cells * f - n
    # Zeros in the padding add nothing to a sum; the counts below are the real sizes.
    Kp = jnp.pad(K, ((0, pad), (0, pad)))
    sums = Kp.reshape(cells, f, cells, f).sum(axis=(1, 3))
    sizes = np.diff(np.append(pool_edges(n, f), n))
    counts = np.outer(sizes, sizes).astype(np.dtype(K.dtype))
    return (sums / counts).astype(jnp.float32)


def gamma_frames(kernel: Kernel, side: int, batch_size: int) -> Callable[..., jax.Array]:
    """The Gram matrix for every gamma of a grid, pooled: one more vmap, in chunks.

    Returns:
      `frames(X, gammas, params) -> (G, cells, cells)` float32, where each frame is
      `pooled_in_jax(gram(kernel, params | {"gamma": g}, X), side)`. `lax.map` with
      `batch_size` vmaps `batch_size` gammas at a time, so the program holds at most
      that many (N, N) matrices.
    """
    def frames(X: jax.Array, gammas: jax.Array, params: Mapping[str, Any]) -> jax.Array:
        def one(g: jax.Array) -> jax.Array:
            return pooled_in_jax(gram(kernel, {**params, "gamma": g}, X), side)
        return lax.map(one, gammas, batch_size=batch_size)
    return frames
