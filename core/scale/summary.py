"""Per-cell Gauss rules of a distance matrix, so a pooled heatmap can follow gamma.

A pooled heatmap cell shows the mean of k over an f × f block of pairs. For a
kernel k = profile(gamma, s) of a distance s, that mean is not profile of the
mean distance (mean(exp) ≠ exp(mean)). The browser gets, per cell, a 4-point
rule (nodes x_i, weights w_i) standing for the block's off-diagonal values of s,
and previews the cell as Σ w_i profile(gamma, x_i), the diagonal counted exactly.

Why one measured error serves every live kernel: each live profile
(RBF and Laplacian exp(-gamma s), Matérn 3/2 and 5/2, rational quadratic, all
with s = d² except the Laplacian's L1 distance) is completely monotone in s with
profile(0) = 1, so by Bernstein's theorem it is a mixture of exp(-t s) over t
with weights summing to 1. A cell's error is then the same mixture of the rule's
errors for exp(-t s); it is at most the largest of those over t. `cell_summary`
measures that largest error per cell, at 27 values of t doubling from 0.1 / max(s)
(almost 8 decades), for the rule exactly as sent (float16).

How the rule is built: the Gauss rule of the block's distribution of u = s^(1/6)
(4 nodes match its first 8 moments; in u the exponentials of every t have much
the same shape, which a rule in s itself lacks), then its weights refitted to the
block's exact mean of exp(-t s) on that grid (least squares, then a few Lawson
steps towards the smallest largest error), kept only where that lowers the
largest error. Against 6 quantiles a cell (`core.scale.quantile_summary`) this
divides the worst cell's error by 3 for the same bytes plus one number.
`benchmarks/live_gamma.py` (d) measures the error against the exact pooled K.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from core.scale.pooling import pool_edges, pool_factor

__all__ = ["CellSummary", "NODES_PER_CELL", "NUMBERS_PER_CELL", "block_gauss_rules",
           "cell_summary", "decode_rules", "encode_rules", "pooled_side", "preview_from_rules"]

# 4 nodes and 3 weights a cell (the 4th weight is 1 minus the others), float16, for
# the upper triangle of cells only: 445·446/2 cells · 7 · 2 bytes = 1.39 MB at any N
# above the display side.
NODES_PER_CELL = 4
NUMBERS_PER_CELL = 2 * NODES_PER_CELL - 1
# The Gauss rule is built in u = s^POWER: of 1/2 … 1/12 and log s, the one with the least
# preview error (benchmarks/live_gamma.py).
POWER = 1 / 6
# The grid of t on which errors are measured and weights refitted: t doubles from
# 0.1 / max(s), 27 values up to 6.7e6 / max(s) (each exp(-t s) the square of the last).
GRID_SIZE, GRID_START = 27, 0.1
LAWSON_STEPS = 3
_BREAKDOWN = 1e-9  # a Lanczos step this small: the block has fewer distinct values than nodes
_CHUNK_ENTRIES = 1 << 21  # block values handled at a time (16 MB of float64)


@dataclasses.dataclass(frozen=True)
class CellSummary:
    """What the browser receives for a pooled heatmap, and the error it implies.

    Attributes:
      codes: (S, S, NUMBERS_PER_CELL) float16, `encode_rules` of each cell's rule.
      scale: the float32 that nodes are divided by before rounding (the largest s).
      grid: (T,) float64, the values of t where errors were measured.
      grid_error: (S, S) float64, each cell's largest |preview − exact mean| of
        exp(-t s) over the grid, for the rule as decoded from `codes`.
    """

    codes: np.ndarray
    scale: float
    grid: np.ndarray
    grid_error: np.ndarray


def _block_values(D: np.ndarray, factor: int, b0: int, b1: int) -> np.ndarray:
    """Off-diagonal values of blocks (b0:b1, b0:S): (b1 - b0, S - b0, f²) float64, NaN where none.

    Columns of blocks start at b0: the upper triangle of cells (and a few below the
    diagonal) is all a symmetric matrix needs.
    """
    n = D.shape[0]
    side = len(pool_edges(n, factor))
    r0, r1, c0 = b0 * factor, min(n, b1 * factor), b0 * factor
    P = np.full(((b1 - b0) * factor, (side - b0) * factor), np.nan)
    P[: r1 - r0, : n - c0] = D[r0:r1, c0:]
    # The diagonal (k(x, x) = 1 exactly) is an atom of the diagonal blocks that the
    # preview counts apart, so it is left out of the distribution here.
    i = np.arange(r0, r1)
    P[i - r0, i - c0] = np.nan
    return P.reshape(b1 - b0, factor, side - b0, factor).transpose(0, 2, 1, 3).reshape(b1 - b0, side - b0, -1)


def _gauss_rule(V: np.ndarray, nodes: int, power: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss rule of the values of V along its last axis (NaN: absent), in u = s^power.

    Lanczos on the discrete distribution (the Stieltjes procedure, orthonormal),
    u scaled to [0, 1] per cell, in float64: the Jacobi
    matrix's eigenvalues are the nodes, the squared first components the weights.
    Returns nodes (..., nodes) in s, ascending, and weights (..., nodes) summing to 1
    (to 0 for a cell with no values). A cell with fewer distinct values than nodes
    gets its values as nodes and zero weight on the rest.
    """
    mask = np.isfinite(V)
    count = mask.sum(-1)
    inv = 1.0 / np.maximum(count, 1)  # each present value's weight in its cell
    U = np.where(mask, V, 0.0)
    np.maximum(U, 0.0, out=U)
    U = np.cbrt(np.sqrt(U)) if power == 1 / 6 else U ** power  # cbrt(sqrt): faster than ** (1/6)
    lo = np.where(mask, U, np.inf).min(-1)
    hi = np.where(mask, U, -np.inf).max(-1)
    lo = np.where(count > 0, lo, 0.0)
    width = np.where(count > 0, np.maximum(hi - lo, 0.0), 0.0)
    width = np.where(width > 0, width, 1.0)
    x = np.where(mask, (U - lo[..., None]) / width[..., None], 0.0)
    a = np.zeros(V.shape[:-1] + (nodes,))
    b = np.zeros(V.shape[:-1] + (nodes,))
    # The Stieltjes procedure in orthonormal form (Lanczos): q_j is the degree-j
    # orthonormal polynomial of the cell's distribution at its values. q and r
    # vanish where a value is absent, so sums over the last axis times `inv` are
    # the cell's means. At 4 nodes the three-term recurrence keeps q orthogonal to
    # round-off in float64; a cell with only j distinct values ends with β_j ≈ 0.
    q_prev, q = np.zeros_like(x), mask.astype(np.float64)
    for j in range(nodes):
        a[..., j] = (x * q * q).sum(-1) * inv
        if j == nodes - 1:
            break  # β_n is not part of the n-node rule
        r = (x - a[..., j, None]) * q
        if j:
            r -= b[..., j - 1, None] * q_prev
        beta = np.sqrt((r * r).sum(-1) * inv)
        ok = beta > _BREAKDOWN
        b[..., j] = np.where(ok, beta, 0.0)
        q_prev, q = q, r * np.where(ok, 1.0 / np.where(ok, beta, 1.0), 0.0)[..., None]
    J = np.zeros(V.shape[:-1] + (nodes, nodes))
    k = np.arange(nodes)
    J[..., k, k] = a
    J[..., k[:-1], k[1:]] = J[..., k[1:], k[:-1]] = b[..., :-1]
    lam, vec = np.linalg.eigh(J)
    weights = np.where(count[..., None] > 0, vec[..., 0, :] ** 2, 0.0)
    x_nodes = (lo[..., None] + width[..., None] * np.clip(lam, 0.0, 1.0)) ** (1 / power)
    return x_nodes, weights


