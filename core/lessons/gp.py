"""Gaussian-process priors and the positive-definiteness of Gram matrices.

A kernel's Gram matrix K is positive semi-definite in exact arithmetic, but a
smooth kernel on close points has eigenvalues far below the round-off of its
largest one: in floating point some come out zero or negative and the Cholesky
factor that a GP needs does not exist. The standard fix is *jitter*: factor
K + jitter·I instead. This module samples the GP prior that way, finds the
smallest jitter that works, and sweeps gamma to show the spectrum move between
its two limits (gamma → 0: a matrix of ones, rank 1; gamma → ∞: the identity).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from core.kernels.composite import KernelChoice, kernel_gram
from core.errors import CoreError
from core.precision import as_float_array, dtype_scope
from core.lessons.spectrum import ROUNDOFF_MARGIN, Spectrum, roundoff_bound, spectrum  # noqa: F401

__all__ = [
    "CholeskyError",
    "grid_1d",
    "subsample",
    "cholesky",
    "cholesky_ok",
    "smallest_jitter",
    "prior_samples",
    "prior_sd",
    "PDReport",
    "pd_report",
    "SpectrumSweep",
    "gamma_sweep_values",
    "spectrum_point",
    "spectrum_sweep",
]

GRID_LOW, GRID_HIGH = -5.0, 5.0


class CholeskyError(CoreError, ValueError):
    """K + jitter·I has no Cholesky factor in working precision."""


def _check_finite(K: np.ndarray) -> None:
    if not np.all(np.isfinite(K)):
        raise CholeskyError(
            f"K has NaN or infinite entries: the kernel overflows {K.dtype} on these points "
            "(a polynomial of high degree on large inputs does). Lower the degree or gamma, "
            "standardize the data, or switch to float64.")


def grid_1d(n: int, low: float = GRID_LOW, high: float = GRID_HIGH) -> np.ndarray:
    """`n` evenly spaced points of [low, high] as a data matrix, shape (n, 1), float64."""
    return np.linspace(low, high, n)[:, None]


def subsample(X: ArrayLike, max_n: int, seed: int = 0) -> np.ndarray:
    """At most `max_n` rows of X (N, D): all of them, or a seeded random subset in order.

    Eigenvalues cost O(N³): diagnostics of a large dataset use a subset.
    """
    X = np.asarray(X)
    if X.shape[0] <= max_n:
        return X
    idx = np.sort(np.random.default_rng(seed).choice(X.shape[0], max_n, replace=False))
    return X[idx]


@jax.jit
def _cholesky(K: jax.Array, jitter: jax.Array) -> jax.Array:
    # LAPACK's potrf stops at the first non-positive pivot; JAX then returns NaNs,
    # which is how failure is detected (no exception crosses jit).
    return jnp.linalg.cholesky(K + jitter * jnp.eye(K.shape[0], dtype=K.dtype))


def cholesky(K: ArrayLike, jitter: float = 0.0) -> np.ndarray:
    """Lower Cholesky factor L of `K + jitter·I` (L @ L.T = K + jitter·I).

    Args:
      K: symmetric, shape (N, N); float32 stays float32 (that is the point:
        float32 fails where float64 succeeds).
      jitter: added to the diagonal first.

    Returns:
      L, shape (N, N), dtype of K.

    Raises:
      CholeskyError: not positive definite in working precision, or K has
        non-finite entries.
    """
    K = as_float_array(K)
    _check_finite(K)
    with dtype_scope(K.dtype):
        L = np.asarray(_cholesky(K, np.asarray(jitter, K.dtype)))
    if not np.all(np.isfinite(L)):
        raise CholeskyError(
            f"Cholesky of K + {jitter:.3g}·I failed in {K.dtype}: K is not positive definite "
            "in working precision. Raise the jitter (see the smallest jitter that works).")
    return L


def cholesky_ok(K: ArrayLike, jitter: float = 0.0) -> bool:
    """True when `K + jitter·I` (K (N, N)) has a Cholesky factor in K's dtype."""
    try:
        cholesky(K, jitter)
    except CholeskyError:
        return False
    return True


