"""Batching races: registry methods timed on the same data, checked against float64.

One harness for the app's "Batching race" page, `python -m core.bench` and the
benchmarks. Compiled methods are compiled ahead of time (`compile_ahead`: compile time
apart from run time), each time from a fresh copy of the program, so the time is a real
compile, never a read from JAX's in-memory or persistent compilation cache; the others
are called once first (that call's output is the one checked). Then all methods that
run are timed together, round by round (`time_interleaved`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from typing import Any, Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from core.kernels.distances import check_feature_sizes
from core.kernels.functions import median_heuristic_gamma
from core.dense import METHODS, GramMethod, get_method
from core.precision import as_float_array, canonical_dtype, dtype_scope
from core.bench.interleave import time_interleaved
from core.bench.timing import TimingCancelled, TimingResult, block, compile_ahead
from core.bench.report import format_seconds, ratio_interval

__all__ = ["BASELINE", "REFERENCE", "RaceRow", "race", "race_label", "scaling_race",
           "crossovers", "standard_normal_data"]

BASELINE = "map_stack"      # the notes' map + partial + np.stack: speedups are relative to it
REFERENCE = "scipy_cdist"   # direct differences (no cancellation), run in float64
_TIMING_KEYS = tuple(TimingResult(times_s=(0.0,)).as_dict())  # CSV columns of a row's timing


@dataclasses.dataclass(frozen=True)
class RaceRow:
    """One method's outcome in a race.

    Attributes:
      method, label, compiled: from the registry; for "auto" (picked: the method it
        ran, "" for the others) the label is "auto → <the pick's label>" and
        `compiled` is the pick's (`GramMethod.resolve`).
      status, reason: "ok" with "", "declined" (never called) with why, or "error"
        (it raised; the race went on) with the message. timing: None unless ok.
      max_abs_error: max |K - K_ref| of the timed calls' output against float64.
      speedup_vs_baseline: BASELINE's time / this one's, the median of their per-round
        ratios (they are timed in the same rounds), when both ran.
      n, m, d, dtype: the race's sizes (K is (n, m)) and compute dtype.
    """

    method: str
    label: str
    compiled: bool
    status: str
    reason: str = ""
    timing: TimingResult | None = None
    max_abs_error: float | None = None
    speedup_vs_baseline: float | None = None
    picked: str = ""
    n: int = 0
    m: int = 0
    d: int = 0
    dtype: str = "float32"

    def summary(self) -> str:
        """One line for progress logs: "compile 41 ms, run 1.3 ms" or "declined: why"."""
        if self.status != "ok":
            return f"{self.status}: {self.reason}"
        t = self.timing
        hit = f" ({t.compile_cache} cache hit)" if t.compile_cache else ""
        first = (f"compile {format_seconds(t.compile_s)}{hit}" if t.compile_s is not None
                 else f"first call {format_seconds(t.first_call_s)}")
        return f"{first}, run {format_seconds(t.median_s)}"

    def as_dict(self, include_times: bool = False) -> dict[str, Any]:
        """A flat CSV/JSON row: these fields, then `timing.as_dict()`'s (None if no timing)."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "timing"}
        timing = self.timing.as_dict(include_times) if self.timing else dict.fromkeys(_TIMING_KEYS)
        return {**row, **timing}


