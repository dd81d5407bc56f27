"""Tests of `core.kernels.distances`: every pairwise method against scikit-learn and SciPy.

Tolerances are relative to the *squared scale* of the data (the largest squared
distance in the reference matrix): a squared distance is a sum of D squares, so its
round-off grows with the size of those squares, not with the entry compared. An
entry near 0 can only be as exact as the largest entries allow.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import cdist
from sklearn.datasets import load_iris, load_wine
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.preprocessing import StandardScaler

from core.kernels.numerics import shared_shift
from core.kernels.distances import (
    DISTANCE_METHODS,
    pairwise_sqeuclidean,
    pairwise_sqeuclidean_jax,
    safe_sqrt,
    sqeuclidean_distances,
)

# float32 far from the origin: the direct forms subtract coordinates first (exact
# for nearby float32 numbers), the expansion XX + YY - 2XY subtracts squares of
# about 3e8 whose float32 spacing is 32, so its result is noise of that size.
ACCURATE_FAR_FROM_ORIGIN = {"vmap", "broadcast", "centered", "sklearn", "scipy"}
CANCELS_FAR_FROM_ORIGIN = {"einsum", "dot", "numpy"}
EXPANSIONS = sorted(CANCELS_FAR_FROM_ORIGIN)  # the forms that need clipping

# A bound from the error analysis, per dtype, never a measurement on one CPU.
# With u the unit round-off (2^-24 in float32, 2^-53 in float64), the expansion
# |x|² + |y|² - 2 x·y rounds three dot products of D terms and two sums, each of
# size at most (|x| + |y|)²: its error is at most (D + 2)·u·(|x| + |y|)² (Higham,
# Accuracy and Stability of Numerical Algorithms, eq. 3.5, in any summation order,
# with or without FMA). The direct forms round D differences, squares and a sum of
# size d² <= (|x| + |y|)²: less. "centered" is the expansion of points shifted by
# c, each coordinate rounded once more. Two spare units cover the final rounding
# of a float64 peer to float32 and that of a square root.


def _bound(X: np.ndarray, Y: np.ndarray | None = None) -> float:
    """Largest absolute error any method may make on d²(X, Y) in X's dtype."""
    u = np.finfo(X.dtype).eps / 2
    X64 = np.asarray(X, np.float64)
    Y64 = X64 if Y is None else np.asarray(Y, np.float64)
    c = np.concatenate([X64, Y64]).mean(axis=0)
    size = max((np.linalg.norm(X64, axis=1).max() + np.linalg.norm(Y64, axis=1).max()) ** 2,
               (np.linalg.norm(X64 - c, axis=1).max() + np.linalg.norm(Y64 - c, axis=1).max()) ** 2)
    return (X.shape[1] + 4) * u * size


def _standardized(loader) -> np.ndarray:
    return StandardScaler().fit_transform(loader().data)


DATASETS = {
    "random": lambda: np.random.default_rng(0).normal(size=(40, 3)) * 3.0 + 0.5,
    "iris": lambda: _standardized(load_iris),
    "wine": lambda: _standardized(load_wine),
}


def _reference(X: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
    """Squared distances in float64 of exactly the values given (no input rounding)."""
    X = np.asarray(X, np.float64)
    Y = X if Y is None else np.asarray(Y, np.float64)
    return cdist(X, Y, "sqeuclidean")


def _max_error(got: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(got.astype(np.float64) - ref)))


def test_every_method_is_classified_for_float32_far_from_origin():
    # A method added to the registry must be placed in one class, so that the
    # precision test below covers it.
    assert set(DISTANCE_METHODS) == ACCURATE_FAR_FROM_ORIGIN | CANCELS_FAR_FROM_ORIGIN