def smallest_jitter(K: ArrayLike, refine_steps: int = 3) -> float:
    """The smallest jitter (to a factor 2**(1/2**refine_steps)) that lets Cholesky succeed.

    Doubling from the round-off level of K's diagonal finds a working jitter
    `hi` with `hi / 2` failing; bisection on a log scale then narrows the gap.
    The result always works, and half of it does not (unless it is 0).

    Args:
      K: symmetric, shape (N, N), float32 or float64.
      refine_steps: log-scale bisection steps after doubling.

    Returns:
      0.0 when K itself factors; else the jitter, a Python float.

    Raises:
      CholeskyError: K has non-finite entries, or no jitter up to 1e6 times its
        largest diagonal entry works.
    """
    K = as_float_array(K)
    _check_finite(K)
    if cholesky_ok(K, 0.0):
        return 0.0
    scale = float(np.max(np.abs(np.diag(K)))) or 1.0
    # Below the spacing of floats near the diagonal, adding jitter changes nothing.
    hi = scale * float(np.finfo(K.dtype).eps)
    while not cholesky_ok(K, hi):
        hi *= 2
        if hi > 1e6 * scale:
            raise CholeskyError(f"No jitter up to {hi:.3g} makes K factor: it is far from "
                                "positive semi-definite (is the kernel valid?).")
    lo = hi / 2
    for _ in range(refine_steps):
        mid = math.sqrt(lo * hi)
        if cholesky_ok(K, mid):
            hi = mid
        else:
            lo = mid
    return hi


def prior_samples(choice: KernelChoice, grid: ArrayLike, n_draws: int, seed: int,
                  jitter: float, dtype: DTypeLike | None = None) -> np.ndarray:
    """Draws from the zero-mean GP prior with kernel `choice` at the points `grid`.

    f = L z with L the Cholesky factor of K + jitter·I and z standard normal, so
    that cov(f) = L Lᵀ = K + jitter·I. The same seed gives the same z, so moving a
    parameter morphs the same draws instead of drawing new ones.

    Args:
      choice: the kernel.
      grid: shape (N, D) (a 1-D grid as (N, 1)).
      n_draws: number of functions drawn.
      seed: seed of z.
      jitter: added to the diagonal of K before factoring.
      dtype: compute dtype; None keeps float64 grids float64.

    Returns:
      shape (N, n_draws): column j is draw j at the N points.

    Raises:
      CholeskyError: the jitter is too small for this K.
    """
    L = cholesky(kernel_gram(choice, grid, dtype=dtype), jitter)
    z = np.random.default_rng(seed).standard_normal((L.shape[0], n_draws)).astype(L.dtype)
    with dtype_scope(L.dtype):
        return np.asarray(jnp.asarray(L) @ jnp.asarray(z))


def prior_sd(K: ArrayLike, jitter: float = 0.0) -> np.ndarray:
    """Pointwise standard deviation of the GP prior, sqrt(K_ii + jitter); shape (N,)."""
    # Round-off can leave a diagonal entry a hair below 0 for non-stationary kernels.
    return np.sqrt(np.maximum(np.diag(np.asarray(K, dtype=np.float64)) + jitter, 0.0))


@dataclasses.dataclass(frozen=True)
class PDReport:
    """Positive-definiteness of one Gram matrix.

    Attributes:
      n: its size N.
      dtype: the dtype it was computed (and factored) in.
      min_eigenvalue: smallest eigenvalue (float64 eigensolver on K's values).
      max_eigenvalue: largest eigenvalue.
      condition_number: largest / smallest eigenvalue; inf if that is ≤ 0.
      effective_rank: exp(entropy of the normalised positive eigenvalues).
      cholesky_ok: whether K itself (no jitter) factors in `dtype`.
      smallest_jitter: see `smallest_jitter` (0 when K factors).
    """

    n: int
    dtype: str
    min_eigenvalue: float
    max_eigenvalue: float
    condition_number: float
    effective_rank: float
    cholesky_ok: bool
    smallest_jitter: float

    @property
    def beyond_roundoff(self) -> bool:
        """True when the smallest eigenvalue is more negative than round-off explains.

        Round-off moves eigenvalues by about eps·N·λ_max at most; far below -that,
        the kernel itself is not positive semi-definite on these points (an
        invalid kernel, e.g. the periodic kernel of a distance in D > 1), and
        jitter only hides a modelling error.
        """
        return self.min_eigenvalue < -roundoff_bound(self.n, self.max_eigenvalue, self.dtype)


