"""Tests of `core.lessons.accuracy`: the numbers the Precision lab shows.

The lab's claims, each checked here: the reference is a true float64 computation
on the same inputs; the expansion cancels far from the origin (by the predicted
amount) while the direct forms and the centered expansion do not; negatives are
counted before clipping; a sweep reports every method at every offset.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from core.lessons.accuracy import (
    DEFAULT_LAB_METHODS,
    LAB_METHODS,
    SWEEP_OFFSETS,
    cancellation_scale,
    lab_accuracy,
    lab_data,
    matmul_precision_effect,
    method_accuracy,
    offset_sweep,
    reference,
)
from core.kernels.distances import pairwise_sqeuclidean
from core.dense.methods import METHODS
from tests.core.bounds import kernel_error_bound, rbf_error_bound, unit_roundoff



def _k_bound(n, d, offset, seed, form, dtype="float32"):
    """Largest |K - K_ref| the form may show on `lab_data(n, d, 1, offset, seed)` (tests/core/bounds.py).

    "centered": the expansion on shifted points; "expansion": on the raw points;
    "direct": Σ(x - y)² in dtype (SciPy's float64 cdist rounded to dtype is within
    it); "sklearn": its float32 path, the float64 expansion rounded to dtype, so
    the direct bound plus (D + 2)·u64·(|x| + |y|)². Plus the float64 reference's
    own error (the direct form: within the shifted bound).
    """
    X = lab_data(n, d, 1.0, offset, seed, dtype)
    gamma = reference(X).gamma
    X64 = X.astype(np.float64)
    truth = rbf_error_bound(X, None, gamma, np.float64, shifted=True)
    if form in ("direct", "sklearn"):
        norms = np.linalg.norm(X64, axis=1)
        d2_error = (d + 3) * unit_roundoff(dtype) * cdist(X64, X64, "sqeuclidean")
        if form == "sklearn":
            d2_error += (d + 2) * unit_roundoff(np.float64) * (norms[:, None] + norms[None, :]) ** 2
        return float(kernel_error_bound("rbf", {"gamma": gamma}, X, X, dtype, d2_error).max()) + truth
    return rbf_error_bound(X, None, gamma, dtype, shifted=form == "centered") + truth


def _direct_reference(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """d², K and gamma in float64 by SciPy, independently of `core`."""
    X64 = X.astype(np.float64)
    d2 = cdist(X64, X64, "sqeuclidean")
    gamma = 1.0 / (2.0 * np.median(pdist(X64, "sqeuclidean")))
    return d2, np.exp(-gamma * d2), gamma


def test_lab_data_moves_the_same_cloud():
    # The sweep compares offsets: only the offset may change between its points.
    near = lab_data(30, 4, 2.0, 0.0, 7, "float64")
    far = lab_data(30, 4, 2.0, 1000.0, 7, "float64")
    np.testing.assert_allclose(far - 1000.0, near, atol=1e-10)
    assert lab_data(30, 4, 2.0, 5.0, 7, "float32").dtype == np.float32
    assert np.std(near) == pytest.approx(2.0, rel=0.2)


def test_reference_matches_a_direct_float64_computation():
    X = lab_data(80, 3, 1.5, 300.0, 0, "float32")
    d2, K, gamma = _direct_reference(X)
    ref = reference(X)
    assert ref.gamma == pytest.approx(gamma, rel=1e-12)
    np.testing.assert_allclose(ref.d2, d2, rtol=0, atol=1e-9 * d2.max())
    np.testing.assert_allclose(ref.K, K, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["jit_expansion", "jit_method1", "numpy_expansion", "sklearn"])
def test_reported_errors_are_the_methods_errors_against_float64(method):
    X = lab_data(60, 4, 1.0, 1000.0, 1, "float32")
    d2_ref, K_ref, gamma = _direct_reference(X)
    row = method_accuracy(X, method, keep_error=True)
    K = METHODS[method].compute(X, None, gamma, dtype="float32").astype(np.float64)
    raw = pairwise_sqeuclidean(X, method=METHODS[method].distance_method, clip=False)
    k_err = np.abs(K - K_ref)
    d2_err = np.abs(raw.astype(np.float64) - d2_ref)
    # atol: the two float64 references differ by float64 round-off only.
    assert row.k_max_error == pytest.approx(k_err.max(), abs=1e-9)
    assert row.k_median_error == pytest.approx(np.median(k_err), abs=1e-9)
    assert row.d2_max_error == pytest.approx(d2_err.max(), abs=1e-6)
    assert row.d2_median_error == pytest.approx(np.median(d2_err), abs=1e-6)
    assert row.negatives == np.count_nonzero(raw < 0)
    assert row.diagonal_deviation == pytest.approx(np.max(np.abs(np.diag(K) - 1)), abs=1e-12)
    assert row.k_abs_error.shape == (60, 60)
    assert np.max(row.k_abs_error) == pytest.approx(row.k_max_error, rel=1e-6)


def test_negatives_are_counted_before_clipping():
    # What a user sees in the table: the expansion produces negative squared
    # distances far from the origin, the vector form never does.
    X = lab_data(100, 5, 1.0, 1000.0, 0, "float32")
    ref = reference(X)
    assert method_accuracy(X, "jit_expansion", ref).negatives > 0
    assert method_accuracy(X, "jit_method1", ref).negatives == 0
    # ... and the app's clipping removes them (the K the method returns is <= 1).
    assert np.max(METHODS["jit_expansion"].compute(X, None, ref.gamma)) <= 1.0


@pytest.mark.parametrize("d", [1, 3, 10])
def test_centered_expansion_stays_accurate_in_float32_up_to_offset_1e5(d):
    # Unit-spread data, median-heuristic gamma: the centered method's K stays
    # within float32 tolerance at every offset of the lab's sweep. With D = 1 this
    # failed (2.5e-3) when the mean was computed inside XLA, which rounded the fused
    # mean differently for X and for Y; now one shift, `shared_shift`, on the host.
    for offset in SWEEP_OFFSETS:
        for seed in (0, 1):
            row, = lab_accuracy(200, d, 1.0, offset, seed, "float32", ["jit_centered"])
            assert row.k_max_error <= _k_bound(200, d, offset, seed, "centered"), (offset, seed)


@pytest.mark.parametrize("method", ["jit_method1", "jit_broadcast", "sklearn", "scipy_cdist"])
def test_direct_forms_stay_accurate_far_from_origin(method):
    for offset in (1.0, 1e3, 1e5):
        row, = lab_accuracy(100, 5, 1.0, offset, 0, "float32", [method])
        form = "sklearn" if method == "sklearn" else "direct"
        assert row.k_max_error <= _k_bound(100, 5, offset, 0, form), offset


@pytest.mark.parametrize("method", ["jit_expansion", "numpy_expansion"])
def test_expansion_cancels_catastrophically_in_float32(method):
    near, = lab_accuracy(100, 5, 1.0, 0.1, 0, "float32", [method])
    far, = lab_accuracy(100, 5, 1.0, 1e4, 0, "float32", [method])
    assert near.k_max_error <= _k_bound(100, 5, 0.1, 0, "expansion")
    assert far.k_max_error > 0.5  # K is useless: entries off by more than half their range
    # float64 rescues it at the same offset: within the expansion's float64 bound (about 1e-7).
    assert (lab_accuracy(100, 5, 1.0, 1e4, 0, "float64", [method])[0].k_max_error
            <= _k_bound(100, 5, 1e4, 0, "expansion", "float64"))


@pytest.mark.parametrize("offset", [1e2, 1e3, 1e4, 1e5])
def test_cancellation_scale_predicts_the_expansions_error(offset):
    # The guide line on the chart: the d² error is a few times eps·D·(offset² + scale²)
    # (measured 1.5 to 4.2 for D = 1, 5, 20).
    d = 5
    err = lab_accuracy(100, d, 1.0, offset, 0, "float32", ["jit_expansion"])[0].d2_max_error
    assert 0.5 <= err / cancellation_scale(offset, 1.0, d, "float32") <= 10


def test_offset_sweep_reports_every_method_at_every_offset():
    calls, progress = [], []

    def evaluate(*args):
        calls.append(args)
        return lab_accuracy(*args)

    offsets = (0.1, 100.0, 1e4)
    methods = ["jit_method1", "jit_expansion"]
    sweep = offset_sweep(40, 3, 1.0, 0, "float32", methods, offsets,
                         evaluate=evaluate, on_progress=lambda i, n: progress.append((i, n)))
    # One call per offset (one shared reference), all methods in it.
    assert len(calls) == 3 and progress == [(1, 3), (2, 3), (3, 3)]
    assert calls[1] == (40, 3, 1.0, 100.0, 0, "float32", tuple(methods), None)
    np.testing.assert_array_equal(sweep.offsets, offsets)
    at_100 = lab_accuracy(40, 3, 1.0, 100.0, 0, "float32", methods)
    for m, row in zip(methods, at_100):
        assert sweep.k_max_error[m].shape == (3,)
        assert sweep.k_max_error[m][1] == row.k_max_error
        assert sweep.d2_max_error[m][1] == row.d2_max_error
    assert sweep.k_max_error["jit_expansion"][-1] > 100 * sweep.k_max_error["jit_method1"][-1]
    assert sweep.negatives["jit_method1"].sum() == 0


def test_lab_offers_every_real_method_and_defaults_to_a_subset():
    assert set(DEFAULT_LAB_METHODS) <= set(LAB_METHODS)
    assert "auto" not in LAB_METHODS
    assert {"jit_centered", "jit_expansion", "sklearn"} <= set(LAB_METHODS)


def test_matmul_precision_highest_runs_and_is_a_no_op_on_cpu():
    X = lab_data(50, 5, 1.0, 1000.0, 0, "float32")
    effect = matmul_precision_effect(X, "jit_expansion")
    assert np.isfinite(effect) and effect >= 0
    if jax.default_backend() == "cpu":
        # What the page says on CPU: XLA:CPU computes float32 products in float32.
        assert effect == 0.0
    row = method_accuracy(X, "jit_expansion", matmul_precision="highest")
    assert row.k_max_error > 0.01  # "highest" does not undo the cancellation


def test_the_diagonal_and_clipping_sentences_of_the_precision_lab():
    # "The jitted expansion can leave round-off there [on K_ii], within the expansion's
    # error bound (whether it does depends on how XLA compiles the sums for the CPU:
    # with fused multiply-add it usually does, without it |x|²+|x|²−2·x·x cancels
    # exactly); methods that know Y is X set the diagonal to 0 (the centered method,
    # scikit-learn), and NumPy's einsum happens to sum both in the same order." and
    # "scikit-learn clips inside its own function, so its count is 0 by construction."
    X = lab_data(200, 2, 1.0, 1000.0, 0, "float32")
    ref = reference(X)
    rows = {m: method_accuracy(X, m, ref) for m in
            ("jit_expansion", "jit_centered", "sklearn", "numpy_expansion")}
    assert rows["jit_expansion"].diagonal_deviation <= rbf_error_bound(X, X, ref.gamma, "float32")
    for m in ("jit_centered", "sklearn", "numpy_expansion"):
        assert rows[m].diagonal_deviation == 0, m
    assert rows["jit_expansion"].negatives > 0 and rows["sklearn"].negatives == 0
