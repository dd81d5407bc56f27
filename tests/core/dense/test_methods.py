"""Tests of `core.dense.methods`: every batching method against scikit-learn's `rbf_kernel`.

RBF Gram entries lie in (0, 1], so tolerances are absolute: 1e-12 in float64,
2e-6 in float32 (a few float32 round-offs of the exponent, measured at most 1.1e-7).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.metrics.pairwise import rbf_kernel as sk_rbf
from sklearn.preprocessing import StandardScaler

from tests.core.bounds import rbf_error_bound
from core.errors import CoreError, TooLargeError
from core.kernels.functions import median_heuristic_gamma
from core.dense import METHODS, choose_auto, get_method, rbf_from_sqdist, sqdist_for

# Tolerances: tests/core/bounds.py, rbf_error_bound (from the error analysis).
NAMES = list(METHODS)


def _reference(X, Y, gamma):
    """scikit-learn's RBF in float64 on exactly the values given."""
    return sk_rbf(np.asarray(X, np.float64), None if Y is None else np.asarray(Y, np.float64), gamma=gamma)


def _check(name, X, Y, gamma, dtype):
    K = METHODS[name].compute(X, Y, gamma=gamma)
    assert type(K) is np.ndarray
    assert K.dtype == np.dtype(dtype)
    assert K.shape == (len(X), len(X) if Y is None else len(Y))
    np.testing.assert_allclose(K, _reference(X, Y, gamma), rtol=0,
                               atol=rbf_error_bound(X, Y, gamma, dtype), err_msg=name)
    return K


@pytest.fixture(scope="module")
def random_data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(60, 3)), rng.normal(size=(40, 3)) + 0.5


@pytest.mark.parametrize("name", NAMES)
def test_matches_sklearn_on_random_data(name, dtype, random_data):
    X, Y = (a.astype(dtype) for a in random_data)
    K = _check(name, X, None, 0.35, dtype)
    _check(name, X, Y, 0.35, dtype)
    _check(name, Y, X, 0.35, dtype)
    # A Gram matrix of X with itself has k(x, x) = 1 on the diagonal, to round-off.
    np.testing.assert_allclose(np.diag(K), 1.0, rtol=0, atol=rbf_error_bound(X, X, 0.35, dtype))


def _standardized(loader):
    return StandardScaler().fit_transform(loader().data)


@pytest.fixture(scope="module", params=["iris", "breast_cancer"])
def real_data(request):
    loader = {"iris": load_iris, "breast_cancer": load_breast_cancer}[request.param]
    X = _standardized(loader)
    return X, median_heuristic_gamma(X)


@pytest.mark.parametrize("name", NAMES)
def test_matches_sklearn_on_real_data(name, dtype, real_data):
    X, gamma = real_data
    X = X.astype(dtype)
    method = METHODS[name]
    if method.declines(len(X), len(X), X.shape[1], dtype):
        # Too slow at this size (python_loop above 10,000 pairs, np_vectorize on
        # breast cancer): it must say so instead of running.
        with pytest.raises(TooLargeError):
            method.compute(X, gamma=gamma)
        return
    K = _check(name, X, None, gamma, dtype)
    # The median heuristic spreads the entries over (0, 1): the median pair is exp(-1/2).
    assert np.median(K[np.triu_indices(len(X), k=1)]) == pytest.approx(np.exp(-0.5), abs=1e-3)


@pytest.mark.parametrize("name", NAMES)
def test_output_dtype_follows_input(name):
    X = np.random.default_rng(1).normal(size=(5, 2))
    assert METHODS[name].compute(X, gamma=0.5).dtype == np.float64
    assert METHODS[name].compute(X.astype(np.float32), gamma=0.5).dtype == np.float32
    assert METHODS[name].compute(X.astype(np.float32), gamma=0.5, dtype="float64").dtype == np.float64
    assert METHODS[name].compute(np.arange(6).reshape(3, 2), gamma=0.5).dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_mismatched_features_raise(name):
    with pytest.raises(ValueError, match="features"):
        METHODS[name].compute(np.ones((3, 2)), np.ones((3, 4)))


# --- refusing sizes that would hang or run out of memory ---


def test_python_loop_declines_above_max_pairs():
    method = METHODS["python_loop"]
    assert method.declines(100, 100, 3) is None  # exactly max_pairs: runs
    reason = method.declines(101, 100, 3)
    assert reason is not None
    assert "101×100" in reason and "10,000" in reason