@pytest.mark.parametrize("data", sorted(DATASETS))
@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_matches_sklearn_and_scipy(method, data, dtype):
    X = DATASETS[data]().astype(dtype)
    # Both references in float64 on the (possibly float32-rounded) inputs: what is
    # measured is the method's own round-off, not the rounding of the data.
    X64 = X.astype(np.float64)
    ref_scipy = cdist(X64, X64, "sqeuclidean")
    ref_sklearn = euclidean_distances(X64, squared=True)
    got = pairwise_sqeuclidean(X, method=method)
    assert got.shape == (len(X), len(X))
    assert _max_error(got, ref_scipy) <= _bound(X)
    assert _max_error(got, ref_sklearn) <= _bound(X) + _bound(X64)  # sklearn's own round-off


@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_rectangular_y_matches_scipy(method, dtype, rng):
    X = rng.normal(size=(13, 4)).astype(dtype)
    Y = (rng.normal(size=(7, 4)) + 1.0).astype(dtype)
    got = pairwise_sqeuclidean(X, Y, method=method)
    ref = _reference(X, Y)
    assert got.shape == (13, 7)
    assert _max_error(got, ref) <= _bound(X, Y)
    # And the other way round: (7, 13), the transpose up to round-off.
    back = pairwise_sqeuclidean(Y, X, method=method)
    assert back.shape == (7, 13)
    assert _max_error(back.T, ref) <= _bound(X, Y)


@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_y_none_is_symmetric_with_exactly_zero_diagonal(method, dtype, rng):
    # Offset data: the expansions leave round-off on the diagonal, which would
    # show up as RBF diagonals below 1; Y=None must remove it.
    X = (rng.normal(size=(25, 3)) + 5.0).astype(dtype)
    d = pairwise_sqeuclidean(X, method=method)
    assert np.all(np.diag(d) == 0)
    np.testing.assert_allclose(d, d.T, rtol=0, atol=2 * _bound(X))  # each side within _bound
    assert np.min(d) >= 0


@pytest.mark.parametrize("method", ["einsum", "dot", "centered"])
def test_y_none_removes_the_expansions_diagonal_roundoff(method, rng):
    # Why Y=None zeroes the diagonal: the expansion may leave round-off there (up to
    # its bound; 1.5e-5 for einsum/dot, 9.5e-7 for centered at offset 5 on a CPU
    # with FMA), which an RBF Gram matrix shows as diagonal entries below 1. Whether
    # it does depends on the CPU: without FMA (XLA_FLAGS=--xla_cpu_max_isa=SSE4_2)
    # both dot products round alike and leave 0. So: at most the bound, and exactly
    # 0 after. tests/core/kernels/test_numerics.py shows the guard on a fixed residue.
    X = (rng.normal(size=(25, 3)) + 5.0).astype(np.float32)
    raw = pairwise_sqeuclidean(X, method=method, clip=False)
    assert np.all(np.abs(np.diag(raw)) <= _bound(X))
    assert np.all(np.diag(pairwise_sqeuclidean(X, method=method)) == 0)


@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_output_dtype_follows_input(method):
    # float64 in -> float64 out even with JAX's x64 mode off globally (the default),
    # and computed in float64: the error is at float64 level, not float32's.
    X = np.random.default_rng(3).normal(size=(9, 3))
    ref = _reference(X)
    got64 = pairwise_sqeuclidean(X, method=method)
    assert got64.dtype == np.float64
    assert _max_error(got64, ref) <= _bound(X)
    got32 = pairwise_sqeuclidean(X.astype(np.float32), method=method)
    assert got32.dtype == np.float32
    # Integers compute in float32; an explicit dtype wins over the input's.
    assert pairwise_sqeuclidean(np.arange(6).reshape(3, 2), method=method).dtype == np.float32
    assert pairwise_sqeuclidean(X.astype(np.float32), method=method, dtype="float64").dtype == np.float64
    assert pairwise_sqeuclidean(X, method=method, dtype="float32").dtype == np.float32


def test_jax_x64_mode_is_left_as_it_was():
    # Asking for float64 must not switch x64 on for the rest of the process.
    before = jax.config.jax_enable_x64
    pairwise_sqeuclidean(np.ones((3, 2)), method="vmap")
    assert jax.config.jax_enable_x64 == before
    assert jnp.zeros(1, dtype=float).dtype == (np.float64 if before else np.float32)


