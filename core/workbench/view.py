"""What the Workbench page shows for one kernel: K, the ways checked equal, jaxprs, frames.

Runs inside a worker process (`core.workbench.worker`); the page gets it through
`core.workbench.run.workbench_view`. Everything here takes the kernel as a
callable, so tests can hand it plain Python kernels. Every program is traced,
checked against the bounds (`core.workbench.program`) and only then compiled.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from core.errors import UserCodeError
from core.lessons.spectrum import definiteness, roundoff_bound, spectrum
from core.precision import as_float_array, canonical_dtype, dtype_scope
from core.scale.pooling import pool_factor
from core.workbench.program import ARRAY_BUDGET_BYTES, ProgramStats, check_program, compile_checked
from core.workbench.ways import WAYS, check_scalar_kernel, gamma_frames

__all__ = ["MAX_N", "MAX_GAMMAS", "FRAME_SIDE", "TOLERANCE", "Way", "WorkbenchView",
           "prepare", "gram_of", "compute_view"]

# The most points the workbench takes: K at 2,000 points is 16 or 32 MB, its pair list
# 4 million rows, and the gamma frames 64 such matrices in chunks (all in the budget).
MAX_N = 2_000
MAX_GAMMAS = 64
FRAME_SIDE = 128
# Largest |difference| from Method I, relative to max(1, max |K|), for "agrees".
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}
# Bytes of full (N, N) matrices one chunk of the gamma frames may hold.
_FRAME_CHUNK_BYTES = 64 << 20

Kernel = Callable[[Mapping[str, Any], jax.Array, jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Way:
    """One way of batching, compared with Method I.

    Attributes:
      name: a key of `core.workbench.ways.WAYS`; description: its one line of code.
      max_abs_diff: max |K_way - K_Method I| (NaN where both are NaN counts as equal);
        NaN when the way did not run.
      agrees: within `TOLERANCE[dtype] * max(1, max |K|)`.
      refused: why the way did not run (a bound it broke), else None.
    """

    name: str
    description: str
    max_abs_diff: float
    agrees: bool
    refused: str | None = None


@dataclasses.dataclass(frozen=True)
class WorkbenchView:
    """The page's view of one kernel on one dataset (all NumPy: it crosses a pipe).

    Attributes:
      K: (N, N) by Method I, in the kernel's output dtype.
      ways: "Method I", "Method II", "pair list" -> `Way`, each against Method I.
      shapes: "x", "y", "k" (one pair's output), "K" -> shape tuples.
      dtype: "float32" or "float64"; out_dtype: the dtype of K.
      jaxpr_pair: the kernel for one pair, as text; jaxpr_batched: after nested vmap.
      frames: (G, cells, cells) float32 block means of K for each gamma of `gammas`
        (cells = ceil(N / factor) <= side), or None (no gamma in the source, no grid,
        or refused: then `frames_refused` says why).
      gammas: the grid of `frames` (G,), or None; factor: rows per pooled cell.
      asymmetry: max |K - K^T| (NaN when K has NaN/inf); min_eigenvalue: the smallest eigenvalue of (K + K^T)/2
        in float64 (NaN when K has NaN/inf); definiteness: `core.lessons.spectrum`'s
        words; roundoff: its bound for this N and dtype.
      largest_pair, largest_batched: (bytes, shape, primitive) of the largest array in
        the program for one pair and in the batched program.
      nonfinite: count of NaN/inf entries in K.
      findings: `core.workbench.diagnose.Finding`s, in the order the page lists them
        (empty when not asked for).
    """

    K: np.ndarray
    ways: dict[str, Way]
    shapes: dict[str, tuple[int, ...]]
    dtype: str
    out_dtype: str
    jaxpr_pair: str
    jaxpr_batched: str
    frames: np.ndarray | None
    gammas: np.ndarray | None
    factor: int
    frames_refused: str | None
    asymmetry: float
    min_eigenvalue: float
    definiteness: str
    roundoff: float
    largest_pair: tuple[int, tuple[int, ...], str]
    largest_batched: tuple[int, tuple[int, ...], str]
    nonfinite: int
    findings: tuple = ()


def prepare(X: Any, params: Mapping[str, Any], dtype: Any) -> tuple[np.ndarray, dict[str, np.ndarray], str]:
    """X and params as NumPy arrays of the compute dtype, with the workbench's size checks.

    Returns:
      `(X, params, dtype_name)`; X (N, D).

    Raises:
      UserCodeError: X not 2-D, N outside 1..MAX_N, or a parameter that is not a
        finite number or array.
    """
    name = canonical_dtype(dtype).name
    X = as_float_array(X, name)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise UserCodeError(f"the data must be a matrix X of shape (N, D); got shape {X.shape}.")
    if X.shape[0] > MAX_N:
        raise UserCodeError(f"the workbench takes at most {MAX_N:,} points (you gave "
                            f"{X.shape[0]:,}): lower N in the sidebar.")
    out = {}
    for key, value in params.items():
        try:
            arr = np.asarray(value, dtype=name)
        except (TypeError, ValueError):
            raise UserCodeError(f"parameter {key!r} must be a number; got {value!r}.") from None
        if arr.size > 4096 or not np.all(np.isfinite(arr)):
            raise UserCodeError(f"parameter {key!r} must be finite numbers (at most 4,096).")
        out[str(key)] = arr
    return X, out, name


def _key(role: str, source: str, *arrays: Any, extra: Any = ()) -> tuple:
    shapes = tuple((tuple(np.shape(a)), np.asarray(a).dtype.name)
                   for a in jax.tree_util.tree_leaves(arrays))
    return (role, source, shapes, jax.tree_util.tree_structure(arrays), extra)


def gram_of(kernel: Kernel, source: str, X: np.ndarray, Y: np.ndarray,
            params: Mapping[str, np.ndarray], way: str = "Method I") -> tuple[np.ndarray, ProgramStats]:
    """K by `way`, compiled through the bounds; call inside the dtype's `dtype_scope`.

    Returns:
      `(K, stats)`: K (N, M) as NumPy, stats of the batched program.
    """
    fn = WAYS[way][0](kernel)
    compiled, stats = compile_checked(_key(way, source, X, Y, params), fn, X, Y, params)
    return np.asarray(compiled(X, Y, params)), stats


def _max_diff(A: np.ndarray, B: np.ndarray) -> float:
    both_nan = np.isnan(A) & np.isnan(B)
    same_inf = np.isinf(A) & (A == B)
    with np.errstate(invalid="ignore"):  # inf - inf: set to 0 below when they agree
        diff = np.abs(A.astype(np.float64) - B.astype(np.float64))
    diff[both_nan | same_inf] = 0.0
    return float(np.max(diff)) if diff.size else 0.0


def _ways(kernel: Kernel, source: str, X: np.ndarray, params: Mapping[str, np.ndarray],
          K: np.ndarray, dtype: str) -> dict[str, Way]:
    finite = K[np.isfinite(K)]
    scale = max(1.0, float(np.max(np.abs(finite)))) if finite.size else 1.0
    tol = TOLERANCE[dtype] * scale
    out = {"Method I": Way("Method I", WAYS["Method I"][1], 0.0, True)}
    for name in ("Method II", "pair list"):
        try:
            K_way, _ = gram_of(kernel, source, X, X, params, way=name)
        except UserCodeError as err:  # e.g. the pair list's (N², D) copies over the budget
            out[name] = Way(name, WAYS[name][1], float("nan"), False, refused=str(err))
            continue
        diff = _max_diff(K_way, K)
        out[name] = Way(name, WAYS[name][1], diff, bool(diff <= tol))
    return out


def _frames(kernel: Kernel, source: str, X: np.ndarray, params: Mapping[str, np.ndarray],
            gammas: Sequence[float], side: int, dtype: str,
            per_gram_bytes: int) -> tuple[np.ndarray, int]:
    g = as_float_array(np.asarray(gammas).ravel(), dtype)
    if not 1 <= g.size <= MAX_GAMMAS or not np.all(np.isfinite(g)):
        raise UserCodeError(f"the gamma grid must hold 1 to {MAX_GAMMAS} finite values.")
    # A chunk of b gammas holds b copies of the batched program's largest array.
    batch = int(max(1, min(g.size, min(_FRAME_CHUNK_BYTES, ARRAY_BUDGET_BYTES) // max(1, per_gram_bytes))))
    rest = {k: v for k, v in params.items() if k != "gamma"}
    fn = gamma_frames(kernel, side, batch)
    compiled, _ = compile_checked(_key("frames", source, X, g, rest, extra=(side, batch)), fn, X, g, rest)
    return np.asarray(compiled(X, g, rest)), pool_factor(X.shape[0], side)


def compute_view(kernel: Kernel, source: str, X: Any, params: Mapping[str, Any], dtype: Any,
                 gammas: Sequence[float] | None = None, side: int = FRAME_SIDE,
                 uses_gamma: bool | None = None, findings: bool = True,
                 all_ways: bool = True) -> WorkbenchView:
    """Everything the page draws for `kernel` on X, fast path first.

    Args:
      kernel: k(params, x, y) for x, y of shape (D,), returning a scalar.
      source: its source text (part of the compiled programs' cache key).
      X: (N, D) with N <= MAX_N; params: name -> number (or small array).
      dtype: "float32" or "float64".
      gammas: a grid of gamma values (<= MAX_GAMMAS) for `frames`; None: no frames.
      side: the most cells a side of a frame.
      uses_gamma: whether the source reads params['gamma'] (None: 'gamma' in params).
      findings: also run `core.workbench.diagnose.findings_for`.
      all_ways: also compile and compare Method II and the pair list (else `ways` holds
        Method I only: the heatmap's fast path, two compilations instead of four).

    Raises:
      UserCodeError: a bound is broken, or the kernel fails to trace or returns no scalar.
    """
    X, params, dtype = prepare(X, params, dtype)
    n, d = X.shape
    with dtype_scope(dtype):
        out = check_scalar_kernel(kernel, d, dtype, params)
        x = jax.ShapeDtypeStruct((d,), jnp.dtype(dtype))
        pair_closed = jax.make_jaxpr(kernel)(params, x, x)
        pair_stats = check_program(pair_closed)
        K, stats = gram_of(kernel, source, X, X, params)
        ways = (_ways(kernel, source, X, params, K, dtype) if all_ways else
                {"Method I": Way("Method I", WAYS["Method I"][1], 0.0, True)})
        batched_closed = jax.make_jaxpr(WAYS["Method I"][0](kernel))(X, X, params)
        frames = grid = frames_refused = None
        factor = pool_factor(n, side)
        if gammas is not None and (uses_gamma if uses_gamma is not None else "gamma" in params):
            try:
                frames, factor = _frames(kernel, source, X, params, gammas, side, dtype,
                                         stats.largest_bytes)
                grid = np.asarray(gammas, dtype=np.float64).ravel()
            except UserCodeError as err:  # K stands; only the live heatmap's frames are refused
                frames_refused = f"No live frames over gamma: {err}"
        finite = bool(np.all(np.isfinite(K)))
        asym = float(np.max(np.abs(K - K.T))) if finite and K.shape[0] == K.shape[1] else float("nan")
        if finite:
            spec = spectrum(K)
            min_ev, words = spec.min_eigenvalue, definiteness(spec, dtype)
            bound = roundoff_bound(n, float(np.max(np.abs(spec.eigenvalues))), dtype)
        else:
            min_ev, words, bound = float("nan"), "undefined", float("nan")
        found: tuple = ()
        if findings:
            from core.workbench.diagnose import findings_for

            found = tuple(findings_for(kernel, X, params, dtype, pair_closed, batched_closed, K,
                                       asym, min_ev, words, bound))
    return WorkbenchView(
        K=K, ways=ways,
        shapes={"x": (d,), "y": (d,), "k": tuple(out.shape), "K": tuple(K.shape)},
        dtype=dtype, out_dtype=K.dtype.name,
        jaxpr_pair=str(pair_closed), jaxpr_batched=str(batched_closed),
        frames=frames, gammas=grid, factor=factor, frames_refused=frames_refused, asymmetry=asym, min_eigenvalue=min_ev,
        definiteness=words, roundoff=bound,
        largest_pair=(pair_stats.largest_bytes, pair_stats.largest_shape, pair_stats.largest_primitive),
        largest_batched=(stats.largest_bytes, stats.largest_shape, stats.largest_primitive),
        nonfinite=int(np.size(K) - np.count_nonzero(np.isfinite(K))), findings=found,
    )
