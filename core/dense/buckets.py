"""Shape buckets: a few compiled programs for any number of points.

`jax.jit` compiles one program per distinct input shape and keeps it for the
life of the process (about 2.5 MB each on CPU). A server visited with 200
different N would keep 200 programs per jitted path. Here N is rounded up to a
bucket, the jitted code runs on the padded rows, and the result is sliced back.

Buckets are geometric, eight per octave: every size of the form `m * 2**e` with
8 <= m <= 15 (and every size up to 16). Padding adds at most 1/8 = 12.5 % of
rows (so at most 27 % more entries of K); from 10 to 400 points there are 44
buckets, and each further doubling of N adds 8.

Padding rows never change a real entry: every entry of K(X, Y) or of the squared
distances depends on one row of X and one row of Y only. Padding rows are
copies of the last real row (finite wherever the data is); anything computed
from all rows together (the shared shift of the centered forms) must be
computed from the real rows before padding.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from core.kernels.distances import pairwise_sqeuclidean_jax
from core.kernels.numerics import shared_shift
from core.precision import dtype_scope

__all__ = ["BUCKETS_PER_OCTAVE", "bucket_size", "bucket_count", "pad_rows", "on_buckets",
           "sqdist_on_buckets"]

BUCKETS_PER_OCTAVE = 8


def bucket_size(n: int) -> int:
    """The smallest bucket >= n: n itself up to 16, else `m * 2**e`, 8 <= m <= 15.

    Args:
      n: a number of rows, >= 0.

    Returns:
      An int in [n, n * 9/8] (n + n/8 at most, rounded down).
    """
    n = int(n)
    if n <= 2 * BUCKETS_PER_OCTAVE:
        return n
    step = 1 << (n.bit_length() - 4)  # 2**e with n in [8 * 2**e, 16 * 2**e)
    return -(-n // step) * step


def bucket_count(lo: int, hi: int) -> int:
    """How many distinct buckets the sizes lo..hi (inclusive) fall into."""
    return len({bucket_size(n) for n in range(int(lo), int(hi) + 1)})


def pad_rows(A: np.ndarray, rows: int) -> np.ndarray:
    """A with copies of its last row appended up to `rows` rows; A itself if none are needed.

    Args:
      A: shape (N, ...), N >= 1 if any rows are added.
      rows: the row count wanted, >= N.

    Returns:
      shape (rows, ...), dtype of A; the first N rows are A's.
    """
    extra = rows - A.shape[0]
    if extra <= 0:
        return A
    return np.concatenate([A, np.repeat(A[-1:], extra, axis=0)])


def on_buckets(fn: Callable[..., Any], X: np.ndarray, Y: np.ndarray | None, *rest: Any
               ) -> np.ndarray:
    """`fn(X, Y, *rest)` computed on rows padded to their buckets, sliced back to (N, M).

    Args:
      fn: returns an (N', M') array whose entry (i, j) depends only on row i of
        its first argument and row j of its second (or of the first, for Y None).
      X: shape (N, D), NumPy. Y: shape (M, D) or None (then M = N, and only X is
        padded, so `fn` still sees Y None: its diagonal rules still apply).
      rest: passed on unchanged (e.g. gamma as a 0-d array).

    Returns:
      A NumPy array of shape (N, M), C-ordered when padded: exactly the entries
      `fn` gives on the padded rows.
    """
    n = X.shape[0]
    m = n if Y is None else Y.shape[0]
    if n == 0 or m == 0:
        return np.asarray(fn(X, Y, *rest))
    Xp = pad_rows(np.asarray(X), bucket_size(n))
    Yp = None if Y is None else pad_rows(np.asarray(Y), bucket_size(m))
    out = np.asarray(fn(Xp, Yp, *rest))
    # A C-ordered copy when padded: no view that holds the padded buffer alive.
    return out if out.shape == (n, m) else np.ascontiguousarray(out[:n, :m])


def sqdist_on_buckets(X: np.ndarray, Y: np.ndarray | None, form: str) -> np.ndarray:
    """`pairwise_sqeuclidean_jax` on rows padded to their buckets, shape (N, M), dtype of X.

    Args:
      X: shape (N, D), float32 or float64 (NumPy). Y: shape (M, D) or None (K(X, X):
        an exactly zero diagonal).
      form: "vmap", "broadcast", "einsum", "dot", or "centered": the dot form after
        `shared_shift`, computed from the real rows only, before any padding.
    """
    if form == "centered":
        X, Yc = shared_shift(X, Y)
        Y, form = (None if Y is None else Yc), "dot"
    with dtype_scope(X.dtype):
        return on_buckets(_sqdist, X, Y, form)


def _sqdist(X, Y, form):
    return pairwise_sqeuclidean_jax(X, X if Y is None else Y, method=form, same=Y is None)
