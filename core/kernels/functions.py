"""Kernels in vector form: `k(params, x, y)` for two D-vectors, batched by `gram`.

Every stationary kernel here takes the same `gamma = 1 / (2 * lengthscale**2)`,
so one gamma slider (and one median-heuristic default) means the same thing for
all of them: the RBF kernel is `exp(-gamma * |x - y|^2)` exactly as in the notes,
and the others reach the same value at the same scale to first order.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike
from scipy.spatial.distance import pdist

from core.kernels.distances import safe_sqrt, sqeuclidean_distances

__all__ = [
    "KernelFn",
    "ParamSpec",
    "KernelSpec",
    "KERNELS",
    "rbf_kernel",
    "linear_kernel",
    "polynomial_kernel",
    "laplacian_kernel",
    "matern32_kernel",
    "matern52_kernel",
    "rational_quadratic_kernel",
    "periodic_kernel",
    "sum_kernel",
    "product_kernel",
    "default_params",
    "median_heuristic_gamma",
]

KernelFn = Callable[[Mapping, jax.Array, jax.Array], jax.Array]


def rbf_kernel(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """The RBF kernel `exp(-params['gamma'] * |x - y|^2)`; x, y shape (D,); scalar."""
    return jnp.exp(-params["gamma"] * sqeuclidean_distances(x, y))


def linear_kernel(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """`x·y + params['c']`; x, y shape (D,); scalar."""
    return jnp.vdot(x, y) + params["c"]


def polynomial_kernel(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """`(gamma * x·y + coef0) ** degree` (scikit-learn's convention); scalar."""
    return (params["gamma"] * jnp.vdot(x, y) + params["coef0"]) ** params["degree"]


def laplacian_kernel(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """`exp(-gamma * |x - y|_1)` (scikit-learn's convention, L1 distance); scalar."""
    return jnp.exp(-params["gamma"] * jnp.sum(jnp.abs(x - y)))


def _scaled_distance(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
    # r / lengthscale with lengthscale = 1 / sqrt(2 gamma); safe_sqrt keeps the
    # gradient finite where x == y (the diagonal of every Gram matrix).
    return safe_sqrt(2 * params["gamma"] * sqeuclidean_distances(x, y))


def matern32_kernel(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """Matérn 3/2: `(1 + √3 r) exp(-√3 r)`, r = |x - y| / lengthscale; scalar."""
    s = jnp.sqrt(3.0) * _scaled_distance(params, x, y)
    return (1 + s) * jnp.exp(-s)


def matern52_kernel(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """Matérn 5/2: `(1 + √5 r + 5r²/3) exp(-√5 r)`, r = |x - y| / lengthscale; scalar."""
    r = _scaled_distance(params, x, y)
    s = jnp.sqrt(5.0) * r
    return (1 + s + s * s / 3) * jnp.exp(-s)


def rational_quadratic_kernel(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """`(1 + gamma |x - y|^2 / alpha) ** -alpha`; tends to RBF as alpha grows; scalar."""
    alpha = params["alpha"]
    return (1 + params["gamma"] * sqeuclidean_distances(x, y) / alpha) ** (-alpha)


def periodic_kernel(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """Exp-sine-squared: `exp(-4 gamma sin²(π |x - y| / period))`; scalar.

    With gamma = 1/(2 l²) this is scikit-learn's `exp(-2 sin²(π d / p) / l²)`.
    It is positive semi-definite on 1-D inputs only: with Euclidean distance in
    D > 1 its Gram matrices can have negative eigenvalues (as scikit-learn's do).
    """
    r = safe_sqrt(sqeuclidean_distances(x, y))
    return jnp.exp(-4 * params["gamma"] * jnp.sin(jnp.pi * r / params["period"]) ** 2)


def sum_kernel(k1: KernelFn, k2: KernelFn) -> KernelFn:
    """`k(params, x, y) = k1(params['k1'], x, y) + k2(params['k2'], x, y)`."""

    def k(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
        return k1(params["k1"], x, y) + k2(params["k2"], x, y)

    return k


def product_kernel(k1: KernelFn, k2: KernelFn) -> KernelFn:
    """`k(params, x, y) = k1(params['k1'], x, y) * k2(params['k2'], x, y)`."""

    def k(params: Mapping, x: ArrayLike, y: ArrayLike) -> jax.Array:
        return k1(params["k1"], x, y) * k2(params["k2"], x, y)

    return k


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One kernel parameter as the UI shows it: range, default, log scale."""

    name: str
    label: str
    default: float
    low: float
    high: float
    log: bool = False
    integer: bool = False


@dataclasses.dataclass(frozen=True)
class KernelSpec:
    """A kernel with what the app needs to show it."""

    name: str
    label: str
    fn: KernelFn
    params: tuple[ParamSpec, ...]
    formula: str  # LaTeX
    stationary: bool


_GAMMA = ParamSpec("gamma", "gamma (1 / 2ℓ²)", 1.0, 1e-4, 1e4, log=True)

KERNELS: dict[str, KernelSpec] = {
    spec.name: spec
    for spec in (
        KernelSpec("rbf", "RBF (Gaussian)", rbf_kernel, (_GAMMA,),
                   r"\exp(-\gamma\,\|x-y\|^2)", True),
        KernelSpec("laplacian", "Laplacian", laplacian_kernel, (_GAMMA,),
                   r"\exp(-\gamma\,\|x-y\|_1)", True),
        KernelSpec("matern32", "Matérn 3/2", matern32_kernel, (_GAMMA,),
                   r"(1+\sqrt{3}r)\,e^{-\sqrt{3}r},\ r=\sqrt{2\gamma}\,\|x-y\|", True),
        KernelSpec("matern52", "Matérn 5/2", matern52_kernel, (_GAMMA,),
                   r"(1+\sqrt{5}r+\tfrac{5}{3}r^2)\,e^{-\sqrt{5}r},\ r=\sqrt{2\gamma}\,\|x-y\|", True),
        KernelSpec("rational_quadratic", "Rational quadratic", rational_quadratic_kernel,
                   (_GAMMA, ParamSpec("alpha", "alpha", 1.0, 0.05, 50.0, log=True)),
                   r"\left(1+\frac{\gamma\|x-y\|^2}{\alpha}\right)^{-\alpha}", True),
        KernelSpec("periodic", "Periodic", periodic_kernel,
                   (_GAMMA, ParamSpec("period", "period", 1.0, 0.05, 20.0, log=True)),
                   r"\exp\!\left(-4\gamma\,\sin^2(\pi\|x-y\|/p)\right)", True),
        KernelSpec("linear", "Linear", linear_kernel,
                   (ParamSpec("c", "offset c", 0.0, 0.0, 10.0),),
                   r"x^\top y + c", False),
        KernelSpec("polynomial", "Polynomial", polynomial_kernel,
                   (_GAMMA, ParamSpec("coef0", "coef0", 1.0, 0.0, 10.0),
                    ParamSpec("degree", "degree", 3, 1, 6, integer=True)),
                   r"(\gamma\,x^\top y + c_0)^d", False),
    )
}


def default_params(name: str, **overrides: float) -> dict[str, float]:
    """The default parameter dict of kernel `name`, with `overrides` applied."""
    params = {p.name: p.default for p in KERNELS[name].params}
    unknown = set(overrides) - set(params)
    if unknown:
        raise ValueError(f"Kernel {name!r} has no parameter(s) {sorted(unknown)}.")
    params.update(overrides)
    return params


def median_heuristic_gamma(X: ArrayLike, max_points: int = 1000, seed: int = 0) -> float:
    """A sensible default gamma for any data: `1 / (2 * median squared distance)`.

    Sets the lengthscale to the median distance between points, so kernel values
    spread over (0, 1) instead of collapsing to the identity or to all ones.

    Args:
      X: shape (N, D).
      max_points: above this, a seeded subsample of rows is used (O(N²) work).
      seed: the subsample's seed.

    Returns:
      A positive Python float; 1.0 when all points coincide.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        return 1.0
    if X.shape[0] > max_points:
        X = X[np.random.default_rng(seed).choice(X.shape[0], max_points, replace=False)]
    # Direct differences in float64 (no cancellation), one value per pair.
    d2 = pdist(X, "sqeuclidean")
    med = float(np.median(d2[d2 > 0])) if np.any(d2 > 0) else 0.0
    return 1.0 / (2.0 * med) if med > 0 else 1.0
