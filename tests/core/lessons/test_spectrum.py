"""The Gram explorer's eigenvalue verdict: positive definite, round-off, or indefinite.

Expected values come from NumPy's eigensolver on matrices built by scikit-learn's
kernels, never from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.data import load_dataset
from core.lessons.spectrum import ROUNDOFF_MARGIN, definiteness, roundoff_bound, spectrum

pairwise = pytest.importorskip("sklearn.metrics.pairwise")
gp_kernels = pytest.importorskip("sklearn.gaussian_process.kernels")


def digits(n: int = 400) -> np.ndarray:
    X, _ = load_dataset("digits", n=n, seed=0, noise=0.0, dtype="float64")
    return X


def median_gamma(X: np.ndarray) -> float:
    d2 = pairwise.euclidean_distances(X, squared=True)[np.triu_indices(X.shape[0], 1)]
    return 1.0 / (2.0 * float(np.median(d2)))


def test_periodic_kernel_on_digits_is_indefinite_not_roundoff():
    # The case: periodic kernel, period 1, RBF median-heuristic gamma, Digits,
    # float64. scikit-learn's ExpSineSquared is exp(-2 sin²(π d/p) / l²) = ours with
    # gamma = 1/(2 l²).
    X = digits()
    gamma = median_gamma(X)
    K = gp_kernels.ExpSineSquared(length_scale=np.sqrt(1 / (2 * gamma)), periodicity=1.0)(X)
    lam = np.linalg.eigvalsh(K)
    assert lam[0] < -1e-3  # NumPy: about -0.011, thousands of times past round-off
    spec = spectrum(K)
    assert spec.min_eigenvalue == pytest.approx(lam[0], rel=1e-9)
    assert lam[0] < -roundoff_bound(400, lam[-1], "float64")
    assert definiteness(spec, "float64") == "indefinite"


def test_rbf_on_digits_is_positive_definite():
    X = digits()
    K = pairwise.rbf_kernel(X, gamma=median_gamma(X))
    assert np.linalg.eigvalsh(K)[0] > 0
    assert definiteness(spectrum(K), "float64") == "positive definite"


def test_rank_one_matrix_is_semi_definite_to_roundoff():
    # A matrix of ones: one eigenvalue N, the rest exactly 0 in exact arithmetic;
    # in float32 they come out as ±(a few ε·N), never below the bound.
    n = 200
    K = np.ones((n, n), dtype=np.float32) + np.float32(1e-7) * np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    K = (K + K.T) / 2
    spec = spectrum(K)
    assert spec.min_eigenvalue <= 0
    assert definiteness(spec, "float32") == "positive semi-definite to round-off"


def test_roundoff_bound_is_margin_eps_n_lambda_max():
    assert roundoff_bound(100, -3.0, "float32") == pytest.approx(
        ROUNDOFF_MARGIN * np.finfo(np.float32).eps * 100 * 3.0)


def test_effective_rank_is_one_for_ones_and_n_for_the_identity():
    # The Gram explorer's help text for "Effective rank".
    assert spectrum(np.ones((50, 50))).effective_rank == pytest.approx(1.0, abs=1e-9)
    assert spectrum(np.eye(50)).effective_rank == pytest.approx(50.0, rel=1e-12)


def test_condition_number_is_inf_when_k_is_singular():
    # "inf when K is singular in working precision": a repeated point makes two equal rows.
    X = np.array([[0.0], [1.0], [1.0], [3.0]])
    K = pairwise.rbf_kernel(X, gamma=0.5)
    assert np.linalg.eigvalsh(K)[0] <= 1e-15
    assert spectrum(K).condition_number == float("inf") or spectrum(K).condition_number > 1e15
