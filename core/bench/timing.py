"""One timing harness for the app, the CLI and the benchmarks.

JAX runs asynchronously and `jax.jit` compiles on first call, so naive timing measures
nothing or the compiler: here results are forced and compilation is timed apart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import platform
import threading
import time
from importlib.metadata import version
from typing import Any, Callable, Mapping, Sequence

import jax
import numpy as np

from core.bench.compiles import cache_used, fresh_program, no_persistent_writes, watch_compile
from core.compile_options import COMPILER_OPTIONS
from core.errors import CoreError

__all__ = ["TimingCancelled", "TimingResult", "Compiled", "block", "settle_allocator", "settle_threads",
           "time_call", "compile_ahead", "time_jitted",
           "environment_info"]


class TimingCancelled(CoreError):
    """`should_stop()` asked to abandon a timing run before it finished."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class TimingResult:
    """Timings of one function, all in seconds.

    Attributes:
      times_s: steady-state repeat times (after the warm-ups), in call order.
      first_call_s: the first warm-up call, including any lazy `jax.jit`
        compilation or cache warming; None when warmup was 0.
      compile_s: trace + lower + XLA compile time in `time_jitted`; else None.
      trace_s: the tracing part of `compile_s` (Python -> jaxpr); None likewise.
      compile_cache: "" when `compile_s` timed a real XLA compile; "in-memory" when
        JAX handed back an executable it had compiled earlier in this process;
        "persistent" when it was read from JAX's persistent compilation cache on
        disk (then `compile_s` is a lookup, not a compile). Always "" without
        `compile_s`.
      stopped_early: the time budget ended the run before all repeats were made.
      run_id: set by `time_interleaved` (core.bench.interleave): results with the
        same id were timed round by round together, sample i of each in round i.
      other_cores: set by `time_interleaved`: other processes' CPU during the run, as
        cores kept busy on average (`format_load` says it in words).
    """

    times_s: tuple[float, ...]
    first_call_s: float | None = None
    compile_s: float | None = None
    trace_s: float | None = None
    compile_cache: str = ""
    stopped_early: bool = False
    run_id: int | None = None
    other_cores: float | None = None

    @property
    def repeats(self) -> int:
        return len(self.times_s)

    @property
    def median_s(self) -> float:
        """Robust to the odd slow call (GC, other processes)."""
        return float(np.median(self.times_s))

    @property
    def min_s(self) -> float:
        """The cost with the least noise on top."""
        return float(min(self.times_s))

    @property
    def spread_s(self) -> float:
        """Interquartile range (75th - 25th percentile, linear interpolation; 0 for
        one repeat): unlike max - min, a single outlier does not dominate it."""
        q25, q75 = np.percentile(self.times_s, [25, 75])
        return float(q75 - q25)

    @property
    def quartiles_s(self) -> tuple[float, float]:
        """(25th, 75th) percentile of `times_s` (linear interpolation)."""
        q25, q75 = np.percentile(self.times_s, [25, 75])
        return float(q25), float(q75)

    def as_dict(self, include_times: bool = False) -> dict[str, Any]:
        """A flat CSV/JSON row; `include_times` adds the raw `times_s` as a list."""
        keys = ("compile_s", "trace_s", "compile_cache", "first_call_s", "median_s", "min_s",
                "spread_s", "repeats", "stopped_early")
        row = {key: getattr(self, key) for key in keys}
        if include_times:
            row["times_s"] = list(self.times_s)
        return row


def block(x: Any) -> Any:
    """Wait for every JAX array in pytree `x`; other leaves (NumPy) pass through."""
    if any(isinstance(leaf, jax.Array) for leaf in jax.tree_util.tree_leaves(x)):
        jax.block_until_ready(x)
    return x


_SETTLE_BYTES = 24 << 20  # under glibc's 32 MiB ceiling for the dynamic mmap threshold
_settled = False


