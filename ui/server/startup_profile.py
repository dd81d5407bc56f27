"""On request, a log of what the app's process spends on JAX compilation and on imports.

`VMAP_PROFILE_COMPILES=<file>` makes `profile_if_asked()` (called by app.py) append one
JSON line per event to <file>:

- every duration JAX reports through `jax.monitoring` (tracing, lowering, the backend
  compile, `/jax/core/compile/...`; the persistent cache's retrieval time and compile time
  saved, `/jax/compilation_cache/...`), with the function's name where JAX gives one;
- every count JAX reports (`/jax/compilation_cache/cache_hits`, `.../cache_misses`);
- every outermost import of a module not yet loaded, with its duration (`import`).

Each line carries the wall-clock time at its end (`t`, seconds since the epoch), so a
benchmark (benchmarks/first_visit.py) can tell which page visit it belongs to. Without the
variable nothing is registered and nothing is wrapped. Nothing here imports JAX at import
time: app.py calls it after `split_cpu_into_devices`.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import threading
import time
from typing import Any

__all__ = ["PROFILE_ENV", "profile_if_asked"]

PROFILE_ENV = "VMAP_PROFILE_COMPILES"

_started: set[str] = set()  # the files this process writes to (once per process)
_lock = threading.Lock()


def _writer(path: str):
    def write(record: dict[str, Any]) -> None:
        line = json.dumps({"t": time.time(), "thread": threading.current_thread().name, **record}) + "\n"
        with _lock, open(path, "a", encoding="utf-8") as out:
            out.write(line)
    return write


def _time_imports(write) -> None:
    """Wrap `builtins.__import__` so each outermost import of a new module is timed.

    Only the outermost call per thread is written (its time includes what it imports in
    turn), so the lines add up to the import time without counting anything twice."""
    original = builtins.__import__
    local = threading.local()

    def timed_import(name, globals=None, locals=None, fromlist=(), level=0):
        if getattr(local, "depth", 0) or level or name in sys.modules:
            return original(name, globals, locals, fromlist, level)
        local.depth = 1
        start = time.perf_counter()
        try:
            return original(name, globals, locals, fromlist, level)
        finally:
            local.depth = 0
            write({"event": "import", "duration": time.perf_counter() - start, "name": name})

    builtins.__import__ = timed_import


def profile_if_asked(environ: dict[str, str] | None = None) -> str | None:
    """Start the log named by VMAP_PROFILE_COMPILES (once per process); returns its path,
    or None when the variable is unset."""
    path = (os.environ if environ is None else environ).get(PROFILE_ENV, "").strip()
    if not path or path in _started:
        return path or None
    _started.add(path)
    write = _writer(path)
    import jax.monitoring as monitoring

    def on_duration(event: str, duration: float, **kw: Any) -> None:
        write({"event": event, "duration": float(duration), "name": str(kw.get("fun_name", ""))})

    def on_event(event: str, **kw: Any) -> None:
        if event.startswith("/jax/compilation_cache/"):
            write({"event": event})

    monitoring.register_event_duration_secs_listener(on_duration)
    monitoring.register_event_listener(on_event)
    _time_imports(write)
    write({"event": "profile_started"})
    return path
