"""Tests of `core.kernels.numerics`: each hazard of the expansion, guarded once.

Each test shows the hazard first (what a user would see without the guard), then
that the guard removes it. References are float64 NumPy/SciPy on the very values
given. Bounds come from the error analysis of the expansion with the dtype's unit
round-off u: `|x|² + |y|² - 2 x·y` rounds three sums of at most D + 1 terms, each
of size at most (|x| + |y|)², so its absolute error is at most
(D + 2)·u·(|x| + |y|)² (Higham, Accuracy and Stability, section 3.1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from core.kernels.distances import sqdist_numpy
from core.kernels.numerics import augmented_factors, clip_at_zero, shared_shift
from core.precision import dtype_scope


def _u(dtype) -> float:
    return np.finfo(dtype).eps / 2


def _expansion_bound(X, Y, dtype) -> float:
    """(D + 2)·u·max (|x| + |y|)²: the expansion's worst absolute error on these points."""
    nx = np.linalg.norm(np.asarray(X, np.float64), axis=1)
    ny = np.linalg.norm(np.asarray(Y, np.float64), axis=1)
    return (X.shape[1] + 2) * _u(dtype) * (nx.max() + ny.max()) ** 2


def _far(rng, n, d, dtype, offset=1e4):
    return (rng.normal(size=(n, d)) + offset).astype(dtype)


# --- shared_shift ---------------------------------------------------------------


def test_shared_shift_makes_the_expansion_accurate_far_from_the_origin(rng):
    X, Y = _far(rng, 60, 3, np.float32), _far(rng, 40, 3, np.float32)
    exact = cdist(X.astype(np.float64), Y.astype(np.float64), "sqeuclidean")
    # The hazard: at 1e4 the squares are 3e8, spaced 32 apart in float32, so the
    # plain expansion's d² (about 6 here) is noise.
    assert np.max(np.abs(sqdist_numpy(X, Y) - exact)) > 1.0
    Xc, Yc = shared_shift(X, Y)
    # After the shift the bound is that of points near the origin; the shift itself
    # rounds each coordinate once at most (u·|x - c|), which is inside it.
    bound = _expansion_bound(Xc, Yc, np.float32) * 2
    assert bound < 1e-3
    assert np.max(np.abs(sqdist_numpy(Xc, Yc) - exact)) <= bound


def test_shared_shift_is_one_float64_mean_rounded_once(rng, dtype):
    X, Y = _far(rng, 50, 4, dtype), _far(rng, 30, 4, dtype, offset=-3e3)
    Xc, Yc = shared_shift(X, Y)
    center = ((X.astype(np.float64).sum(0) + Y.astype(np.float64).sum(0)) / 80).astype(dtype)
    assert Xc.dtype == Yc.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(Xc, X - center)
    np.testing.assert_array_equal(Yc, Y - center)


def test_shared_shift_moves_x_and_y_by_exactly_the_same_vector(rng):
    # The distances survive the shift only if both sides move by the same vector: a
    # point present in X and in Y must land on the same shifted point, bit for bit,
    # or its distance to itself is no longer 0 (2e-2 at offset 1e5 when each side
    # rounded its own copy of the mean).
    X = _far(rng, 31, 2, np.float32, offset=1e5)
    Y = np.concatenate([X[::-1], _far(rng, 9, 2, np.float32, offset=1e5)])
    Xc, Yc = shared_shift(X, Y)
    np.testing.assert_array_equal(Yc[:31], Xc[::-1])
    same_x, same_y = shared_shift(X)
    assert same_y is same_x  # Y = X: one array, so K(X, X) is symmetric


def test_shared_shift_sums_in_float64(rng):
    # A float32 sum of 2^20 coordinates near 1e4 would be off by far more than the
    # spread of the data; the float64 sum is exact to float32's last bit.
    X = (rng.normal(size=(1 << 20, 1)) * 1e-2 + 1e4).astype(np.float32)
    Xc, _ = shared_shift(X)
    mean64 = X.astype(np.float64).mean()
    assert abs(float(np.float32(mean64)) - float((X - Xc)[0, 0])) == 0.0
    assert abs(float(Xc.astype(np.float64).mean())) <= np.spacing(np.float32(1e4))