def block_gauss_rules(D: np.ndarray, factor: int, nodes: int = NODES_PER_CELL,
                      power: float = POWER) -> tuple[np.ndarray, np.ndarray]:
    """The Gauss rule of each f × f block's off-diagonal values, in u = s^power.

    Args:
      D: shape (N, N), distances (s ≥ 0, any float dtype); blocks start at
        `pool_edges(N, factor)` (the last row and column may be smaller), exactly the
        blocks that `pool_mean` averages.
      factor: block side f ≥ 1.
      nodes: nodes per rule, n.
      power: the rule integrates exactly every polynomial of degree < 2n in s^power.

    Returns:
      (nodes, weights), each (S, S, n) float64, S = ceil(N / f): nodes in s,
      ascending, within each block's range; weights ≥ 0 summing to 1 (0 for a block
      with no off-diagonal values, as the 1 × 1 diagonal block of a last row).
    """
    D = _square(D)
    side = len(pool_edges(D.shape[0], factor))
    x = np.zeros((side, side, nodes))
    w = np.zeros((side, side, nodes))
    for b0, b1 in _chunks(side, factor):
        x[b0:b1, b0:], w[b0:b1, b0:] = _gauss_rule(_block_values(D, factor, b0, b1), nodes, power)
    return _mirror(x), _mirror(w)


