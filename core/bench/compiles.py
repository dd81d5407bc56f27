"""What a compile was: a real one, or served by one of JAX's caches; and programs no cache serves.

The race reports compile time as what a first call costs in a new process, so it must
know when JAX's in-memory or persistent cache answered instead (`watch_compile`,
`cache_used`), and be able to compile a program that neither can serve
(`fresh_program`, `no_persistent_writes`). `core.bench.timing.time_jitted` uses them.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import Any, Callable, Mapping

from jax import monitoring

__all__ = ["watch_compile", "cache_used", "fresh_program", "no_persistent_writes"]

# JAX's own instrumentation (jax.monitoring): the backend compile event wraps every
# compile that reaches XLA's compiler or the persistent cache (jax._src.dispatch,
# BACKEND_COMPILE_EVENT); an executable JAX already holds in memory skips it. A read
# from the persistent cache records the cache-hit event (jax._src.compiler).
_BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_PERSISTENT_HIT_EVENT = "/jax/compilation_cache/cache_hits"
_watch = threading.local()  # per thread: the counts of the compile being watched


def _on_event(event: str, **_: Any) -> None:
    counts = getattr(_watch, "counts", None)
    if counts is not None and event == _PERSISTENT_HIT_EVENT:
        counts["persistent"] += 1


def _on_duration(event: str, duration: float, **_: Any) -> None:
    counts = getattr(_watch, "counts", None)
    if counts is not None and event == _BACKEND_COMPILE_EVENT:
        counts["backend"] += 1


# Listeners run on the thread that compiles, so each thread counts only its own
# compiles (the server times several sessions at once). Registered once.
monitoring.register_event_listener(_on_event)
monitoring.register_event_duration_secs_listener(_on_duration)


@contextlib.contextmanager
def watch_compile() -> Any:
    """Counts, on this thread, the backend compiles and persistent-cache hits inside."""
    counts = {"backend": 0, "persistent": 0}
    outer, _watch.counts = getattr(_watch, "counts", None), counts
    try:
        yield counts
    finally:
        _watch.counts = outer


def cache_used(counts: Mapping[str, int]) -> str:
    if counts["persistent"]:
        return "persistent"
    return "" if counts["backend"] else "in-memory"


_fresh_ids = itertools.count(1)


def fresh_program(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` behind a new function object named for this compile alone.

    JAX keys its in-memory caches on the function object and its persistent cache
    on the program, whose module name is the function's name ("jit_<name>"), so
    neither can hold this one: tracing, lowering and XLA's compile all run.
    """
    def program(*args: Any) -> Any:
        return fn(*args)

    name = f"{getattr(fn, '__name__', 'program')}_timed{next(_fresh_ids)}"
    program.__name__ = program.__qualname__ = name
    return program


def no_persistent_writes() -> Any:
    """On this thread only: programs compiled inside are not written to JAX's
    persistent cache (a fresh program's entry could never be read back). JAX's
    write threshold `jax_persistent_cache_min_compile_time_secs` is a thread-local
    config state; where this JAX has no such state, nothing changes."""
    from jax._src import config as jax_config  # the state objects are not public

    state = getattr(jax_config, "persistent_cache_min_compile_time_secs", None)
    return state(float("inf")) if callable(state) else contextlib.nullcontext()
