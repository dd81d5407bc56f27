"""Timing for the "vmap, further" page: compiled once, then timed; shown to 2 significant figures."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from core.bench.timing import TimingResult, time_jitted

__all__ = ["time_compiled", "format_timing", "format_seconds_2sf"]


def time_compiled(fn: Callable[..., Any], *args: Any, budget_s: float = 0.3,
                  static_argnums: int | tuple[int, ...] = ()) -> TimingResult:
    """`jax.jit(fn)` compiled for `args` (compile time apart), then 3 to 7 timed calls
    within about `budget_s` seconds, each forced with `block_until_ready`."""
    result, _ = time_jitted(fn, *args, static_argnums=static_argnums, warmup=1, repeats=7,
                            budget_s=budget_s, min_repeats=3)
    return result


def format_seconds_2sf(s: float | None) -> str:
    """A duration to 2 significant figures in s, ms, µs or ns ("1.2 ms", "35 µs")."""
    if s is None or not np.isfinite(s):
        return "n/a"
    s = float(f"{s:.2g}")
    units = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))
    unit, scale = next(((u, k) for u, k in units if abs(s) >= k), units[-1])
    v = s / scale
    return f"{v:.0f} {unit}" if abs(v) >= 10 else f"{v:.2g} {unit}"


def format_timing(result: TimingResult) -> str:
    """Median and interquartile spread: "1.2 ms (± 0.1 ms)"."""
    return f"{format_seconds_2sf(result.median_s)} (± {format_seconds_2sf(result.spread_s)})"
