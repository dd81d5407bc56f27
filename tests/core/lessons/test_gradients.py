"""Tests of `core.lessons.gradients`: per-sample grads, kernel gradient fields, ds/dgamma."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from core.lessons.gradients import (
    compare_per_sample_grads,
    field_grid,
    finite_difference_step,
    gamma_range,
    gram_summary,
    kernel_gradient_field,
    kernel_values,
    rbf_gradient,
    regression_targets,
    summary_curve,
)
from core.kernels.functions import KERNELS, default_params, rbf_kernel
from core.precision import dtype_scope
from core.lessons.predict import init_params, per_sample_grads


@pytest.fixture
def points(rng):
    return rng.normal(size=(25, 2)) * 2


def _pairwise_d2(X):
    X = np.asarray(X, np.float64)
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    return d2[~np.eye(len(X), dtype=bool)]


# --- gradient field -------------------------------------------------------------------

def test_rbf_field_equals_the_closed_form(points, dtype, tol):
    grid = points.astype(dtype)
    center = grid[3]
    with dtype_scope(dtype):
        field = np.asarray(kernel_gradient_field(rbf_kernel, {"gamma": 0.4}, center, grid))
    assert field.shape == (25, 2) and field.dtype == np.dtype(dtype)
    np.testing.assert_allclose(field, rbf_gradient(0.4, center, grid), atol=20 * tol)


@pytest.mark.parametrize("name", ["rbf", "matern52", "rational_quadratic", "periodic", "polynomial"])
def test_field_equals_central_differences(name, points):
    params = default_params(name, gamma=0.3) if name != "linear" else default_params(name)
    center = points[0]
    grid = points[1:]  # away from the centre, where every kernel here is smooth
    with jax.enable_x64(True):
        field = np.asarray(kernel_gradient_field(KERNELS[name].fn, params, center, grid))
        h = 1e-6
        fd = np.stack([
            (np.asarray(kernel_values(KERNELS[name].fn, params, center, grid + h * e))
             - np.asarray(kernel_values(KERNELS[name].fn, params, center, grid - h * e))) / (2 * h)
            for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(field, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["rbf", "matern32", "matern52", "rational_quadratic", "periodic"])
def test_field_is_zero_and_finite_at_the_centre(name, points, dtype):
    # Matérn and periodic kernels take a square root of |x − c|²: its derivative is
    # infinite at the centre unless guarded, and the arrows there would be NaN.
    center = points[5].astype(dtype)
    grid = np.stack([center, points[6].astype(dtype)])
    with dtype_scope(dtype):
        field = np.asarray(kernel_gradient_field(KERNELS[name].fn, default_params(name), center, grid))
    assert np.all(np.isfinite(field))
    np.testing.assert_array_equal(field[0], 0.0)
    assert np.linalg.norm(field[1]) > 0


def test_field_points_towards_the_centre(points):
    center = points[0]
    field = np.asarray(kernel_gradient_field(rbf_kernel, {"gamma": 0.2}, center, points[1:]))
    towards = center - points[1:]
    assert np.all(np.sum(field * towards, axis=1) > 0)


def test_field_grid_covers_the_data_with_padding(points):
    xs, ys, grid = field_grid(points, 7, pad=0.1)
    assert xs.shape == (7,) and ys.shape == (7,) and grid.shape == (49, 2)
    assert xs[0] < points[:, 0].min() and xs[-1] > points[:, 0].max()
    assert ys[0] < points[:, 1].min() and ys[-1] > points[:, 1].max()
    np.testing.assert_array_equal(grid[:7, 0], xs)  # x varies fastest
    np.testing.assert_array_equal(grid[::7, 1], ys)


def test_field_grid_of_a_flat_dataset_still_spreads(points):
    flat = points.copy()
    flat[:, 1] = 2.5  # every point on one horizontal line: zero span in y
    _, ys, grid = field_grid(flat, 5)
    assert np.unique(ys).size == 5 and ys[0] < 2.5 < ys[-1]
    assert np.unique(grid, axis=0).shape[0] == 25


# --- ds/dgamma ------------------------------------------------------------------------

def test_summary_is_the_mean_off_diagonal_value(points):
    d2 = _pairwise_d2(points)
    with jax.enable_x64(True):
        s = float(gram_summary(rbf_kernel, {}, points, 0.3))
    np.testing.assert_allclose(s, np.mean(np.exp(-0.3 * d2)), rtol=1e-12)


@pytest.mark.parametrize("gamma", [1e-3, 0.05, 0.3, 4.0])
def test_summary_derivative_equals_the_analytic_formula_and_fd(points, gamma):
    d2 = _pairwise_d2(points)
    with jax.enable_x64(True):
        X = jnp.asarray(points)
        s, slope = (float(v) for v in jax.value_and_grad(
            lambda g: gram_summary(rbf_kernel, {}, X, g))(jnp.asarray(gamma, X.dtype)))
        h = finite_difference_step(gamma, np.float64)
        fd = (float(gram_summary(rbf_kernel, {}, points, gamma + h))
              - float(gram_summary(rbf_kernel, {}, points, gamma - h))) / (2 * h)
    analytic = -np.mean(d2 * np.exp(-gamma * d2))
    np.testing.assert_allclose(s, np.mean(np.exp(-gamma * d2)), rtol=1e-12)
    np.testing.assert_allclose(slope, analytic, rtol=1e-10)
    np.testing.assert_allclose(fd, analytic, rtol=1e-6)


def test_summary_curve_matches_the_analytic_derivative(points, dtype):
    gammas = gamma_range(0.1, 0.1, decades=2, per_decade=4)
    X = points.astype(dtype)
    d2 = _pairwise_d2(X)
    analytic = np.array([-np.mean(d2 * np.exp(-g * d2)) for g in gammas])
    with dtype_scope(dtype):
        curve = summary_curve(rbf_kernel, {"gamma": 123.0}, X, gammas)  # its gamma is replaced
    assert curve.values.shape == curve.derivative.shape == gammas.shape
    assert curve.n_used == 25
    scale = np.max(np.abs(analytic))
    rtol = {"float32": 1e-5, "float64": 1e-12}[dtype]
    assert np.max(np.abs(curve.derivative - analytic)) <= rtol * scale
    assert curve.max_relative_gap < {"float32": 1e-2, "float64": 1e-7}[dtype]
    assert np.all(np.diff(curve.values) < 0)  # larger gamma, smaller kernel values


def test_finite_difference_step_is_relative_to_gamma(rng):
    # float32 data with d² ~ 100 at small gamma: a fixed step ε^(1/3) ≈ 5e-3 is 50× gamma
    # and the difference quotient is off by ~40% (curvature); a step relative to gamma
    # keeps it within round-off.
    X = (rng.normal(size=(40, 2)) * 6).astype(np.float32)
    d2 = _pairwise_d2(X)
    gammas = np.array([1e-4, 3e-4, 1e-3])
    analytic = np.array([-np.mean(d2 * np.exp(-g * d2)) for g in gammas])
    curve = summary_curve(rbf_kernel, {}, X, gammas)
    np.testing.assert_allclose(curve.finite_difference, analytic, rtol=1e-3)
    np.testing.assert_allclose(finite_difference_step(gammas, np.float32),
                               gammas * np.finfo(np.float32).eps ** (1 / 3))


def test_summary_curve_subsamples_large_data_reproducibly(rng):
    X = rng.normal(size=(50, 3)).astype(np.float32)
    a = summary_curve(rbf_kernel, {}, X, np.array([0.1, 1.0]), max_points=20, seed=1)
    b = summary_curve(rbf_kernel, {}, X, np.array([0.1, 1.0]), max_points=20, seed=1)
    assert a.n_used == 20
    np.testing.assert_array_equal(a.values, b.values)


def test_summary_curve_keeps_an_integer_degree(rng):
    # A polynomial kernel with a negative base: x ** 3 is fine, x ** 3.0 traced as a
    # float exponent would still be, but its gamma-derivative must stay finite.
    X = rng.normal(size=(12, 2)).astype(np.float32)
    curve = summary_curve(KERNELS["polynomial"].fn, default_params("polynomial", coef0=0.0),
                          X, np.array([0.5, 1.0, 2.0]))
    assert np.all(np.isfinite(curve.derivative))
    assert curve.max_relative_gap < 1e-2


def test_gamma_range_includes_the_current_gamma():
    g = gamma_range(0.01, 0.01)
    assert g[0] == pytest.approx(1e-5) and g[-1] == pytest.approx(10.0) and np.all(np.diff(g) > 0)
    far = gamma_range(0.01, 1e3)
    assert far[0] <= 1e3 <= far[-1]


# --- per-sample gradients --------------------------------------------------------------

def test_regression_targets_from_labels():
    X = np.zeros((6, 2), np.float32)
    t, text = regression_targets(X, np.array([0, 1, 2, 0, 1, 2]))
    np.testing.assert_array_equal(t, [-1, 1, 1, -1, 1, 1])
    assert t.dtype == np.float32 and "±1" in text


@pytest.mark.parametrize("labels", [None, np.zeros(30, int)])
def test_regression_targets_without_labels_are_seeded_and_bounded(rng, labels):
    X = rng.normal(size=(30, 3))
    t1, text = regression_targets(X, labels, seed=4)
    t2, _ = regression_targets(X, labels, seed=4)
    t3, _ = regression_targets(X, labels, seed=5)
    np.testing.assert_array_equal(t1, t2)
    assert not np.array_equal(t1, t3)
    assert np.all(np.abs(t1) < 1) and np.std(t1) > 0.1 and "seed 4" in text


def test_regression_targets_with_a_constant_column_are_finite(rng):
    X = rng.normal(size=(20, 3))
    X[:, 1] = 7.0  # std 0: standardising would divide by zero
    t, _ = regression_targets(X, None)
    assert np.all(np.isfinite(t))


def test_per_sample_grads_loop_equals_vmap(rng):
    X = rng.normal(size=(15, 3)).astype(np.float32)
    targets, _ = regression_targets(X, None)
    params = init_params(3, seed=2)
    seen = []
    out = compare_per_sample_grads(params, X, targets, loop_rows=6, budget_s=0.05,
                                   on_progress=lambda f, _: seen.append(f))
    assert out.rows == 6
    assert out.agrees and out.max_abs_diff <= 1e-6
    assert out.vmap_jit.compile_s > 0 and out.speedup > 0
    # Like with like: compiled against compiled, eager against eager.
    assert out.speedup == out.loop_jit.median_s / out.vmap_jit.median_s
    assert out.speedup_eager == out.loop.median_s / out.vmap.median_s
    assert out.loop_jit.compile_s is None and out.loop_jit.first_call_s is not None
    ratio, low, high = out.speedup_interval
    assert ratio == out.speedup and low <= ratio <= high
    dw, db = per_sample_grads(params, X, targets)
    expected = np.sqrt(np.sum(np.asarray(dw, np.float64) ** 2, axis=1) + np.asarray(db, np.float64) ** 2)
    assert out.norms.shape == (15,)  # every row, not only the looped ones
    # Compiled against eager float32: equal up to round-off of the largest norm.
    np.testing.assert_allclose(out.norms, expected, rtol=1e-5, atol=1e-5 * expected.max())
    w, b = params
    np.testing.assert_allclose(out.residuals, np.tanh(X @ np.asarray(w) + float(b)) - targets,
                               rtol=1e-5, atol=1e-6)
    assert seen[0] == 0.0 and seen[-1] == 1.0


def test_per_sample_grads_match_the_closed_form(rng):
    # d/dw (tanh(w·x + b) − t)² = 2 (p − t)(1 − p²) x: what vmap(grad) must give.
    X = rng.normal(size=(8, 2))
    t = rng.uniform(-1, 1, size=8)
    with jax.enable_x64(True):
        params = init_params(2, seed=0, dtype=np.float64)
        dw, db = per_sample_grads(params, jnp.asarray(X), jnp.asarray(t))
    w, b = (np.asarray(p) for p in params)
    p = np.tanh(X @ w + b)
    coef = 2 * (p - t) * (1 - p**2)
    np.testing.assert_allclose(np.asarray(dw), coef[:, None] * X, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(db), coef, rtol=1e-12)


def test_loop_of_jit_grad_equals_vmap_grad_and_the_per_sample_formula(rng):
    from core.lessons.predict import per_sample_grads_loop_jit

    X = rng.normal(size=(12, 3)).astype(np.float32)
    t = np.tanh(rng.normal(size=12)).astype(np.float32)
    params = init_params(3, seed=4)
    dw, db = per_sample_grads_loop_jit(params, X, t)
    w, b = (np.asarray(p, np.float64) for p in params)
    # d/dw (tanh(w·x + b) − t)² = 2 (tanh z − t)(1 − tanh² z) x, by hand in float64.
    z = np.tanh(X.astype(np.float64) @ w + b)
    g = 2 * (z - t) * (1 - z**2)
    np.testing.assert_allclose(np.asarray(db), g, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(dw), g[:, None] * X, rtol=1e-5, atol=1e-6)
    vdw, vdb = per_sample_grads(params, X, t)
    np.testing.assert_allclose(np.asarray(dw), np.asarray(vdw), rtol=1e-6, atol=1e-7)


def test_laplacian_gradient_at_its_centre_is_a_subgradient_not_zero():
    # The Gradients page: "The Laplacian kernel has a kink at c: there grad returns one
    # of its subgradients, not zero." exp(-γ|x − c|₁) has |x_j − c_j| with a kink at 0;
    # jnp.abs' derivative there is taken as sign(0) + 1 = 1 per axis, so -γ·1 per axis,
    # inside the subdifferential [-γ, γ] of each axis.
    c = np.array([0.3, -0.2], np.float32)
    g = np.asarray(kernel_gradient_field(KERNELS["laplacian"].fn, {"gamma": 0.7}, c, c[None]))[0]
    assert np.any(g != 0)
    assert np.all(np.abs(g) <= 0.7 * (1 + 1e-6))
    # The smooth RBF kernel's gradient does vanish there.
    r = np.asarray(kernel_gradient_field(rbf_kernel, {"gamma": 0.7}, c, c[None]))[0]
    np.testing.assert_array_equal(r, 0)


def test_in_float32_it_is_the_finite_difference_that_is_off_not_grad(points):
    # The Gradients page's caption: at small gamma, float32 grad and FD disagree because
    # FD subtracts two numbers near 1; grad agrees with the float64 truth.
    gammas = np.logspace(-4, -2, 5)
    with jax.enable_x64(True):
        truth = summary_curve(rbf_kernel, {}, points.astype(np.float64), gammas)
    f32 = summary_curve(rbf_kernel, {}, points.astype(np.float32), gammas.astype(np.float32))
    scale = np.max(np.abs(truth.derivative))
    grad_err = np.max(np.abs(f32.derivative - truth.derivative)) / scale
    fd_err = np.max(np.abs(f32.finite_difference - truth.derivative)) / scale
    assert grad_err < 1e-5 and fd_err > 10 * grad_err
