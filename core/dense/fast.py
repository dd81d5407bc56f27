"""The RBF Gram matrix at close to memory speed: ways to write K only once.

`K[i, j] = exp(-gamma * |x_i - y_j|^2)` costs at least one exponential and one
store per entry; everything else should hide behind those. Every form here
subtracts one shared mean first (distances do not change, and the norms become
small, so float32 no longer cancels far from the origin), uses the expansion
`-gamma * (|x|^2 + |y|^2 - 2 x.y)` and writes K once into one NumPy buffer (NumPy
asks for huge pages; a fresh N x N buffer from XLA is page-faulted in 4 KiB at a
time, which at large N costs as much as the stores). XLA programs run on their own here are
compiled with `core.compile_options.COMPILER_OPTIONS` (512-bit vectors).

`rbf_gram_panels` ("jit_panels"): XLA computes K a panel of rows at a time, fused
and on every core, while NumPy copies the previous panel into K.

`rbf_gram_tiled` ("numpy_tiled"), NumPy and BLAS:
* the exponent is ONE matrix product of augmented rows,
  `[x, -gamma |x|^2, 1] . [2 gamma y, 1, -gamma |y|^2]` (`augmented_factors`);
* K is filled tile by tile: each tile is one BLAS product, a clip and an in-place
  `exp` while it is still in cache, then one store;
* for K(X, X) with many features only the tiles on and above the diagonal are
  computed, each stored twice (as is, and transposed): half the products and
  exponentials. With few features the product is cheap and NumPy's transposed store
  (strided) is not, so every tile is computed;
* tiles are shared among one worker thread per core (NumPy releases the GIL in
  BLAS and in ufuncs), with BLAS held to one thread per call meanwhile.

Float32 accuracy is that of the centered expansion: an exponent error of about
`gamma * eps * (|x - mean|^2 + |y - mean|^2)`, negligible while gamma is on the
scale of the data (the median heuristic); points far from the origin cost nothing.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Iterator

import jax
import jax.numpy as jnp
import numpy as np

from core.compile_options import COMPILER_OPTIONS
from core.dense.buckets import bucket_size, pad_rows
from core.kernels.numerics import augmented_factors, clip_at_zero, shared_shift
from core.precision import dtype_scope

__all__ = ["TILE_ROWS", "TILE_COLS", "THREADED_MIN_ENTRIES", "MIRROR_MIN_FEATURES", "PANEL_BYTES",
           "PAIR_TILE", "PAIRS_PER_CALL", "panel_rows", "rbf_panel", "rbf_gram_panels",
           "rbf_gram_tiled", "rbf_tile_pairs", "rbf_gram_mirrored", "centered_exponent",
           "rbf_gram_numpy_exp", "worker_count"]

# A float32 tile of 256 x 256 (256 KiB) stays in a core's L2 cache between the product,
# clip, exp and both stores. Wider tiles make the transposed store read the tile at a
# 2-4 KiB stride, which thrashes L1; larger ones and whole row panels spill to memory
# between passes (figures: docs/BENCHMARKS.md, "The Gram matrix", and its history).
TILE_ROWS = 256
TILE_COLS = 256
# Below this many entries threads cost more than they save (K is under 1 ms).
THREADED_MIN_ENTRIES = 1_000_000
# K(X, X) mirrors tiles from this many features on: the product a mirrored tile saves
# grows with D, and from here on it outweighs the cost of the strided transposed store.
MIRROR_MIN_FEATURES = 32
# Tasks per worker thread: the tiles are dealt out in this many shares per thread.
SHARES_PER_WORKER = 4


def worker_count() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def rbf_gram_tiled(X: np.ndarray, Y: np.ndarray | None, gamma: np.ndarray,
                   workers: int | None = None) -> np.ndarray:
    """`exp(-gamma * |x_i - y_j|^2)` filled tile by tile (see the module docstring).

    Args:
      X: shape (N, D), float32 or float64.
      Y: shape (M, D), dtype of X; None means K(X, X): symmetric, with a
        diagonal of exactly 1.
      gamma: a scalar (a 0-d array of X's dtype keeps float32 float32).
      workers: threads to share the tiles; None: one per core, or 1 for small K.

    Returns:
      K, a new C-ordered NumPy array of shape (N, M), dtype of X.
    """
    same = Y is None
    mirror = same and X.shape[1] >= MIRROR_MIN_FEATURES
    A, B = augmented_factors(*shared_shift(X, None if same else Y), gamma)
    n, m = A.shape[0], B.shape[1]
    K = np.empty((n, m), X.dtype)
    below = np.tri(TILE_ROWS, k=-1, dtype=bool)

    def fill(i0: int, j0: int) -> None:
        i1, j1 = min(i0 + TILE_ROWS, n), min(j0 + TILE_COLS, m)
        tile = A[i0:i1] @ B[:, j0:j1]
        diagonal = same and j0 <= i0 < j1  # the tile holds a diagonal block
        clip_at_zero(tile, exponent=True,
                     self_pairs=(np.arange(i0, i1), np.arange(j0, j1)) if diagonal else None)
        np.exp(tile, out=tile)
        if diagonal and mirror:  # both triangles were computed: make K exactly symmetric
            square = tile[:, i0 - j0: i0 - j0 + i1 - i0]
            np.copyto(square, square.T, where=below[: i1 - i0, : i1 - i0])
        K[i0:i1, j0:j1] = tile
        if mirror and j1 > i1:  # the mirror image, below this row block
            lo = max(j0, i1)
            K[lo:j1, i0:i1] = tile[:, lo - j0:].T

    # Mirrored: in row block i0 only the columns from i0 on (TILE_COLS is a
    # multiple of TILE_ROWS, so each diagonal block lies in one tile).
    tiles = [(i0, j0) for i0 in range(0, n, TILE_ROWS)
             for j0 in range(i0 if mirror else 0, m, TILE_COLS)]
    workers = workers or (worker_count() if n * m >= THREADED_MIN_ENTRIES else 1)
    with _one_blas_thread_per_call():
        if workers == 1 or len(tiles) == 1:
            for i0, j0 in tiles:
                fill(i0, j0)
        else:
            # A few interleaved shares, not one task per tile: a task costs tens of
            # microseconds of locking and GIL hand-offs (16 tiles at N = 1000), and
            # interleaving balances the triangle of a mirrored K; more shares than
            # workers, so that a core slowed by another process hands work on.
            shares = [tiles[k::SHARES_PER_WORKER * workers]
                      for k in range(SHARES_PER_WORKER * workers)]
            for _ in _pool(workers).map(lambda share: [fill(*t) for t in share], shares):
                pass
    return K


# A panel of about 4 MiB: XLA's output for it is reused from the heap call after
# call (a fresh N x N buffer from XLA is page-faulted in at 4 KiB a page), and the
# copy into K reads it from cache; larger panels leave the cache before the copy.
PANEL_BYTES = 4 * 1024**2


def panel_rows(m: int, itemsize: int) -> int:
    """Rows per panel: a power of two from 16 to 1024 (few shapes to compile), near PANEL_BYTES."""
    rows = PANEL_BYTES // max(m * itemsize, 1)
    return int(min(1024, max(16, 2 ** int(np.log2(max(rows, 1))))))


@partial(jax.jit, compiler_options=COMPILER_OPTIONS)
def rbf_panel(Xp: jax.Array, B: jax.Array, gx: jax.Array, gy: jax.Array,
              row_ids: jax.Array) -> jax.Array:
    """`exp(min(Xp @ B - gx - gy, 0))` for one panel of rows, fused by XLA.

    Args:
      Xp: centered rows, shape (P, D); B: `2 gamma (Y - mean).T`, shape (D, M);
      gx: `gamma |x - mean|^2`, shape (P,); gy: likewise for Y, shape (M,).
      row_ids: the panel's row numbers in K(X, X), shape (P,): their diagonal
        entries come out exactly 1; -1 for rows without a self pair (K(X, Y)),
        so that both compile to one program.

    Returns:
      The panel of K, shape (P, M).
    """
    return jnp.exp(clip_at_zero(Xp @ B - gx[:, None] - gy[None, :], exponent=True,
                                self_pairs=(row_ids, jnp.arange(B.shape[1]))))


def rbf_gram_panels(X: np.ndarray, Y: np.ndarray | None, gamma: np.ndarray) -> np.ndarray:
    """`exp(-gamma * |x_i - y_j|^2)` from XLA in row panels, copied into one NumPy K.

    XLA computes each panel in one fused pass on every core while NumPy copies the
    previous one into K (JAX dispatches asynchronously): K is written once, into a
    buffer NumPy allocates with huge pages.

    Args:
      X: shape (N, D), float32 or float64.
      Y: shape (M, D), dtype of X; None means K(X, X), with a diagonal of exactly 1.
      gamma: a scalar.

    Returns:
      K, a new C-ordered NumPy array of shape (N, M), dtype of X.
    """
    same = Y is None
    Y = X if same else Y
    dt = X.dtype
    Xc, Yc = shared_shift(X, None if same else Y)
    g = np.asarray(gamma, dtype=dt)
    gx, gy = g * np.einsum("ik,ik->i", Xc, Xc), g * np.einsum("ik,ik->i", Yc, Yc)
    B = np.ascontiguousarray((2 * g) * Yc.T)
    n, m = X.shape[0], Y.shape[0]
    K = np.empty((n, m), dt)
    if n == 0 or m == 0:
        return K
    # M padded to its shape bucket (zero columns, sliced off in the copy): one
    # compilation per (rows, bucket of M, D), not per M (core.dense.buckets).
    mp = bucket_size(m)
    if mp > m:
        B = np.concatenate([B, np.zeros((B.shape[0], mp - m), dt)], axis=1)
        gy = np.concatenate([gy, np.zeros(mp - m, dt)])
    rows = panel_rows(mp, dt.itemsize)
    pad = -n % rows  # every panel has the same shape: one compilation per (rows, M, D)
    if pad:
        Xc = np.concatenate([Xc, np.zeros((pad, Xc.shape[1]), dt)])
        gx = np.concatenate([gx, np.zeros(pad, dt)])
    with dtype_scope(dt):
        B, gy = jax.device_put(B), jax.device_put(gy)  # jnp.asarray compiles a copy per shape
        pending = None
        for i0 in range(0, n + rows, rows):
            ids = np.arange(i0, i0 + rows) if same else np.full(rows, -1)
            ready = rbf_panel(Xc[i0:i0 + rows], B, gx[i0:i0 + rows], gy, ids) if i0 < n else None
            if pending is not None:  # copy the previous panel while XLA computes this one
                j0, panel = pending
                K[j0:j0 + rows] = np.asarray(panel)[: n - j0, :m]
            pending = (i0, ready)
    return K


# rbf_gram_mirrored: tiles of PAIR_TILE x PAIR_TILE, PAIRS_PER_CALL of them per XLA
# call (4 float32 tiles and their transposes: 2 MiB, which stay in cache until NumPy
# copies them; more per call leave it first).
PAIR_TILE = 256
PAIRS_PER_CALL = 4


@partial(jax.jit, compiler_options=COMPILER_OPTIONS)
def rbf_tile_pairs(a: jax.Array, b: jax.Array, diagonal: jax.Array
                   ) -> tuple[jax.Array, jax.Array]:
    """P tiles of K(X, X), `exp(min(a_p @ b_p.T, 0))`, and their transposes, fused by XLA.

    Args:
      a: rows of A (`augmented_factors`) for each tile's row block, shape (P, T, D + 2).
      b: rows of B.T for each tile's column block, shape (P, T, D + 2).
      diagonal: shape (P,), bool: the tile lies on K's diagonal. Its self pairs come
        out exactly 1, and its lower triangle is its upper one mirrored, so that K is
        exactly symmetric.

    Returns:
      `(tiles, transposed)`, both of shape (P, T, T), dtype of a.
    """
    ids = jnp.arange(a.shape[1])
    on_diagonal = diagonal[:, None, None] & (ids[:, None] == ids[None, :])
    exponent = clip_at_zero(jnp.einsum("ptk,psk->pts", a, b), exponent=True)
    tiles = jnp.exp(jnp.where(on_diagonal, jnp.zeros_like(exponent), exponent))
    below = diagonal[:, None, None] & (ids[:, None] > ids[None, :])
    tiles = jnp.where(below, jnp.swapaxes(tiles, 1, 2), tiles)
    return tiles, jnp.swapaxes(tiles, 1, 2)


def rbf_gram_mirrored(X: np.ndarray, Y: np.ndarray | None, gamma: np.ndarray) -> np.ndarray:
    """K(X, X) from the XLA tiles on and above its diagonal, each stored twice into one NumPy K.

    Half the products and half the exponentials of the full K: the tiles (i, j),
    j >= i, of PAIR_TILE rows and columns go to XLA PAIRS_PER_CALL at a time
    (`rbf_tile_pairs`: one compiled program per D and dtype, whatever N), and
    NumPy stores each tile and its transpose while XLA computes the next ones.

    Args:
      X: shape (N, D), float32 or float64.
      Y: None for K(X, X); an (M, D) array is passed to `rbf_gram_panels`
        (K(X, Y) has no symmetry to use).
      gamma: a scalar.

    Returns:
      K, a new C-ordered NumPy array of shape (N, N), dtype of X: exactly
      symmetric, with a diagonal of exactly 1.
    """
    if Y is not None:
        return rbf_gram_panels(X, Y, gamma)
    dt, n, t = X.dtype, X.shape[0], PAIR_TILE
    K = np.empty((n, n), dt)
    if n == 0:
        return K
    A, B = augmented_factors(*shared_shift(X, None), np.asarray(gamma, dt))
    blocks = -(-n // t)
    pad = np.zeros((blocks * t - n, A.shape[1]), dt)  # zero rows: finite, sliced off
    A = np.concatenate([A, pad]).reshape(blocks, t, -1)
    Bt = np.concatenate([B.T, pad]).reshape(blocks, t, -1)
    pairs = [(i, j) for i in range(blocks) for j in range(i, blocks)]
    rows, cols = np.array(pairs + [(0, 0)] * (-len(pairs) % PAIRS_PER_CALL)).T

    def store(c0: int, out: tuple[jax.Array, jax.Array]) -> None:
        tiles, transposed = (np.asarray(o) for o in out)
        for q, (i, j) in enumerate(pairs[c0:c0 + PAIRS_PER_CALL]):
            r0, r1, s0, s1 = i * t, min(i * t + t, n), j * t, min(j * t + t, n)
            K[r0:r1, s0:s1] = tiles[q, :r1 - r0, :s1 - s0]
            if i != j:
                K[s0:s1, r0:r1] = transposed[q, :s1 - s0, :r1 - r0]

    with dtype_scope(dt):
        pending = None
        for c0 in range(0, len(rows) + PAIRS_PER_CALL, PAIRS_PER_CALL):
            i, j = rows[c0:c0 + PAIRS_PER_CALL], cols[c0:c0 + PAIRS_PER_CALL]
            ready = rbf_tile_pairs(A[i], Bt[j], i == j) if c0 < len(rows) else None
            if pending is not None:  # store the previous tiles while XLA computes these
                store(*pending)
            pending = (c0, ready)
    return K


@jax.jit
def centered_exponent(X: jax.Array, Y: jax.Array | None, gamma: jax.Array) -> jax.Array:
    """`-gamma * |x_i - y_j|^2` of already shifted rows by the expansion, fused by XLA:
    `(2 gamma X) . Y.T - gamma |x|^2 - gamma |y|^2`, as `rbf_panel`: gamma goes into
    the product, so the pass over the (N, M) result has no scaling to do.

    Args:
      X: shape (N, D); Y: (M, D), or None for K(X, X) (self pairs exactly 0); gamma: a scalar.

    Returns:
      The exponents, clipped at 0 from above, shape (N, M), dtype of X.
    """
    same, Y = Y is None, X if Y is None else Y
    gx = gamma * jnp.sum(X * X, axis=1)
    gy = gx if same else gamma * jnp.sum(Y * Y, axis=1)
    exponent = jnp.dot(2 * gamma * X, Y.T) - gx[:, None] - gy[None, :]
    return clip_at_zero(exponent, exponent=True,
                        self_pairs=(jnp.arange(X.shape[0]),) * 2 if same else None)


# Called on its own (not inside another jit), so compiled with the project's options.
_centered_exponent_outer = jax.jit(centered_exponent, compiler_options=COMPILER_OPTIONS)


def rbf_gram_numpy_exp(X: np.ndarray, Y: np.ndarray | None, gamma: np.ndarray,
                       workers: int | None = None) -> np.ndarray:
    """The centered expansion's exponents from XLA, exponentiated by NumPy into a new K.

    NumPy's float64 `exp` costs less CPU time than XLA's, so in float64 the product
    goes to XLA (every core)
    and the exponential to NumPy, split over `workers` threads (NumPy releases the
    GIL in ufuncs; the calling thread takes the last share).

    Args:
      X: shape (N, D), float32 or float64. Y: shape (M, D), dtype of X; None means
        K(X, X), with a diagonal of exactly 1. gamma: a scalar.
      workers: threads for the exp; None: one per core, or 1 below THREADED_MIN_ENTRIES.

    Returns:
      K, a new C-ordered NumPy array of shape (N, M), dtype of X.
    """
    dt, n, m = X.dtype, X.shape[0], X.shape[0] if Y is None else Y.shape[0]
    Xc, Yc = shared_shift(X, Y)
    K = np.empty((n, m), dt)
    if n == 0 or m == 0:
        return K
    # Rows padded to their shape buckets (a few compiled shapes, core.dense.buckets);
    # the padding is skipped by reading E through a view, never copied.
    Xp = pad_rows(Xc, bucket_size(n))
    Yp = None if Y is None else pad_rows(Yc, bucket_size(m))
    with dtype_scope(dt):
        E = np.asarray(_centered_exponent_outer(Xp, Yp, np.asarray(gamma, dt)))
    workers = workers or (worker_count() if n * m >= THREADED_MIN_ENTRIES else 1)
    bounds = np.linspace(0, n, min(workers, n) + 1).astype(int)
    shares = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    others = [_pool(workers).submit(np.exp, E[s, :m], out=K[s]) for s in shares[:-1]]
    np.exp(E[shares[-1], :m], out=K[shares[-1]])
    for f in others:
        f.result()
    return K


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="fast_gram")
        return _POOLS[workers]


_BLAS_LOCK = threading.Lock()
_blas_state: dict = {"users": 0, "limiter": None, "controller": None}


@contextlib.contextmanager
def _one_blas_thread_per_call() -> Iterator[None]:
    # Our workers already use every core: a multithreaded BLAS inside each of
    # them oversubscribes the cores, and even alone, BLAS threads woken for one
    # small tile cost more than the tile. The BLAS
    # thread count is process-wide, so it is lowered by the first concurrent
    # caller and restored by the last one, never by one that overlaps another.
    with _BLAS_LOCK:
        if _blas_state["users"] == 0:
            if _blas_state["controller"] is None:
                from threadpoolctl import ThreadpoolController  # scikit-learn's dependency
                _blas_state["controller"] = ThreadpoolController()
            _blas_state["limiter"] = _blas_state["controller"].limit(limits=1, user_api="blas")
        _blas_state["users"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _blas_state["users"] -= 1
            if _blas_state["users"] == 0:
                _blas_state["limiter"].restore_original_limits()
                _blas_state["limiter"] = None