def settle_allocator() -> None:
    """Put the C allocator in the state a long-running process reaches, once per process.

    glibc's malloc serves a block above its mmap threshold (128 KiB at start) with a
    fresh mapping and unmaps it on free, so a call that allocates a few MiB faults in
    new pages every time; the first free of a larger mapped block raises that
    threshold (up to 32 MiB) and later blocks come from the reused heap, where the
    same call costs several times less (scikit-learn's `rbf_kernel` at a few hundred
    points; docs/BENCHMARKS.md, "The race against timeit"). Which state a timing saw
    would depend on what the process had freed before; after this it is always the
    second, which the app's server reaches
    in its first seconds. One 24 MiB NumPy block, allocated and freed; no effect
    where the C library is not glibc.
    """
    global _settled
    if not _settled:
        np.ones(_SETTLE_BYTES // 8)  # freed at once: glibc raises its thresholds to its size
        _settled = True


def _other_threads_cpu_ns() -> int | None:
    """CPU time (ns) run so far by every thread of this process but the calling one.

    From Linux's /proc/self/task/<tid>/schedstat (first field: ns on a CPU);
    None where that is not readable (another OS).
    """
    me, total = str(threading.get_native_id()), 0
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return None
    for tid in tids:
        if tid == me:
            continue
        try:
            with open(f"/proc/self/task/{tid}/schedstat", encoding="ascii") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):  # a thread that just ended
            continue
    return total


def settle_threads(window_s: float = 0.005, busy_share: float = 0.1,
                   max_wait_s: float = 0.5) -> float:
    """Wait until the process's other threads stop running; returns the seconds waited.

    OpenBLAS's worker threads spin for about 0.1 s after each threaded BLAS
    call (scikit-learn's `rbf_kernel` makes one) before they sleep; meanwhile
    each holds a core, and an XLA program timed in that spell gets fewer cores
    than it would (docs/BENCHMARKS.md, "Threads left running between methods"). So a
    benchmark that times methods one after another times each one only once
    the other threads of the process (BLAS workers, XLA's pool) ran less than
    `busy_share` of one core over a `window_s` window: every method, the peers
    included, then starts from the same quiet process.

    Args:
      window_s: length of one quiet check. busy_share: the other threads' CPU
        time over a window, as a share of the window, under which they count as
        idle. max_wait_s: give up after this long (a process with a busy thread
        of its own, e.g. a server's, never settles).

    Returns:
      Seconds waited; 0.0 where /proc is not readable (no wait).
    """
    start = time.perf_counter()
    before = _other_threads_cpu_ns()
    if before is None:
        return 0.0
    while time.perf_counter() - start < max_wait_s:
        time.sleep(window_s)
        now = _other_threads_cpu_ns()
        if now - before < busy_share * window_s * 1e9:
            break
        before = now
    return time.perf_counter() - start


def time_call(
    fn: Callable[..., Any], *args: Any, warmup: int = 1, repeats: int = 7,
    budget_s: float | None = 2.0, min_repeats: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    settle: bool = False,
) -> TimingResult:
    """Time `fn(*args)`, each call's result forced with `block`.

    Args:
      fn, args: the call to time; the same `args` are passed every time.
      warmup, repeats: calls before the steady state (the first is `first_call_s`),
        and steady-state calls wanted.
      budget_s: stop once all calls so far (warm-ups included, so it bounds wall
        time) measured this many seconds, after `min_repeats` repeats; None: no limit.
      min_repeats: repeats made even when the budget is spent (capped at `repeats`).
      on_progress: called as `on_progress(done, repeats)` after each repeat; the
        last `done` is short of `repeats` when the budget ended the run.
      should_stop: checked before every call; True raises `TimingCancelled`.
      clock: seconds as a float; a fake one makes tests deterministic.
      settle: before the first call, wait for the process's other threads to go
        idle (`settle_threads`), so that what ran before (another method's BLAS
        workers) does not share the cores with this one's first calls.

    Raises:
      TimingCancelled: `should_stop()` returned True.
    """
    if warmup < 0 or repeats < 1 or min_repeats < 1:
        raise ValueError("Need warmup >= 0, repeats >= 1 and min_repeats >= 1.")
    settle_allocator()  # every timing in the allocator's steady state
    if settle:
        settle_threads()

    def timed_call() -> float:
        if should_stop is not None and should_stop():
            raise TimingCancelled("The timing run was cancelled; start it again for a result.")
        start = clock()
        block(fn(*args))
        return clock() - start

    warmup_times = [timed_call() for _ in range(warmup)]
    total_s, times = sum(warmup_times), []
    while len(times) < repeats:
        times.append(timed_call())
        total_s += times[-1]
        if on_progress is not None:
            on_progress(len(times), repeats)
        if budget_s is not None and total_s >= budget_s and min_repeats <= len(times) < repeats:
            break
    return TimingResult(times_s=tuple(times), stopped_early=len(times) < repeats,
                        first_call_s=warmup_times[0] if warmup_times else None)


