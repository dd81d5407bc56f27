"""Average pooling of a matrix for display: at most `max_side` cells a side.

A browser cannot draw 8000 × 8000 cells usefully, and sending them costs
hundreds of megabytes. Each displayed cell is the exact mean of its block.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MAX_POOLED_SIDE", "pool_factor", "pool_edges", "pool_mean"]

# The most cells a side of any heatmap the app draws, dense or from the block engine.
# 448² float32 cells are 0.8 MB, 1.07 MB in base64, and Plotly escapes every "/" of
# that base64 as "\u002f" (6 bytes): K's float32 bytes make about 1 char in 16 a
# "/", so a heatmap message stays under 1.5 MB even for a matrix of ones. 512²
# cells measured 1.7-1.8 MB.
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
