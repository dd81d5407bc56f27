"""Tests of `core.dense.fast` and of the registry entries that run it, "numpy_tiled"
(NumPy + BLAS tiles), "jit_panels" (XLA row panels copied into NumPy) and
"jit_mirrored" (XLA tiles on and above the diagonal, stored twice).

The reference is SciPy's direct differences in float64 on exactly the values
given (the rounding of the inputs to float32 is shared by every method, so it is
not this one's error). RBF entries lie in (0, 1]: tolerances are absolute.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import core.dense.fast as fast_gram
from core.dense.fast import (
    panel_rows,
    rbf_gram_mirrored,
    rbf_gram_panels,
    rbf_gram_tiled,
    rbf_panel,
    rbf_tile_pairs,
)
from tests.core.bounds import rbf_error_bound
from core.kernels.functions import median_heuristic_gamma
from core.dense import METHODS, TILED_MIN_ENTRIES, choose_auto, rbf_from_sqdist, sqdist_for
from core.precision import dtype_scope
from core.bench.race import race

# Tolerances: tests/core/bounds.py, rbf_error_bound (from the error analysis).
# Sizes that cut tiles in every way: one partial tile, exact multiples of the
# tile, a ragged last tile, and more rows than columns.
SHAPES = [(1, 1), (7, 5), (256, 256), (300, 700), (700, 300), (513, 513)]


def _reference(X, Y, gamma):
    X64 = np.asarray(X, np.float64)
    Y64 = X64 if Y is None else np.asarray(Y, np.float64)
    return np.exp(-gamma * cdist(X64, Y64, "sqeuclidean"))


def _data(rng, n, d, dtype, offset=0.0):
    return (rng.normal(size=(n, d)) + offset).astype(dtype)


def _tiled(workers):
    return lambda X, Y, gamma: rbf_gram_tiled(X, Y, gamma, workers=workers)


# Each way to compute K: the tiles on one thread and on two, the panels, and the
# mirrored XLA tiles.
FORMS = {"tiled_1": _tiled(1), "tiled_2": _tiled(2), "panels": rbf_gram_panels,
         "mirrored": rbf_gram_mirrored}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("d", [1, 3, 40])  # 40 >= MIRROR_MIN_FEATURES: the mirrored path
@pytest.mark.parametrize("n, m", SHAPES)
def test_matches_float64_reference(n, m, d, form, dtype, rng):
    X, Y = _data(rng, n, d, dtype), _data(rng, m, d, dtype, 0.3)
    gamma = np.asarray(1.0 / (2 * d), dtype)
    for other in (None, Y):
        K = FORMS[form](X, other, gamma)
        assert type(K) is np.ndarray and K.dtype == np.dtype(dtype)
        assert K.shape == (n, n if other is None else m) and K.flags.c_contiguous
        bound = rbf_error_bound(X, other, float(gamma), dtype, shifted=True)
        np.testing.assert_allclose(K, _reference(X, other, float(gamma)), rtol=0, atol=bound)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("d", [2, 16, 128])
def test_float32_far_from_origin_is_accurate(d, form, rng):
    # The uncentered expansion is off by up to 1.0 here (test_methods); the
    # shared shift makes the product small again.
    X = _data(rng, 600, d, "float32", offset=1e4)
    gamma = np.float32(median_heuristic_gamma(X))
    Y = X[::3] + np.float32(0.25)
    for other in (None, Y):
        K = FORMS[form](X, other, gamma)
        bound = rbf_error_bound(X, other, gamma, "float32", shifted=True)
        assert np.max(np.abs(K - _reference(X, other, gamma))) <= bound


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("d", [2, 40])
def test_k_of_x_with_itself_has_ones_on_the_diagonal_and_never_exceeds_one(d, form, dtype, rng):
    # Duplicated points: their exponent rounds to a hair above 0 unless clipped.
    X = _data(rng, 520, d, dtype, offset=5.0)
    X[300:310] = X[0]
    K = FORMS[form](X, None, np.asarray(0.7, dtype))
    assert np.all(np.diag(K) == 1)
    assert K.max() == 1 and K.min() >= 0
    # The duplicates' d² is 0 exactly; the shifted expansion leaves at most its bound.
    np.testing.assert_allclose(K[0, 300:310], 1, rtol=0,
                               atol=rbf_error_bound(X, None, 0.7, dtype, shifted=True))


def test_mirrored_k_is_exactly_symmetric(rng):
    X = _data(rng, 700, fast_gram.MIRROR_MIN_FEATURES, "float32")
    K = rbf_gram_tiled(X, None, np.float32(0.05), workers=2)
    assert np.array_equal(K, K.T)


@pytest.mark.parametrize("n", [255, 700, 1100])  # a ragged last tile; pairs not a multiple of 4
def test_xla_mirrored_k_is_exactly_symmetric(n, dtype, rng):
    X = _data(rng, n, 5, dtype, offset=1e4)
    K = rbf_gram_mirrored(X, None, np.asarray(0.3, dtype))
    assert np.array_equal(K, K.T) and np.all(np.diag(K) == 1)
    np.testing.assert_allclose(K, _reference(X, None, 0.3), rtol=0,
                               atol=rbf_error_bound(X, None, 0.3, dtype, shifted=True))


def test_xla_mirrored_computes_only_the_tiles_on_and_above_the_diagonal(rng, monkeypatch):
    # What the race page's label promises: about half the products of the full K.
    calls = []

    def counting(a, b, diagonal):
        calls.append(len(diagonal))
        return rbf_tile_pairs(a, b, diagonal)

    monkeypatch.setattr(fast_gram, "rbf_tile_pairs", counting)
    X = _data(rng, 5 * fast_gram.PAIR_TILE - 3, 3, "float32")  # 5 x 5 tiles, the last ragged
    K = rbf_gram_mirrored(X, None, np.float32(0.3))
    # 15 tiles on and above the diagonal, padded to calls of PAIRS_PER_CALL: 16 of 25.
    assert sum(calls) == 16 and set(calls) == {fast_gram.PAIRS_PER_CALL}
    np.testing.assert_allclose(K, _reference(X, None, 0.3), rtol=0,
                               atol=rbf_error_bound(X, None, 0.3, "float32", shifted=True))


def test_mirrored_tiles_compile_once_per_feature_count_not_per_n(rng):
    rbf_gram_mirrored(_data(rng, 300, 3, "float32"), None, np.float32(0.3))
    size = rbf_tile_pairs._cache_size()
    for n in (20, 600, 1100):
        rbf_gram_mirrored(_data(rng, n, 3, "float32"), None, np.float32(0.5))
    assert rbf_tile_pairs._cache_size() == size


def test_threads_do_not_change_the_result(rng):
    X = _data(rng, 1100, 8, "float32")
    one = rbf_gram_tiled(X, None, np.float32(0.2), workers=1)
    two = rbf_gram_tiled(X, None, np.float32(0.2), workers=2)
    assert np.array_equal(one, two)


@pytest.mark.parametrize("form", FORMS)
def test_float32_stays_float32_with_a_python_gamma(form, rng):
    X = _data(rng, 50, 3, "float32")
    assert FORMS[form](X, None, 0.5).dtype == np.float32
    assert FORMS[form](X, X[:4], 0.5).dtype == np.float32


def test_panels_compile_once_per_shape_not_per_gamma_or_ragged_last_panel(rng):
    # 37 rows: with panels of 16 rows the last one is padded, not recompiled.
    X = _data(rng, 37, 3, "float32")
    assert panel_rows(37, 4) == 1024 and panel_rows(8000, 4) == 128 and panel_rows(8000, 8) == 64
    rbf_gram_panels(X, None, np.float32(0.3))
    size = rbf_panel._cache_size()
    K = rbf_gram_panels(X, None, np.float32(3.0))
    rbf_gram_panels(X[:30], X, np.float32(1.0))  # fewer rows, same M: same panel shape
    assert rbf_panel._cache_size() == size
    np.testing.assert_allclose(K, _reference(X, None, 3.0), rtol=0, atol=2e-6)


def test_panels_leave_jax_x64_mode_as_it_was(rng):
    import jax

    before = jax.config.read("jax_enable_x64")
    K = rbf_gram_panels(_data(rng, 20, 3, "float64"), None, 0.5)
    assert K.dtype == np.float64 and jax.config.read("jax_enable_x64") == before
    with dtype_scope("float64"):  # and float32 data stays float32 under x64
        assert rbf_gram_panels(_data(rng, 20, 3, "float32"), None, 0.5).dtype == np.float32


# The augmented factors' own test is in tests/core/kernels/test_numerics.py.


def test_blas_threads_are_restored_after_a_threaded_call(rng):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    X = _data(rng, 1100, 8, "float32")
    # The suite runs BLAS on one thread (tests/conftest.py): start from two, so that
    # a limit of one left in place would show.
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = [i["num_threads"] for i in threadpoolctl.threadpool_info()
                  if i["user_api"] == "blas"]
        rbf_gram_tiled(X, None, np.float32(0.2), workers=2)
        after = [i["num_threads"] for i in threadpoolctl.threadpool_info()
                 if i["user_api"] == "blas"]
    assert before and all(n == 2 for n in before)
    assert after == before
    assert fast_gram._blas_state["users"] == 0


@pytest.mark.parametrize("form", FORMS)
def test_empty_inputs(form, dtype):
    X = np.zeros((0, 3), dtype)
    assert FORMS[form](X, None, 1.0).shape == (0, 0)
    assert FORMS[form](np.ones((2, 3), dtype), X, 1.0).shape == (2, 0)


# --- the registry entries and "auto" ---

ENTRIES = {"numpy_tiled": ("gram_numpy_tiled", "rbf_gram_tiled"),
           "jit_panels": ("gram_jit_panels", "rbf_gram_panels"),
           "jit_mirrored": ("gram_jit_mirrored", "rbf_gram_mirrored")}


@pytest.mark.parametrize("name", ENTRIES)
@pytest.mark.parametrize("d", [2, 40])
def test_registry_entry_reuses_its_distances(name, d, rng):
    # What the Gram explorer does on a gamma change: exp of the cached distances.
    X, Y = _data(rng, 300, d, "float32"), _data(rng, 200, d, "float32", 0.5)
    gamma = 1.0 / d
    for other in (None, Y):
        d2 = sqdist_for(name, X, other)
        np.testing.assert_allclose(rbf_from_sqdist(d2, gamma),
                                   METHODS[name].compute(X, other, gamma),
                                   rtol=0, atol=2e-6)


@pytest.mark.parametrize("name", ENTRIES)
def test_registry_entry_is_accurate_far_from_origin_and_not_a_peer(name):
    method = METHODS[name]
    assert method.accurate_far_from_origin and not method.peer and method.zero_diagonal
    for fn in ENTRIES[name]:
        assert f"def {fn}(" in method.source


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("d", [2, 16, 128])
@pytest.mark.parametrize("n", [1000, 4000, 8000])
def test_auto_picks_an_accurate_method_on_the_benchmark_grid(n, d, dtype_name):
    name = choose_auto(n, n, d, dtype_name)
    assert METHODS[name].accurate_far_from_origin and not METHODS[name].peer
    assert METHODS[name].declines(n, n, d, dtype_name) is None
    expected = ("jit_centered" if n * n < TILED_MIN_ENTRIES else
                "numpy_tiled" if dtype_name == "float64" else
                "jit_mirrored" if d >= fast_gram.MIRROR_MIN_FEATURES else "jit_panels")
    assert name == expected


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("d, picks", [(3, {"float32": "jit_panels", "float64": "numpy_tiled"}),
                                      (40, {"float32": "jit_mirrored", "float64": "numpy_tiled"})])
def test_auto_is_accurate_where_it_leaves_jit_centered(d, picks, dtype_name, rng):
    # The smallest K for which auto leaves jit_centered, far from the origin.
    n = int(np.ceil(np.sqrt(TILED_MIN_ENTRIES)))
    pick = picks[dtype_name]
    assert choose_auto(n, n, d, dtype_name) == pick
    X = _data(rng, n, d, dtype_name, offset=1e4)
    (row,) = race(X, None, median_heuristic_gamma(X), ["auto"], dtype_name, repeats=1,
                  budget_s=None)
    assert row.status == "ok" and row.picked == pick and not row.compiled
    bound = rbf_error_bound(X, None, median_heuristic_gamma(X), dtype_name, shifted=True)
    assert row.max_abs_error <= bound
