"""The registry of batching methods for the RBF Gram matrix.

Each `GramMethod` computes `K[i, j] = exp(-gamma * |X[i] - Y[j]|^2)` a different
way: Python loops, NumPy, `vmap` with and without `jit`, the expansion, chunked
`lax.map`, and scikit-learn and SciPy as peers. The app shows `method.source`,
which is read from the very functions that `method.compute` runs. The entry
`"auto"`, which runs one of these per call, is registered by `core.dense.auto`.
"""

from __future__ import annotations

import dataclasses
import inspect
from functools import partial
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import scipy.spatial.distance
import sklearn.metrics.pairwise
from jax.typing import ArrayLike

from core.kernels.distances import (
    pairwise_sqeuclidean,
    sqdist_broadcast,
    sqdist_dot,
    sqdist_numpy,
    check_feature_sizes,
)
from core.compile_options import COMPILER_OPTIONS
from core.errors import TooLargeError
from core.dense.buckets import on_buckets, sqdist_on_buckets
from core.dense.fast import (centered_exponent, rbf_gram_mirrored, rbf_gram_numpy_exp,
                             rbf_gram_panels, rbf_gram_tiled, rbf_panel, rbf_tile_pairs)
from core.dense.memory import check_dense_budget
from core.kernels.numerics import augmented_factors, clip_at_zero, shared_shift
from core.kernels.gram import covariance_matrix, gram
from core.kernels.functions import rbf_kernel
from core.precision import as_float_array, dtype_scope

__all__ = [
    "GramMethod",
    "METHODS",
    "get_method",
    "resolve",
    "sqdist_for",
    "sqdist_by_form",
    "rbf_from_sqdist",
]

# --- the methods, one short function each (their source is what the app shows) ---

def gram_python_loop(X, Y, gamma):
    params = {"gamma": gamma}
    Y = X if Y is None else Y
    return np.array([[float(rbf_kernel(params, x, y)) for y in Y] for x in X])


def gram_map_stack(X, Y, gamma):
    Y = X if Y is None else Y
    row = partial(rbf_row, {"gamma": gamma}, Y)
    return np.stack(list(map(row, X)))


def rbf_row(params, Y, x):
    # One row of K: x against every y, with the vector form vmapped over Y.
    return jax.vmap(partial(rbf_kernel, params, x))(Y)


def gram_np_vectorize(X, Y, gamma):
    Y = X if Y is None else Y
    k = np.vectorize(lambda x, y: np.exp(-gamma * np.sum((x - y) ** 2)), signature="(d),(d)->()")
    return k(X[:, None, :], Y[None, :, :])


def gram_vmap_nojit(X, Y, gamma):
    return gram(rbf_kernel, {"gamma": gamma}, X, Y)


def gram_jit_method1(X, Y, gamma):
    return gram(rbf_kernel, {"gamma": gamma}, X, Y)


def gram_jit_method2(X, Y, gamma):
    Y = X if Y is None else Y
    return covariance_matrix(partial(rbf_kernel, {"gamma": gamma}), X, Y)


def gram_jit_broadcast(X, Y, gamma):
    Y = X if Y is None else Y
    return jnp.exp(-gamma * sqdist_broadcast(X, Y))


def gram_jit_expansion(X, Y, gamma):
    Y = X if Y is None else Y
    return jnp.exp(-gamma * clip_at_zero(sqdist_dot(X, Y)))


def gram_jit_centered(X, Y, gamma):
    # X and Y arrive shifted by shared_shift (GramMethod.prepare, on the host);
    # the exponents are jit_numpy_exp's too (inlined in this jit: one XLA program).
    return jnp.exp(centered_exponent(X, Y, gamma))


def gram_numpy_tiled(X, Y, gamma):
    # NumPy arrays in, a new NumPy K out: no JAX, so no device copy and no
    # compilation; BLAS and the exponential run tile by tile, in cache.
    return rbf_gram_tiled(np.asarray(X), None if Y is None else np.asarray(Y), gamma)