@dataclasses.dataclass(frozen=True)
class Compiled:
    """`jax.jit(fn)` compiled ahead of time for some arguments.

    Attributes:
      executable: the compiled program; it takes `dynamic_args` (the static ones baked in).
      dynamic_args: the arguments that were not static, in order.
      compile_s, trace_s, compile_cache: as in `TimingResult`.
    """

    executable: Any
    dynamic_args: tuple
    compile_s: float
    trace_s: float
    compile_cache: str

    def __call__(self) -> Any:
        return self.executable(*self.dynamic_args)


def compile_ahead(
    fn: Callable[..., Any], *args: Any, static_argnums: int | Sequence[int] = (),
    donate_argnums: int | Sequence[int] = (),
    compiler_options: Mapping[str, Any] | None = COMPILER_OPTIONS, fresh: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> Compiled:
    """Trace, lower and compile `jax.jit(fn)` for `args`, timing each part.

    Call it inside the arguments' `dtype_scope`: the executable accepts only the
    x64 mode it was compiled under.

    Args:
      fn, args: the function and all its arguments (static ones included).
      static_argnums, donate_argnums: passed to `jax.jit`. Every call gets the
        same buffers, so donate only where the backend ignores it (CPU).
      compiler_options: passed to `jax.jit`; by default the project's
        (`core.compile_options`), which every compiled method of the race runs with.
      fresh: compile a new copy of `fn` under a name of its own, so that no cache,
        in memory or JAX's persistent one on disk, can serve it: `compile_s` is
        then always a real trace + lower + XLA compile (what a first call costs in
        a new process), and the program is not written to the persistent cache.
        Without it, a program JAX already holds is reported as a cache hit
        (`compile_cache`).
    """
    static = {i + len(args) if i < 0 else i for i in np.atleast_1d(static_argnums).tolist()}
    program = fresh_program(fn) if fresh else fn
    jitted = jax.jit(program, static_argnums=tuple(sorted(static)),
                     donate_argnums=donate_argnums, compiler_options=compiler_options)
    with watch_compile() as counts, (no_persistent_writes() if fresh
                                      else contextlib.nullcontext()):
        start = clock()
        traced = jitted.trace(*args)
        trace_s = clock() - start
        compiled = traced.lower().compile()
        compile_s = clock() - start
    dynamic = tuple(a for i, a in enumerate(args) if i not in static)
    return Compiled(compiled, dynamic, compile_s, trace_s, cache_used(counts))


def time_jitted(
    fn: Callable[..., Any], *args: Any, static_argnums: int | Sequence[int] = (),
    donate_argnums: int | Sequence[int] = (),
    compiler_options: Mapping[str, Any] | None = COMPILER_OPTIONS, fresh: bool = False,
    **time_call_kwargs: Any,
) -> tuple[TimingResult, Any]:
    """Compile `jax.jit(fn)` ahead of time for `args` (`compile_ahead`), then time
    the executable with `time_call`.

    Args:
      fn, args, static_argnums, donate_argnums, compiler_options, fresh: as in
        `compile_ahead`.
      **time_call_kwargs: `warmup`, `repeats`, `budget_s`, ... as in `time_call`.

    Returns:
      `(result, output)`: timings with `compile_s`, `trace_s` and `compile_cache`
      set; the last output.
    """
    clock = time_call_kwargs.get("clock", time.perf_counter)
    program = compile_ahead(fn, *args, static_argnums=static_argnums,
                            donate_argnums=donate_argnums, compiler_options=compiler_options,
                            fresh=fresh, clock=clock)
    last_out = [None]

    def call() -> Any:
        last_out[0] = program()
        return last_out[0]

    result = time_call(call, **time_call_kwargs)
    return dataclasses.replace(result, compile_s=program.compile_s, trace_s=program.trace_s,
                               compile_cache=program.compile_cache), last_out[0]


def environment_info() -> dict[str, Any]:
    """Versions, hardware and JAX settings that label a result row (JSON-safe)."""
    now, devices = datetime.datetime.now(datetime.timezone.utc), jax.devices()
    return {
        "python": platform.python_version(),
        # Package metadata, not imports: importing scikit-learn just for this is slow.
        **{d: version(d) for d in ("jax", "jaxlib", "numpy", "scipy", "scikit-learn")},
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "jax_devices": [{"platform": d.platform, "device_kind": d.device_kind} for d in devices],
        "default_backend": jax.default_backend(),
        # Read on the calling thread: `dtype_scope` turns x64 on per thread.
        "x64_enabled": bool(jax.config.read("jax_enable_x64")),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "timestamp_utc": now.isoformat(timespec="seconds"),
    }
