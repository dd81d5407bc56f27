"""Block quantiles: the first per-cell summary of the live heatmap, kept as a baseline.

The live heatmap now sends Gauss rules (`core.scale.summary`), whose error is a
third of this one's; `benchmarks/live_gamma.py` (d) measures both.

A pooled heatmap cell shows the mean of k over an f × f block of pairs. For a
kernel k = profile(gamma, s) of a distance s, that mean is not profile of the
mean distance (mean(exp) ≠ exp(mean)). With m quantiles of s per block, at the
probabilities (k + ½) / m, the mean of profile over the quantiles is a midpoint
rule for the block's mean over its distribution of s; because profile is
monotone in s, each of the m groups errs by at most the rise of profile across
that group, so the error of a cell is at most about 1/m (`preview_from_quantiles`
gives the exact bound). `tests/core/scale/test_quantile_summary.py` checks the bound and
`benchmarks/live_gamma.py` measures the error against the exact pooled K.
"""

from __future__ import annotations

import numpy as np

from core.scale.pooling import pool_edges

__all__ = ["block_quantiles", "preview_from_quantiles", "quantile_weights", "QUANTILES_PER_CELL"]

# 6 quantiles a cell, sent as float16 for the upper triangle of cells only:
# 445·446/2 cells · 6 · 2 bytes = 1.19 MB at any N above the display side.
QUANTILES_PER_CELL = 6


def block_quantiles(D: np.ndarray, factor: int, m: int = QUANTILES_PER_CELL) -> np.ndarray:
    """Quantiles of each f × f block of a square matrix D, at probabilities (k + ½) / m.

    Args:
      D: shape (N, N), distances (any float dtype); blocks start at
        `pool_edges(N, factor)` (the last row and column of blocks may be smaller),
        exactly the blocks that `pool_mean` averages.
      factor: block side f ≥ 1 (`pool_factor(N)` for the app's heatmaps).
      m: quantiles per block.

    Returns:
      Shape (S, S, m) float32, S = ceil(N / f), non-decreasing along the last axis:
      quantiles of each block's off-diagonal values (pairs i ≠ j); quantile k of c
      values is their sorted value at index floor((k + ½) · c / m), always one of
      the block's values. A 1 × 1 diagonal block (f = 1) has none: NaN.
    """
    D = np.asarray(D)
    n = D.shape[0]
    if D.ndim != 2 or D.shape[1] != n:
        raise ValueError(f"block_quantiles needs a square matrix, got shape {D.shape}.")
    side = len(pool_edges(n, factor))
    padded_n = side * factor
    # NaN padding sorts last, so each block's real values come first in its row.
    P = np.full((padded_n, padded_n), np.nan, dtype=np.float32)
    P[:n, :n] = D
    # The diagonal (a point with itself, k = 1 exactly) is an atom of f of the f²
    # values of a diagonal block: quantiles would smear it, so it is left out here
    # and added back exactly by `preview_from_quantiles`.
    P[np.arange(n), np.arange(n)] = np.nan
    blocks = P.reshape(side, factor, side, factor).transpose(0, 2, 1, 3).reshape(side, side, -1)
    del P
    blocks.sort(axis=-1)
    sizes = np.minimum(factor, n - np.arange(side) * factor)
    counts = np.outer(sizes, sizes) - np.diag(sizes)  # off-diagonal values in each block
    probs = (np.arange(m) + 0.5) / m
    idx = np.floor(probs[None, None, :] * counts[:, :, None]).astype(np.int64)
    return np.take_along_axis(blocks, idx, axis=-1).astype(np.float32)


def quantile_weights(count: np.ndarray, m: int) -> np.ndarray:
    """The share of a block's c values that quantile k stands for: its group's size / c.

    Group k holds the sorted values with index in [floor(k c / m), floor((k + 1) c / m)),
    and quantile k is one of them. Args: count (...,) int; returns (..., m) float64.
    """
    c = np.asarray(count, np.int64)[..., None]
    k = np.arange(m + 1)
    edges = (k * c) // m
    return np.diff(edges, axis=-1) / np.maximum(c, 1)


def preview_from_quantiles(Q: np.ndarray, n: int, factor: int, profile, gamma: float,
                           params=None) -> np.ndarray:
    """The pooled heatmap the browser previews from block quantiles (live_heatmap.js).

    Each group of a block's sorted off-diagonal values is represented by its
    quantile; the diagonal pairs (k(x, x) = 1 for every distance profile) are
    counted exactly. Because the profile is monotone in s, a group's mean and its
    quantile's value both lie between the profile at the group's ends, so the
    error of a cell is at most max_k w_k ≤ ceil(c / m) / c (c off-diagonal values).

    Args:
      Q: (S, S, m) block quantiles from `block_quantiles` of an (N, N) matrix.
      n, factor: N and the block side f given to `block_quantiles`.
      profile: a `DistanceProfile.fn`, `fn(s, gamma, params)`.
      gamma: the kernel's gamma.
      params: the kernel's other parameters (alpha for the rational quadratic).

    Returns:
      Shape (S, S) float64: the estimate of each block's mean kernel value.
    """
    side, m = Q.shape[0], Q.shape[-1]
    sizes = np.minimum(factor, n - np.arange(side) * factor)
    counts = np.outer(sizes, sizes).astype(np.int64)
    diag = np.diag(sizes).astype(np.int64)  # pairs (i, i) in each block
    off = counts - diag
    values = np.nan_to_num(profile(np.asarray(Q, np.float64), gamma, params or {}))
    mean_off = (values * quantile_weights(off, m)).sum(axis=-1)
    return (off * mean_off + diag) / counts