@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_unsquared_is_sqrt_of_squared(method, dtype, rng):
    X = rng.normal(size=(11, 3)).astype(dtype)
    Y = rng.normal(size=(6, 3)).astype(dtype)
    d2 = pairwise_sqeuclidean(X, Y, method=method)
    d = pairwise_sqeuclidean(X, Y, method=method, squared=False)
    assert d.dtype == np.dtype(dtype)
    # The same d² under a square root: one rounding (2 units of u, relative).
    np.testing.assert_allclose(d, np.sqrt(d2), rtol=2 * np.finfo(dtype).eps, atol=0)
    # And against the true distances. An error e in a squared distance moves its
    # root by at most sqrt(e), so that is the bound _bound implies.
    ref = _reference(X, Y)
    np.testing.assert_allclose(d, np.sqrt(ref), rtol=0, atol=np.sqrt(_bound(X, Y)))


def test_unsquared_y_none_has_zero_diagonal(dtype, rng):
    X = rng.normal(size=(8, 3)).astype(dtype)
    d = pairwise_sqeuclidean(X, squared=False)
    assert np.all(np.diag(d) == 0)
    assert np.all(np.isfinite(d))


# --- the gradient of the square root at zero distance ---


def _total_distance(X, squared_root):
    def f(X):
        # The vmap form gives exactly 0 on the diagonal (x - x == 0).
        return jnp.sum(squared_root(pairwise_sqeuclidean_jax(X, X, method="vmap", squared=True)))
    return f


def test_naive_sqrt_gradient_is_nan_at_zero_distance():
    # Why safe_sqrt exists: sqrt'(0) is infinite, and the chain rule multiplies it
    # by d(r2)/dX = 0 on the diagonal: inf * 0 = NaN, which poisons every gradient step.
    X = jnp.asarray(np.random.default_rng(0).normal(size=(4, 2)), jnp.float32)
    grad = jax.jit(jax.grad(_total_distance(X, jnp.sqrt)))(X)
    assert np.any(np.isnan(np.asarray(grad)))


def _unsquared_gradient_bound(X, expansion, same):
    """Per-row bound on the float32 error of d/dX_i sum_jk |x_j - x_k| (see below).

    Pairs j != i: a squared distance carries an absolute error of at most
    (D + 2)·u·(|x_i| + |x_j|)², u = 2^-24 (the expansion rounds |x|², |y|² and
    x·y, each at most that size; the direct forms round D differences and squares,
    which is less). r = sqrt(d²) and the gradient term 2 (x_i - x_j) / r (at most 2
    a coordinate) then carry that error over 2·d², plus a few u for the square root,
    the division and the backward pass. Each pair occurs twice in the sum over j, k.

    The diagonal, only for an expansion with same=False: x_i·x_i + x_i·x_i - 2 x_i·x_i
    may keep a round-off residue (which of them does depends on the CPU's
    instruction set: FMA and vector width change the rounding of the dot products).
    A nonzero residue is at least u·|x_i|², so r_ii >= sqrt(u)·|x_i| and the
    backward pass cancels terms of size 2|x_i| / (2 r_ii) <= 1 / sqrt(u) exactly
    in theory; in float32 four sums of N such terms leave up to 4·N·sqrt(u).
    """
    u = np.finfo(np.float32).eps / 2
    X = np.asarray(X, np.float64)
    n, d = X.shape
    norms = np.linalg.norm(X, axis=1)
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    np.fill_diagonal(d2, np.inf)  # no term for j == i
    delta = (d + 2) * u * (norms[:, None] + norms[None, :]) ** 2
    bound = 2 * np.sum(2 * (delta / (2 * d2) + 4 * u), axis=1)
    if expansion and not same:
        bound = bound + 4 * n * np.sqrt(u)
    return bound


