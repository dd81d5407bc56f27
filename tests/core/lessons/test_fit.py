"""Tests of `core.lessons.fit` (model, climb) and `core.data.regression`: GP regression equals scikit-learn.

scikit-learn's `GaussianProcessRegressor` with the fixed kernel
`ConstantKernel(amplitude) * RBF(length_scale) + WhiteKernel(noise)`, `optimizer=None`,
`alpha=0` is the independent reference; its RBF takes length_scale ℓ, and
gamma = 1 / (2ℓ²).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy.stats import norm

from core import CoreError, DataError, gp_log_marginal_likelihood, gp_posterior
from core.lessons.fit.model import (
    kernel_ridge_mean,
    lml_surface,
    lml_surface_loop,
    predictive_log_density,
    predictive_log_density_loop,
)
from core.lessons.fit.climb import climb, negative_lml
from core.data.regression import REGRESSION_SETS, held_out_size, load_regression, regression_from_table
from core.lessons.gp import CholeskyError

sk_gp = pytest.importorskip("sklearn.gaussian_process")
sk_kernels = pytest.importorskip("sklearn.gaussian_process.kernels")

REL_F64 = 1e-8  # the bar; round-off here is ~cond(K)·1e-16 ≈ 1e-13
CASES = [  # (gamma, noise, amplitude, D)
    (0.7, 0.05, 1.3, 1),
    (0.1, 0.3, 0.5, 2),
    (2.5, 0.01, 2.0, 3),
]


def sklearn_gpr(X, y, gamma, noise, amplitude, bounds="fixed"):
    kernel = (sk_kernels.ConstantKernel(amplitude, bounds)
              * sk_kernels.RBF(1.0 / math.sqrt(2.0 * gamma), bounds)
              + sk_kernels.WhiteKernel(noise, bounds))
    return sk_gp.GaussianProcessRegressor(kernel, optimizer=None, alpha=0.0).fit(X, y)


def data(rng, n=40, d=1, m=9):
    X = rng.uniform(-3, 3, (n, d))
    y = np.sin(X.sum(axis=1)) + 0.1 * rng.standard_normal(n)
    return X, y, rng.uniform(-3.5, 3.5, (m, d))


@pytest.mark.parametrize("gamma, noise, amplitude, d", CASES)
def test_log_marginal_likelihood_equals_sklearn_in_float64(rng, gamma, noise, amplitude, d):
    X, y, _ = data(rng, d=d)
    expected = sklearn_gpr(X, y, gamma, noise, amplitude).log_marginal_likelihood_value_
    with jax.enable_x64(True):
        got = float(gp_log_marginal_likelihood(X, y, gamma, noise, amplitude))
    assert got == pytest.approx(expected, rel=REL_F64)


@pytest.mark.parametrize("gamma, noise, amplitude, d", CASES)
def test_posterior_mean_and_variance_equal_sklearn_in_float64(rng, gamma, noise, amplitude, d):
    X, y, Xs = data(rng, d=d)
    mean, sd = sklearn_gpr(X, y, gamma, noise, amplitude).predict(Xs, return_std=True)
    with jax.enable_x64(True):
        got = gp_posterior(X, y, Xs, gamma, noise, amplitude)
        assert got.mean.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(got.mean), mean, rtol=REL_F64)
    np.testing.assert_allclose(np.asarray(got.variance), sd**2, rtol=REL_F64)


def test_float32_agrees_with_sklearn_to_its_error_bound(rng):
    gamma, noise, amplitude = 0.7, 0.05, 1.3
    X, y, Xs = data(rng)
    gpr = sklearn_gpr(X, y, gamma, noise, amplitude)
    mean, sd = gpr.predict(Xs, return_std=True)
    K = gpr.kernel_(X)
    # Backward-stable Cholesky: relative error ≲ N·eps·cond(K) in the solves.
    tol = X.shape[0] * np.finfo(np.float32).eps * np.linalg.cond(K)
    lml = gp_log_marginal_likelihood(X.astype(np.float32), y.astype(np.float32), gamma, noise, amplitude)
    post = gp_posterior(X.astype(np.float32), y.astype(np.float32), Xs.astype(np.float32),
                        gamma, noise, amplitude)
    assert lml.dtype == jnp.float32 and post.mean.dtype == jnp.float32
    assert float(lml) == pytest.approx(gpr.log_marginal_likelihood_value_, rel=tol)
    np.testing.assert_allclose(np.asarray(post.mean), mean, atol=tol * np.abs(y).max())
    np.testing.assert_allclose(np.asarray(post.variance), sd**2, atol=tol * (amplitude + noise))


def test_jit_and_vmap_give_the_eager_values(rng):
    X, y, Xs = data(rng)
    gammas = np.array([0.1, 0.5, 2.0])
    with jax.enable_x64(True):
        eager = np.array([float(gp_log_marginal_likelihood(X, y, g, 0.1)) for g in gammas])
        jitted = jax.jit(gp_log_marginal_likelihood)(X, y, 0.5, 0.1)
        mapped = jax.vmap(gp_log_marginal_likelihood, in_axes=(None, None, 0, None))(X, y, gammas, 0.1)
        post = jax.jit(gp_posterior)(X, y, Xs, 0.5, 0.1)
        post_eager = gp_posterior(X, y, Xs, 0.5, 0.1)
    assert float(jitted) == pytest.approx(eager[1], rel=1e-12)
    np.testing.assert_allclose(np.asarray(mapped), eager, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(post.mean), np.asarray(post_eager.mean), rtol=1e-12)


def test_check_grads_on_the_log_marginal_likelihood(rng):
    X, y, _ = data(rng, n=25, d=2)
    with jax.enable_x64(True):
        f = lambda g, s, a: gp_log_marginal_likelihood(X, y, g, s, a)  # noqa: E731
        # Under jit (as the app's fits run it): the same derivative rules, compiled once
        # per transformation instead of dispatched op by op for each of check_grads'
        # many second-order evaluations. The eager grad is checked against sklearn below.
        check_grads(jax.jit(f), (0.4, 0.1, 1.2), order=2, modes=("fwd", "rev"))


def test_grad_equals_sklearns_analytic_gradient(rng):
    # sklearn's theta is (log amplitude, log length_scale, log noise); log gamma = −2 log ℓ − log 2.
    gamma, noise, amplitude = 0.6, 0.08, 1.5
    X, y, _ = data(rng, d=2)
    gpr = sklearn_gpr(X, y, gamma, noise, amplitude, bounds=(1e-9, 1e9))
    lml, grad = gpr.log_marginal_likelihood(gpr.kernel_.theta, eval_gradient=True)
    d_log_amp, d_log_ell, d_log_noise = grad
    with jax.enable_x64(True):
        theta = jnp.log(jnp.array([gamma, noise, amplitude]))
        ours = -np.asarray(jax.grad(negative_lml)(theta, jnp.asarray(X), jnp.asarray(y)))
    np.testing.assert_allclose(ours, [-d_log_ell / 2, d_log_noise, d_log_amp], rtol=1e-8)


def test_not_positive_definite_names_the_smallest_jitter_that_works():
    # Duplicated close points, no noise: K is singular, and float32 cannot factor it.
    X = np.repeat(np.linspace(-1, 1, 40), 2)[:, None].astype(np.float32)
    y = np.sin(X[:, 0])
    with pytest.raises(CholeskyError) as info:
        gp_log_marginal_likelihood(X, y, 0.01, 0.0)
    message = str(info.value)
    assert isinstance(info.value, CoreError) and "nan" not in message.lower()
    assert "smallest jitter that works" in message and "float32" in message
    suggested = float(message.split("use noise ≥ ")[1].split(",")[0])
    assert np.isfinite(float(gp_log_marginal_likelihood(X, y, 0.01, suggested)))
    with pytest.raises(CholeskyError):
        gp_posterior(X, y, X[:3], 0.01, 0.0)


@pytest.mark.parametrize("bad", [
    dict(gamma=0.0), dict(noise=-1.0), dict(amplitude=float("nan")),
])
def test_bad_hyperparameters_are_refused_with_a_message(rng, bad):
    X, y, _ = data(rng)
    args = dict(gamma=0.5, noise=0.1, amplitude=1.0) | bad
    with pytest.raises(DataError, match=next(iter(bad))):
        gp_log_marginal_likelihood(X, y, **args)


def test_bad_data_is_refused(rng):
    X, y, _ = data(rng)
    with pytest.raises(DataError, match="NaN"):
        gp_log_marginal_likelihood(X, np.where(np.arange(len(y)) == 3, np.nan, y), 0.5, 0.1)
    with pytest.raises(DataError, match=r"\(N, D\)"):
        gp_log_marginal_likelihood(X[:, 0], y, 0.5, 0.1)


def test_surface_is_one_call_equal_to_the_double_loop_and_sklearn(rng):
    X, y, _ = data(rng, n=30)
    gammas, noises = np.logspace(-2, 1, 5), np.logspace(-3, 0, 4)
    with jax.enable_x64(True):
        surface = np.asarray(lml_surface(X, y, gammas, noises, 1.2))
        chunked = np.asarray(lml_surface(X, y, gammas, noises, 1.2, gammas_at_once=2))
        all_at_once = np.asarray(lml_surface(X, y, gammas, noises, 1.2, gammas_at_once=5))
        loop = lml_surface_loop(jnp.asarray(X), jnp.asarray(y), gammas, noises, 1.2)
    assert surface.shape == chunked.shape == all_at_once.shape == (5, 4)
    for got in (surface, chunked, all_at_once):
        np.testing.assert_allclose(got, loop, rtol=1e-12)
    for i, j in [(0, 0), (2, 3), (4, 1)]:
        expected = sklearn_gpr(X, y, gammas[i], noises[j], 1.2).log_marginal_likelihood_value_
        assert surface[i, j] == pytest.approx(expected, rel=REL_F64)


def test_surface_marks_cells_without_a_cholesky_factor_as_nan():
    X = np.linspace(-1, 1, 80)[:, None].astype(np.float32)
    y = np.sin(X[:, 0])
    surface = np.asarray(lml_surface(X, y, np.array([1e-3, 1.0], np.float32),
                                     np.array([0.0, 0.1], np.float32), 1.0))
    assert np.isnan(surface[0, 0]) and np.all(np.isfinite(surface[:, 1]))


def test_kernel_ridge_with_lambda_noise_is_the_posterior_mean(rng):
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.metrics.pairwise import rbf_kernel

    X, y, Xs = data(rng)
    gamma, noise, amplitude = 0.8, 0.04, 1.5
    with jax.enable_x64(True):
        krr = np.asarray(kernel_ridge_mean(X, y, Xs, gamma, noise, amplitude))
        mean = np.asarray(gp_posterior(X, y, Xs, gamma, noise, amplitude).mean)
    sk = KernelRidge(alpha=noise, kernel="precomputed").fit(amplitude * rbf_kernel(X, gamma=gamma), y)
    np.testing.assert_allclose(krr, sk.predict(amplitude * rbf_kernel(Xs, X, gamma=gamma)), rtol=1e-9)
    np.testing.assert_allclose(krr, mean, rtol=1e-9)


def test_predictive_log_density_by_vmap_equals_the_loop_and_scipy(rng):
    X, y, Xs = data(rng, d=2)
    y_test = np.sin(Xs.sum(axis=1))
    gamma, noise, amplitude = 0.5, 0.05, 1.1
    mean, sd = sklearn_gpr(X, y, gamma, noise, amplitude).predict(Xs, return_std=True)
    with jax.enable_x64(True):
        args = (jnp.asarray(X), jnp.asarray(y), jnp.asarray(Xs), jnp.asarray(y_test))
        batched = np.asarray(predictive_log_density(*args, gamma, noise, amplitude))
        loop = predictive_log_density_loop(*args, gamma, noise, amplitude)
    np.testing.assert_allclose(batched, loop, rtol=1e-12)
    np.testing.assert_allclose(batched, norm.logpdf(y_test, mean, sd), rtol=1e-9)


def test_climb_reaches_sklearns_optimum_and_only_goes_up(rng):
    X, y, _ = data(rng, n=30)
    with jax.enable_x64(True):
        path = list(climb(X, y, gamma=0.1, noise=0.5, amplitude=1.0, steps=400, learning_rate=0.1))
    lmls = np.array([p.lml for p in path])
    assert path[0].step == 0 and lmls[-1] > lmls[0]
    kernel = (sk_kernels.ConstantKernel(1.0) * sk_kernels.RBF(1 / math.sqrt(0.2))
              + sk_kernels.WhiteKernel(0.5))
    best = sk_gp.GaussianProcessRegressor(kernel, alpha=0.0).fit(X, y)
    assert lmls[-1] == pytest.approx(best.log_marginal_likelihood_value_, abs=1e-3)
    fitted = best.kernel_.get_params()
    assert path[-1].noise == pytest.approx(fitted["k2__noise_level"], rel=1e-2)


def test_climb_stops_with_a_message_when_k_stops_factoring():
    # Noise-free data on a fine grid: the climb drives the noise to 0, where float32 fails.
    X = np.linspace(-3, 3, 120)[:, None].astype(np.float32)
    y = np.sin(X[:, 0])
    with pytest.raises(CholeskyError, match="smallest jitter"):
        for _ in climb(X, y, gamma=0.5, noise=1e-3, steps=300, learning_rate=0.5):
            pass


@pytest.mark.parametrize("name", list(REGRESSION_SETS))
def test_regression_sets_have_a_target_and_held_out_rows(name, dtype):
    data_ = load_regression(name, 60, noise=0.1, seed=3, dtype=dtype)
    d = REGRESSION_SETS[name].n_features
    assert data_.X.shape == (60, d) and data_.y.shape == (60,)
    assert data_.X_test.shape == (held_out_size(60), d) and data_.X.dtype == np.dtype(dtype)
    again = load_regression(name, 60, noise=0.1, seed=3, dtype=dtype)
    np.testing.assert_array_equal(again.y, data_.y)
    if name == "diabetes":
        np.testing.assert_allclose([data_.y.mean(), data_.y.std()], [0, 1], atol=1e-5)


def test_regression_sets_refuse_bad_sizes():
    with pytest.raises(DataError, match="training rows"):
        load_regression("diabetes", 440)
    with pytest.raises(DataError, match="Unknown"):
        load_regression("nope", 10)


def test_an_uploaded_table_gives_a_target_column_and_standardized_features(rng):
    table = rng.normal(size=(80, 4)) * [1, 10, 100, 5] + [0, 3, -7, 50]
    got = regression_from_table(table, target=3, n=40, seed=1, dtype="float64")
    assert got.X.shape == (40, 3) and got.X_test.shape == (held_out_size(40), 3)
    np.testing.assert_allclose(got.X.std(axis=0), 1.0)
    np.testing.assert_allclose([got.y.mean(), got.y.std()], [0.0, 1.0], atol=1e-12)
    # The target column is y: its standardized values are the table's column 3, rescaled.
    rows = np.random.default_rng(1).permutation(80)[:40]
    expected = (table[rows, 3] - table[rows, 3].mean()) / table[rows, 3].std()
    np.testing.assert_allclose(got.y, expected)


def test_a_short_table_keeps_ten_rows_held_out_and_bad_tables_are_refused(rng):
    got = regression_from_table(rng.normal(size=(30, 2)), target=0, n=400)
    assert got.X_test.shape[0] == 10 and got.X.shape[0] == 20
    with pytest.raises(DataError, match="at least 2 columns"):
        regression_from_table(rng.normal(size=(30, 1)), 0, 10)
    with pytest.raises(DataError, match="no column 5"):
        regression_from_table(rng.normal(size=(30, 3)), 4, 10)
    with pytest.raises(DataError, match="at least 12"):
        regression_from_table(rng.normal(size=(11, 3)), 0, 10)
