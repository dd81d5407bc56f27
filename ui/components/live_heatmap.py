"""The live Gram heatmap: a canvas that follows gamma while its slider is dragged.

Two `st.components.v2` components, one JavaScript file (`live_heatmap.js`):

- `live_heatmap` receives the distances once per data, method, dtype and order, as
  little-endian binary (never JSON lists), owns the gamma slider and redraws the
  heatmap and the histogram of kernel values on every input event. On release
  (or 300 ms after the last arrow key) it sets its state `gamma`.
- `live_exact` receives, per release, the exact K from `core` (pooled above the
  display side) with the gamma it belongs to, and hands it to the first one.

Two components, not one, because Streamlit resends an element whose message
changed: the distances' message stays byte-identical while gamma moves, so the
browser's message cache serves it and only the exact K travels per release.

Payloads (all little-endian; see `parse` functions in live_heatmap.js):

distances = int32[8] header [MAGIC_D, VERSION, n, side, factor, m, distance kind,
            profile code], float32 scale, int32 pad, int32[n] order (point index
            of each display row), then either float32[n·n] s (m = 0, side = n) or
            float16[side·(side+1)/2 · m], m = 7: each cell's 4-point rule
            (`core.scale.summary.encode_rules`: nodes x_1 … x_4 / scale, weights
            w_1 … w_3; w_4 = 1 − the others) for cells r ≤ c in row-major order of
            the upper triangle.
frames    = int32[8] [MAGIC_F, VERSION, n, side, factor, G, 0, 0], float64 lo, float64 hi,
            float64[G] log10 gamma (ascending), int32[n] order, uint8[G·side·side]: K at
            each gamma, pooled, as round(254·(k − lo)/(hi − lo)); 255 where k is not finite.
            The workbench's user kernels: any function of gamma, so the browser
            interpolates between precomputed matrices instead of applying a profile.
exact     = int32[8] [MAGIC_K, VERSION, n, side, factor, profile code, rows, token],
            float64 gamma, float64 alpha, int32[rows] highlighted display rows,
            float32[side·side] K.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import numpy as np
import streamlit as st

from core.scale.pooling import pool_mean
from core.scale.summary import CellSummary, NUMBERS_PER_CELL, cell_summary, decode_rules, pooled_side

__all__ = ["frames_payload", "decode_frames", "MAGIC_F", "distances_payload", "exact_payload", "pooled_exact_payload", "live_heatmap",
           "shared_distances", "MAGIC_D", "MAGIC_K", "decode_exact", "decode_distances",
           "LiveDistances", "cached_distances_payload"]

MAGIC_D, MAGIC_K, VERSION = 0x4C495644, 0x4C49564B, 2  # "DVIL", "KVIL"; 2: Gauss rules
MAGIC_F = 0x4C495646  # "FVIL"
_NOT_FINITE = 255  # the frames' byte for NaN and ±inf (drawn grey); values use 0 … 254
DISTANCE_KINDS = {"sqeuclidean": 0, "l1": 1}
_HERE = Path(__file__).parent

_live = st.components.v2.component(
    "vmap_live_heatmap",
    html=(_HERE / "live_heatmap.html").read_text(),
    css=(_HERE / "live_heatmap.css").read_text(),
    js=(_HERE / "live_heatmap.js").read_text(),
)
_exact = st.components.v2.component(
    "vmap_live_exact",
    js=(_HERE / "live_exact.js").read_text(),
)


def distances_payload(S: np.ndarray, order: np.ndarray, distance: str, profile_code: int,
                      summary: CellSummary | None = None) -> bytes:
    """The bytes the browser draws every frame from (built once per data).

    Args:
      S: (N, N) distances in display order (s = d² or the L1 distance).
      order: (N,) point index of each display row.
      distance: "sqeuclidean" or "l1".
      profile_code: `DistanceProfile.code` of the kernel.
      summary: `cell_summary(S, factor)` when already computed (pooled sizes only).

    Returns:
      The `distances` payload (module docstring): the full float32 matrix up to
      the display side, above it each cell's float16 rule, upper triangle only.
    """
    n = S.shape[0]
    factor, side = pooled_side(n)
    if factor == 1:
        m, scale, body = 0, 1.0, np.ascontiguousarray(S, dtype="<f4").tobytes()
    else:
        summary = summary if summary is not None else cell_summary(S, factor)
        r, c = np.triu_indices(side)
        m, scale = NUMBERS_PER_CELL, summary.scale
        body = np.ascontiguousarray(summary.codes[r, c], dtype="<f2").tobytes()
    head = np.array([MAGIC_D, VERSION, n, side, factor, m, DISTANCE_KINDS[distance], profile_code],
                    dtype="<i4").tobytes()
    return (head + np.array([scale], "<f4").tobytes() + np.zeros(1, "<i4").tobytes()
            + np.asarray(order, dtype="<i4").tobytes() + body)


def value_range(values: np.ndarray) -> tuple[float, float]:
    """The colour scale for `values`: [0, 1] where they fit (every kernel of the app's own
    library, so the workbench looks like the Gram explorer), else their finite min and max."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def frames_payload(frames: np.ndarray, gammas: np.ndarray, n: int, factor: int,
                   order: np.ndarray) -> bytes:
    """The bytes of K at a grid of gammas, sent once per source and data (module docstring).

    Args:
      frames: (G, side, side) pooled K, one per gamma, G ≤ 64 and side ≤ 128 keep it
        under 1.1 MB.
      gammas: (G,) ascending, positive.
      n: the points a side of the unpooled K.
      factor: points per cell a side (`core.scale.pooling.pool_mean`'s).
      order: (n,) point index of each display row.
    """
    frames = np.asarray(frames, dtype=np.float64)
    g, side, _ = frames.shape
    lo, hi = value_range(frames)
    finite = np.isfinite(frames)
    scaled = np.clip((np.where(finite, frames, lo) - lo) / (hi - lo), 0.0, 1.0)
    body = np.where(finite, np.rint(254 * scaled), _NOT_FINITE).astype(np.uint8)
    head = np.array([MAGIC_F, VERSION, n, side, factor, g, 0, 0], dtype="<i4").tobytes()
    return (head + np.array([lo, hi], "<f8").tobytes()
            + np.log10(np.asarray(gammas, dtype="<f8")).tobytes()
            + np.asarray(order, dtype="<i4").tobytes() + body.tobytes())