@pytest.mark.parametrize("method", ["vmap", "broadcast", "einsum", "dot", "centered"])
def test_unsquared_gradient_is_finite_at_zero_distance(method):
    X = jnp.asarray(np.random.default_rng(0).normal(size=(4, 2)), jnp.float32)
    form = method
    if method == "centered":  # the dot form of points shifted on the host
        X, form = jnp.asarray(shared_shift(np.asarray(X))[0]), "dot"

    def total(X, same):
        return jnp.sum(pairwise_sqeuclidean_jax(X, X, method=form, squared=False, same=same))

    # The value of the gradient is right too: d/dX_i sum_jk |X_j - X_k| is
    # 2 * sum_j (X_i - X_j) / |X_i - X_j| over j != i.
    Xn = np.asarray(X, np.float64)
    diff = Xn[:, None, :] - Xn[None, :, :]
    r = np.linalg.norm(diff, axis=-1)
    np.fill_diagonal(r, np.inf)
    expected = 2 * np.sum(diff / r[..., None], axis=1)
    for same in (True, False):
        grad = np.asarray(jax.jit(jax.grad(total), static_argnums=1)(X, same))
        assert np.all(np.isfinite(grad)), (method, same)
        bound = _unsquared_gradient_bound(Xn, method in ("einsum", "dot", "centered"), same)
        error = np.max(np.abs(grad - expected), axis=1)
        assert np.all(error <= bound), (method, same, error, bound)


def test_safe_sqrt_value_and_gradient():
    r2 = jnp.asarray([0.0, 1e-30, 0.25, 4.0], jnp.float32)
    np.testing.assert_allclose(np.asarray(jax.jit(safe_sqrt)(r2)), np.sqrt(np.asarray(r2)), rtol=1e-7)
    g = np.asarray(jax.jit(jax.grad(lambda r2: jnp.sum(safe_sqrt(r2))))(r2))
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[2:], [1.0, 0.25], rtol=1e-6)  # 1 / (2 sqrt(r2))


# --- float32 far from the origin: clipping and cancellation ---


def _far_from_origin(n=200, d=3, offset=1e4, seed=0):
    """float32 points with unit spread around (offset, ..., offset)."""
    X = np.random.default_rng(seed).normal(size=(n, d)) + offset
    return X.astype(np.float32)


@pytest.mark.parametrize("method", EXPANSIONS)
def test_expansion_makes_negatives_that_clipping_removes(method):
    X = _far_from_origin()
    Y = _far_from_origin(n=50, seed=1)
    raw = pairwise_sqeuclidean(X, Y, method=method, clip=False)
    # Measured: about 1/3 of the 10,000 entries come out negative before clipping.
    assert np.sum(raw < 0) > 100
    clipped = pairwise_sqeuclidean(X, Y, method=method)
    assert np.min(clipped) >= 0
    np.testing.assert_array_equal(clipped, np.maximum(raw, 0))
    assert np.all(np.isfinite(pairwise_sqeuclidean(X, Y, method=method, squared=False)))


def test_unclipped_unsquared_is_refused():
    with pytest.raises(ValueError, match="squared=True"):
        pairwise_sqeuclidean(np.ones((2, 2)), method="dot", squared=False, clip=False)


@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_float32_far_from_origin(method):
    X = _far_from_origin()
    ref = _reference(X)  # float64 on the float32 points; spread² ~ 50
    err = np.max(np.abs(pairwise_sqeuclidean(X, method=method).astype(np.float64) - ref))
    if method in ACCURATE_FAR_FROM_ORIGIN:
        # Measured 2.9e-6 absolute, i.e. 6e-8 of the spread²: the same as near 0.
        assert err <= 2e-6 * ref.max()
    else:
        # Measured 64 (einsum, dot) and 127 (numpy): larger than the typical
        # distance (about 6) itself. Asserting > 1 leaves a wide margin.
        assert err > 1.0


# --- errors ---


