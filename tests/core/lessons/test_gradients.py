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
from tests.core.bounds import (
    assert_within,
    kernel_error_bound,
    polynomial_summary_bounds,
    rbf_summary_bounds,
    tanh_dot_error_bound,
    tanh_loss_grad_error_bound,
    unit_roundoff,
)


@pytest.fixture
def points(rng):
    return rng.normal(size=(25, 2)) * 2


def _pairwise_d2(X):
    X = np.asarray(X, np.float64)
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    return d2[~np.eye(len(X), dtype=bool)]


# --- gradient field -------------------------------------------------------------------

def _rbf_field_bound(center, grid, gamma, dtype):
    """Error of grad_x exp(-γ|x - c|²) = -2γ(x - c)·K in dtype, per entry (G, D).

    K within `kernel_error_bound`; the chain rule's x - c (u), γ's rounding, and
    the products 2 and K·(-γ)·2(x - c) (2u): 2γ|x - c|·(ΔK + 4u·K).
    """
    u = unit_roundoff(dtype)
    diff = np.abs(np.asarray(grid, np.float64) - np.asarray(center, np.float64))
    K = np.exp(-gamma * np.sum(diff**2, axis=1))
    dK = kernel_error_bound("rbf", {"gamma": gamma}, grid, np.asarray(center)[None], dtype)[:, 0]
    return 2 * gamma * diff * (dK + 4 * u * K)[:, None]


def test_rbf_field_equals_the_closed_form(points, dtype):
    grid = points.astype(dtype)
    center = grid[3]
    with dtype_scope(dtype):
        field = np.asarray(kernel_gradient_field(rbf_kernel, {"gamma": 0.4}, center, grid))
    assert field.shape == (25, 2) and field.dtype == np.dtype(dtype)
    # Plus the float64 closed form's own error (the same analysis in float64).
    bound = _rbf_field_bound(center, grid, 0.4, dtype) + _rbf_field_bound(center, grid, 0.4, np.float64)
    assert_within(field, rbf_gradient(0.4, center, grid), bound, "field")


@pytest.mark.parametrize("name", ["rbf", "matern52", "rational_quadratic", "periodic", "polynomial"])
def test_field_equals_central_differences(name, points):
    params = default_params(name, gamma=0.3) if name != "linear" else default_params(name)
    center = points[0]
    grid = points[1:]  # away from the centre, where every kernel here is smooth
    k = KERNELS[name].fn
    h = 1e-6
    with jax.enable_x64(True):
        field = np.asarray(kernel_gradient_field(k, params, center, grid))
        fd = np.stack([
            (np.asarray(kernel_values(k, params, center, grid + h * e))
             - np.asarray(kernel_values(k, params, center, grid - h * e))) / (2 * h)
            for e in np.eye(2)], axis=1)

        def along(x, e):  # third derivative along axis e at x, by autodiff
            return jax.grad(jax.grad(jax.grad(lambda t: k(params, x + t * e, center))))(0.0)

        third = np.stack([np.asarray(jax.vmap(along, in_axes=(0, None))(grid, e)) for e in np.eye(2)], 1)
    # Central difference in float64: truncation h²/6·|k‴| (k‴ moves by O(h·k⁗) over
    # [x - h, x + h], h = 1e-6: twice its value at x covers it); each value within
    # `kernel_error_bound`, over 2h; x ± h·e rounded, so the step taken is off by
    # |(x⁺ - x⁻) - 2h|, times the slope; the grad's own error (a few of the same
    # roundings) within one more value bound.
    err = {}
    for sign in (1, -1):
        err[sign] = np.stack([kernel_error_bound(name, params, grid + sign * h * e, center[None],
                                                 np.float64)[:, 0] for e in np.eye(2)], axis=1)
    steps = np.stack([(grid + h * e)[:, i] - (grid - h * e)[:, i] for i, e in enumerate(np.eye(2))], 1)
    bound = (h * h / 3 * np.abs(third) + (err[1] + err[-1]) / (2 * h) + err[1]
             + np.abs(field) * np.abs(steps - 2 * h) / (2 * h))
    assert_within(field, fd, bound, name)


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
    # Both sides sum the same entries in float64: twice the summary's bound.
    bound = 2 * rbf_summary_bounds(points, [0.3], np.float64)["value"][0]
    assert abs(s - np.mean(np.exp(-0.3 * d2))) <= bound


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
    b = rbf_summary_bounds(points, [gamma], np.float64)  # the NumPy side: within as much again
    assert abs(s - np.mean(np.exp(-gamma * d2))) <= 2 * b["value"][0]
    assert abs(slope - analytic) <= 2 * b["slope"][0]
    assert abs(fd - analytic) <= b["fd"][0] + b["slope"][0]