def pd_report(K: ArrayLike) -> PDReport:
    """The `PDReport` of symmetric K, shape (N, N).

    Raises:
      CholeskyError: K has NaN or infinite entries (the kernel overflowed).
    """
    K = as_float_array(K)
    _check_finite(K)
    spec = spectrum(K)
    jitter = smallest_jitter(K)
    return PDReport(K.shape[0], str(K.dtype), spec.min_eigenvalue, float(spec.eigenvalues[0]),
                    spec.condition_number, spec.effective_rank, jitter == 0.0, jitter)


@dataclasses.dataclass(frozen=True)
class SpectrumSweep:
    """Eigenvalues of K as gamma sweeps a range.

    Attributes:
      gammas: shape (G,), ascending.
      eigenvalues: shape (G, N), each row descending (float64).
      effective_rank: shape (G,).
      min_eigenvalue: shape (G,).
      condition_number: shape (G,), inf where the smallest eigenvalue is ≤ 0.
      finite: shape (G,), False where K overflowed (that row is NaN).
    """

    gammas: np.ndarray
    eigenvalues: np.ndarray
    effective_rank: np.ndarray
    min_eigenvalue: np.ndarray
    condition_number: np.ndarray
    finite: np.ndarray


def gamma_sweep_values(low: float = 1e-4, high: float = 1e4, per_decade: int = 4) -> np.ndarray:
    """Log-spaced gammas from `low` to `high`, `per_decade` per decade, shape (G,)."""
    decades = math.log10(high / low)
    return np.logspace(math.log10(low), math.log10(high), int(round(decades * per_decade)) + 1)


def spectrum_point(choice: KernelChoice, X: ArrayLike, gamma: float,
                   dtype: DTypeLike | None = None) -> Spectrum:
    """The `Spectrum` of K for `choice` with every gamma set to `gamma`, on X (N, D).

    Where K overflows (NaN or inf entries) there is no spectrum: every field is NaN.
    """
    K = kernel_gram(choice.with_gamma(gamma), X, dtype=dtype)
    if not np.all(np.isfinite(K)):
        nan = float("nan")
        return Spectrum(np.full(K.shape[0], nan), nan, nan, nan)
    return spectrum(K)


def spectrum_sweep(
    choice: KernelChoice,
    X: ArrayLike,
    gammas: Sequence[float],
    dtype: DTypeLike | None = None,
    evaluate: Callable[..., Spectrum] = spectrum_point,
    on_progress: Callable[[int, int], None] | None = None,
) -> SpectrumSweep:
    """The spectrum of K at each gamma (every component's gamma set to it).

    Args:
      choice: the kernel; `choice.has_gamma` must be True.
      X: shape (N, D).
      gammas: the values to sweep, ascending.
      dtype: compute dtype of K.
      evaluate: `evaluate(choice, X, gamma, dtype)` -> `Spectrum`; the app
        passes a cached wrapper of `spectrum_point`.
      on_progress: called as `on_progress(done, total)` after each gamma.

    Returns:
      a `SpectrumSweep`.

    Raises:
      ValueError: the kernel has no gamma.
    """
    if not choice.has_gamma:
        raise ValueError(f"{choice.label} has no gamma to sweep: pick a kernel with one.")
    points = []
    for i, g in enumerate(gammas):
        points.append(evaluate(choice, X, float(g), dtype))
        if on_progress is not None:
            on_progress(i + 1, len(gammas))
    return SpectrumSweep(
        gammas=np.asarray(gammas, dtype=float),
        eigenvalues=np.vstack([s.eigenvalues for s in points]),
        effective_rank=np.array([s.effective_rank for s in points]),
        min_eigenvalue=np.array([s.min_eigenvalue for s in points]),
        condition_number=np.array([s.condition_number for s in points]),
        finite=np.array([bool(np.all(np.isfinite(s.eigenvalues))) for s in points]),
    )
