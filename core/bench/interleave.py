"""Contenders timed together, round-robin, so that a busy machine cannot change the lesson.

Timing one method after another lets a burst of load from another process fall on
one of them only: on a shared 2-core machine the same comparison then read 250×,
52× and 88× on three visits. Here every contender is called once per round, in an
order that rotates from round to round, so load falls on all of them alike; the
ratio of two contenders is the median of their per-round ratios (paired samples),
with a distribution-free confidence interval for that median; and a run records how
much CPU other processes took while it ran. Rounds go on until the budget is spent
(after `min_rounds`) or every ratio to the first contender is known to within
`target_width` (pyperf calibrates the same way: repeat until the spread is known).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import time
from typing import Any, Callable, Mapping

import numpy as np

from core.bench.timing import (Compiled, TimingCancelled, TimingResult, block, settle_allocator,
                               settle_threads)
from core.bench.report import BUSY_CORES, median_interval, paired_ratio

__all__ = ["MachineLoad", "LoadMeter", "Interleaved", "time_interleaved"]

_run_ids = itertools.count(1)


@dataclasses.dataclass(frozen=True)
class MachineLoad:
    """What other processes ran on the machine while a timing ran.

    Attributes:
      wall_s: the run's wall time.
      others_cpu_s: CPU seconds run by every other process over `wall_s` (from
        /proc/stat, all CPUs' non-idle time, less this process's own).
      cores: CPUs the machine has.
    """

    wall_s: float
    others_cpu_s: float
    cores: int

    @property
    def others_cores(self) -> float:
        """Other processes' CPU as cores kept busy on average (0.9 = most of one core)."""
        return self.others_cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def busy(self) -> bool:
        """Other processes kept at least a quarter of a core busy during the run."""
        return self.others_cores >= BUSY_CORES


def _machine_cpu_s() -> float | None:
    """Non-idle CPU seconds of the whole machine since boot (Linux /proc/stat); else None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait
    busy = sum(fields[:3]) + sum(fields[5:8])
    return busy / os.sysconf("SC_CLK_TCK")


class LoadMeter:
    """Measures other processes' CPU between `start()` and `stop()`."""

    def start(self) -> "LoadMeter":
        self._wall, self._own, self._machine = time.perf_counter(), time.process_time(), _machine_cpu_s()
        return self

    def stop(self) -> MachineLoad | None:
        """The load over the interval; None where /proc/stat is not readable."""
        machine = _machine_cpu_s()
        if machine is None or self._machine is None:
            return None
        wall = time.perf_counter() - self._wall
        own = time.process_time() - self._own
        # /proc/stat counts in clock ticks (10 ms): a short run can read a little
        # under this process's own CPU; never below zero.
        return MachineLoad(wall_s=wall, others_cpu_s=max(machine - self._machine - own, 0.0),
                           cores=os.cpu_count() or 1)


@dataclasses.dataclass(frozen=True)
class Interleaved:
    """One interleaved run.

    Attributes:
      results: {name: TimingResult}; `times_s[i]` of each was taken in round i, each
        the mean of `loops[name]` back-to-back calls.
      loops: calls per sample for each contender (more for fast ones, so one sample
        is long enough for the clock).
      load: other processes' CPU during the run (None off Linux).
    """

    results: dict[str, TimingResult]
    loops: dict[str, int]
    load: MachineLoad | None

    @property
    def rounds(self) -> int:
        return next(iter(self.results.values())).repeats

    def ratio(self, slow: str, fast: str) -> tuple[float, float, float]:
        """`slow / fast`: the median of the per-round ratios and its 95 % interval."""
        return paired_ratio(self.results[slow], self.results[fast])


def _calls_per_sample(seconds: float, min_sample_s: float, max_loops: int) -> int:
    if seconds <= 0:
        return max_loops
    return int(min(max(math.ceil(min_sample_s / seconds), 1), max_loops))


