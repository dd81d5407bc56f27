"""Gaussian-process regression with the RBF kernel, written once for jit, vmap and grad.

The model: y = f(X) + ε with f ~ GP(0, k), k(x, x') = amplitude·exp(−gamma·|x − x'|²)
and ε ~ N(0, noise·I), so the covariance of the observed y is

    K = amplitude·exp(−gamma·D²) + noise·I        (D² the pairwise squared distances).

Everything goes through the Cholesky factor L of K (L Lᵀ = K): solving with it is
stable, and log|K| = 2·Σ log Lᵢᵢ. The same pure functions serve one call, a grid
of hyperparameters (`lml_surface`: nested `vmap`, one jitted call), a gradient
(`jax.grad` through `jnp.linalg.cholesky`), and every held-out point at once
(`predictive_log_density`). Hyperparameters follow scikit-learn's
`ConstantKernel(amplitude) * RBF(length_scale) + WhiteKernel(noise)` with
gamma = 1 / (2·length_scale²), and the results equal its `GaussianProcessRegressor`.

Inside `jit`, `vmap` or `grad` a failed Cholesky (K not positive definite in the
working precision) can only show as NaN; called eagerly, the two public functions
raise `CholeskyError` instead, naming the smallest jitter that works.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve, solve_triangular
from jax.typing import ArrayLike

from core.errors import DataError
from core.kernels.functions import rbf_kernel
from core.kernels.gram import gram
from core.lessons.gp import CholeskyError, smallest_jitter

__all__ = [
    "GPPosterior",
    "rbf_covariance",
    "gp_log_marginal_likelihood",
    "gp_posterior",
    "lml_surface",
    "lml_surface_loop",
    "kernel_ridge_mean",
    "factor_K",
    "log_density_of_points",
    "log_density_of_points_loop",
    "predictive_log_density",
    "predictive_log_density_loop",
    "check_inputs",
    "not_positive_definite_error",
]

LOG_2PI = math.log(2.0 * math.pi)


class GPPosterior(NamedTuple):
    """The GP's prediction at M new points.

    Attributes:
      mean: shape (M,): E[f(x*) | y], the posterior mean.
      variance: shape (M,): Var[y* | y] = Var[f(x*) | y] + noise, the variance of a
        new noisy observation (what scikit-learn's `predict(return_std=True)`
        squares, as its WhiteKernel adds noise on the diagonal); subtract `noise`
        for the variance of f itself.
    """

    mean: jax.Array
    variance: jax.Array


def rbf_covariance(X1: ArrayLike, X2: ArrayLike, gamma: ArrayLike, amplitude: ArrayLike) -> jax.Array:
    """amplitude·exp(−gamma·|x − x'|²) for every row pair, by the notes' nested vmap (`gram`).

    Args:
      X1: shape (N, D). X2: shape (M, D). gamma, amplitude: scalars.

    Returns:
      shape (N, M), dtype of the inputs.
    """
    return amplitude * gram(rbf_kernel, {"gamma": gamma}, X1, X2)


def _cholesky_of_K(X: jax.Array, gamma, noise, amplitude) -> jax.Array:
    K = rbf_covariance(X, X, gamma, amplitude)
    return jnp.linalg.cholesky(K + noise * jnp.eye(X.shape[0], dtype=K.dtype))


def _lml(X, y, gamma, noise, amplitude) -> jax.Array:
    """The log marginal likelihood, pure JAX (NaN when the Cholesky fails)."""
    L = _cholesky_of_K(X, gamma, noise, amplitude)
    # yᵀK⁻¹y = |L⁻¹y|²: one triangular solve, where cho_solve would take two.
    v = solve_triangular(L, y, lower=True)
    return -0.5 * jnp.dot(v, v) - jnp.sum(jnp.log(jnp.diagonal(L))) - 0.5 * X.shape[0] * LOG_2PI


def _posterior(X, y, Xs, gamma, noise, amplitude) -> GPPosterior:
    L = _cholesky_of_K(X, gamma, noise, amplitude)
    alpha = cho_solve((L, True), y)
    Ks = rbf_covariance(Xs, X, gamma, amplitude)  # (M, N)
    V = solve_triangular(L, Ks.T, lower=True)  # (N, M)
    return GPPosterior(Ks @ alpha, amplitude + noise - jnp.sum(V * V, axis=0))


def _is_traced(*values) -> bool:
    return any(isinstance(v, jax.core.Tracer) for v in jax.tree_util.tree_leaves(values))


def check_inputs(X: ArrayLike, y: ArrayLike, gamma: float, noise: float, amplitude: float) -> None:
    """Raise `DataError` for inputs no GP can use (eager calls only).

    Args:
      X: shape (N, D), finite. y: shape (N,), finite. gamma, noise, amplitude:
        finite and > 0 (noise ≥ 0).
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise DataError(f"X must be (N, D) and y (N,) with N ≥ 1; got X {X.shape} and y {y.shape}.")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise DataError("X or y has NaN or infinite entries: drop those rows first.")
    for name, value, low in (("gamma", gamma, 0.0), ("amplitude", amplitude, 0.0)):
        if not (math.isfinite(float(value)) and float(value) > low):
            raise DataError(f"{name} must be a positive number; got {float(value):g}.")
    if not (math.isfinite(float(noise)) and float(noise) >= 0):
        raise DataError(f"noise must be a number ≥ 0; got {float(noise):g}.")


def not_positive_definite_error(X: ArrayLike, gamma: float, noise: float,
                                amplitude: float) -> CholeskyError:
    """The error for K = amplitude·exp(−gamma·D²) + noise·I without a Cholesky factor.

    Its message names the dtype, the hyperparameters and the smallest extra
    jitter that makes K factor (`core.lessons.gp.smallest_jitter`), as the noise
    to use instead.
    """
    X = np.asarray(X)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    K = np.asarray(rbf_covariance(jnp.asarray(X), jnp.asarray(X), gamma, amplitude), dtype=dtype)
    K = K + np.asarray(noise, dtype) * np.eye(K.shape[0], dtype=dtype)
    try:
        extra = smallest_jitter(K)
    except CholeskyError as err:
        return CholeskyError(f"K is not positive definite in {dtype} at gamma = {gamma:.3g}, "
                             f"noise = {noise:.3g}, amplitude = {amplitude:.3g}. {err}")
    return CholeskyError(
        f"K = amplitude·exp(−gamma·d²) + noise·I is not positive definite in {dtype} at "
        f"gamma = {gamma:.3g}, noise = {noise:.3g}, amplitude = {amplitude:.3g}: its Cholesky "
        f"factor does not exist. The smallest jitter that works is {extra:.2g}: use "
        f"noise ≥ {noise + extra:.2g}, a smaller gamma, or float64.")


def gp_log_marginal_likelihood(X: ArrayLike, y: ArrayLike, gamma: ArrayLike, noise: ArrayLike,
                               amplitude: ArrayLike = 1.0) -> jax.Array:
    """log p(y | X) = −½ yᵀK⁻¹y − ½ log|K| − (N/2) log 2π, y used as given (no mean removed).

    K = amplitude·exp(−gamma·|x − x'|²) + noise·I. Works under `jit`, `vmap` and
    `grad` (with respect to gamma, noise, amplitude, y or X); computes in the
    dtype of X and y (float64 needs JAX's x64 mode: `core.precision.dtype_scope`).

    Args:
      X: shape (N, D). y: shape (N,). gamma, noise, amplitude: scalars (> 0; noise ≥ 0).

    Returns:
      a scalar. Under a transformation a failed Cholesky gives NaN.

    Raises:
      DataError: (eager calls) bad shapes, non-finite data or hyperparameters.
      CholeskyError: (eager calls) K is not positive definite in the working precision;
        the message names the smallest jitter that works.
    """
    traced = _is_traced(X, y, gamma, noise, amplitude)
    if not traced:
        check_inputs(X, y, gamma, noise, amplitude)
    value = _lml(jnp.asarray(X), jnp.asarray(y), gamma, noise, amplitude)
    if not traced and not bool(jnp.isfinite(value)):
        raise not_positive_definite_error(X, float(gamma), float(noise), float(amplitude))
    return value


def gp_posterior(X: ArrayLike, y: ArrayLike, Xs: ArrayLike, gamma: ArrayLike, noise: ArrayLike,
                 amplitude: ArrayLike = 1.0) -> GPPosterior:
    """The posterior mean and predictive variance at the rows of Xs.

    mean = K*ᵀ K⁻¹ y, variance = amplitude + noise − diag(K*ᵀ K⁻¹ K*), with K as in
    `gp_log_marginal_likelihood` and K* = amplitude·exp(−gamma·|x − x*|²), (N, M).

    Args:
      X: shape (N, D). y: shape (N,). Xs: shape (M, D). gamma, noise, amplitude: scalars.

    Returns:
      `GPPosterior(mean (M,), variance (M,))`; unpacks as `mean, variance`.

    Raises:
      DataError, CholeskyError: as `gp_log_marginal_likelihood` (eager calls).
    """
    traced = _is_traced(X, y, Xs, gamma, noise, amplitude)
    if not traced:
        check_inputs(X, y, gamma, noise, amplitude)
        if np.ndim(Xs) != 2 or np.shape(Xs)[1] != np.shape(X)[1]:
            raise DataError(f"Xs must be (M, {np.shape(X)[1]}) like X; got {np.shape(Xs)}.")
    out = _posterior(jnp.asarray(X), jnp.asarray(y), jnp.asarray(Xs), gamma, noise, amplitude)
    if not traced and not bool(jnp.all(jnp.isfinite(out.mean))):
        raise not_positive_definite_error(X, float(gamma), float(noise), float(amplitude))
    return out


@functools.partial(jax.jit, static_argnames="gammas_at_once")
def lml_surface(X: jax.Array, y: jax.Array, gammas: jax.Array, noises: jax.Array,
                amplitude: jax.Array, gammas_at_once: int = 1) -> jax.Array:
    """The log marginal likelihood at every (gamma, noise) pair: one jitted call.

    vmap over the noises inside, vmap over the gammas outside, the gammas taken
    `gammas_at_once` at a time (`lax.map(batch_size=...)` vmaps each chunk).
    `gammas_at_once=G` is the plain nested vmap: it factors all G·S matrices of
    N × N together (655 MB for 64 × 64 at N = 200 in float32), far out of cache,
    and on a CPU that is slower than one gamma row at a time.

    Args:
      X: shape (N, D). y: shape (N,). gammas: shape (G,). noises: shape (S,).
      amplitude: scalar. gammas_at_once: gammas per vmapped chunk (static).

    Returns:
      shape (G, S): entry [i, j] is the LML at gammas[i], noises[j]; NaN where K
      has no Cholesky factor in the working precision.
    """
    over_noise = jax.vmap(_lml, in_axes=(None, None, None, 0, None))
    over_both = jax.vmap(over_noise, in_axes=(None, None, 0, None, None))
    if gammas_at_once >= gammas.shape[0]:
        return over_both(X, y, gammas, noises, amplitude)
    return jax.lax.map(lambda gamma: over_noise(X, y, gamma, noises, amplitude), gammas,
                       batch_size=gammas_at_once)


_lml_jit = jax.jit(_lml)


def lml_surface_loop(X: jax.Array, y: jax.Array, gammas: np.ndarray, noises: np.ndarray,
                     amplitude: float) -> np.ndarray:
    """The same (G, S) surface by a Python double loop over one jitted LML."""
    out = np.empty((len(gammas), len(noises)))
    for i, gamma in enumerate(gammas):
        for j, noise in enumerate(noises):
            out[i, j] = _lml_jit(X, y, gamma, noise, amplitude)
    return out


@jax.jit
def kernel_ridge_mean(X: jax.Array, y: jax.Array, Xs: jax.Array, gamma: jax.Array,
                      lam: jax.Array, amplitude: jax.Array) -> jax.Array:
    """Kernel ridge regression's prediction k*ᵀ(K + λI)⁻¹y with k = amplitude·RBF.

    Solved by LU (`jnp.linalg.solve`), not Cholesky: an independent route to what,
    with λ = noise, is the GP posterior mean.

    Args:
      X: shape (N, D). y: shape (N,). Xs: shape (M, D). gamma, lam, amplitude: scalars.

    Returns:
      shape (M,).
    """
    K = rbf_covariance(X, X, gamma, amplitude)
    weights = jnp.linalg.solve(K + lam * jnp.eye(X.shape[0], dtype=K.dtype), y)
    return rbf_covariance(Xs, X, gamma, amplitude) @ weights


def _point_log_density(x_star, y_star, X, L, alpha, gamma, noise, amplitude):
    """log N(y* | mean(x*), variance(x*)) for one held-out point x* (D,), y* scalar."""
    k_star = rbf_covariance(x_star[None, :], X, gamma, amplitude)[0]  # (N,)
    v = solve_triangular(L, k_star, lower=True)
    variance = amplitude + noise - jnp.dot(v, v)
    mean = jnp.dot(k_star, alpha)
    return -0.5 * (LOG_2PI + jnp.log(variance) + (y_star - mean) ** 2 / variance)


@jax.jit
def factor_K(X: jax.Array, y: jax.Array, gamma: jax.Array, noise: jax.Array,
             amplitude: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(L, K⁻¹y): the Cholesky factor of K (N, N) and the weights (N,), shared by every prediction."""
    L = _cholesky_of_K(X, gamma, noise, amplitude)
    return L, cho_solve((L, True), y)


@jax.jit
def log_density_of_points(X_test: jax.Array, y_test: jax.Array, X: jax.Array, L: jax.Array,
                          alpha: jax.Array, gamma: jax.Array, noise: jax.Array,
                          amplitude: jax.Array) -> jax.Array:
    """log p(y*ᵢ | X, y) for every held-out row, by vmap of the one-point density.

    Args:
      X_test: (M, D). y_test: (M,). X: (N, D). L, alpha: from `factor_K`.
      gamma, noise, amplitude: scalars.

    Returns:
      shape (M,).
    """
    one_point = jax.vmap(_point_log_density, in_axes=(0, 0, None, None, None, None, None, None))
    return one_point(X_test, y_test, X, L, alpha, gamma, noise, amplitude)


_point_log_density_jit = jax.jit(_point_log_density)


def log_density_of_points_loop(X_test: jax.Array, y_test: jax.Array, X: jax.Array, L: jax.Array,
                               alpha: jax.Array, gamma: float, noise: float,
                               amplitude: float) -> np.ndarray:
    """The same (M,) densities by a Python loop of the jitted one-point density."""
    return np.array([float(_point_log_density_jit(X_test[i], y_test[i], X, L, alpha, gamma, noise,
                                                  amplitude)) for i in range(X_test.shape[0])])


def predictive_log_density(X: ArrayLike, y: ArrayLike, X_test: ArrayLike, y_test: ArrayLike,
                           gamma: float, noise: float, amplitude: float = 1.0) -> jax.Array:
    """log p(y*ᵢ | X, y) for every held-out point: K factored once, then vmap over the points.

    Args:
      X: shape (N, D). y: shape (N,). X_test: shape (M, D). y_test: shape (M,).
      gamma, noise, amplitude: scalars.

    Returns:
      shape (M,); NaN everywhere if K has no Cholesky factor.
    """
    L, alpha = factor_K(X, y, gamma, noise, amplitude)
    return log_density_of_points(X_test, y_test, X, L, alpha, gamma, noise, amplitude)


def predictive_log_density_loop(X: ArrayLike, y: ArrayLike, X_test: ArrayLike, y_test: ArrayLike,
                                gamma: float, noise: float, amplitude: float = 1.0) -> np.ndarray:
    """The same (M,) densities, K factored once, then a Python loop over the points."""
    L, alpha = factor_K(X, y, gamma, noise, amplitude)
    return log_density_of_points_loop(X_test, y_test, X, L, alpha, gamma, noise, amplitude)