def decode_frames(payload: bytes) -> dict[str, Any]:
    """The numbers in a `frames` payload, as the browser reads them (NaN where not finite)."""
    head = np.frombuffer(payload, "<i4", 8, 0)
    n, side, factor, g = (int(v) for v in head[2:6])
    lo, hi = np.frombuffer(payload, "<f8", 2, 32)
    log_gammas = np.frombuffer(payload, "<f8", g, 48)
    order = np.frombuffer(payload, "<i4", n, 48 + 8 * g)
    codes = np.frombuffer(payload, np.uint8, g * side * side, 48 + 8 * g + 4 * n)
    values = np.where(codes == _NOT_FINITE, np.nan, lo + (hi - lo) * codes / 254.0)
    return {"magic": int(head[0]), "n": n, "side": side, "factor": factor, "lo": float(lo),
            "hi": float(hi), "gammas": 10.0 ** log_gammas, "order": order,
            "frames": values.reshape(g, side, side)}


def exact_payload(K: np.ndarray, gamma: float, alpha: float, profile_code: int,
                  highlight_rows: list[int], token: int) -> bytes:
    """The bytes sent per release: core's K (N, N) pooled to the display side, and gamma."""
    pooled, factor = pool_mean(K)
    return pooled_exact_payload(pooled, factor, K.shape[0], gamma, alpha, profile_code,
                                highlight_rows, token)


def pooled_exact_payload(pooled: np.ndarray, factor: int, n: int, gamma: float, alpha: float,
                         profile_code: int, highlight_rows: list[int], token: int) -> bytes:
    """`exact_payload` from K already pooled: (side, side) block means, side = ceil(N / factor)
    (`core.scale.pooling.pooled_rbf_from_sqdist` gives them without building K)."""
    rows = np.asarray(highlight_rows, dtype="<i4")
    head = np.array([MAGIC_K, VERSION, n, pooled.shape[0], factor, profile_code, rows.size, token],
                    dtype="<i4").tobytes()
    return (head + np.array([gamma, alpha], "<f8").tobytes() + rows.tobytes()
            + np.ascontiguousarray(pooled, dtype="<f4").tobytes())


