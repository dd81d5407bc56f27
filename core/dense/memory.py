"""Memory estimates for dense results, and the guard that refuses them above a budget.

A dense (N, M) Gram matrix needs N·M·itemsize bytes, per copy: 1,000,000 points in
float32 is 4 TB. Every dense computation asks `check_dense_budget` first, so a too
large request ends in one clear message with the number and the way out (the block
engine, `core.scale`, which never holds N × N) instead of an out-of-memory crash.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from core.errors import TooLargeError

__all__ = ["DENSE_MEMORY_BUDGET_BYTES", "BLOCK_ENGINE_HINT", "dense_gram_bytes",
           "check_dense_budget", "format_bytes"]

# The one budget: above it every dense path (the registry's methods, the Scale
# page's dense check) refuses, with `check_dense_budget`'s one message.
DENSE_MEMORY_BUDGET_BYTES = 2 * 1024**3

BLOCK_ENGINE_HINT = ("compute it block by block instead: the block engine (the Scale page, "
                     "`core.scale.run_blocks`) never holds the N × M matrix and reduces each "
                     "block as it goes (pooled heatmap, row sums, K @ v, nearest neighbours)")


def dense_gram_bytes(n: int, m: int, dtype: DTypeLike = "float32", copies: float = 1.0) -> int:
    """Bytes of `copies` dense (n, m) arrays of `dtype`.

    Args:
      n, m: the matrix shape; Python ints, so N·M never overflows.
      dtype: "float32" (4 bytes an entry) or "float64" (8).
      copies: how many (n, m) arrays the computation holds at its peak (the
        result plus temporaries; the registry's `GramMethod.copies`).

    Returns:
      The byte count as a Python int.
    """
    if n < 0 or m < 0 or copies < 0:
        raise ValueError(f"Sizes and copies must be non-negative, got n={n}, m={m}, copies={copies}.")
    return int(int(n) * int(m) * np.dtype(dtype).itemsize * copies)


def check_dense_budget(
    n: int,
    m: int,
    dtype: DTypeLike = "float32",
    copies: float = 1.0,
    budget_bytes: int = DENSE_MEMORY_BUDGET_BYTES,
    what: str = "A dense Gram matrix",
) -> int:
    """The bytes a dense (n, m) computation needs, or TooLargeError above the budget.

    Args:
      n, m, dtype, copies: as in `dense_gram_bytes`.
      budget_bytes: the most the computation may hold.
      what: the subject of the refusal, e.g. "The dense check".

    Returns:
      `dense_gram_bytes(n, m, dtype, copies)`, when it is within the budget.

    Raises:
      TooLargeError: above the budget; the message gives the number, the budget
        and the way out.
    """
    need = dense_gram_bytes(n, m, dtype, copies)
    if need > budget_bytes:
        itemsize = np.dtype(dtype).itemsize
        times = f"{copies:g} × " if copies != 1 else ""
        raise TooLargeError(
            f"{what} of {n:,} × {m:,} {np.dtype(dtype).name} entries needs {format_bytes(need)} "
            f"({times}N·M·{itemsize} bytes), above the {format_bytes(budget_bytes)} budget. "
            f"Use fewer points, or {BLOCK_ENGINE_HINT}."
        )
    return need


def format_bytes(n_bytes: float) -> str:
    """A byte count in binary units, about 3 significant figures: "3.64 TiB", "512 B"."""
    value, unit = float(n_bytes), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1000 or unit == "TiB":  # 1000, not 1024: never "1.02e+03 KiB"
            break
        value /= 1024
    decimals = 0 if unit == "B" or abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:.{decimals}f} {unit}"