def gram_jit_panels(X, Y, gamma):
    # A Python loop over row panels, each one jitted XLA call; the panels are
    # copied into one NumPy K, so no N x N buffer ever comes from XLA.
    return rbf_gram_panels(np.asarray(X), None if Y is None else np.asarray(Y), gamma)


def gram_jit_mirrored(X, Y, gamma):
    # XLA computes the tiles of K(X, X) on and above the diagonal and their
    # transposes; NumPy stores both: half the products and half the exponentials.
    return rbf_gram_mirrored(np.asarray(X), None if Y is None else np.asarray(Y), gamma)


def gram_jit_numpy_exp(X, Y, gamma):
    # XLA makes the exponents (the product, every core); NumPy's exp, cheaper than
    # XLA's in float64, writes them into a new NumPy K. A candidate the Gram benchmark
    # times beside the others; "auto" does not pick it (docs/BENCHMARKS.md, "The Gram matrix").
    return rbf_gram_numpy_exp(np.asarray(X), None if Y is None else np.asarray(Y), gamma)


def gram_numpy_expansion(X, Y, gamma):
    Y = X if Y is None else Y
    return np.exp(-gamma * clip_at_zero(sqdist_numpy(X, Y)))


LAX_MAP_BATCH_SIZE = 256


def gram_lax_map(X, Y, gamma):
    Y = X if Y is None else Y
    # Rows in chunks of LAX_MAP_BATCH_SIZE: vmap inside a chunk, a loop across
    # chunks, so peak memory is one chunk of rows however large N is.
    row = lambda x: jnp.exp(-gamma * jax.vmap(lambda y: jnp.sum((x - y) ** 2))(Y))
    return jax.lax.map(row, X, batch_size=LAX_MAP_BATCH_SIZE)


def gram_sklearn(X, Y, gamma):
    return sklearn.metrics.pairwise.rbf_kernel(X, Y, gamma=float(gamma))


def gram_scipy_cdist(X, Y, gamma):
    Y = X if Y is None else Y
    return np.exp(-gamma * scipy.spatial.distance.cdist(X, Y, "sqeuclidean"))


# --- the registry ---

