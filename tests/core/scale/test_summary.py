"""Tests of `core.scale.summary`: per-cell Gauss rules and the pooled preview built from them.

References: NumPy's Gauss–Legendre rule (`leggauss`) for a uniform distribution,
NumPy's float64 means of each block taken one by one, and `pool_mean` of the exact
K (what the page shows after release).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.polynomial.legendre import leggauss
from scipy.spatial.distance import cdist

from core.data import load_dataset
from core.kernels.functions import median_heuristic_gamma
from core.kernels.profiles import DISTANCE_PROFILES
from core.scale.pooling import pool_factor, pool_mean
from core.scale.quantile_summary import block_quantiles, preview_from_quantiles
from core.scale.summary import (NUMBERS_PER_CELL, block_gauss_rules, cell_summary, decode_rules,

                                encode_rules, preview_from_rules)

# No JAX code runs here (core.scale.summary, quantile_summary and pooling, core.kernels.profiles
# and median_heuristic_gamma are NumPy/SciPy): x64 mode cannot change it (tests/conftest.py).
pytestmark = pytest.mark.numpy_only

ALPHA = {"alpha": 0.7}


def _one_block(values: np.ndarray) -> np.ndarray:
    """An M × M matrix whose off-diagonal entries are `values` (M² − M of them), shuffled."""
    m = int(round((1 + np.sqrt(1 + 4 * values.size)) / 2))
    assert m * m - m == values.size
    D = np.zeros((m, m))
    D[~np.eye(m, dtype=bool)] = np.random.default_rng(1).permutation(values)
    return D


@pytest.mark.parametrize("power", [1.0, 1 / 6])
def test_rule_of_a_uniform_distribution_is_gauss_legendre(power):
    # u = s^power evenly spread over [0, 1] (midpoints of 39,800 equal bins): its
    # 4-node Gauss rule is Gauss–Legendre moved to [0, 1], to the grid's O(h²) ≈ 1e-9.
    u = (np.arange(200 * 199) + 0.5) / (200 * 199)
    x, w = block_gauss_rules(_one_block(u ** (1 / power)), 200, nodes=4, power=power)
    t, v = leggauss(4)
    np.testing.assert_allclose(x[0, 0] ** power, (t + 1) / 2, atol=1e-7)
    np.testing.assert_allclose(w[0, 0], v / 2, atol=1e-7)


def test_rule_matches_each_blocks_first_eight_moments_of_u(rng):
    # The Gauss rule of n = 4 nodes in u = s^(1/6) integrates u⁰ … u⁷ exactly: compare
    # with each block's own mean, block by block, in float64.
    n, f = 47, 6  # the last row and column of blocks have 5 points
    X = rng.normal(size=(n, 3))
    D = cdist(X, X, "sqeuclidean")
    x, w = block_gauss_rules(D, f)
    assert x.shape == w.shape == (8, 8, 4)
    for r in range(8):
        for c in range(8):
            rows, cols = np.arange(r * f, min(n, r * f + f)), np.arange(c * f, min(n, c * f + f))
            ii, jj = np.meshgrid(rows, cols, indexing="ij")
            u = D[ii, jj][ii != jj] ** (1 / 6)
            for k in range(8):
                np.testing.assert_allclose(np.sum(w[r, c] * x[r, c] ** (k / 6)), np.mean(u ** k),
                                           rtol=1e-9, err_msg=(r, c, k))
            assert np.all(np.diff(x[r, c]) >= 0) and u.min() ** 6 <= x[r, c, 0] + 1e-12
            assert x[r, c, -1] <= u.max() ** 6 * (1 + 1e-12)


def test_a_block_with_fewer_values_than_nodes_gets_them_exactly():
    # Two distinct values (1 and 2): the rule puts all weight on them.
    D = np.where(np.random.default_rng(0).random((30, 30)) < 0.3, 1.0, 2.0)
    D = np.triu(D, 1) + np.triu(D, 1).T
    x, w = block_gauss_rules(D, 30)
    off = D[~np.eye(30, dtype=bool)]
    kept = w[0, 0] > 1e-12
    np.testing.assert_allclose(np.sort(x[0, 0][kept]), [1.0, 2.0], rtol=1e-9)
    np.testing.assert_allclose(w[0, 0][kept][np.argsort(x[0, 0][kept])],
                               [np.mean(off == 1), np.mean(off == 2)], rtol=1e-9)


@pytest.mark.parametrize("way", ["rules", "quantiles"])
@pytest.mark.parametrize("kernel", sorted(DISTANCE_PROFILES))
def test_preview_is_exact_when_blocks_hold_at_most_four_values(kernel, way, rng):
    # f = 2: a diagonal block has 2 off-diagonal values, an off-diagonal block 4; a
    # 4-node Gauss rule of at most 4 values is those values, and with m = 4 quantiles
    # (the baseline) every value is its own group, so either preview is exact.
    n = 10
    X = rng.normal(size=(n, 2))
    D = cdist(X, X, "sqeuclidean" if DISTANCE_PROFILES[kernel].distance == "sqeuclidean" else "cityblock")
    fn = DISTANCE_PROFILES[kernel].fn
    exact = pool_mean(fn(D, 0.8, ALPHA), max_side=5)[0]
    if way == "rules":
        x, w = block_gauss_rules(D, 2)
        np.testing.assert_allclose(preview_from_rules(x, w, n, 2, fn, 0.8, ALPHA), exact, atol=1e-9)
    else:
        np.testing.assert_allclose(preview_from_quantiles(block_quantiles(D, 2, 4), n, 2, fn, 0.8, ALPHA),
                                   exact, atol=1e-6)


def test_rules_as_sent_have_weights_summing_to_one_and_float16_nodes(rng):
    X = rng.normal(size=(900, 2)).astype(np.float32)
    D = cdist(X, X, "sqeuclidean").astype(np.float32)
    s = cell_summary(D, 3)
    assert s.codes.shape == (300, 300, NUMBERS_PER_CELL) and s.codes.dtype == np.float16
    x, w = decode_rules(s.codes, s.scale)
    assert np.all(w.sum(-1) == 1.0)
    assert np.all(w >= -2.0**-11)  # float16 of weights ≥ 0; the last one takes their rounding
    gauss_x, _ = block_gauss_rules(D, 3)
    # Nodes are the Gauss nodes, rounded to float16 relative to the largest s.
    np.testing.assert_allclose(x, gauss_x, rtol=2.0**-11, atol=s.scale * 2.0**-25)
    np.testing.assert_array_equal(encode_rules(x.astype(np.float64), w, s.scale)[..., :4], s.codes[..., :4])


def test_grid_error_is_the_largest_error_of_the_sent_rule_at_each_grid_gamma(rng):
    # The page's stated error, recomputed from NumPy's exact pooled K at every t of
    # the grid and the rules exactly as the browser decodes them.
    n = 900
    centres = rng.normal(scale=3.0, size=(3, 2))
    X = (centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 2))).astype(np.float32)
    D = cdist(X, X, "sqeuclidean").astype(np.float32)
    s = cell_summary(D, 3)
    x, w = decode_rules(s.codes, s.scale)
    worst = np.zeros((300, 300))
    for t in s.grid:
        exact = pool_mean(np.exp(-t * D.astype(np.float64)), max_side=300)[0]
        err = np.abs(preview_from_rules(x, w, n, 3, DISTANCE_PROFILES["rbf"].fn, t) - exact)
        worst = np.maximum(worst, err)
    # Both sides sum the same exponentials in a different order (float64 round-off);
    # a diagonal cell's error is scaled by its share of off-diagonal pairs (6 of 9).
    sizes = np.full(300, 3)
    share = (np.outer(sizes, sizes) - np.diag(sizes)) / np.outer(sizes, sizes)
    np.testing.assert_allclose(worst, s.grid_error * share, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("n", [4000, 8000])
def test_preview_error_meets_the_aim_on_the_default_data_at_large_n(n):
    # The app's default data (blobs, seed 0, ordered by label) over gamma from 1/100
    # to 1000 times the median heuristic: every cell within 0.02 of the exact pooled
    # K (the aim; benchmarks/live_gamma.py measures 0.018 at worst).
    X, y = load_dataset("blobs", n=n, seed=0)
    Xo = X[np.argsort(y, kind="stable")]
    # cdist of the ordered rows: the same entries as cdist(X, X)[np.ix_(order, order)]
    # (each from its own pair of rows), without a second N x N copy.
    D = cdist(Xo, Xo, "sqeuclidean").astype(np.float32)
    f = pool_factor(n)
    s = cell_summary(D, f)
    x, w = decode_rules(s.codes, s.scale)
    g0 = median_heuristic_gamma(X)
    # The exact K, exp(-gamma * D) in float64, in one reused N x N buffer (at N = 8,000
    # a new 512 MB array per gamma cost more than the exponentials).
    D64 = D.astype(np.float64)
    K = np.empty_like(D64)
    for gamma in g0 * np.logspace(-2, 3, 11):
        exact = pool_mean(np.exp(np.multiply(D64, -gamma, out=K), out=K))[0]
        err = np.abs(preview_from_rules(x, w, n, f, DISTANCE_PROFILES["rbf"].fn, gamma) - exact)
        assert err.max() <= 0.02, (gamma / g0, err.max())
