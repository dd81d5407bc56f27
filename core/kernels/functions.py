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
    "default_params_for",
    "DATA_DEFAULT_RULES",
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
                   (_GAMMA, ParamSpec("period", "period", 1.0, 0.05, 1e4, log=True)),
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


# What `default_params_for` does for each kernel, in words for the app: "gamma follows …".
DATA_DEFAULT_RULES: dict[str, str] = {
    "rbf": "the median heuristic 1/(2·median d²)",
    "matern32": "the median heuristic 1/(2·median d²)",
    "matern52": "the median heuristic 1/(2·median d²)",
    "rational_quadratic": "the median heuristic 1/(2·median d²)",
    "laplacian": "the data: 1/(2·median L1 distance)",
    "periodic": ("the data, with the period: period = 2 × the largest distance, gamma such "
                 "that k = e^(−1/2) at the median distance"),
    "polynomial": "the data: 1/mean |x|²",
    "linear": "the fixed defaults",
}

# Every default below puts k at the median pairwise distance where the RBF median
# heuristic puts the RBF kernel: k = exp(-1/2), halfway down on a log scale.
_TARGET_AT_MEDIAN = 0.5  # -log k at the median distance


def _distance_sample(X: np.ndarray, metric: str, max_points: int, seed: int) -> np.ndarray:
    """Positive pairwise distances of (a seeded subsample of) X, float64, direct differences."""
    if X.shape[0] > max_points:
        X = X[np.random.default_rng(seed).choice(X.shape[0], max_points, replace=False)]
    d = pdist(X, metric)
    return d[d > 0]


def _clip(kernel: str, param: str, value: float) -> float:
    p = next(q for q in KERNELS[kernel].params if q.name == param)
    return float(min(max(value, p.low), p.high))


def default_params_for(name: str, X: ArrayLike, max_points: int = 1000,
                       seed: int = 0) -> dict[str, float]:
    """Parameters of kernel `name` that suit the data X (N, D): a sensible starting view.

    One rule for every kernel with a lengthscale: k at the median pairwise
    distance equals exp(-1/2), as the RBF kernel's is under the median heuristic.

    * RBF, Matérn, rational quadratic: gamma = 1 / (2 · median squared distance)
      (`median_heuristic_gamma`: lengthscale = median distance).
    * Laplacian, exp(-gamma |x - y|_1): gamma = 1 / (2 · median L1 distance).
    * Periodic: period = twice the largest pairwise distance, so that sin²(π r / p)
      rises monotonically over every distance r in the data and k falls with r as
      a lengthscale kernel does (with a period far below the distances, as the
      fixed default 1 is on most data, k jumps between 0 and 1 from pair to pair
      and the heatmap is noise; with one period across the data, the farthest
      pairs look alike again); gamma such that exp(-4 gamma sin²(π r_med / p)) =
      exp(-1/2).
    * Polynomial, (gamma x·y + coef0)^degree: gamma = 1 / mean |x|², so that
      |gamma x·y| is about 1 or less (Cauchy-Schwarz) and high degrees do not overflow.
    * Linear: its `ParamSpec` default (the offset c has no data scale).

    The period is clipped to its `ParamSpec` range (gamma is left as computed,
    like `median_heuristic_gamma`: the app snaps it to its slider); the other
    parameters keep their `ParamSpec` defaults.

    Args:
      name: a key of `KERNELS`.
      X: shape (N, D).
      max_points: above this, a seeded subsample of rows is used (O(N²) work).
      seed: the subsample's seed.

    Returns:
      A dict with every parameter of the kernel, Python floats (ints for integer ones).
    """
    params = default_params(name)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        return params
    if name in ("rbf", "matern32", "matern52", "rational_quadratic"):
        params["gamma"] = median_heuristic_gamma(X, max_points, seed)
    elif name == "laplacian":
        d1 = _distance_sample(X, "cityblock", max_points, seed)
        if d1.size:
            params["gamma"] = _TARGET_AT_MEDIAN / float(np.median(d1))
    elif name == "periodic":
        d = _distance_sample(X, "euclidean", max_points, seed)
        if d.size:
            period = _clip(name, "period", 2.0 * float(d.max()))
            s2 = float(np.sin(np.pi * np.median(d) / period) ** 2)
            # s2 is 0 only when the median distance is a whole number of periods
            # (period clipped below the data's size): then any gamma gives k = 1 there.
            gamma = _TARGET_AT_MEDIAN / (4 * s2) if s2 > 1e-12 else 1.0
            params.update(period=period, gamma=gamma)
    elif name == "polynomial":
        sq_norm = float(np.mean(np.sum(X**2, axis=1)))
        if sq_norm > 0:
            params["gamma"] = 1.0 / sq_norm
    return params
