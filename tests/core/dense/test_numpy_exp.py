"""Tests of `core.dense.fast.rbf_gram_numpy_exp` and its registry entry "jit_numpy_exp":
the centered expansion's exponents from XLA, exponentiated by NumPy.

The references are SciPy's cdist and scikit-learn's rbf_kernel in float64 on
exactly the values given (the rounding of the inputs to float32 is shared by every
method, so it is not this one's error). Tolerances: `rbf_error_bound(shifted=True)`
(tests/core/bounds.py), the error analysis of the centered expansion; NumPy's exp
is within the same 2 ulps as XLA's that the bound allows for.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics.pairwise import rbf_kernel as sk_rbf

from core.dense import METHODS, rbf_from_sqdist, sqdist_for
from core.dense.buckets import bucket_size
from core.dense.fast import THREADED_MIN_ENTRIES, rbf_gram_numpy_exp
from core.kernels.functions import median_heuristic_gamma
from tests.core.bounds import rbf_error_bound
from tests.core.dense.test_fast_gram import _data, _reference  # SciPy's cdist in float64

ENTRY = METHODS["jit_numpy_exp"]


# Sizes: one row; a bucket's exact size and one that is padded (the padding must
# not show); more rows than columns and fewer.
SHAPES = [(1, 1), (7, 5), (bucket_size(300), 170), (300, 700), (1001, 33)]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("d", [1, 3, 40])
@pytest.mark.parametrize("n, m", SHAPES)
def test_matches_scipy_cdist_in_float64(n, m, d, workers, dtype, rng):
    X, Y = _data(rng, n, d, dtype), _data(rng, m, d, dtype, 0.3)
    gamma = np.asarray(1.0 / (2 * d), dtype)
    for other in (None, Y):
        K = rbf_gram_numpy_exp(X, other, gamma, workers=workers)
        assert type(K) is np.ndarray and K.dtype == np.dtype(dtype) and K.flags.c_contiguous
        assert K.shape == (n, n if other is None else m)
        bound = rbf_error_bound(X, other, float(gamma), dtype, shifted=True)
        np.testing.assert_allclose(K, _reference(X, other, float(gamma)), rtol=0, atol=bound)


def test_registry_entry_matches_sklearn_with_the_median_heuristic(dtype, rng):
    # 1000 x 1000: the benchmark's size, where the exp is split over threads.
    X = _data(rng, 1000, 2, dtype)
    assert X.shape[0] ** 2 >= THREADED_MIN_ENTRIES
    gamma = median_heuristic_gamma(X)
    K = ENTRY.compute(X, None, gamma)
    np.testing.assert_allclose(K, sk_rbf(X.astype(np.float64), gamma=gamma), rtol=0,
                               atol=rbf_error_bound(X, None, gamma, dtype, shifted=True))


@pytest.mark.parametrize("d", [2, 16, 128])
def test_float32_far_from_origin_is_accurate(d, rng):
    X = _data(rng, 600, d, "float32", offset=1e4)
    gamma = np.float32(median_heuristic_gamma(X))
    Y = X[::3] + np.float32(0.25)
    for other in (None, Y):
        K = rbf_gram_numpy_exp(X, other, gamma)
        err = np.max(np.abs(K - _reference(X, other, float(gamma))))
        assert err <= rbf_error_bound(X, other, float(gamma), "float32", shifted=True)
        assert err < 2e-6  # the benchmark's float32 accuracy target


def test_k_of_x_with_itself_has_ones_on_the_diagonal_and_never_exceeds_one(dtype, rng):
    X = _data(rng, 520, 2, dtype, offset=5.0)
    X[300:310] = X[0]  # duplicates: their exponent would round to a hair above 0
    K = ENTRY.compute(X, None, 0.7)
    assert np.all(np.diag(K) == 1)
    assert K.max() == 1 and K.min() >= 0


def test_empty_inputs(dtype):
    X = np.zeros((0, 3), dtype)
    assert rbf_gram_numpy_exp(X, None, 1.0).shape == (0, 0)
    assert rbf_gram_numpy_exp(np.ones((2, 3), dtype), X, 1.0).shape == (2, 0)


def test_declared_like_the_other_centered_entries():
    assert ENTRY.accurate_far_from_origin and not ENTRY.peer and ENTRY.zero_diagonal
    assert ENTRY.distance_method == "centered"
    for fn in ("gram_jit_numpy_exp", "rbf_gram_numpy_exp", "centered_exponent"):
        assert f"def {fn}(" in ENTRY.source


@pytest.mark.parametrize("d", [2, 40])
def test_reuses_its_distances_on_a_new_gamma(d, rng):
    # What the Gram explorer does on a gamma change: exp of the cached distances.
    X, Y = _data(rng, 300, d, "float32"), _data(rng, 200, d, "float32", 0.5)
    for other in (None, Y):
        d2 = sqdist_for("jit_numpy_exp", X, other)
        for gamma in (0.1, 2.0):
            np.testing.assert_allclose(rbf_from_sqdist(d2, gamma), ENTRY.compute(X, other, gamma),
                                       rtol=0, atol=2e-6)