def test_summary_curve_matches_the_analytic_derivative(points, dtype):
    gammas = gamma_range(0.1, 0.1, decades=2, per_decade=4)
    X = points.astype(dtype)
    d2 = _pairwise_d2(X)
    analytic = np.array([-np.mean(d2 * np.exp(-g * d2)) for g in gammas])
    with dtype_scope(dtype):
        curve = summary_curve(rbf_kernel, {"gamma": 123.0}, X, gammas)  # its gamma is replaced
    assert curve.values.shape == curve.derivative.shape == gammas.shape
    assert curve.n_used == 25
    b = rbf_summary_bounds(X, gammas, dtype)
    ref = rbf_summary_bounds(X, gammas, np.float64)["slope"]  # the NumPy analytic's own error
    assert_within(curve.derivative, analytic, b["slope"] + ref, "grad")
    # grad against the central difference, gamma by gamma: both within their bounds
    # of the truth. (At the smallest gammas the bound exceeds the 1e-2 of the curve's
    # scale that this test asserted before: a sum of n² = 625 float32 entries may err
    # by 625·u in XLA's unspecified order, and the difference divides that by h.)
    assert_within(curve.finite_difference, curve.derivative, b["fd"] + b["slope"], "fd")
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
    b = rbf_summary_bounds(X, gammas, np.float32)
    ref = rbf_summary_bounds(X, gammas, np.float64)["slope"]
    assert_within(curve.finite_difference, analytic, b["fd"] + ref, "fd")
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
    gammas = np.array([0.5, 1.0, 2.0])
    params = default_params("polynomial", coef0=0.0)
    curve = summary_curve(KERNELS["polynomial"].fn, params, X, gammas)
    assert np.all(np.isfinite(curve.derivative))
    # grad and the central difference each within their bounds of the truth, gamma by gamma.
    b = polynomial_summary_bounds(X, gammas, 0.0, params["degree"], np.float32)
    assert_within(curve.finite_difference, curve.derivative, b["fd"] + b["slope"], "fd")
    # ... and the truth: s(γ) = γ³ mean(x·y)³ off the diagonal, so s' = 3γ² mean(x·y)³.
    X64 = X.astype(np.float64)
    dots = (X64 @ X64.T)[~np.eye(12, dtype=bool)]
    ref = polynomial_summary_bounds(X, gammas, 0.0, params["degree"], np.float64)["slope"]
    assert_within(curve.derivative, 3 * gammas**2 * np.mean(dots**3), b["slope"] + ref, "grad")


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
    w, b = params
    gb = tanh_loss_grad_error_bound(w, b, X, targets, np.float32)
    # dw = f·x: |x|·Δf + u·|f x| (tests/core/bounds.py); loop and vmap each within it.
    f = np.abs(np.asarray(per_sample_grads(params, X, targets)[1], np.float64))
    gw = gb[:, None] * np.abs(X) + unit_roundoff(np.float32) * f[:, None] * np.abs(X)
    assert out.agrees and out.max_abs_diff <= 2 * max(gb[:6].max(), gw[:6].max())
    assert out.vmap_jit.compile_s > 0 and out.speedup > 0
    # Like with like: compiled against compiled, eager against eager, each pair timed
    # in the same rounds and compared round by round (the median of the ratios).
    times = {k: np.asarray(getattr(out, k).times_s) for k in ("loop", "vmap", "loop_jit", "vmap_jit")}
    assert len({len(t) for t in times.values()}) == 1 and len(times["loop"]) >= 5
    assert out.speedup == np.median(times["loop_jit"] / times["vmap_jit"])
    assert out.speedup_eager == np.median(times["loop"] / times["vmap"])
    assert out.loop_jit.compile_s is None and out.loop_jit.first_call_s is not None
    ratio, low, high = out.speedup_interval
    assert ratio == out.speedup and low <= ratio <= high
    dw, db = per_sample_grads(params, X, targets)
    expected = np.sqrt(np.sum(np.asarray(dw, np.float64) ** 2, axis=1) + np.asarray(db, np.float64) ** 2)
    assert out.norms.shape == (15,)  # every row, not only the looped ones
    # The gradients compared are kept (the page's view shows them): the looped rows, each
    # within its bound of the eager vmap's.
    for got_dw, got_db in (out.by_loop, out.by_vmap):
        assert got_dw.shape == (6, 3) and got_db.shape == (6,)
        assert_within(got_dw, np.asarray(dw)[:6], 2 * gw[:6], "kept dw")
        assert_within(got_db, np.asarray(db)[:6], 2 * gb[:6], "kept db")
    # Compiled against eager float32: |‖a‖ - ‖b‖| <= ‖a - b‖, each gradient within its
    # bound of the truth, plus the float64 norm's own rounding.
    gap = 2 * np.sqrt(np.sum(gw**2, axis=1) + gb**2)
    assert_within(out.norms, expected, gap + 8 * unit_roundoff(np.float64) * expected, "norms")
    # Residuals p - t: p within tanh's bound on each side (NumPy's float32 too), and
    # the subtraction rounded once each (u·|p - t|).
    p = np.tanh(X @ np.asarray(w) + float(b))
    bound = 2 * tanh_dot_error_bound(w, b, X, np.float32) + 2 * unit_roundoff(np.float32) * np.abs(p - targets)
    assert_within(out.residuals, p - targets, bound, "residuals")
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
    # Both sides float64, each within the loss gradient's bound (tests/core/bounds.py).
    gb = 2 * tanh_loss_grad_error_bound(w, b, X, t, np.float64)
    gw = gb[:, None] * np.abs(X) + 2 * unit_roundoff(np.float64) * np.abs(coef[:, None] * X)
    assert_within(dw, coef[:, None] * X, gw, "dw")
    assert_within(db, coef, gb, "db")


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
    # The float32 gradient's bound, plus the float64 formula's own (tests/core/bounds.py).
    gb = tanh_loss_grad_error_bound(w, b, X, t, np.float32)
    gw = gb[:, None] * np.abs(X) + unit_roundoff(np.float32) * np.abs(g[:, None] * X)
    ref = tanh_loss_grad_error_bound(w, b, X, t, np.float64)
    assert_within(db, g, gb + ref, "db")
    assert_within(dw, g[:, None] * X, gw + 2 * ref[:, None] * np.abs(X), "dw")
    vdw, vdb = per_sample_grads(params, X, t)
    assert_within(dw, vdw, 2 * gw, "loop of jit(grad) against vmap(grad)")


def test_laplacian_gradient_at_its_centre_is_a_subgradient_not_zero():
    # The Gradients page: "The Laplacian kernel has a kink at c: there grad returns one
    # of its subgradients, not zero." exp(-γ|x − c|₁) has |x_j − c_j| with a kink at 0;
    # jnp.abs' derivative there is taken as sign(0) + 1 = 1 per axis, so -γ·1 per axis,
    # inside the subdifferential [-γ, γ] of each axis.
    c = np.array([0.3, -0.2], np.float32)
    g = np.asarray(kernel_gradient_field(KERNELS["laplacian"].fn, {"gamma": 0.7}, c, c[None]))[0]
    assert np.any(g != 0)
    assert np.all(np.abs(g) <= 0.7 * (1 + 2 * unit_roundoff(np.float32)))  # γ and a product rounded
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
    X32 = points.astype(np.float32)
    bound = (rbf_summary_bounds(X32, gammas, np.float32)["slope"]
             + 2 * rbf_summary_bounds(X32, gammas, np.float64)["slope"])
    assert_within(f32.derivative, truth.derivative, bound, "grad")
    assert fd_err > 10 * grad_err
