"""Average pooling of a matrix for display: at most `max_side` cells a side.

A browser cannot draw 8000 × 8000 cells usefully, and sending them costs
hundreds of megabytes. Each displayed cell is the exact mean of its block.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MAX_POOLED_SIDE", "pool_factor", "pool_edges", "pool_mean", "pooled_rbf_from_sqdist"]

# The most cells a side of any heatmap the app draws, dense or from the block engine.
# 448² float32 cells are 0.8 MB, 1.07 MB in base64, and Plotly escapes every "/" of
# that base64 as "\u002f" (6 bytes): K's float32 bytes make about 1 char in 16 a
# "/", so a heatmap message stays under 1.5 MB even for a matrix of ones; 512²
# cells would not.
MAX_POOLED_SIDE = 448


def pool_factor(n: int, max_side: int = MAX_POOLED_SIDE) -> int:
    """Rows (and columns) of the input per displayed cell: ceil(n / max_side)."""
    return max(1, math.ceil(n / max_side))


def pool_edges(n: int, factor: int) -> np.ndarray:
    """Start index of each block of `factor` rows: shape (ceil(n / factor),)."""
    return np.arange(0, n, factor)


def pool_mean(K: np.ndarray, max_side: int = MAX_POOLED_SIDE) -> tuple[np.ndarray, int]:
    """Block means of K, so that neither side exceeds `max_side`.

    Args:
      K: shape (N, M).
      max_side: the most cells a side of the result may have.

    Returns:
      `(pooled, factor)`: pooled of shape (ceil(N / f), ceil(M / f)) where each
      cell is the mean of the f × f block (smaller at the edges), and f the
      factor (1: K itself, unchanged).
    """
    factor = pool_factor(max(K.shape), max_side)
    if factor == 1:
        return K, 1
    rows, cols = pool_edges(K.shape[0], factor), pool_edges(K.shape[1], factor)
    # Sum in float64 so that means of millions of float32 values stay exact.
    sums = np.add.reduceat(np.add.reduceat(K, rows, axis=0, dtype=np.float64), cols, axis=1)
    counts = np.outer(np.diff(np.append(rows, K.shape[0])), np.diff(np.append(cols, K.shape[1])))
    return (sums / counts).astype(K.dtype), factor


# Entries exponentiated at a time by `pooled_rbf_from_sqdist`: 4 MB of float32, in cache.
_CHUNK_ENTRIES = 1 << 20


def pooled_rbf_from_sqdist(S: np.ndarray, gamma: float,
                           max_side: int = MAX_POOLED_SIDE) -> tuple[np.ndarray, int]:
    """Block means of exp(-gamma * S), streamed from S: `pool_mean(exp(-gamma * S))` without K.

    What the Gram explorer sends per release above the display side: K itself
    (N² entries, 64 MB at N = 4,000 in float32) is never built. Rows of S are
    exponentiated a few blocks at a time into one preallocated buffer of S's dtype,
    summed over each block's rows (in S's dtype) and then its columns (in float64),
    and divided by the block's size.

    Args:
      S: shape (N, M), squared distances (float32 or float64), not changed.
      gamma: the RBF kernel's gamma (> 0).
      max_side: the most cells a side of the result may have.

    Returns:
      `(pooled, factor)` as `pool_mean`: pooled of shape (ceil(N / f), ceil(M / f)) in
      S's dtype, each cell the mean of exp(-gamma * s) over its f × f block (smaller at
      the edges); with f = 1, exp(-gamma * S) itself.
    """
    S = np.asarray(S)
    if S.ndim != 2:
        raise ValueError(f"pooled_rbf_from_sqdist needs a matrix, got shape {S.shape}.")
    n, m = S.shape
    factor = pool_factor(max(n, m), max_side)
    neg = -np.asarray(gamma, dtype=S.dtype)
    if factor == 1:
        K = np.multiply(S, neg)
        return np.exp(K, out=K), 1
    rows, cols = pool_edges(n, factor), pool_edges(m, factor)
    col_sizes = np.diff(np.append(cols, m))
    out = np.empty((rows.size, cols.size), dtype=S.dtype)
    blocks_per_chunk = max(1, _CHUNK_ENTRIES // (factor * m))
    buf = np.empty((blocks_per_chunk * factor, m), dtype=S.dtype)
    for b0 in range(0, rows.size, blocks_per_chunk):
        b1 = min(rows.size, b0 + blocks_per_chunk)
        r0, r1 = b0 * factor, min(n, b1 * factor)
        E = buf[: (b1 - b0) * factor]
        np.multiply(S[r0:r1], neg, out=E[: r1 - r0])
        np.exp(E[: r1 - r0], out=E[: r1 - r0])
        E[r1 - r0:] = 0  # a short last block: its missing rows add nothing
        # Each block's f rows summed in S's dtype (f ≤ a few dozen terms in [0, 1]:
        # relative error ≤ f·eps), then its columns in float64.
        row_sums = E.reshape(b1 - b0, factor, m).sum(axis=1)
        sums = np.add.reduceat(row_sums, cols, axis=1, dtype=np.float64)
        row_sizes = np.minimum(factor, n - rows[b0:b1])
        out[b0:b1] = sums / np.outer(row_sizes, col_sizes)
    return out, factor
