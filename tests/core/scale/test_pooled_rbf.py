"""Tests of `core.scale.pooling.pooled_rbf_from_sqdist`: the block means the Gram
explorer sends per release, streamed from the distances without building K.

Reference: NumPy in float64, exp(-gamma * S) averaged over each block one by one.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from core.scale.pooling import pool_mean, pooled_rbf_from_sqdist

# No JAX code runs here (core.scale.pooling is NumPy):
# x64 mode cannot change it (tests/conftest.py).
pytestmark = pytest.mark.numpy_only


def _reference(S, gamma, f):
    K = np.exp(-gamma * S.astype(np.float64))
    n, m = S.shape
    return np.array([[K[r:r + f, c:c + f].mean() for c in range(0, m, f)] for r in range(0, n, f)])


# float32: S·gamma and exp each round once (relative 2⁻²⁴, so |k·x|·2⁻²⁴ ≤ 2⁻²⁴/e
# and k·2⁻²⁴), the f-row sums in float32 add f·2⁻²⁴ relative; 2e-6 leaves room.
TOL = {np.float32: 2e-6, np.float64: 1e-12}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, m, max_side", [(37, 37, 5), (50, 23, 7), (64, 64, 8), (1000, 1000, 448)])
def test_pooled_rbf_equals_numpy_block_means_of_exp(n, m, max_side, dtype, rng):
    # 37 and 23 are not multiples of the factor: the last blocks are smaller.
    # 1000 rows at the app's display side: factor 3, several chunks of blocks.
    X, Y = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
    S = cdist(X, Y, "sqeuclidean").astype(dtype)
    before = S.copy()
    gamma = 0.7
    pooled, factor = pooled_rbf_from_sqdist(S, gamma, max_side)
    assert factor == -(-max(n, m) // max_side)
    assert pooled.dtype == dtype and pooled.shape == (-(-n // factor), -(-m // factor))
    np.testing.assert_allclose(pooled, _reference(S, gamma, factor), rtol=0, atol=TOL[dtype])
    np.testing.assert_array_equal(S, before)  # the shared distances are not written


def test_pooled_rbf_matches_pool_mean_of_K_and_small_matrices_pass_through(rng):
    S = cdist(*rng.standard_normal((2, 600, 2)), "sqeuclidean").astype(np.float32)
    K = np.exp(-2.0 * S.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(pooled_rbf_from_sqdist(S, 2.0)[0], pool_mean(K)[0], rtol=0, atol=2e-6)
    small, factor = pooled_rbf_from_sqdist(S[:40, :40], 2.0)
    assert factor == 1
    np.testing.assert_allclose(small, K[:40, :40], rtol=0, atol=2e-6)


def test_pooled_rbf_refuses_a_vector():
    with pytest.raises(ValueError, match="needs a matrix"):
        pooled_rbf_from_sqdist(np.zeros(5), 1.0)