@pytest.mark.parametrize("method", DISTANCE_METHODS)
def test_mismatched_feature_sizes_raise(method):
    with pytest.raises(ValueError, match="features"):
        pairwise_sqeuclidean(np.ones((3, 2)), np.ones((4, 3)), method=method)


def test_not_2d_raises():
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        pairwise_sqeuclidean(np.ones(3), np.ones((4, 3)))


def test_unknown_method_lists_methods():
    with pytest.raises(ValueError, match="nope") as info:
        pairwise_sqeuclidean(np.ones((2, 2)), method="nope")
    for method in DISTANCE_METHODS:
        assert method in str(info.value)


# --- the vector form ---


def test_vector_form_matches_numpy(rng):
    f = jax.jit(sqeuclidean_distances)
    for d in (1, 3, 17):
        x = rng.normal(size=d).astype(np.float32)
        y = rng.normal(size=d).astype(np.float32)
        got = f(x, y)
        assert got.shape == ()
        np.testing.assert_allclose(float(got), np.sum((x.astype(float) - y) ** 2), rtol=1e-6)
    with jax.enable_x64(True):
        x, y = rng.normal(size=5), rng.normal(size=5)
        got = f(x, y)
        assert got.dtype == np.float64
        np.testing.assert_allclose(float(got), np.sum((x - y) ** 2), rtol=1e-14)


# --- properties (fixed shapes, so each method compiles once) ---

_COORDS = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=64)
_POINTS = hnp.arrays(np.float64, (5, 3), elements=_COORDS)
_OTHER = hnp.arrays(np.float64, (4, 3), elements=_COORDS)
_PROPERTY = settings(max_examples=25, deadline=None)


def _prop_tol(*arrays) -> float:
    # Round-off of squared distances of float64 numbers of size s: a few eps * s².
    s = 1.0 + max(float(np.max(np.abs(a))) for a in arrays)
    return 1e-12 * s * s


@_PROPERTY
@given(X=_POINTS, Y=_OTHER)
def test_property_symmetric_and_nonnegative(X, Y):
    for method in DISTANCE_METHODS:
        dxy = pairwise_sqeuclidean(X, Y, method=method)
        dyx = pairwise_sqeuclidean(Y, X, method=method)
        np.testing.assert_allclose(dxy, dyx.T, rtol=0, atol=_prop_tol(X, Y), err_msg=method)
        assert np.min(dxy) >= 0, method
        assert np.min(pairwise_sqeuclidean(X, method=method)) >= 0, method
    # The direct forms are symmetric bit for bit: (x - y)² == (y - x)².
    np.testing.assert_array_equal(pairwise_sqeuclidean(X, Y), pairwise_sqeuclidean(Y, X).T)


@_PROPERTY
@given(X=_POINTS)
def test_property_zero_distance_to_itself(X):
    for method in DISTANCE_METHODS:
        assert np.all(np.diag(pairwise_sqeuclidean(X, method=method)) == 0), method
    # Without the Y=None shortcut the direct form still gives exact zeros: x - x == 0.
    assert np.all(np.diag(pairwise_sqeuclidean(X, X.copy(), method="vmap")) == 0)


@_PROPERTY
@given(X=_POINTS, Y=_OTHER, t=hnp.arrays(np.float64, (3,), elements=_COORDS))
def test_property_translation_invariance_of_vmap_form(X, Y, t):
    shifted = pairwise_sqeuclidean(X + t, Y + t, method="vmap")
    np.testing.assert_allclose(shifted, pairwise_sqeuclidean(X, Y, method="vmap"),
                               rtol=0, atol=_prop_tol(X, Y, t))


@_PROPERTY
@given(P=hnp.arrays(np.float64, (6, 3), elements=_COORDS))
def test_property_triangle_inequality_of_distances(P):
    d = pairwise_sqeuclidean(P, method="vmap", squared=False)
    # d[i, k] <= d[i, j] + d[j, k] for every triple (i, j, k).
    slack = d[:, :, None] + d[None, :, :] - d[:, None, :]
    assert np.min(slack) >= -1e-9 * (1.0 + np.max(d))
