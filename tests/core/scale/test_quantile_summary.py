"""Tests of `core.scale.quantile_summary`: block quantiles and the pooled preview built from them.

References: NumPy's sorted values of each block taken one by one, and `pool_mean`
of the exact K (what the page shows after release).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from core.kernels.profiles import DISTANCE_PROFILES
from core.scale.pooling import pool_mean, pool_factor
from core.scale.quantile_summary import block_quantiles, preview_from_quantiles, quantile_weights

# No JAX code runs here (core.scale.quantile_summary and pooling are NumPy):
# x64 mode cannot change it (tests/conftest.py).
pytestmark = pytest.mark.numpy_only

ALPHA = {"alpha": 0.7}


def _blocks(n, f):
    return [(slice(r, min(r + f, n)), slice(c, min(c + f, n))) for r in range(0, n, f) for c in range(0, n, f)]


def test_block_quantiles_are_the_sorted_off_diagonal_values_of_each_block(rng):
    n, f, m = 37, 5, 6  # 37 is not a multiple of 5: the last row and column of blocks are smaller
    X = rng.normal(size=(n, 3))
    D = cdist(X, X, "sqeuclidean").astype(np.float32)
    Q = block_quantiles(D, f, m)
    assert Q.shape == (8, 8, m) and Q.dtype == np.float32
    for rs, cs in _blocks(n, f):
        ii, jj = np.meshgrid(np.arange(n)[rs], np.arange(n)[cs], indexing="ij")
        vals = np.sort(D[rs, cs][ii != jj])
        idx = np.floor((np.arange(m) + 0.5) / m * vals.size).astype(int)
        np.testing.assert_array_equal(Q[rs.start // f, cs.start // f], vals[idx])


def test_quantile_weights_split_every_value_once():
    w = quantile_weights(np.array([81, 72, 7, 1]), 6)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0)
    np.testing.assert_allclose(w[0] * 81, [13, 14, 13, 14, 13, 14])


# The exactness test with one value per group is in test_summary.py, beside the rules'.


@pytest.mark.slow
@pytest.mark.parametrize("n", [4000, 8000])
def test_preview_error_stays_within_its_bound_at_large_n(n, rng):
    # Clustered data (the app's "blobs" kind) over gamma from 1/100 to 1000 times the
    # median heuristic; the bound is the largest group's share, ceil(c / m) / c.
    centres = rng.normal(scale=4.0, size=(3, 2))
    X = (centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 2))).astype(np.float32)
    D = cdist(X, X, "sqeuclidean").astype(np.float32)
    f, m = pool_factor(n), 6
    Q = block_quantiles(D, f, m)
    sizes = np.minimum(f, n - np.arange(0, n, f))
    off = np.outer(sizes, sizes) - np.diag(sizes)  # off-diagonal values of each block
    bound = quantile_weights(off, m).max(axis=-1)  # each cell's own bound
    g0 = 1.0 / (2 * np.median(D))
    fn = DISTANCE_PROFILES["rbf"].fn
    # The exact K, exp(-gamma * D) in float64, in one reused N x N buffer (at N = 8,000
    # a new 512 MB array per gamma cost more than the exponentials).
    D64 = D.astype(np.float64)
    K = np.empty_like(D64)
    for gamma in g0 * np.logspace(-2, 3, 6):
        exact = pool_mean(np.exp(np.multiply(D64, -gamma, out=K), out=K))[0]
        err = np.abs(preview_from_quantiles(Q, n, f, fn, gamma) - exact)
        assert np.all(err <= bound + 1e-6), (gamma, err.max())