@dataclasses.dataclass(frozen=True)
class GramMethod:
    """One way to compute the RBF Gram matrix.

    Attributes:
      name: registry key, e.g. "jit_method1".
      label: what the app shows, e.g. "jit · Method I (nested vmap)".
      explanation: one line on what it does and why it is fast or slow.
      fn: `fn(X, Y, gamma)` with X (N, D), Y (M, D) or None, gamma a scalar.
      compiled: True when `fn` runs under `jax.jit`.
      shows: extra functions whose source belongs to what runs (helpers of fn).
      max_pairs: N·M above which it declines (None: only the memory budget).
      slow_reason: why it declines above max_pairs.
      copies: dense (N, M) arrays it holds at peak (D-fold for materialised
        differences), for the memory estimate.
      accurate_far_from_origin: False for the expansion without centering.
      peer: True for scikit-learn and SciPy.
      distance_method: the `pairwise_sqeuclidean` method that computes the same
        squared distances, so a gamma change can reuse them (see `sqdist_for`).
      zero_diagonal: True when its K[i, i] is exactly 1 for Y = None.
      shifted: True when `prepare` shifts X and Y by `shared_shift` before
        `fn` runs (the shift is float64, on the host: not inside jit).
      jitted: `jax.jit(fn)` with `COMPILER_OPTIONS` when `compiled`, else None.
        `runner` calls it on rows padded to shape buckets (`core.dense.buckets`),
        so that a server sees a few compiled shapes, not one per N.
    """

    name: str
    label: str
    explanation: str
    fn: Callable[..., Any]
    compiled: bool
    shows: tuple[Callable[..., Any], ...] = ()
    max_pairs: int | None = None
    slow_reason: str = ""
    copies: float = 2.0
    copies_per_feature: bool = False
    accurate_far_from_origin: bool = True
    peer: bool = False
    distance_method: str = "vmap"
    zero_diagonal: bool = False
    shifted: bool = False
    jitted: Any = dataclasses.field(init=False, repr=False, compare=False)
    runner: Callable[..., Any] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        jitted = jax.jit(self.fn, compiler_options=COMPILER_OPTIONS) if self.compiled else None
        object.__setattr__(self, "jitted", jitted)
        object.__setattr__(self, "runner", partial(on_buckets, jitted) if self.compiled else self.fn)

    def resolve(self, n: int, m: int, d: int, dtype="float32") -> GramMethod:
        """The entry that really runs at this size: itself ("auto": its pick, `core.dense.auto`)."""
        return self

    @property
    def source(self) -> str:
        """The source of `fn` and of the helpers it calls, as it runs."""
        return "\n\n".join(inspect.getsource(f) for f in (self.fn, *self.shows))

    def peak_copies(self, d: int) -> float:
        """Dense (n, m) arrays it holds at peak with d features (`core.dense.memory`)."""
        return self.copies * (d if self.copies_per_feature else 1)

    def declines(self, n: int, m: int, d: int, dtype="float32") -> str | None:
        """Why this method will not run at this size, or None if it will."""
        if self.max_pairs is not None and n * m > self.max_pairs:
            return (f"{self.label} declines N×M = {n:,}×{m:,}: above {self.max_pairs:,} pairs "
                    f"{self.slow_reason}. Use fewer points or a compiled method.")
        try:  # the one memory budget, with its one message
            check_dense_budget(n, m, dtype, copies=self.peak_copies(d), what=self.label)
        except TooLargeError as refusal:
            return str(refusal)
        return None

    def shift(self, X: np.ndarray, Y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """`(X, Y)` as `fn` takes them: shifted by `shared_shift` when `shifted`."""
        if not self.shifted:
            return X, Y
        Xc, Yc = shared_shift(X, Y)
        return Xc, None if Y is None else Yc

    def prepare(self, X: ArrayLike, Y: ArrayLike | None, gamma: float, dtype=None):
        """Validated `(X, Y, gamma)` in the compute dtype, ready for `runner`.

        Raises:
          ValueError: mismatched feature sizes. TooLargeError: see `declines`.
        """
        X = as_float_array(X, dtype)
        Y = None if Y is None else as_float_array(Y, X.dtype)
        check_feature_sizes(X, X if Y is None else Y)
        m = X.shape[0] if Y is None else Y.shape[0]
        reason = self.declines(X.shape[0], m, X.shape[1], X.dtype)
        if reason:
            raise TooLargeError(reason)
        # gamma as a 0-d array of the data's dtype: a new gamma reuses the compiled
        # code, and a float64 gamma never promotes float32 data.
        return (*self.shift(X, Y), np.asarray(gamma, dtype=X.dtype))

    def compute(self, X: ArrayLike, Y: ArrayLike | None = None, gamma: float = 1.0,
                dtype=None) -> np.ndarray:
        """The Gram matrix as a NumPy array, shape (N, M), dtype of X (or `dtype`)."""
        X, Y, g = self.prepare(X, Y, gamma, dtype)
        with dtype_scope(X.dtype):
            return np.asarray(self.runner(X, Y, g), dtype=X.dtype)


_SLOW = "(a Python-level loop: it would run for minutes)"

_METHOD_LIST = [
    GramMethod("python_loop", "Python double loop", "One vector-form kernel call per pair "
               "of points, in Python: every call pays JAX's dispatch cost.",
               gram_python_loop, compiled=False, max_pairs=10_000, slow_reason=_SLOW),
    GramMethod("map_stack", "map + partial + np.stack", "The notes' baseline: map a partial "
               "over the rows of X, vmap inside a row, stack the rows in NumPy.",
               gram_map_stack, compiled=False, shows=(rbf_row,), max_pairs=4_000_000,
               slow_reason="(one dispatch per row)"),
    GramMethod("np_vectorize", "np.vectorize", "NumPy's vectorize: convenient, but a Python "
               "loop inside, not a performance tool.",
               gram_np_vectorize, compiled=False, max_pairs=250_000, slow_reason=_SLOW),
    GramMethod("vmap_nojit", "vmap, no jit (Method I)", "Nested vmap without jit: batched "
               "ops, each dispatched on its own, with (N, M, D) differences in memory.",
               gram_vmap_nojit, compiled=False, copies=3, copies_per_feature=True),
    GramMethod("jit_method1", "jit · Method I (nested vmap)", "The notes' gram(): one "
               "call of nested vmap over lambdas, compiled into one fused kernel.",
               gram_jit_method1, compiled=True, shows=(gram, rbf_kernel)),
    GramMethod("jit_method2", "jit · Method II (in_axes/out_axes)", "covariance_matrix(): "
               "vmap with in_axes=(0, None) inside vmap with in_axes=(None, 0), out_axes=1.",
               gram_jit_method2, compiled=True, shows=(covariance_matrix, rbf_kernel)),
    GramMethod("jit_broadcast", "jit · manual broadcasting", "The same math written by hand "
               "with X[:, None] - Y[None]: what vmap generates for you, for comparison.",
               gram_jit_broadcast, compiled=True, shows=(sqdist_broadcast,),
               distance_method="broadcast"),
    GramMethod("jit_expansion", "jit · expansion XX+YY−2XY", "Matrix-product form: fastest "
               "for many features, but cancels catastrophically in float32 far from 0.",
               gram_jit_expansion, compiled=True, shows=(sqdist_dot,),
               accurate_far_from_origin=False, distance_method="dot"),
    GramMethod("jit_centered", "jit · centered expansion", "Subtract one shared mean, then "
               "the expansion: matrix-product speed without the cancellation.",
               gram_jit_centered, compiled=True,
               shows=(centered_exponent, shared_shift, clip_at_zero),
               distance_method="centered", zero_diagonal=True, shifted=True),
    GramMethod("numpy_tiled", "NumPy + BLAS · tiled centered expansion", "Centered expansion as "
               "one BLAS product per 256×256 tile, exp while the tile is in cache, one write "
               "into K; K(X, X) computes the upper tiles only and mirrors them; a thread per core.",
               gram_numpy_tiled, compiled=False, shows=(rbf_gram_tiled, augmented_factors),
               copies=1.05, distance_method="centered", zero_diagonal=True),
    GramMethod("jit_panels", "jit · centered expansion in row panels", "XLA computes K a "
               "panel of rows at a time (one fused pass, every core) while NumPy copies the "
               "last panel into K: K is written once, into a huge-page NumPy buffer.",
               gram_jit_panels, compiled=False, shows=(rbf_gram_panels, rbf_panel),
               copies=1.05, distance_method="centered", zero_diagonal=True),
    GramMethod("jit_mirrored", "jit · centered expansion, mirrored tiles", "XLA computes only "
               "the 256×256 tiles of K(X, X) on and above the diagonal, four per call, with "
               "their transposes; NumPy stores both into K: half the products and exponentials. "
               "K(X, Y) goes by row panels.",
               gram_jit_mirrored, compiled=False, shows=(rbf_gram_mirrored, rbf_tile_pairs),
               copies=1.05, distance_method="centered", zero_diagonal=True),
    GramMethod("jit_numpy_exp", "jit · centered exponent, NumPy exp", "XLA computes the "
               "centered expansion's exponents (one product, every core); NumPy "
               "exponentiates them into a new K.",
               gram_jit_numpy_exp, compiled=False, shows=(rbf_gram_numpy_exp, centered_exponent),
               copies=2.3, distance_method="centered", zero_diagonal=True),  # E padded + K
    GramMethod("numpy_expansion", "NumPy expansion (einsum)", "The notes' einsum expansion in "
               "plain NumPy: no JAX, same cancellation as the jitted expansion.",
               gram_numpy_expansion, compiled=False, shows=(sqdist_numpy,), copies=3,
               accurate_far_from_origin=False, distance_method="numpy"),
    GramMethod("lax_map", "jit · lax.map in row chunks", "jax.lax.map(..., batch_size=256): "
               "vmap inside a chunk of rows, a loop across chunks; bounded memory.",
               gram_lax_map, compiled=True, copies=1.2),
    GramMethod("sklearn", "scikit-learn rbf_kernel (peer)", "scikit-learn's pairwise "
               "rbf_kernel: the expansion, upcast to float64 in blocks for float32 input.",
               gram_sklearn, compiled=False, copies=3, peer=True, distance_method="sklearn",
               zero_diagonal=True),
    GramMethod("scipy_cdist", "SciPy cdist + exp (peer)", "SciPy's cdist with "
               "'sqeuclidean': direct differences in C, then NumPy's exp.",
               gram_scipy_cdist, compiled=False, copies=2, peer=True, distance_method="scipy"),
]

METHODS: dict[str, GramMethod] = {m.name: m for m in _METHOD_LIST}


def resolve(name: str, n: int, m: int, d: int, dtype="float32") -> GramMethod:
    """The registry entry that really runs for `name` ("auto" becomes its pick)."""
    return get_method(name).resolve(n, m, d, dtype)


def sqdist_for(name: str, X: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
    """The squared distances behind method `name`'s Gram matrix, shape (N, M).

    `rbf_from_sqdist(sqdist_for(name, X, Y), gamma)` equals
    `METHODS[name].compute(X, Y, gamma)` to round-off, so a new gamma needs only
    the exponential, never the distances again.
    """
    X = np.asarray(X)
    method = resolve(name, X.shape[0], X.shape[0] if Y is None else Y.shape[0], X.shape[1], X.dtype)
    return sqdist_by_form(method.distance_method, X, Y, exact_diagonal=method.zero_diagonal)


def sqdist_by_form(form: str, X: np.ndarray, Y: np.ndarray | None = None,
                   exact_diagonal: bool = True) -> np.ndarray:
    """Squared distances computed the way of one batching method, shape (N, M), dtype of X.

    Args:
      form: a method's `distance_method` ("vmap", "broadcast", "dot", "centered",
        "numpy", "sklearn" or "scipy").
      X: shape (N, D). Y: shape (M, D) or None (K(X, X)).
      exact_diagonal: for Y None, set d(x, x) to exactly 0 (the method's
        `zero_diagonal`); False keeps the form's round-off there, as the method does.
    """
    X = np.asarray(X)
    if Y is None and not exact_diagonal:
        Y = X  # the method keeps the expansion's round-off on the diagonal: so do we
    if form in ("numpy", "sklearn", "scipy"):  # no JAX, nothing compiled
        return pairwise_sqeuclidean(X, Y, method=form, dtype=X.dtype)
    X = as_float_array(X, X.dtype)
    Y = None if Y is None else as_float_array(Y, X.dtype)
    check_feature_sizes(X, X if Y is None else Y)
    return sqdist_on_buckets(X, Y, form)  # jitted on padded rows: few compiled shapes


def rbf_from_sqdist(d2: np.ndarray, gamma: float) -> np.ndarray:
    """`exp(-gamma * d2)` in the dtype of `d2`; shape of `d2`; `d2` is not changed."""
    # One new array, exponentiated in place: what a gamma change costs on the Gram
    # explorer, so no second N x N temporary.
    K = np.multiply(d2, -np.asarray(gamma, dtype=d2.dtype))
    return np.exp(K, out=K)


def get_method(name: str) -> GramMethod:
    """The registry entry `name`, or a ValueError listing the valid names."""
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"Unknown batching method {name!r}: choose one of "
                         f"{', '.join(METHODS)}.") from None
