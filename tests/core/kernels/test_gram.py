"""Tests of `core.kernels.gram`: Method I, Method II and the matrix product built from `vdot`."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.metrics.pairwise import rbf_kernel as sk_rbf

from tests.core.bounds import assert_within, kernel_error_bound, rbf_error_bound
from core.kernels.gram import covariance_matrix, gram, gram_jit, mv, vmap_matmul
from core.kernels.functions import KERNELS, default_params, rbf_kernel


def _params(name):
    return default_params(name, gamma=0.4) if "gamma" in default_params(name) else default_params(name)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_y_none_equals_y_is_x_and_is_symmetric(name, dtype, rng):
    X = rng.normal(size=(12, 3)).astype(dtype)
    with jax.enable_x64(dtype == "float64"):
        K = np.asarray(gram_jit(KERNELS[name].fn, _params(name), X))
        K_xx = np.asarray(gram_jit(KERNELS[name].fn, _params(name), X, X.copy()))
    assert K.dtype == np.dtype(dtype)
    assert K.shape == (12, 12)
    np.testing.assert_array_equal(K, K_xx)
    # k(x, y) == k(y, x) term by term ((x-y)² == (y-x)², x·y == y·x): exactly.
    np.testing.assert_array_equal(K, K.T)


def test_rectangular_shape_and_values(rng):
    X = rng.normal(size=(9, 4)).astype(np.float32)
    Y = rng.normal(size=(5, 4)).astype(np.float32)
    K = gram(rbf_kernel, {"gamma": 0.7}, X, Y)
    assert K.shape == (9, 5)
    np.testing.assert_allclose(np.asarray(K), sk_rbf(X.astype(float), Y.astype(float), gamma=0.7),
                               rtol=0, atol=rbf_error_bound(X, Y, 0.7, np.float32))
    assert gram(rbf_kernel, {"gamma": 0.7}, Y, X).shape == (5, 9)
    assert gram(rbf_kernel, {"gamma": 0.7}, X[:1], Y).shape == (1, 5)


def test_rbf_diagonal_is_exactly_one(dtype, rng):
    X = (rng.normal(size=(15, 3)) + 100.0).astype(dtype)  # far from 0: still exact
    with jax.enable_x64(dtype == "float64"):
        K = np.asarray(gram_jit(rbf_kernel, {"gamma": 2.0}, X))
    assert np.all(np.diag(K) == 1)
    assert np.all((K > 0) & (K <= 1))


@pytest.mark.parametrize("name", ["rbf", "laplacian", "matern32", "matern52", "rational_quadratic",
                                  "linear", "polynomial"])
def test_gram_is_positive_semidefinite(name, dtype, rng):
    # Clustered points make K nearly singular, so the smallest eigenvalue is about 0
    # and only round-off can push it below: at most N * eps * |K| in exact
    # arithmetic on the computed K (Weyl), with the max entry |K| as scale.
    # (The periodic kernel is left out: exp-sine-squared in more than one
    # dimension is not positive definite in general.)
    X = (rng.normal(size=(40, 2)) * 0.3).astype(dtype)
    with jax.enable_x64(dtype == "float64"):
        K = np.asarray(gram_jit(KERNELS[name].fn, _params(name), X))
    eps = np.finfo(dtype).eps
    smallest = np.linalg.eigvalsh(K.astype(np.float64))[0]
    assert smallest >= -10 * eps * len(X) * np.max(np.abs(K))


def test_jit_equals_eager(dtype, rng):
    X = rng.normal(size=(10, 3)).astype(dtype)
    Y = rng.normal(size=(7, 3)).astype(dtype)
    with jax.enable_x64(dtype == "float64"):
        for name, spec in KERNELS.items():
            eager = np.asarray(gram(spec.fn, _params(name), X, Y))
            compiled = np.asarray(gram_jit(spec.fn, _params(name), X, Y))
            assert compiled.dtype == eager.dtype == np.dtype(dtype)
            # XLA may fuse and reorder the compiled form (FMA, another sum order): each
            # side is within the kernel's forward-error bound of the exact value, so
            # they differ by at most twice it.
            bound = 2 * kernel_error_bound(name, _params(name), X, Y, dtype)
            assert_within(compiled, eager, bound, name)


def test_gram_jit_reuses_compilation_for_new_params(rng):
    # params are traced, only the kernel function is static: moving the gamma
    # slider must not compile again.
    X = rng.normal(size=(6, 2)).astype(np.float32)
    gram_jit(rbf_kernel, {"gamma": 0.1}, X)
    before = gram_jit._cache_size()
    K = [np.asarray(gram_jit(rbf_kernel, {"gamma": g}, X)) for g in (0.2, 3.0, 40.0)]
    assert gram_jit._cache_size() == before
    assert not np.allclose(K[0], K[1])  # the new gamma was really used


@pytest.mark.parametrize("jit", [False, True])
def test_method_two_equals_method_one(jit, rng):
    X = rng.normal(size=(11, 3)).astype(np.float32)
    Y = rng.normal(size=(4, 3)).astype(np.float32)
    params = {"gamma": 0.6}
    cov = partial(covariance_matrix, partial(rbf_kernel, params))
    cov = jax.jit(cov) if jit else cov
    for A, B in ((X, Y), (Y, X), (X, X)):
        C = np.asarray(cov(A, B))
        assert C.shape == (len(A), len(B))
        np.testing.assert_allclose(C, np.asarray(gram(rbf_kernel, params, A, B)), rtol=1e-6, atol=1e-7)


# --- the matrix product from vdot ---


@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 5, 1), (4, 1, 3), (3, 5, 2), (8, 6, 9), (1, 7, 4)])
def test_vmap_matmul_equals_matmul(shape, rng):
    n, k, m = shape
    A = rng.normal(size=(n, k)).astype(np.float32)
    B = rng.normal(size=(k, m)).astype(np.float32)
    C = vmap_matmul(A, B)
    assert C.shape == (n, m)
    np.testing.assert_allclose(np.asarray(C), A.astype(float) @ B.astype(float), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(jax.jit(vmap_matmul)(A, B)), np.asarray(C), rtol=1e-6, atol=1e-6)


def test_vmap_matmul_float64(rng):
    A, B = rng.normal(size=(4, 6)), rng.normal(size=(6, 3))
    with jax.enable_x64(True):
        C = vmap_matmul(A, B)
    assert C.dtype == np.float64
    np.testing.assert_allclose(np.asarray(C), A @ B, rtol=1e-13)


@pytest.mark.parametrize("a, b", [((3, 4), (3, 4)), ((2, 3), (4, 2)), ((3,), (3, 2)), ((2, 3), (3,)),
                                  ((2, 3, 1), (3, 2))])
def test_vmap_matmul_rejects_bad_shapes(a, b):
    with pytest.raises(ValueError, match="Cannot multiply shapes"):
        vmap_matmul(np.ones(a), np.ones(b))


def test_mv_equals_matrix_vector_product(rng):
    A = rng.normal(size=(6, 4)).astype(np.float32)
    v = rng.normal(size=4).astype(np.float32)
    out = jax.jit(mv)(A, v)
    assert out.shape == (6,)
    np.testing.assert_allclose(np.asarray(out), A.astype(float) @ v.astype(float), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(mv(jnp.asarray(A[:1]), v)), A[:1] @ v, rtol=1e-5, atol=1e-6)