def time_interleaved(
    calls: Mapping[str, Callable[[], Any]], *, warmup: int = 1, budget_s: float = 1.0,
    min_rounds: int = 7, max_rounds: int = 60, target_width: float = 0.10,
    min_sample_s: float = 1e-2, max_loops: int = 1000,
    first_calls: Mapping[str, float] | None = None, settle: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Interleaved:
    """Time every call of `calls` round-robin; each call's result forced with `block`.

    Args:
      calls: {name: a function of no arguments}, in display order; the first is the
        reference the stopping rule measures the others against. A `Compiled` program
        (`compile_ahead`) carries its compile time, trace time and cache use into its result.
      warmup: untimed calls of each before the rounds (the first is `first_call_s`).
      budget_s: stop after the round in which the rounds' total time passes this,
        once `min_rounds` are done (warm-ups not counted).
      min_rounds, max_rounds: rounds made at least (even past the budget) and at most.
      target_width: stop early once, for every contender, the 95 % interval of its
        ratio to the first is narrower than this (relative: high / low − 1).
      min_sample_s: a sample is this long at least: a contender faster than that
        is called `loops` times back to back per sample (timer resolution and the
        loop's own cost stay small next to it).
      first_calls: {name: seconds} of a first call the caller already made (it
        checked the output): that contender's first warm-up is not made again.
      settle: before every sample, wait for the process's other threads to go idle
        (`settle_threads`: BLAS workers left spinning by the contender before); for
        benchmarks, whose samples then each start from a quiet process.
      on_progress: `on_progress(round, max_rounds)` after every round.
      should_stop: checked before every round; True raises `TimingCancelled`.
      clock: seconds as a float.

    Returns:
      An `Interleaved`, whose results all share one `run_id` (so `ratio_interval`
      pairs them).

    Raises:
      TimingCancelled: `should_stop()` returned True.
    """
    if not calls or min_rounds < 1 or max_rounds < min_rounds or warmup < 1:
        raise ValueError("Need contenders, 1 <= min_rounds <= max_rounds and warmup >= 1.")
    names = list(calls)
    settle_allocator()
    meter = LoadMeter().start()

    def stop_check() -> None:
        if should_stop is not None and should_stop():
            raise TimingCancelled("The timing run was cancelled; start it again for a result.")

    def timed(fn: Callable[[], Any], loops: int = 1) -> float:
        start = clock()
        for _ in range(loops):
            out = fn()
        block(out)
        return (clock() - start) / loops

    first, steady = dict(first_calls or {}), {}
    for name in names:
        stop_check()
        if name not in first:
            first[name] = timed(calls[name])
        for _ in range(warmup - 1):
            timed(calls[name])
        steady[name] = timed(calls[name])  # one more: the loop count, from a warm call
    loops = {n: _calls_per_sample(steady[n], min_sample_s, max_loops) for n in names}

    times: dict[str, list[float]] = {n: [] for n in names}
    spent = 0.0
    for r in range(max_rounds):
        stop_check()
        order = names[r % len(names):] + names[:r % len(names)]  # each goes first in turn
        for name in order:
            if settle:
                settle_threads()
            t = timed(calls[name], loops[name])
            times[name].append(t)
            spent += t * loops[name]
        if on_progress is not None:
            on_progress(r + 1, max_rounds)
        if r + 1 < min_rounds:
            continue
        if spent >= budget_s:
            break
        ref = np.asarray(times[names[0]])
        widths = [median_interval(np.asarray(times[n]) / ref) for n in names[1:]]
        if all(high / low - 1 < target_width for _, low, high in widths if low > 0):
            break
    run_id = next(_run_ids)
    results = {}
    for n in names:
        c = calls[n] if isinstance(calls[n], Compiled) else None
        results[n] = TimingResult(times_s=tuple(times[n]), first_call_s=first[n], run_id=run_id,
                                  compile_s=c and c.compile_s, trace_s=c and c.trace_s,
                                  compile_cache=c.compile_cache if c else "")
    load = meter.stop()
    if load is not None:  # every result says what else ran on the machine meanwhile
        results = {n: dataclasses.replace(r, other_cores=load.others_cores) for n, r in results.items()}
    return Interleaved(results=results, loops=loops, load=load)
