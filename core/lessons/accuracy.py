"""How accurate each batching method is, against a float64 vector-form reference.

The expansion `|x - y|² = x·x + y·y - 2x·y` subtracts large, nearly equal numbers
when the points sit far from the origin: each term carries a round-off of about
eps·|x|², and that round-off is all that is left of a small distance. The direct
forms (nested `vmap` of the vector form, manual broadcasting) subtract the
coordinates first, which is exact for nearby floats, and the centered expansion
moves the points to the origin before expanding. This module measures all of it
on seeded data `standard normal × scale + offset`.

What is measured is each method's own error: the reference is computed in
float64 from the *same* (possibly float32-rounded) inputs, so the rounding of the
data themselves (about offset·6e-8 per coordinate in float32) is not counted.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Callable, Iterator, Sequence

import jax
import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from core.kernels.distances import pairwise_sqeuclidean
from core.kernels.functions import median_heuristic_gamma
from core.dense.methods import METHODS
from core.precision import as_float_array, canonical_dtype

__all__ = [
    "LAB_METHODS",
    "DEFAULT_LAB_METHODS",
    "SWEEP_OFFSETS",
    "MATMUL_PRECISIONS",
    "lab_data",
    "Reference",
    "reference",
    "MethodAccuracy",
    "method_accuracy",
    "lab_accuracy",
    "OffsetSweep",
    "offset_sweep",
    "matmul_precision_effect",
    "backend",
    "cancellation_scale",
]

# Registry methods the lab compares: not "auto" (it runs one of these) and not
# the Python-loop methods, which compute the vector form like jit_method1 does
# but decline all but tiny N.
LAB_METHODS = tuple(m for m, spec in METHODS.items() if m != "auto" and spec.max_pairs is None)
DEFAULT_LAB_METHODS = ("jit_method1", "jit_broadcast", "jit_expansion", "jit_centered",
                       "numpy_expansion", "sklearn")
# Two points per decade from 0.1 to 1e5: enough to read the slope on a log-log chart.
SWEEP_OFFSETS = tuple(float(f"{10 ** (k / 2):.3g}") for k in range(-2, 11))
# None: JAX's default for the backend; "highest": full float32 matrix products.
MATMUL_PRECISIONS = (None, "highest")


def lab_data(n: int, d: int, scale: float, offset: float, seed: int,
             dtype: DTypeLike = "float32") -> np.ndarray:
    """Seeded data `standard_normal(n, d) * scale + offset`, shape (n, d), in `dtype`.

    The normal draw depends on (n, d, seed) only, so a sweep over offsets moves
    the same cloud of points away from the origin.
    """
    Z = np.random.default_rng(seed).standard_normal((n, d))
    return (Z * scale + offset).astype(canonical_dtype(dtype))


@dataclasses.dataclass(frozen=True)
class Reference:
    """The float64 truth for data X: squared distances d2 (N, N), K (N, N), gamma."""

    d2: np.ndarray
    K: np.ndarray
    gamma: float


def reference(X: ArrayLike, gamma: float | None = None) -> Reference:
    """The reference of X (N, D): the vector form in float64 on X's exact values.

    Args:
      X: shape (N, D), any float dtype; upcast to float64 exactly.
      gamma: RBF gamma; None uses the median heuristic of X.
    """
    X64 = np.asarray(X, dtype=np.float64)
    g = median_heuristic_gamma(X64) if gamma is None else float(gamma)
    d2 = pairwise_sqeuclidean(X64, method="vmap", dtype="float64")
    # Method I of the vector form, the notes' gram(), in float64.
    K = METHODS["jit_method1"].compute(X64, None, g, dtype="float64")
    return Reference(d2, K, g)


@contextlib.contextmanager
def _matmul_precision(precision: str | None) -> Iterator[None]:
    if precision is None:
        yield
    else:
        # Part of jit's cache key: the compiled code is traced again under it.
        with jax.default_matmul_precision(precision):
            yield


@dataclasses.dataclass(frozen=True)
class MethodAccuracy:
    """One method's errors against the float64 reference.

    Attributes:
      method, label: registry key and display label.
      k_max_error, k_median_error: max and median |K - K_ref| over all N² entries.
      d2_max_error, d2_median_error: the same for the squared distances behind
        the method's K, as computed (before the app's clipping), in squared data units.
      negatives: how many of the N² squared distances came out below 0 before
        clipping (scikit-learn clips inside its own function: always 0 there).
      diagonal_deviation: max |K_ii - 1|: the expansion leaves round-off where
        every point meets itself.
      k_abs_error: |K - K_ref|, shape (N, N), float32 (for display: the
        summaries above are taken in float64 first), or None if not kept.
    """

    method: str
    label: str
    k_max_error: float
    k_median_error: float
    d2_max_error: float
    d2_median_error: float
    negatives: int
    diagonal_deviation: float
    k_abs_error: np.ndarray | None = None


def method_accuracy(X: ArrayLike, method: str, ref: Reference | None = None,
                    matmul_precision: str | None = None, keep_error: bool = False) -> MethodAccuracy:
    """Errors of registry method `method` on X (N, D) in X's dtype.

    Args:
      X: shape (N, D), float32 or float64: the dtype computed in.
      method: a key of `core.dense.methods.METHODS`.
      ref: `reference(X)`, computed here when None.
      matmul_precision: None or "highest" (see `MATMUL_PRECISIONS`).
      keep_error: keep the (N, N) |K - K_ref| matrix (for heatmaps).
    """
    X = as_float_array(X)
    ref = reference(X) if ref is None else ref
    spec = METHODS[method]
    with _matmul_precision(matmul_precision):
        K = spec.compute(X, None, ref.gamma, dtype=X.dtype)
        d2 = pairwise_sqeuclidean(X, method=spec.distance_method, dtype=X.dtype, clip=False)
    k_err = np.abs(K.astype(np.float64) - ref.K)
    d2_err = np.abs(d2.astype(np.float64) - ref.d2)
    return MethodAccuracy(
        method=method,
        label=spec.label,
        k_max_error=float(k_err.max()),
        k_median_error=float(np.median(k_err)),
        d2_max_error=float(d2_err.max()),
        d2_median_error=float(np.median(d2_err)),
        negatives=int(np.count_nonzero(d2 < 0)),
        diagonal_deviation=float(np.max(np.abs(np.diag(K).astype(np.float64) - 1.0))),
        k_abs_error=k_err.astype(np.float32) if keep_error else None,
    )


def lab_accuracy(n: int, d: int, scale: float, offset: float, seed: int, dtype: str,
                 methods: Sequence[str], matmul_precision: str | None = None,
                 keep_error: bool = False) -> tuple[MethodAccuracy, ...]:
    """`method_accuracy` of each of `methods` on `lab_data(n, d, scale, offset, seed, dtype)`.

    One point of the lab: the reference is computed once and shared by the
    methods, and the app caches the result on exactly these scalars.

    Returns:
      one `MethodAccuracy` per method, in the order given.
    """
    X = lab_data(n, d, scale, offset, seed, dtype)
    ref = reference(X)
    return tuple(method_accuracy(X, m, ref, matmul_precision, keep_error) for m in methods)


@dataclasses.dataclass(frozen=True)
class OffsetSweep:
    """Errors of each method as the data move away from the origin.

    Attributes:
      offsets: shape (P,).
      k_max_error, d2_max_error, negatives: method -> shape (P,) arrays.
    """

    offsets: np.ndarray
    k_max_error: dict[str, np.ndarray]
    d2_max_error: dict[str, np.ndarray]
    negatives: dict[str, np.ndarray]


def offset_sweep(
    n: int,
    d: int,
    scale: float,
    seed: int,
    dtype: str,
    methods: Sequence[str],
    offsets: Sequence[float] = SWEEP_OFFSETS,
    matmul_precision: str | None = None,
    evaluate: Callable[..., Sequence[MethodAccuracy]] = lab_accuracy,
    on_progress: Callable[[int, int], None] | None = None,
) -> OffsetSweep:
    """Max errors of each method at each offset (same normal draw, moved).

    Args:
      n, d, scale, seed, dtype: as for `lab_data`.
      methods: registry keys.
      offsets: shape (P,).
      matmul_precision: None or "highest".
      evaluate: called once per offset as `evaluate(n, d, scale, offset, seed,
        dtype, methods, matmul_precision)`, with `methods` a tuple; the app passes
        a cached wrapper of `lab_accuracy`.
      on_progress: called as `on_progress(done, total)` after each offset.
    """
    methods = tuple(methods)
    cols: dict[str, list[MethodAccuracy]] = {m: [] for m in methods}
    for i, offset in enumerate(offsets):
        for m, row in zip(methods, evaluate(n, d, scale, float(offset), seed, dtype, methods,
                                             matmul_precision)):
            cols[m].append(row)
        if on_progress is not None:
            on_progress(i + 1, len(offsets))
    return OffsetSweep(
        offsets=np.asarray(offsets, dtype=float),
        k_max_error={m: np.array([r.k_max_error for r in rows]) for m, rows in cols.items()},
        d2_max_error={m: np.array([r.d2_max_error for r in rows]) for m, rows in cols.items()},
        negatives={m: np.array([r.negatives for r in rows]) for m, rows in cols.items()},
    )


def matmul_precision_effect(X: ArrayLike, method: str, gamma: float | None = None) -> float:
    """max |K("highest") - K(default)| of `method` on X (N, D).

    0 where the backend already multiplies float32 matrices in full float32 (XLA
    on CPU); on GPUs with TF32 and on TPUs the default is coarser.

    Args:
      gamma: None uses the median heuristic of X (as the lab does).
    """
    X = as_float_array(X)
    gamma = median_heuristic_gamma(X) if gamma is None else gamma
    spec = METHODS[method]
    K_default = spec.compute(X, None, gamma, dtype=X.dtype)
    with _matmul_precision("highest"):
        K_highest = spec.compute(X, None, gamma, dtype=X.dtype)
    return float(np.max(np.abs(K_highest.astype(np.float64) - K_default)))


def cancellation_scale(offset: ArrayLike, scale: float, d: int, dtype: DTypeLike) -> np.ndarray:
    """The round-off of one squared norm |x|², eps·D·(offset² + scale²).

    This, not the size of |x - y|², sets the expansion's error: it is the
    guide line of slope 2 on the error-against-offset chart.

    Args:
      offset: scalar or shape (P,).

    Returns:
      shape of `offset`, float64, in squared data units.
    """
    eps = float(np.finfo(canonical_dtype(dtype)).eps)
    return eps * d * (np.asarray(offset, dtype=np.float64) ** 2 + scale**2)


def backend() -> str:
    """The platform JAX computes on: "cpu", "gpu" or "tpu"."""
    return jax.default_backend()