def decode_exact(payload: bytes) -> dict[str, Any]:
    """The numbers in an `exact` payload (what the browser reads): for tests."""
    head = np.frombuffer(payload, "<i4", 8, 0)
    gamma, alpha = np.frombuffer(payload, "<f8", 2, 32)
    rows = np.frombuffer(payload, "<i4", head[6], 48)
    side = int(head[3])
    K = np.frombuffer(payload, "<f4", side * side, 48 + 4 * head[6]).reshape(side, side)
    return {"n": int(head[2]), "factor": int(head[4]), "profile": int(head[5]),
            "gamma": float(gamma), "alpha": float(alpha), "rows": rows, "K": K}


def decode_distances(payload: bytes) -> dict[str, Any]:
    """The numbers in a `distances` payload: for tests.

    Up to the display side `body` is the (N, N) float32 matrix; above it `codes`
    holds the (cells, 7) float16 numbers sent and `nodes` (cells, 4) float32 and
    `weights` (cells, 4) float64 the rules the browser computes from them.
    """
    head = np.frombuffer(payload, "<i4", 8, 0)
    n, side, factor, m = (int(v) for v in head[2:6])
    scale = float(np.frombuffer(payload, "<f4", 1, 32)[0])
    order = np.frombuffer(payload, "<i4", n, 40)
    start = 40 + 4 * n
    out = {"version": int(head[1]), "n": n, "side": side, "factor": factor, "m": m,
           "kind": int(head[6]), "profile": int(head[7]), "order": order, "scale": scale}
    if m == 0:
        out["body"] = np.frombuffer(payload, "<f4", n * n, start).reshape(n, n)
    else:
        cells = side * (side + 1) // 2
        out["codes"] = np.frombuffer(payload, "<f2", cells * m, start).reshape(cells, m)
        out["nodes"], out["weights"] = decode_rules(out["codes"], scale)
    return out


def live_heatmap(distances: bytes, exact: bytes, *, key: str,
                 on_gamma: Callable[[], None], on_picked: Callable[[], None]) -> Any:
    """Draw the live heatmap (with its gamma slider) and hand it the exact K.

    Args:
      distances: `distances_payload(...)`, built once per data: the same bytes on
        every rerun, so Streamlit's message cache does not resend them.
      exact: `exact_payload(...)` for the gamma in the app's state.
      key: the component's session key; its state `gamma` is the released value.
      on_gamma: called (as a widget callback) when a released gamma arrives.
      on_picked: called when a heatmap cell is clicked (trigger `picked`:
        {"i": row, "j": col} in display order).

    Returns:
      The component's result (`.gamma`, `.picked`).
    """
    result = _live(key=key, data=distances, on_gamma_change=on_gamma, on_picked_change=on_picked,
                   height="content")
    _exact(key=key + "_exact", data=exact, height="content")
    return result


@dataclasses.dataclass(frozen=True)
class LiveDistances:
    """The distances payload, and the preview error its rules were measured to have.

    Attributes:
      payload: `distances_payload(...)`.
      worst_error: above the display side, the largest over cells of the rule's
        error for exp(-t s) at the grid's t (`CellSummary.grid_error`): the RBF and
        Laplacian kernels' error at those gammas (the other live kernels, mixtures of
        exp(-t s), err by the same mixture of these errors); None up to the display side.
      gammas: (first, last) t of that grid, or None.
    """

    payload: bytes
    worst_error: float | None = None
    gammas: tuple[float, float] | None = None


@st.cache_data(max_entries=8, show_spinner="Preparing the live heatmap's distances (once per data)…")
def cached_distances_payload(key: tuple, distance: str, profile_code: int,
                             _S: np.ndarray, _order: np.ndarray) -> LiveDistances:
    """`distances_payload` and its measured error, cached on a small key (data, method,
    dtype, order, distance)."""
    factor, _ = pooled_side(_S.shape[0])
    if factor == 1:
        return LiveDistances(distances_payload(_S, _order, distance, profile_code))
    summary = cell_summary(_S, factor)
    return LiveDistances(distances_payload(_S, _order, distance, profile_code, summary),
                         float(summary.grid_error.max()), (float(summary.grid[0]), float(summary.grid[-1])))


@st.cache_resource(max_entries=4, show_spinner="Computing distances for the live heatmap (once per data)…")
def shared_distances(key: tuple, _make: Callable[[], np.ndarray]) -> np.ndarray:
    """The live path's (N, N) distances in display order, one read-only array shared by
    every rerun and session (`st.cache_data` would unpickle a 64 MB copy per release
    at N = 4,000). `key`: (data key, method or "l1", ordered); `_make` builds them."""
    S = np.asarray(_make())
    S.setflags(write=False)
    return S
