"""Timing for the "vmap, further" page: compiled once, then timed; shown to 2 significant figures.

The rows a tab compares are compiled first and then timed together, round by round
(`time_compiled_together`), so load from other processes falls on all of them alike.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import dataclasses

from core.bench.interleave import time_interleaved
from core.bench.timing import TimingResult, compile_ahead

__all__ = ["time_compiled_together", "format_timing", "format_seconds_2sf"]


def time_compiled_together(ways: dict[str, tuple[Callable[..., Any], tuple, tuple[int, ...]]],
                           budget_s: float = 0.3,
                           on_progress: Callable[[float], Any] | None = None
                           ) -> dict[str, TimingResult]:
    """Each of `ways`, {label: (fn, args, static_argnums)}, compiled ahead (compile time
    apart), then all timed in turn, round by round, within about `budget_s` seconds
    (at least 5 rounds); `on_progress(fraction)` as they go."""
    tick = on_progress or (lambda fraction: None)
    programs = {}
    for i, (label, (fn, args, static)) in enumerate(ways.items()):
        programs[label] = compile_ahead(fn, *args, static_argnums=static)
        tick(0.5 * (i + 1) / len(ways))
    run = time_interleaved(programs, budget_s=budget_s, min_rounds=5, max_rounds=30,
                           on_progress=lambda done, most: tick(0.5 + 0.5 * done / most))
    return {label: dataclasses.replace(run.results[label], compile_s=p.compile_s,
                                       trace_s=p.trace_s, compile_cache=p.compile_cache)
            for label, p in programs.items()}


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
