"""Timing for the "vmap, further" page: compiled once, then timed (shown by core.bench.report).

The rows a tab compares are compiled first and then timed together, round by round
(`time_compiled_together`), so load from other processes falls on all of them alike.
"""

from __future__ import annotations

from typing import Any, Callable

from core.bench.interleave import time_interleaved
from core.bench.timing import TimingResult, compile_ahead

__all__ = ["time_compiled_together"]


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
    return run.results