@pytest.mark.parametrize("name", ["jit_method1", "auto", "sklearn", "numpy_expansion"])
def test_memory_budget_declines_with_the_size(name):
    reason = METHODS[name].declines(200_000, 200_000, 3)
    assert reason is not None
    assert "200,000 × 200,000" in reason and "GiB" in reason
    assert METHODS[name].declines(200, 200, 3) is None


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name, n", [("jit_method1", 200_000), ("auto", 200_000),
                                     ("numpy_expansion", 200_000), ("python_loop", 200)])
def test_compute_refuses_before_allocating(name, n):
    X = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError) as info:
            METHODS[name].compute(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # python_loop declines for its pair count, the others for the memory budget's message.
    assert (f"{n:,}×{n:,}" if name == "python_loop" else f"{n:,} × {n:,}") in str(info.value)
    # The (n, n) result would be 160 GB at n = 200,000; the refusal uses at most a
    # copy or two of X (2.4 MB).
    assert peak < 20 * 1024**2
    assert isinstance(info.value, CoreError) and isinstance(info.value, MemoryError)


# --- what the app shows ---


@pytest.mark.parametrize("name", NAMES)
def test_source_is_the_code_that_runs(name):
    method = METHODS[name]
    source = method.source
    assert "def " in source
    assert f"def {method.fn.__name__}(" in source
    for helper in method.shows:
        assert f"def {helper.__name__}(" in source
    assert method.label and method.explanation


def test_get_method():
    assert get_method("jit_method1") is METHODS["jit_method1"]
    with pytest.raises(ValueError, match="nope") as info:
        get_method("nope")
    for name in METHODS:
        assert name in str(info.value)


# --- auto and float32 far from the origin ---


@pytest.mark.parametrize("n, m", [(10, 10), (60, 40), (5_000, 5_000), (20_000, 20_000), (1, 300_000)])
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_auto_picks_an_accurate_method(n, m, dtype_name):
    name = choose_auto(n, m, 3, dtype_name)
    assert METHODS[name].accurate_far_from_origin
    assert not METHODS[name].peer
    assert METHODS["auto"].declines(n, m, 3, dtype_name) == METHODS[name].declines(n, m, 3, dtype_name)


@pytest.fixture(scope="module")
def far_from_origin():
    # float32 points with unit spread, 1e4 from the origin; reference in float64 on
    # the same float32 values.
    X = (np.random.default_rng(0).normal(size=(60, 3)) + 1e4).astype(np.float32)
    return X, _reference(X, None, 0.5)


@pytest.mark.parametrize("name", NAMES)
def test_accurate_far_from_origin_flag_is_truthful(name, far_from_origin):
    X, ref = far_from_origin
    err = np.max(np.abs(METHODS[name].compute(X, gamma=0.5) - ref))
    if METHODS[name].accurate_far_from_origin:
        # Measured at most 1e-7 for every accurate method, "auto" included.
        assert err <= 2e-6
    else:
        # Measured 1.0: entries that should be exp(-0.5 d²) come out 0 or 1.
        assert err > 0.5


# --- compiled methods and a new gamma ---


@pytest.mark.parametrize("name", [n for n, m in METHODS.items() if m.compiled])
def test_new_gamma_does_not_recompile(name, random_data):
    method = METHODS[name]
    X = random_data[0].astype(np.float32)[:17]  # a shape no other test compiles
    K1 = method.compute(X, gamma=0.2)
    size = method.jitted._cache_size()
    assert size >= 1
    K2 = method.compute(X, gamma=5.0)
    K3 = method.compute(X, gamma=3)  # an int gamma too: prepare makes it a float32 array
    assert method.jitted._cache_size() == size
    # The new gamma is really used. (1e-5: a large gamma magnifies the expansion's
    # round-off, measured 2.4e-6 on jit_expansion's diagonal at gamma = 5.)
    np.testing.assert_allclose(K2, _reference(X, None, 5.0), rtol=0, atol=1e-5)
    np.testing.assert_allclose(K3, _reference(X, None, 3.0), rtol=0, atol=1e-5)
    assert not np.allclose(K1, K2)


# --- distances reused across gammas ---


@pytest.mark.parametrize("name", NAMES)
def test_sqdist_for_reproduces_compute(name, random_data):
    X, Y = (a.astype(np.float32) for a in random_data)
    for other in (None, Y):
        d2 = sqdist_for(name, X, other)
        for gamma in (0.1, 2.0):
            np.testing.assert_allclose(rbf_from_sqdist(d2, gamma), METHODS[name].compute(X, other, gamma=gamma),
                                       rtol=0, atol=2e-6, err_msg=name)
