"""Tests of `core.lessons.gp`: GP prior samples, Cholesky with jitter, spectrum sweeps."""

from __future__ import annotations

import numpy as np
import pytest

from core.kernels.composite import KernelChoice, kernel_gram
from core.lessons.gp import (
    CholeskyError,
    cholesky,
    cholesky_ok,
    gamma_sweep_values,
    grid_1d,
    pd_report,
    prior_samples,
    smallest_jitter,
    spectrum_sweep,
)
from core.lessons.spectrum import spectrum

RBF = KernelChoice.make("single", "rbf", {"gamma": 1.0})


def test_grid_is_a_column_of_evenly_spaced_points():
    g = grid_1d(11, 0.0, 1.0)
    assert g.shape == (11, 1)
    np.testing.assert_allclose(np.diff(g[:, 0]), 0.1)


def test_cholesky_factors_k_plus_jitter():
    K = kernel_gram(RBF, grid_1d(30), dtype="float64")
    L = cholesky(K, 1e-6)
    np.testing.assert_allclose(L @ L.T, K + 1e-6 * np.eye(30), atol=1e-12)
    assert np.allclose(L, np.tril(L))


def test_cholesky_fails_with_a_clear_error_without_jitter_in_float32():
    # A smooth kernel on close points: eigenvalues below float32 round-off.
    K = kernel_gram(RBF, grid_1d(150), dtype="float32")
    with pytest.raises(CholeskyError, match="Raise the jitter"):
        cholesky(K)
    assert not cholesky_ok(K, 0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kernel", ["rbf", "periodic", "linear"])
def test_smallest_jitter_works_and_half_of_it_does_not(kernel, dtype):
    K = kernel_gram(KernelChoice.make("single", kernel), grid_1d(120), dtype=dtype)
    jitter = smallest_jitter(K)
    assert jitter > 0
    assert cholesky_ok(K, jitter)
    assert not cholesky_ok(K, jitter / 2)


def test_smallest_jitter_is_zero_when_k_factors_and_refuses_nan():
    K = kernel_gram(KernelChoice.make("single", "matern32"), grid_1d(60), dtype="float64")
    assert smallest_jitter(K) == 0.0
    K = K.copy()
    K[0, 1] = np.nan
    with pytest.raises(CholeskyError, match="NaN"):
        smallest_jitter(K)


def test_a_kernel_that_overflows_is_reported_not_crashed_on():
    # Polynomial of degree 6 on inputs of norm ~1e3 (wine, unstandardized) is inf
    # in float32: every diagnostic says so instead of failing inside LAPACK.
    poly = KernelChoice.make("single", "polynomial", {"degree": 6})
    X = np.full((5, 2), 3000.0)
    K = kernel_gram(poly, X, dtype="float32")
    assert not np.all(np.isfinite(K))
    for diagnose in (pd_report, smallest_jitter, cholesky):
        with pytest.raises(CholeskyError, match="overflows float32"):
            diagnose(K)
    sweep = spectrum_sweep(poly, X, [1e-8, 1.0], dtype="float32")
    assert list(sweep.finite) == [True, False]
    assert np.all(np.isnan(sweep.eigenvalues[1])) and np.isnan(sweep.effective_rank[1])


def test_float32_needs_more_jitter_than_float64():
    # The page's lesson: the same kernel fails in float32 at a jitter float64 takes.
    j32 = smallest_jitter(kernel_gram(RBF, grid_1d(100), dtype="float32"))
    j64 = smallest_jitter(kernel_gram(RBF, grid_1d(100), dtype="float64"))
    assert j32 > 1e4 * j64


def test_prior_samples_have_the_kernels_covariance():
    grid = grid_1d(6, -1.0, 1.0)
    jitter = 1e-8
    draws = 40_000
    f = prior_samples(RBF, grid, draws, seed=3, jitter=jitter, dtype="float64")
    assert f.shape == (6, draws)
    K = kernel_gram(RBF, grid, dtype="float64") + jitter * np.eye(6)
    cov = f @ f.T / draws  # zero mean is known: no mean subtracted
    # Standard error of a sample covariance entry: sqrt((K_ii K_jj + K_ij²) / n) <= 0.0071.
    np.testing.assert_allclose(cov, K, atol=5 * np.sqrt(2 / draws))
    np.testing.assert_allclose(f.mean(axis=1), 0, atol=5 / np.sqrt(draws))


def test_prior_samples_are_reproducible_by_seed():
    grid = grid_1d(50)
    a = prior_samples(RBF, grid, 3, seed=1, jitter=1e-5, dtype="float32")
    b = prior_samples(RBF, grid, 3, seed=1, jitter=1e-5, dtype="float32")
    c = prior_samples(RBF, grid, 3, seed=2, jitter=1e-5, dtype="float32")
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    with pytest.raises(CholeskyError):
        prior_samples(RBF, grid_1d(150), 3, seed=1, jitter=0.0, dtype="float32")


def test_pd_report_agrees_with_spectrum_and_jitter_search():
    K = kernel_gram(RBF, grid_1d(80), dtype="float32")
    report = pd_report(K)
    spec = spectrum(K)
    assert report.n == 80 and report.dtype == "float32"
    assert report.min_eigenvalue == spec.min_eigenvalue
    assert report.effective_rank == spec.effective_rank
    assert report.smallest_jitter == smallest_jitter(K)
    assert report.cholesky_ok == (report.smallest_jitter == 0.0)


def test_round_off_is_told_apart_from_an_invalid_kernel(rng):
    # float32 RBF on a fine grid: negative eigenvalues, but within round-off.
    rounding = pd_report(kernel_gram(RBF, grid_1d(200), dtype="float32"))
    assert rounding.min_eigenvalue < 0 and not rounding.beyond_roundoff
    # The periodic kernel of a 2-D distance is not positive semi-definite: measured
    # min eigenvalue / (eps·N·λ_max) about -3e3 (float32) against at most -0.006
    # for valid kernels in either precision.
    X = rng.normal(size=(200, 2)) * 2
    for dtype in ("float32", "float64"):
        invalid = pd_report(kernel_gram(KernelChoice.make("single", "periodic"), X, dtype=dtype))
        assert invalid.beyond_roundoff, dtype
    assert not pd_report(kernel_gram(RBF, X, dtype="float64")).beyond_roundoff


def test_gamma_sweep_shows_both_limits():
    # gamma -> 0: K -> ones (effective rank 1); gamma -> inf: K -> I (rank N).
    gammas = gamma_sweep_values(1e-4, 1e4, 1)
    assert gammas.shape == (9,) and gammas[0] == pytest.approx(1e-4)
    progress = []
    sweep = spectrum_sweep(RBF, grid_1d(40), gammas, dtype="float64",
                           on_progress=lambda i, n: progress.append(i))
    assert progress == list(range(1, 10))
    assert sweep.eigenvalues.shape == (9, 40)
    assert np.all(np.diff(sweep.eigenvalues, axis=1) <= 1e-12)  # each row descending
    assert sweep.effective_rank[0] < 1.1  # grid span 10: gamma·d² <= 0.01, K ≈ ones
    assert sweep.effective_rank[-1] > 0.99 * 40
    assert np.all(np.diff(sweep.effective_rank) > -1e-9)  # rank grows with gamma
    assert sweep.eigenvalues[-1] == pytest.approx(np.ones(40), abs=1e-6)


def test_gamma_sweep_sets_every_component_and_refuses_kernels_without_gamma():
    both = KernelChoice.make("sum", "rbf", {"gamma": 5.0}, "matern52", {"gamma": 0.1})
    sweep = spectrum_sweep(both, grid_1d(10), [0.5], dtype="float64")
    at_half = KernelChoice.make("sum", "rbf", {"gamma": 0.5}, "matern52", {"gamma": 0.5})
    np.testing.assert_allclose(sweep.eigenvalues[0],
                               spectrum(kernel_gram(at_half, grid_1d(10), dtype="float64")).eigenvalues,
                               atol=1e-12)
    with pytest.raises(ValueError, match="no gamma"):
        spectrum_sweep(KernelChoice.make("single", "linear"), grid_1d(10), [1.0])


def test_float32_needs_hundreds_of_millions_times_the_jitter_of_float64():
    # The Kernel lab's sentence, on its default matrix (RBF, gamma 1, 150 grid points):
    # the ratio follows eps (1.2e-7 / 2.2e-16 = 5.4e8). Measured: 3.5e8.
    K32 = kernel_gram(RBF, grid_1d(150), dtype="float32")
    K64 = kernel_gram(RBF, grid_1d(150), dtype="float64")
    j32, j64 = smallest_jitter(K32), smallest_jitter(K64)
    assert j64 > 0  # both need one here, so the ratio is defined
    assert 1e8 <= j32 / j64 < 1e10


def test_more_grid_points_bring_k_closer_to_singular():
    # "more points are closer together, so K is closer to singular": the smallest
    # eigenvalue (NumPy) shrinks as the grid fills in, until round-off is all that is left.
    smallest = [np.linalg.eigvalsh(kernel_gram(RBF, grid_1d(n), dtype="float64"))[0]
                for n in (10, 20, 40)]
    assert smallest[0] > smallest[1] > smallest[2]


def test_periodic_kernel_is_positive_semi_definite_in_one_dimension(rng):
    # ... "is positive semi-definite in 1-D but not in general for D > 1" (the D > 1
    # half: test_round_off_is_told_apart_from_an_invalid_kernel).
    X = rng.normal(size=(200, 1)) * 3
    for dtype in ("float32", "float64"):
        assert not pd_report(kernel_gram(KernelChoice.make("single", "periodic"), X,
                                         dtype=dtype)).beyond_roundoff, dtype
