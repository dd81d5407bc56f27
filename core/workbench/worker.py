"""The worker process: where a user's kernel is traced, checked, compiled and run.

XLA cannot be interrupted from another thread, so a user's program runs in a
process of its own that the server can kill (`core.workbench.run` starts and
watches it). This module is that process's side: `serve` answers jobs sent over a
pipe, one at a time, with `("ok", result)` or `("error", message)`; a message is
what the page shows, never a traceback.

At start the process makes itself safe to run user programs in:

* no persistent compilation cache (`jax_enable_compilation_cache` off): a user's
  program is never written to disk, nor read from it;
* its address space capped (`RLIMIT_AS`) at its size after start-up plus
  `MEMORY_LIMIT_BYTES`: XLA's CPU client then fails a too large allocation with
  RESOURCE_EXHAUSTED and goes on serving (the parent also polls the resident
  size and kills above the limit, for what the cap cannot see);
* BLAS on one thread (two workers share this machine's two cores).
"""

from __future__ import annotations

import os
import resource
import sys
from typing import Any, Callable

__all__ = ["MEMORY_LIMIT_BYTES", "JOBS", "serve", "virtual_bytes", "resident_bytes",
           "plain_message"]

# What one worker may hold beyond its start-up size (and, polled by the parent, its
# resident size): 1.5 GiB, so two workers and the server fit the machine.
MEMORY_LIMIT_BYTES = 3 * 512 * 1024**2


def _status_kib(pid: int | str, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def virtual_bytes(pid: int | str = "self") -> int | None:
    """The process's address-space size (VmSize) in bytes; None where /proc is unreadable."""
    kib = _status_kib(pid, "VmSize")
    return None if kib is None else kib * 1024


def resident_bytes(pid: int | str = "self") -> int | None:
    """The process's resident size (VmRSS) in bytes; None where /proc is unreadable."""
    kib = _status_kib(pid, "VmRSS")
    return None if kib is None else kib * 1024


def plain_message(error: BaseException) -> str:
    """An exception as one message for the page: its type and first paragraph, no traceback."""
    from core.errors import UserCodeError

    if isinstance(error, UserCodeError):
        return str(error)
    text = str(error).strip()
    if "RESOURCE_EXHAUSTED" in text or isinstance(error, MemoryError):
        from core.dense.memory import format_bytes

        return (f"the program ran out of the {format_bytes(MEMORY_LIMIT_BYTES)} a workbench job "
                "may use: use fewer points or smaller arrays in the kernel.")
    first = text.split("\n\n")[0].strip()
    if len(first) > 600:
        first = first[:600] + " …"
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _limit_memory() -> None:
    size = virtual_bytes()
    if size is None:
        return
    limit = size + MEMORY_LIMIT_BYTES
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _job_ping() -> dict[str, Any]:
    """What the worker is: pid, its compilation-cache setting and address-space cap."""
    import jax

    return {"pid": os.getpid(),
            "compilation_cache": bool(jax.config.jax_enable_compilation_cache),
            "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0],
            "resident_bytes": resident_bytes()}


def _jobs() -> dict[str, Callable[..., Any]]:
    from core.workbench import jobs

    return {"ping": _job_ping, "gram": jobs.gram_job, "view": jobs.view_job,
            "time": jobs.time_job, "diagnose": jobs.diagnose_job}


JOBS: dict[str, Callable[..., Any]] = {}


def serve(conn: Any) -> None:
    """The worker's main loop (the `multiprocessing` target): answer jobs until told to stop.

    Args:
      conn: one end of a `multiprocessing.Pipe`. Receives `(job, kwargs)` or None
        (stop); sends `("ready", pid)` once, then one `("ok", result)` or
        `("error", message)` per job.
    """
    import jax

    # A user's program never goes in (or comes out of) a persistent compilation cache.
    jax.config.update("jax_enable_compilation_cache", False)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)  # two workers on two shared cores: no BLAS thread pool
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        pass
    JOBS.update(_jobs())
    # Warm the paths every job takes (tracing, compiling, running) before saying ready.
    import jax.numpy as jnp

    jax.jit(lambda a: jnp.exp(-a) @ a.T)(jnp.ones((4, 2))).block_until_ready()
    _limit_memory()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job, kwargs = message
        try:
            reply = ("ok", JOBS[job](**kwargs))
        except BaseException as error:  # noqa: BLE001 - every failure becomes a message
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                return
            line = getattr(error, "line", None)
            text = plain_message(error)
            prefix = f"Line {line}: "
            # The parent rebuilds the UserCodeError with its line (the page may show it apart).
            reply = ("error", text[len(prefix):] if text.startswith(prefix) else text, line)
        try:
            conn.send(reply)
        except Exception as error:  # noqa: BLE001 - e.g. a result that does not pickle
            conn.send(("error", plain_message(error), None))
        sys.stdout.flush()