def encode_rules(nodes: np.ndarray, weights: np.ndarray, scale: float) -> np.ndarray:
    """Rules as sent: (..., 2n - 1) float16 [x_1 … x_n / scale, w_1 … w_(n-1)].

    float16 of x / scale has relative error ≤ 2⁻¹¹ (x ≥ 6e-5·scale) and never
    overflows; the last weight is not sent but taken as 1 minus the others, so the
    weights the browser uses sum to 1 exactly.
    """
    n = nodes.shape[-1]
    return np.concatenate([nodes / np.float32(scale), weights[..., : n - 1]], axis=-1).astype(np.float16)


def decode_rules(codes: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """What the browser computes from `encode_rules`'s codes (live_heatmap.js parseDistances).

    Returns nodes (..., n) float32 (float16 value times the float32 scale, rounded to
    float32) and weights (..., n) float64, the last 1 minus the sum of the others.
    """
    n = (codes.shape[-1] + 1) // 2
    nodes = codes[..., :n].astype(np.float32) * np.float32(scale)
    w = codes[..., n:].astype(np.float64)
    return nodes, np.concatenate([w, 1.0 - w.sum(-1, keepdims=True)], axis=-1)


def cell_summary(D: np.ndarray, factor: int) -> CellSummary:
    """The rules the live heatmap sends for the (N, N) distances D, and their error.

    Per chunk of block rows: the Gauss rule (`block_gauss_rules`), then weights
    refitted to each block's exact mean of exp(-t s) on the grid of t, kept where
    they lower the largest error and are all ≥ 0, then rounded as sent and the
    largest error of the rule as sent measured. float64 throughout.

    Args:
      D: (N, N) distances, s ≥ 0. factor: the block side f (`pooled_side(N)[0]`).

    Returns:
      A `CellSummary` of S × S cells, S = ceil(N / f).
    """
    D = _square(D)
    side = len(pool_edges(D.shape[0], factor))
    finite = D[np.isfinite(D)]
    scale = float(np.float32(finite.max())) if finite.size and finite.max() > 0 else 1.0
    grid = GRID_START * 2.0 ** np.arange(GRID_SIZE) / scale
    codes = np.zeros((side, side, NUMBERS_PER_CELL), np.float16)
    error = np.zeros((side, side))
    for b0, b1 in _chunks(side, factor):
        V = _block_values(D, factor, b0, b1)
        x, w = _gauss_rule(V, NODES_PER_CELL, POWER)
        # Exact mean of exp(-t s) over each block's values, for every t of the grid:
        # one exp, then squares (t doubles), in float64 (26 squarings multiply the
        # relative error by 2²⁶: 1e-8).
        present = np.isfinite(V).sum(-1)
        E = np.exp(-grid[0] * np.nan_to_num(V, nan=np.inf))
        L = np.empty(V.shape[:-1] + (grid.size,))
        for j in range(grid.size):
            if j:
                np.multiply(E, E, out=E)
            L[..., j] = E.sum(-1)
        L /= np.maximum(present, 1)[..., None]
        w = _refit_weights(x, w, grid, L)
        codes[b0:b1, b0:] = encode_rules(x, w, scale)
        xs, ws = decode_rules(codes[b0:b1, b0:], scale)
        sent = (ws[..., None, :] * np.exp(-grid[:, None] * xs[..., None, :].astype(np.float64))).sum(-1)
        error[b0:b1, b0:] = np.where(present > 0, np.abs(sent - L).max(-1), 0.0)
    return CellSummary(_mirror(codes), scale, grid, _mirror(error))


def _refit_weights(x: np.ndarray, w: np.ndarray, grid: np.ndarray, L: np.ndarray) -> np.ndarray:
    """Weights for nodes x (..., n) nearer, in the largest error over t, to L (..., T).

    Least squares of Σ w_i exp(-t x_i) against L over the grid with Σ w_i = 1, then
    Lawson's reweighting (each t's weight times its residual) towards the minimax
    weights. The Gauss weights w are kept where the result has a negative weight or
    a larger largest error.
    """
    E = np.exp(-grid[:, None] * x[..., None, :])  # (..., T, n)
    n = x.shape[-1]
    A = [E[..., i] - E[..., -1] for i in range(n - 1)]  # w_n = 1 - Σ the others
    rhs = L - E[..., -1]
    emphasis = np.ones(L.shape)
    for _ in range(LAWSON_STEPS):
        # The (n - 1) × (n - 1) normal equations, entry by entry (einsum over tiny
        # matrices is several times slower).
        M = np.empty(L.shape[:-1] + (n - 1, n - 1))
        for i in range(n - 1):
            for j in range(i + 1):
                M[..., i, j] = M[..., j, i] = (emphasis * A[i] * A[j]).sum(-1)
            M[..., i, i] += 1e-12
        v = np.stack([(emphasis * A[i] * rhs).sum(-1) for i in range(n - 1)], -1)
        head = np.linalg.solve(M, v[..., None])[..., 0]
        fitted = np.concatenate([head, 1.0 - head.sum(-1, keepdims=True)], -1)
        residual = np.abs((E * fitted[..., None, :]).sum(-1) - L)
        emphasis = emphasis * (residual + 1e-12)
        emphasis /= emphasis.sum(-1, keepdims=True)
    before = np.abs((E * w[..., None, :]).sum(-1) - L).max(-1)
    better = (residual.max(-1) < before) & np.all(fitted >= 0, axis=-1) & (w.sum(-1) > 0)
    return np.where(better[..., None], fitted, w)


def preview_from_rules(nodes: np.ndarray, weights: np.ndarray, n: int, factor: int, profile,
                       gamma: float, params=None) -> np.ndarray:
    """The pooled heatmap the browser previews from per-cell rules (live_heatmap.js).

    Each block's off-diagonal pairs are represented by its rule, Σ w_i profile(x_i);
    the diagonal pairs (k(x, x) = 1 for every distance profile) are counted exactly.

    Args:
      nodes, weights: (S, S, m) rules (`decode_rules` of what was sent) of an (N, N)
        matrix in blocks of f × f.
      n, factor: N and the block side f.
      profile: a `DistanceProfile.fn`, `fn(s, gamma, params)`.
      gamma: the kernel's gamma. params: its other parameters (alpha for the RQ).

    Returns:
      Shape (S, S) float64: the estimate of each block's mean kernel value.
    """
    side = nodes.shape[0]
    sizes = np.minimum(factor, n - np.arange(side) * factor)
    counts = np.outer(sizes, sizes).astype(np.int64)
    diag = np.diag(sizes).astype(np.int64)  # pairs (i, i) in each block
    values = profile(np.asarray(nodes, np.float64), gamma, params or {})
    mean_off = (np.asarray(weights, np.float64) * values).sum(axis=-1)
    return ((counts - diag) * mean_off + diag) / counts


def pooled_side(n: int) -> tuple[int, int]:
    """(factor, side) of the app's pooled heatmap of an N × N matrix."""
    f = pool_factor(n)
    return f, len(pool_edges(n, f))


def _square(D: np.ndarray) -> np.ndarray:
    D = np.asarray(D)
    if D.ndim != 2 or D.shape[1] != D.shape[0]:
        raise ValueError(f"A per-cell summary needs a square matrix of distances, got shape {D.shape}.")
    return D


def _chunks(side: int, factor: int) -> list[tuple[int, int]]:
    """Ranges of block rows b0:b1 with about _CHUNK_ENTRIES values in blocks (b0:b1, b0:S)."""
    out, b0 = [], 0
    while b0 < side:
        per = max(1, _CHUNK_ENTRIES // ((side - b0) * factor * factor))
        out.append((b0, min(side, b0 + per)))
        b0 += per
    return out


def _mirror(A: np.ndarray) -> np.ndarray:
    """A (S, S, ...) with each cell below the diagonal copied from its mirror above it."""
    r, c = np.tril_indices(A.shape[0], -1)
    A[r, c] = A[c, r]
    return A
