"""Tests of `core.kernels.functions`: every kernel against its closed form in scikit-learn/NumPy.

All stationary kernels share `gamma = 1 / (2 * lengthscale**2)`, so the
scikit-learn Gaussian-process kernels are built with `length_scale = 1/sqrt(2 gamma)`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.spatial.distance import pdist
from sklearn.gaussian_process.kernels import ExpSineSquared, Matern, RationalQuadratic
from sklearn.metrics import pairwise as skp

from core.kernels.gram import gram_jit
from tests.core.bounds import assert_within, kernel_error_bound, reference_kernel_error_bound
from core.kernels.functions import (
    KERNELS,
    default_params,
    linear_kernel,
    median_heuristic_gamma,
    product_kernel,
    rbf_kernel,
    sum_kernel,
)

GAMMA = 0.3
LENGTH = 1 / np.sqrt(2 * GAMMA)

# Non-default values, so a kernel that ignored a parameter would be caught.
PARAMS = {
    "rbf": dict(gamma=GAMMA),
    "laplacian": dict(gamma=GAMMA),
    "matern32": dict(gamma=GAMMA),
    "matern52": dict(gamma=GAMMA),
    "rational_quadratic": dict(gamma=GAMMA, alpha=2.5),
    "periodic": dict(gamma=GAMMA, period=1.7),
    "linear": dict(c=0.7),
    "polynomial": dict(gamma=GAMMA, coef0=1.5, degree=3),
}

# The closed forms, in float64: scikit-learn where it has the kernel, NumPy otherwise.
REFERENCES = {
    "rbf": lambda X, Y: skp.rbf_kernel(X, Y, gamma=GAMMA),
    "laplacian": lambda X, Y: skp.laplacian_kernel(X, Y, gamma=GAMMA),
    "matern32": lambda X, Y: Matern(length_scale=LENGTH, nu=1.5)(X, Y),
    "matern52": lambda X, Y: Matern(length_scale=LENGTH, nu=2.5)(X, Y),
    "rational_quadratic": lambda X, Y: RationalQuadratic(length_scale=LENGTH, alpha=2.5)(X, Y),
    "periodic": lambda X, Y: ExpSineSquared(length_scale=LENGTH, periodicity=1.7)(X, Y),
    "linear": lambda X, Y: X @ Y.T + 0.7,
    "polynomial": lambda X, Y: skp.polynomial_kernel(X, Y, degree=3, gamma=GAMMA, coef0=1.5),
}

STATIONARY = [name for name, spec in KERNELS.items() if spec.stationary]



def test_every_kernel_has_a_reference():
    assert set(KERNELS) == set(REFERENCES) == set(PARAMS)
    assert set(STATIONARY) == set(KERNELS) - {"linear", "polynomial"}


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_matches_closed_form(name, dtype, rng):
    X = rng.normal(size=(20, 3)).astype(dtype)
    Y = (rng.normal(size=(15, 3)) * 0.7).astype(dtype)
    ref = REFERENCES[name](X.astype(np.float64), Y.astype(np.float64))
    params = default_params(name, **PARAMS[name])
    with jax.enable_x64(dtype == "float64"):
        K = gram_jit(KERNELS[name].fn, params, X, Y)
    assert K.dtype == np.dtype(dtype)
    assert K.shape == (20, 15)
    # Each entry within its own forward-error bound (tests/core/bounds.py: per kernel,
    # from the data), plus the float64 reference's own bound.
    bound = (kernel_error_bound(name, params, X, Y, dtype)
             + reference_kernel_error_bound(name, params, X, Y))
    assert_within(K, ref, bound, name)


@pytest.mark.parametrize("name", STATIONARY)
def test_stationary_kernels_are_one_at_zero_distance_and_shift_invariant(name, rng):
    k = jax.jit(KERNELS[name].fn)
    params = default_params(name, **PARAMS[name])
    x, y, t = (rng.normal(size=4) for _ in range(3))
    with jax.enable_x64(True):
        assert float(k(params, x, x)) == 1.0
        np.testing.assert_allclose(float(k(params, x + t, y + t)), float(k(params, x, y)), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_gradients_match_finite_differences(name, rng):
    params = default_params(name, **PARAMS[name])
    # Distinct points with no coordinate in common (the Laplacian's |x_i - y_i|
    # has a kink there).
    x = rng.normal(size=3)
    y = x + rng.uniform(0.2, 0.6, size=3) * rng.choice([-1, 1], size=3)
    with jax.enable_x64(True):
        k = jax.jit(lambda x, y: KERNELS[name].fn(params, x, y))
        check_grads(k, (jnp.asarray(x), jnp.asarray(y)), order=1, modes=["rev"])


@pytest.mark.parametrize("name", STATIONARY)
def test_gradient_is_finite_at_zero_distance(name, dtype, rng):
    # x == y is every Gram diagonal; Matérn and periodic take a square root of the
    # squared distance there, whose naive gradient is NaN (see test_distances).
    params = default_params(name, **PARAMS[name])
    y = rng.normal(size=3).astype(dtype)
    with jax.enable_x64(dtype == "float64"):
        grad_x = jax.jit(jax.grad(KERNELS[name].fn, argnums=1))(params, jnp.asarray(y), jnp.asarray(y))
        grad_gamma = jax.jit(jax.grad(lambda p: KERNELS[name].fn(p, y, y)))(params)["gamma"]
    grad_x = np.asarray(grad_x)
    assert np.all(np.isfinite(grad_x))
    assert np.isfinite(float(grad_gamma))
    if name != "laplacian":  # smooth at 0 and symmetric: the maximum, a zero gradient
        np.testing.assert_array_equal(grad_x, 0)


@pytest.mark.parametrize("name", STATIONARY)
def test_gram_gradient_is_finite(name, rng):
    # What fitting gamma by gradient descent differentiates: a Gram matrix with its
    # zero-distance diagonal.
    X = jnp.asarray(rng.normal(size=(6, 2)), jnp.float32)
    spec = KERNELS[name]

    def total(X):
        return jnp.sum(gram_jit(spec.fn, default_params(name, **PARAMS[name]), X))

    assert np.all(np.isfinite(np.asarray(jax.jit(jax.grad(total))(X))))


def test_sum_and_product_kernels(rng):
    X = rng.normal(size=(7, 3)).astype(np.float32)
    Y = rng.normal(size=(5, 3)).astype(np.float32)
    p1, p2 = {"gamma": 0.4}, {"c": 1.5}
    both = {"k1": p1, "k2": p2}
    K1 = np.asarray(gram_jit(rbf_kernel, p1, X, Y))
    K2 = np.asarray(gram_jit(linear_kernel, p2, X, Y))
    # Each side computes K1 and K2 within their bounds e1, e2 (XLA may fuse the
    # composite differently) and rounds the sum or product once (u).
    e1 = kernel_error_bound("rbf", p1, X, Y, np.float32)
    e2 = kernel_error_bound("linear", p2, X, Y, np.float32)
    u = float(np.finfo(np.float32).eps) / 2
    assert_within(gram_jit(sum_kernel(rbf_kernel, linear_kernel), both, X, Y), K1 + K2,
                  2 * (e1 + e2) + 2 * u * np.abs(K1 + K2), "sum")
    assert_within(gram_jit(product_kernel(rbf_kernel, linear_kernel), both, X, Y), K1 * K2,
                  2 * (e1 * np.abs(K2) + e2 * np.abs(K1) + e1 * e2) + 2 * u * np.abs(K1 * K2), "product")


def test_default_params():
    for name, spec in KERNELS.items():
        params = default_params(name)
        assert set(params) == {p.name for p in spec.params}
        for p in spec.params:
            assert p.low <= params[p.name] <= p.high, (name, p.name)
    assert default_params("rbf", gamma=2.5) == {"gamma": 2.5}
    assert default_params("periodic", period=3.0)["period"] == 3.0


def test_default_params_rejects_unknown_parameter():
    with pytest.raises(ValueError, match="lengthscale"):
        default_params("rbf", lengthscale=2.0)
    with pytest.raises(ValueError, match="rbf"):
        default_params("rbf", gamma=1.0, alpha=2.0)


# --- median heuristic ---


def test_median_heuristic_matches_definition(rng):
    X = rng.normal(size=(30, 4)) * 2.0
    expected = 1.0 / (2.0 * np.median(pdist(X, "sqeuclidean")))
    gamma = median_heuristic_gamma(X)
    assert isinstance(gamma, float)
    assert gamma == pytest.approx(expected, rel=1e-12)
    # With it, the RBF Gram matrix's median off-diagonal entry is exp(-1/2).
    K = skp.rbf_kernel(X, gamma=gamma)
    assert np.median(K[np.triu_indices(30, k=1)]) == pytest.approx(np.exp(-0.5), rel=1e-9)


def test_median_heuristic_is_scale_covariant(rng):
    X = rng.normal(size=(25, 3))
    for c in (1e-3, 0.5, 7.0, 1e4):
        assert median_heuristic_gamma(c * X) == pytest.approx(median_heuristic_gamma(X) / c**2, rel=1e-12)


def test_median_heuristic_ignores_duplicate_points(rng):
    # Duplicates add zero distances; they must not shrink the lengthscale to 0.
    X = rng.normal(size=(20, 2))
    assert median_heuristic_gamma(np.vstack([X, X, X])) == pytest.approx(median_heuristic_gamma(X), rel=1e-12)


def test_median_heuristic_degenerate_data():
    assert median_heuristic_gamma(np.full((10, 3), 4.2)) == 1.0
    assert median_heuristic_gamma(np.ones((1, 3))) == 1.0
    assert median_heuristic_gamma(np.zeros((0, 3))) == 1.0


def test_median_heuristic_subsample_is_deterministic(rng):
    X = rng.normal(size=(600, 3))
    full = median_heuristic_gamma(X, max_points=600)
    assert full == pytest.approx(1.0 / (2.0 * np.median(pdist(X, "sqeuclidean"))), rel=1e-12)
    sub = median_heuristic_gamma(X, max_points=100)
    assert sub == median_heuristic_gamma(X, max_points=100)
    assert sub == median_heuristic_gamma(X.copy(), max_points=100, seed=0)
    assert sub != full  # a subsample really was taken ...
    assert sub == pytest.approx(full, rel=0.25)  # ... and it is representative
    assert median_heuristic_gamma(X, max_points=100, seed=1) != sub