def standard_normal_data(n: int, d: int, m: int | None = None,
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Seeded standard normal X of shape (n, d) and Y of shape (m, d) (None without m)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, None if m is None else rng.standard_normal((m, d))


# Each sample of a fast method is this long at least (its calls back to back): the race
# makes few rounds (its repeats, 5 by default), and a 0.2 ms program's mean over 10 ms
# still moved with the state its slow neighbour (map + stack, 0.5 s of eager Python) left
# the machine in; over 50 ms its ratio to that neighbour held within ±25 % from run to
# run (benchmarks/steady_lessons.py).
SAMPLE_S = 0.05


def race(X: ArrayLike, Y: ArrayLike | None = None, gamma: float = 1.0,
         methods: Sequence[str] | None = None, dtype: DTypeLike = "float32", repeats: int = 5,
         budget_s: float | None = 1.0, warmup: int = 1,
         on_step: Callable[[int, int, str, str], None] | None = None,
         should_stop: Callable[[], bool] | None = None,
         on_row: Callable[[int, int, RaceRow], None] | None = None,
         reference: bool = True, settle: bool = False) -> list[RaceRow]:
    """Time each method on the same data and compare its output with float64.

    Each method is first prepared alone (compiled ahead, its first call checked);
    then all that run are timed together, round by round, so that load from other
    processes falls on all of them alike.

    Every method gets the arrays `GramMethod.prepare` makes (NumPy, in `dtype`), as
    `compute` does, so the O(N·D) copy of the inputs to the device is inside its times.

    Args:
      X, Y: shapes (N, D) and (M, D), cast to `dtype`; Y None means K(X, X).
      gamma: the RBF's gamma, cast to `dtype` (for the reference too).
      methods: registry names in the order to run; None: all of `METHODS`.
      dtype: "float32" or "float64"; the whole race runs in its `dtype_scope`.
      repeats: rounds (each method's repeats); at least 3 are made even past the budget.
      budget_s: seconds of timing per method that runs (the rounds stop once all
        methods together spent this times their number); None: no limit.
      warmup: untimed calls of each before the rounds (the checked first call is one).
      on_step: `on_step(i, total, name, phase)`: phase "start" before a method is
        prepared and "done" after it (declined or failed included), i = 1..total;
        then phase "round" after each round of timing, i = round, total = `repeats`,
        name "".
      should_stop: checked before each method and each round; True raises.
      on_row: `on_row(i, total, row)` for each method once all are timed (before speedups).
      reference: False skips the float64 reference (max_abs_error None), as does a
        size at which REFERENCE itself declines.
      settle: each method's first call waits for the threads the method before
        it left running (`core.bench.timing.settle_threads`); for benchmarks.

    Returns:
      One `RaceRow` per method, in the order of `methods`.

    Raises:
      TimingCancelled: `should_stop()` returned True. ValueError: an unknown
        method name, or X and Y with different numbers of features.
    """
    dt = canonical_dtype(dtype)
    X = as_float_array(X, dt)
    Y = None if Y is None else as_float_array(Y, dt)
    check_feature_sizes(X, X if Y is None else Y)
    chosen = [get_method(name) for name in (METHODS if methods is None else methods)]
    gamma = float(np.asarray(gamma, dt))  # the value the methods see, for the reference too
    ref = _reference(X, Y, gamma) if reference else None
    sizes = dict(n=X.shape[0], m=X.shape[0] if Y is None else Y.shape[0], d=X.shape[1],
                 dtype=dt.name)
    rows, total, ways, firsts = [], len(chosen), {}, {}
    with dtype_scope(dt):
        # First each method alone: declined or not, compiled ahead (timed apart), one
        # first call whose output is checked against the reference.
        for i, method in enumerate(chosen, start=1):
            if should_stop is not None and should_stop():
                raise TimingCancelled("The race was cancelled; start it again for a result.")
            if on_step is not None:
                on_step(i, total, method.name, "start")
            row, call, first_s = _prepare_one(method, X, Y, gamma, ref)
            rows.append(dataclasses.replace(row, **sizes))
            if call is not None:  # a compiled one is a `Compiled`: its result carries the compile
                ways[method.name], firsts[method.name] = call, first_s
            if on_step is not None:
                on_step(i, total, method.name, "done")
        # Then every method that runs, in turn, round by round: load from other
        # processes falls on all of them alike, and each speedup is a median of
        # per-round ratios (core.bench.interleave).
        if ways:
            run = time_interleaved(
                ways, warmup=max(warmup, 1), first_calls=firsts, min_rounds=min(repeats, 3),
                max_rounds=repeats, target_width=0.0, settle=settle, should_stop=should_stop,
                min_sample_s=SAMPLE_S,
                budget_s=float("inf") if budget_s is None else budget_s * len(ways),
                on_progress=None if on_step is None else (
                    lambda done, most: on_step(done, most, "", "round")))
            for k, row in enumerate(rows):
                if row.method in run.results:
                    rows[k] = dataclasses.replace(row, timing=run.results[row.method])
    if on_row is not None:
        for i, row in enumerate(rows, start=1):
            on_row(i, total, row)
    return _with_speedups(rows)


def _reference(X: np.ndarray, Y: np.ndarray | None, gamma: float) -> np.ndarray | None:
    # float64 copies of the data as cast: the error measures each method's own
    # arithmetic, not the rounding of the inputs to float32 that all methods share.
    method, m = METHODS[REFERENCE], X.shape[0] if Y is None else Y.shape[0]
    if method.declines(X.shape[0], m, X.shape[1], "float64"):
        return None
    return method.compute(X.astype(np.float64), None if Y is None else Y.astype(np.float64),
                          gamma, dtype="float64")


def race_label(method: GramMethod, n: int, m: int, d: int, dtype: DTypeLike) -> str:
    """A method's name in a race: its label, or for "auto" "auto → <its pick's label>"."""
    runs = method.resolve(n, m, d, dtype)
    return method.label if runs is method else f"{method.name} → {runs.label}"


def _prepare_one(method: GramMethod, X, Y, gamma, ref
                 ) -> tuple[RaceRow, Callable[[], Any] | None, float | None]:
    """A method's row before timing, the call to time (None where it declined or
    failed; a compiled method's is its `Compiled` program) and its first call's seconds."""
    n, m, d = X.shape[0], X.shape[0] if Y is None else Y.shape[0], X.shape[1]
    # What really runs ("auto": its pick), the one answer the page's code list uses too.
    runs = method.resolve(n, m, d, X.dtype)
    row = RaceRow(method.name, race_label(method, n, m, d, X.dtype), runs.compiled, "declined",
                  picked="" if runs is method else runs.name)
    reason = method.declines(n, m, d, X.dtype)
    if reason:
        return dataclasses.replace(row, reason=reason), None, None
    try:
        args = runs.prepare(X, Y, gamma, X.dtype)
        if row.compiled:  # ahead-of-time compile at the exact N, timed apart from the runs:
            # a fresh copy of the program, so no compilation cache can serve it
            call = compile_ahead(runs.fn, *args, fresh=True)
        else:
            def call(args=args) -> Any:
                return runs.runner(*args)
        start = time.perf_counter()
        out = block(call())
        first_s = time.perf_counter() - start
        error = None if ref is None else _max_abs_error(out, ref)
    except TimingCancelled:
        raise
    except Exception as exc:  # one failing method must not end the race
        return (dataclasses.replace(row, status="error", reason=f"{type(exc).__name__}: {exc}"),
                None, None)
    return dataclasses.replace(row, status="ok", max_abs_error=error), call, first_s


def _max_abs_error(out: Any, ref: np.ndarray) -> float:
    out = np.asarray(out, dtype=np.float64)
    if out.shape != ref.shape:
        raise ValueError(f"returned shape {out.shape}, expected {ref.shape}")
    return float(np.max(np.abs(out - ref))) if out.size else 0.0


def _with_speedups(rows: list[RaceRow]) -> list[RaceRow]:
    base = next((r for r in rows if r.method == BASELINE and r.status == "ok"), None)
    if base is None:
        return rows
    # Timed in the same rounds: the median of the per-round ratios (`ratio_interval`).
    return [dataclasses.replace(r, speedup_vs_baseline=ratio_interval(base.timing, r.timing)[0])
            if r.status == "ok" and r.timing.median_s > 0 else r for r in rows]


def scaling_race(n_values: Sequence[int], d: int = 2, methods: Sequence[str] | None = None,
                 dtype: DTypeLike = "float32", seed: int = 0, gamma: float | None = None,
                 on_step: Callable[[int, int, str, str], None] | None = None,
                 **race_kwargs: Any) -> list[RaceRow]:
    """`race` at each N on seeded standard normal X of shape (N, d), K(X, X).

    Args:
      n_values: the sizes, e.g. (100, 300, 1000, 3000).
      gamma: None: `median_heuristic_gamma` of each X.
      on_step: as in `race`, with i and total counted over all sizes together (a
        "round" step counts the rounds of its size's race).
      **race_kwargs: `repeats`, `budget_s`, `should_stop`, `reference`, ...

    Returns:
      The rows of every race, size by size; each row's `n` says which.
    """
    names = list(METHODS) if methods is None else list(methods)
    total, rows = len(n_values) * len(names), []
    for k, n in enumerate(n_values):
        X, _ = standard_normal_data(n, d, seed=seed)
        step = None if on_step is None else (
            lambda i, of, name, phase, offset=k * len(names):
            on_step(i, of, name, phase) if phase == "round" else on_step(offset + i, total, name, phase))
        rows += race(X, None, median_heuristic_gamma(X) if gamma is None else gamma, names,
                     dtype, on_step=step, **race_kwargs)
    return rows


def _interval(t: TimingResult) -> tuple[float, float]:
    """The range every timed repeat fell in: (fastest, slowest)."""
    return min(t.times_s), max(t.times_s)


def crossovers(rows: Sequence[RaceRow]) -> list[tuple[float, str, str]]:
    """Where one method clearly overtakes another as N grows.

    A method is *clearly* faster than another at a size N only when every one of
    its repeats beat every repeat of the other: their time intervals (fastest,
    slowest repeat) do not overlap. Where they overlap, repeat-to-repeat noise could
    put either first, so that size says nothing. For each pair of methods, over the
    sizes where both ran ("ok") and one is clearly faster, a crossover is where the
    clearly faster method changes between consecutive such sizes. Its N is
    interpolated in log-log space between those two sizes: each median time is
    taken as a power law between them, so log(t_a / t_b) is linear in log N and its
    zero gives N. (With one repeat per size the intervals are the medians, and this
    is the plain comparison of medians.)

    Returns:
      `(n, faster, slower)` sorted by n: `faster` is the faster method above n.
      Empty when no order change holds across repeats ("no clear crossover").
    """
    timings: dict[str, dict[int, TimingResult]] = {}
    for r in rows:
        if r.status == "ok" and r.timing is not None and r.timing.median_s > 0:
            timings.setdefault(r.method, {})[r.n] = r.timing
    found = []
    for a, b in itertools.combinations(timings, 2):
        clear = []  # (log N, log(t_a / t_b) of the medians) where one is clearly faster
        for n in sorted(set(timings[a]) & set(timings[b])):
            (a_lo, a_hi), (b_lo, b_hi) = _interval(timings[a][n]), _interval(timings[b][n])
            if a_hi < b_lo or b_hi < a_lo:
                clear.append((math.log(n), math.log(timings[a][n].median_s / timings[b][n].median_s)))
        for (x0, f0), (x1, f1) in zip(clear, clear[1:]):
            if (f0 < 0) != (f1 < 0):
                x = x0 + f0 / (f0 - f1) * (x1 - x0)
                faster, slower = (a, b) if f1 < 0 else (b, a)
                found.append((math.exp(x), faster, slower))
    return sorted(found)
