"""Distance profiles equal the kernels' vector forms: k(x, y) = profile(gamma, s(x, y))."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import laplacian_kernel, rbf_kernel

from core.kernels.functions import KERNELS, default_params
from core.kernels.gram import gram_jit
from core.kernels.profiles import DISTANCE_PROFILES, NOT_LIVE_REASONS, pairwise_l1


@pytest.mark.parametrize("kernel", sorted(DISTANCE_PROFILES))
def test_profile_of_the_distance_is_the_kernel(kernel, rng):
    X = rng.normal(size=(40, 3)).astype(np.float32)
    params = default_params(kernel, gamma=0.3)
    K = np.asarray(gram_jit(KERNELS[kernel].fn, {k: np.float32(v) for k, v in params.items()}, X))
    prof = DISTANCE_PROFILES[kernel]
    S = cdist(X.astype(np.float64), X.astype(np.float64),
              "sqeuclidean" if prof.distance == "sqeuclidean" else "cityblock")
    # float32 kernel values in [0, 1]: a few round-offs of 6e-8 each.
    np.testing.assert_allclose(prof.fn(S, 0.3, params), K, atol=2e-6)


def test_rbf_and_laplacian_profiles_match_scikit_learn(rng):
    X = rng.normal(size=(30, 4))
    np.testing.assert_allclose(DISTANCE_PROFILES["rbf"].fn(cdist(X, X, "sqeuclidean"), 0.2, {}),
                               rbf_kernel(X, gamma=0.2), atol=1e-12)
    np.testing.assert_allclose(DISTANCE_PROFILES["laplacian"].fn(pairwise_l1(X), 0.2, {}),
                               laplacian_kernel(X, gamma=0.2), atol=1e-12)


def test_every_kernel_is_live_or_says_why_not():
    assert set(DISTANCE_PROFILES) | set(NOT_LIVE_REASONS) == set(KERNELS)
    assert not set(DISTANCE_PROFILES) & set(NOT_LIVE_REASONS)