# --- augmented_factors -----------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "jax.jit"])
def test_augmented_factors_give_the_exponent(dtype, rng, backend):
    X, Y = _far(rng, 30, 4, dtype, 100.0), _far(rng, 20, 4, dtype, 100.0)
    gamma = np.asarray(0.5, dtype)
    Xc, Yc = shared_shift(X, Y)
    if backend == "numpy":
        A, B = augmented_factors(Xc, Yc, gamma)
        product = A @ B
    else:
        with dtype_scope(dtype):
            A, B = jax.jit(augmented_factors)(Xc, Yc, gamma)
            product = np.asarray(jnp.dot(A, B, precision=jax.lax.Precision.HIGHEST))
    assert A.shape == (30, 6) and B.shape == (6, 20) and A.dtype == B.dtype == np.dtype(dtype)
    expected = -0.5 * cdist(X.astype(np.float64), Y.astype(np.float64), "sqeuclidean")
    # The product rounds D + 2 terms of size at most γ(|x| + |y|)² (one more than the
    # expansion), the factors γ|x|² and 2γy one rounding each, the shift one more.
    bound = 0.5 * (_expansion_bound(Xc, Yc, dtype) + 3 * _u(dtype) * (
        np.linalg.norm(Xc, axis=1).max() + np.linalg.norm(Yc, axis=1).max()) ** 2)
    np.testing.assert_allclose(product, expected, rtol=0, atol=bound)


def test_augmented_factors_put_2_gamma_on_y(rng):
    # One convention for every caller (the tiled NumPy form and the block engine),
    # so both round the product the same way.
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    A, B = augmented_factors(X, Y, 0.25)
    np.testing.assert_array_equal(A[:, :3], X)
    np.testing.assert_array_equal(B[:3], 0.5 * Y.T)
    np.testing.assert_array_equal(A[:, 4], 1.0)
    np.testing.assert_array_equal(B[3], 1.0)


# --- clip_at_zero ------------------------------------------------------------------


def _far_sqdist(rng):
    # float32 points 1e4 from the origin, 1 apart: the expansion's round-off (about
    # 32, the spacing of its 3e8-sized squares) swamps distances of about 6, so
    # many come out negative: under a square root NaN, under exp(-γ d²) K above 1.
    X = _far(rng, 200, 3, np.float32)
    return X, sqdist_numpy(X, X)


# Round-off left on a diagonal (whether the expansion leaves it depends on how the
# CPU rounds the two dot products), and a negative entry, by hand.
RAW = np.array([[3e-6, -2e-6, 5.0], [-2e-6, -1e-6, 4.0]], np.float32)


def test_clip_at_zero_numpy(rng):
    X, raw = _far_sqdist(rng)
    assert raw.min() < 0  # the hazard
    ids = np.arange(len(X))
    d2 = clip_at_zero(raw.copy(), self_pairs=(ids, ids))
    assert d2.min() == 0 and np.all(np.diag(d2) == 0)
    off = ~np.eye(len(X), dtype=bool)
    np.testing.assert_array_equal(d2[off], np.maximum(raw, 0)[off])  # nothing else moves
    assert np.exp(-0.5 * d2).max() == 1.0
    rows, cols = np.arange(2), np.arange(3)
    np.testing.assert_array_equal(clip_at_zero(RAW.copy(), self_pairs=(rows, cols)),
                                  [[0, 0, 5], [0, 0, 4]])
    np.testing.assert_array_equal(clip_at_zero(RAW.copy()), np.array([[3e-6, 0, 5], [0, 0, 4]], np.float32))


def test_clip_at_zero_exponents_under_jit(rng):
    X, raw = _far_sqdist(rng)
    exponent = -0.5 * raw
    assert exponent.max() > 0  # the hazard: K above 1
    ids = jnp.arange(len(X))
    clip = jax.jit(lambda e: clip_at_zero(e, exponent=True, self_pairs=(ids, ids)))
    clipped = np.asarray(clip(exponent))
    assert clipped.max() == 0 and np.all(np.diag(clipped) == 0)
    K = np.exp(clipped)
    assert K.max() == 1.0 and np.all(np.diag(K) == 1.0)
    rows, cols = jnp.arange(2), jnp.arange(3)
    clipped = jax.jit(lambda e: clip_at_zero(e, exponent=True, self_pairs=(rows, cols)))(-RAW)
    np.testing.assert_array_equal(np.asarray(clipped), [[0, 0, -5], [0, 0, -4]])
    # Without self pairs (K(X, Y)) only the sign is clipped.
    np.testing.assert_array_equal(np.asarray(clip_at_zero(jnp.asarray(-RAW), exponent=True)),
                                  np.minimum(-RAW, 0))
