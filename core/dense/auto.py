""""auto": the registry entry that runs the fastest accurate method for each call.

`choose_auto(n, m, d, dtype)` names the method; the `"auto"` entry of
`core.dense.methods.METHODS` (registered here, when `core.dense` is imported)
delegates each call to that pick, so its limits, its shift and its speed are the
pick's. Only methods accurate far from the origin qualify. The thresholds follow
benchmarks/gram_bench.py; its figures are in docs/BENCHMARKS.md, "The Gram matrix".
"""

from __future__ import annotations

import numpy as np

from core.dense.fast import MIRROR_MIN_FEATURES
from core.dense.methods import METHODS, GramMethod

__all__ = ["TILED_MIN_ENTRIES", "choose_auto"]

# From this many entries of K on, "auto" leaves jit_centered for the methods that
# write K once into a NumPy buffer. Below it XLA's single fused kernel wins: it
# reuses its freed buffers (no page faults) and has no Python loop. Above it a fresh
# N x N buffer from XLA and a second pass over K cost more than the loop's overhead;
# the crossover lies between N = 2000 and 4000 (benchmarks/gram_bench.py).
TILED_MIN_ENTRIES = 3000 * 3000


def choose_auto(n: int, m: int, d: int, dtype="float32") -> str:
    """The registry name `"auto"` runs for this size, dimension and dtype.

    Only methods accurate far from the origin qualify; of those, the fastest in
    benchmarks/gram_bench.py (figures: docs/BENCHMARKS.md, "The Gram matrix"):
    jit_centered for K below TILED_MIN_ENTRIES entries (one fused XLA kernel);
    above, in float64, numpy_tiled (NumPy's float64 exponential is cheaper than
    XLA's, and the exponentials dominate there); in float32, jit_mirrored (it
    computes only the tiles
    of K(X, X) on and above the diagonal: half the products and exponentials)
    from MIRROR_MIN_FEATURES features on, where the products dominate, else
    jit_panels. A method that declines for memory passes to the next one.

    Args:
      n, m: rows of X and of Y (m = n for K(X, X)); d: features; dtype: the
        compute dtype, a name or a NumPy dtype.
    """
    if n * m < TILED_MIN_ENTRIES:
        order = ("jit_centered", "jit_panels", "numpy_tiled")
    elif np.dtype(dtype) == np.float64:
        order = ("numpy_tiled", "jit_mirrored", "jit_panels")
    elif d >= MIRROR_MIN_FEATURES:
        order = ("jit_mirrored", "jit_panels", "numpy_tiled")
    else:
        order = ("jit_panels", "jit_mirrored", "numpy_tiled")
    for name in (*order, "lax_map"):
        if METHODS[name].declines(n, m, d, dtype) is None:
            return name
    return order[0]  # its refusal names the way out


def _pick(X, Y) -> GramMethod:
    m = X.shape[0] if Y is None else Y.shape[0]
    return METHODS[choose_auto(X.shape[0], m, X.shape[1], X.dtype)]


def _auto(X, Y, gamma):
    # X and Y come from auto's prepare, shifted as the pick wants (see _AutoMethod).
    return _pick(X, Y).runner(X, Y, gamma)


class _AutoMethod(GramMethod):
    """"auto": delegates to `choose_auto`'s pick, so its limits and its shift are the pick's."""

    def resolve(self, n, m, d, dtype="float32"):
        return METHODS[choose_auto(n, m, d, dtype)]

    def declines(self, n, m, d, dtype="float32"):
        return self.resolve(n, m, d, dtype).declines(n, m, d, dtype)

    def shift(self, X, Y):
        return _pick(X, Y).shift(X, Y)


METHODS["auto"] = _AutoMethod(
    "auto", "auto (fastest accurate)", "Picks the fastest method that stays accurate for "
    "this size, dimension and dtype.", _auto, compiled=False, shows=(choose_auto,))
