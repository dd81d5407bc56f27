"""Tests of `core.dense.buckets`: a server visited with many N keeps few compiled programs.

What a user would notice if it broke: memory that grows with every new dataset size
(one compiled program per N, never freed), or a padded row leaking into a real
entry of K. Expected values come from SciPy; tolerances from
`tests/core/bounds.py` (the error analysis per dtype).
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
import pytest
import scipy.spatial.distance

from tests.core.bounds import rbf_error_bound
from core.dense import (BUCKETS_PER_OCTAVE, METHODS, bucket_count, bucket_size, on_buckets,
                        pad_rows, rbf_panel, sqdist_for)
from core.kernels.distances import pairwise_sqeuclidean_jax
from core.kernels.functions import rbf_kernel
from core.kernels.gram import gram_jit


def test_buckets_pad_at_most_an_eighth_and_are_few():
    sizes = np.arange(1, 5000)
    buckets = np.array([bucket_size(n) for n in sizes])
    assert np.all(buckets >= sizes)
    assert np.all(buckets * 8 <= sizes * 9)  # padding at most 12.5 %
    assert np.all(np.diff(buckets) >= 0)
    assert all(bucket_size(b) == b for b in set(buckets.tolist()))  # a bucket is its own bucket
    # Beyond 16, eight buckets per octave: sizes 17..32 go to 18, 20, ..., 32.
    assert bucket_count(17, 32) == BUCKETS_PER_OCTAVE
    assert bucket_count(1025, 2048) == BUCKETS_PER_OCTAVE


def test_pad_rows_copies_the_last_row():
    A = np.arange(6.0).reshape(3, 2)
    P = pad_rows(A, 5)
    np.testing.assert_array_equal(P[:3], A)
    np.testing.assert_array_equal(P[3:], [[4.0, 5.0], [4.0, 5.0]])
    assert pad_rows(A, 3) is A


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["jit_centered", "jit_expansion", "jit_method1", "jit_panels"])
def test_padded_methods_match_scipy_far_from_the_origin(name, dtype):
    # 37 and 29 rows are not buckets (40 and 30): padding happens on both sides.
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(37, 3)) + 50.0).astype(dtype)
    Y = (rng.normal(size=(29, 3)) + 50.0).astype(dtype)
    gamma = 0.3
    for B in (None, Y):
        K = METHODS[name].compute(X, B, gamma, dtype=dtype)
        # SciPy's direct differences in float64: scikit-learn's own expansion would
        # cancel at this offset by more than the centered forms' bound.
        ref = np.exp(-gamma * scipy.spatial.distance.cdist(
            X.astype(np.float64), (X if B is None else B).astype(np.float64), "sqeuclidean"))
        assert K.shape == ref.shape and K.dtype == np.dtype(dtype) and K.flags.c_contiguous
        bound = rbf_error_bound(X, B, gamma, dtype, shifted=METHODS[name].shifted
                                or name == "jit_panels")
        np.testing.assert_allclose(K, ref, rtol=0, atol=bound)
        if B is None and METHODS[name].zero_diagonal:
            np.testing.assert_array_equal(np.diag(K), 1.0)


@pytest.mark.parametrize("name", ["auto", "jit_broadcast", "jit_expansion"])
def test_padded_distances_match_scipy(name):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(45, 2))  # float64: bucket 48
    d2 = sqdist_for(name, X)
    ref = scipy.spatial.distance.cdist(X, X, "sqeuclidean")
    assert d2.shape == (45, 45)
    np.testing.assert_allclose(d2, ref, rtol=0, atol=1e-12 * ref.max())


def test_the_centered_shift_comes_from_the_real_rows_only():
    # Padding rows copy the last row; were they in the shift, the shifted points
    # would differ from shared_shift(X) and so would the distances' round-off.
    from core.kernels.numerics import shared_shift
    rng = np.random.default_rng(5)
    X = (rng.normal(size=(37, 2)) + 1e4).astype("float32")
    X[-1] += 300.0  # a far last row: it would pull a padded mean
    Xc, _ = shared_shift(X)
    expected = np.asarray(pairwise_sqeuclidean_jax(pad_rows(Xc, 40), pad_rows(Xc, 40),
                                                   method="dot", same=True))[:37, :37]
    np.testing.assert_array_equal(sqdist_for("jit_centered", X), expected)


def _backend_compiles(run) -> int:
    """How many XLA programs `run()` compiled."""
    count = [0]

    def listen(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            count[0] += 1

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        run()
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    return count[0]


def test_two_hundred_sizes_compile_at_most_one_program_per_bucket():
    # The paths the app runs per N: the Gram explorer's distances (sqdist_for),
    # the registry's jitted methods (compute, as the race's reference and "auto"
    # run them), the row panels and the other kernels' Method I (ui.state.cache).
    sizes = np.unique(np.linspace(10, 400, 200).astype(int))
    assert len(sizes) == 200
    buckets = {bucket_size(n) for n in sizes}
    rng = np.random.default_rng(6)
    jitted = {"jit_centered": METHODS["jit_centered"].jitted,
              "jit_method1": METHODS["jit_method1"].jitted,
              "distances": pairwise_sqeuclidean_jax, "panels": rbf_panel, "gram_jit": gram_jit}
    before = {k: f._cache_size() for k, f in jitted.items()}
    p = {"gamma": np.float32(0.5)}

    def visit_every_size():
        for n in sizes:
            X = rng.normal(size=(n, 2)).astype("float32")
            for name in ("jit_centered", "jit_method1", "jit_panels"):
                assert METHODS[name].compute(X, None, 0.5).shape == (n, n)
            assert sqdist_for("auto", X).shape == (n, n)
            assert on_buckets(partial(gram_jit, rbf_kernel, p), X, None).shape == (n, n)

    compiles = _backend_compiles(visit_every_size)
    grown = {k: f._cache_size() - before[k] for k, f in jitted.items()}
    assert all(g <= len(buckets) for g in grown.values()), (grown, len(buckets))
    # Five jitted paths, each at most once per bucket (fewer where an earlier test compiled it).
    assert compiles <= 5 * len(buckets), (compiles, len(buckets))
    assert len(buckets) <= 45  # 7 sizes up to 16, then 8 per octave up to 416
