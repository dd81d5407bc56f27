"""The bounded path: every user program runs here, in a worker process that can be stopped.

The server never compiles or runs a user's kernel itself. It checks the source
statically (`check_source`, cheap, no JAX), then sends the job to one of at most
`MAX_WORKERS` worker processes (`core.workbench.worker`) and waits, without
holding any lock, for the answer:

* a job waits at most `WAIT_FOR_WORKER_S` for a free worker, then gets a "busy"
  `UserCodeError` (two cores: two jobs at a time);
* a job that runs past its time limit (`JOB_TIMEOUT_S`, compile included) has its
  process killed (XLA cannot be interrupted in a thread) and a fresh one is
  started in the background;
* a worker whose resident memory grows `MEMORY_LIMIT_BYTES` beyond its start-up
  size is killed likewise (its address space is also capped inside, see
  `core.workbench.worker`).

Processes are started with `multiprocessing`'s spawn context: a fork of a server
whose JAX already runs threads can deadlock in the child. `start_workers` starts
them early (the page calls it at import), so the child's JAX import is paid
before the first job.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import threading
import time
from typing import Any, Mapping, Sequence

import numpy as np

from core.dense.memory import format_bytes
from core.errors import UserCodeError
from core.workbench.worker import MEMORY_LIMIT_BYTES, resident_bytes, serve

__all__ = ["MAX_WORKERS", "JOB_TIMEOUT_S", "VIEW_TIMEOUT_S", "TIME_TIMEOUT_S",
           "WAIT_FOR_WORKER_S", "WorkbenchBusy", "WorkerPool", "start_workers", "stop_workers", "pool",
           "user_gram", "workbench_view", "time_ways", "workbench_findings"]

MAX_WORKERS = 2                 # this machine's cores
JOB_TIMEOUT_S = 10.0            # one Gram matrix: trace, check, compile and run
VIEW_TIMEOUT_S = 20.0           # the view compiles up to five programs (ways, frames, checks)
TIME_TIMEOUT_S = 30.0           # four ways timed, about 0.5 s each, plus their compiles
WAIT_FOR_WORKER_S = 15.0        # a job waits this long for a free worker, then "busy"
START_TIMEOUT_S = 120.0         # a fresh worker imports JAX (seconds on a busy machine)
_POLL_S = 0.05                  # how often a waiting job checks the worker's memory


class WorkbenchBusy(UserCodeError):
    """No worker was free in time: about the server's load, not the source (worth a retry)."""


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx: Any):
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=serve, args=(child,), daemon=True,
                                   name="vmap-workbench-worker")
        self.process.start()
        child.close()  # the parent keeps one end: EOF when the child dies
        self.base_rss = 0
        self.last_source: str | None = None

    def wait_ready(self, timeout_s: float) -> bool:
        if not self.conn.poll(timeout_s):
            return False
        try:
            tag, _ = self.conn.recv()
        except (EOFError, OSError):
            return False
        self.base_rss = resident_bytes(self.process.pid) or 0
        return tag == "ready"

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class WorkerPool:
    """At most `size` worker processes, each running one job at a time.

    Thread-safe: Streamlit runs each session's script in its own thread, and every
    one of them may submit a job; a job's wait happens outside the lock.
    """

    def __init__(self, size: int = MAX_WORKERS, memory_limit_bytes: int = MEMORY_LIMIT_BYTES):
        self.size = size
        self.memory_limit_bytes = memory_limit_bytes
        self._ctx = multiprocessing.get_context("spawn")
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._alive = 0  # idle + busy + starting
        self._ready_once = False  # a worker has finished starting (until then, jobs wait for it)
        self._closed = False

    def start(self) -> None:
        """Start workers up to `size` in the background; returns at once. Idempotent."""
        with self._cond:
            missing = self.size - self._alive if not self._closed else 0
            self._alive += max(0, missing)
        for _ in range(max(0, missing)):
            threading.Thread(target=self._start_one, daemon=True, name="workbench-start").start()

    def _start_one(self) -> None:
        worker = None
        try:
            worker = _Worker(self._ctx)
            ok = worker.wait_ready(START_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - a failed start frees its slot for a later try
            ok = False
        with self._cond:
            if ok and not self._closed:
                self._idle.append(worker)
                self._ready_once = True
            else:
                self._alive -= 1
                if worker is not None:
                    worker.kill()
            self._cond.notify_all()

    def _acquire(self, wait_s: float, source: str | None) -> _Worker:
        self.start()
        deadline = time.monotonic() + wait_s
        with self._cond:
            if not self._ready_once and self._alive:  # first workers still import JAX: not "busy"
                deadline = time.monotonic() + max(wait_s, START_TIMEOUT_S)
            while not self._idle:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise WorkbenchBusy(
                        f"the workbench is busy: {self.size} kernels are being computed for other "
                        f"users and none finished within {wait_s:.0f} s. Try again in a moment.")
                self._cond.wait(min(left, 1.0))
            # The worker that ran this source last holds its compiled programs.
            match = [w for w in self._idle if source is not None and w.last_source == source]
            worker = match[0] if match else self._idle[0]
            self._idle.remove(worker)
            return worker

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed:
                self._idle.append(worker)
            else:
                self._alive -= 1
            self._cond.notify_all()
        if not healthy:
            worker.kill()
            self.start()  # a fresh one, in the background

    def run(self, job: str, kwargs: Mapping[str, Any], timeout_s: float = JOB_TIMEOUT_S,
            wait_s: float = WAIT_FOR_WORKER_S, source: str | None = None) -> Any:
        """Run `job` in a worker and return its result.

        Args:
          job: a key of `core.workbench.worker.JOBS`; kwargs: its arguments (pickled).
          timeout_s: the job's time limit, compile included; past it the worker is killed.
          wait_s: how long to wait for a free worker.
          source: the user's source, to prefer the worker that compiled it last.

        Raises:
          UserCodeError: the job's own error, busy, over time, over memory, or a crash.
        """
        worker = self._acquire(wait_s, source)
        healthy = False
        try:
            worker.conn.send((job, dict(kwargs)))
            start = time.monotonic()
            while True:
                ready = multiprocessing.connection.wait(
                    [worker.conn, worker.process.sentinel], timeout=_POLL_S)
                if worker.conn in ready:
                    reply = worker.conn.recv()
                    break
                if worker.process.sentinel in ready or not worker.process.is_alive():
                    raise UserCodeError(
                        "the worker running the kernel stopped unexpectedly (most likely out of "
                        "memory); a fresh one is starting. Use fewer points or smaller arrays.")
                rss = resident_bytes(worker.process.pid)
                if rss is not None and rss - worker.base_rss > self.memory_limit_bytes:
                    raise UserCodeError(
                        f"the kernel used more than the {format_bytes(self.memory_limit_bytes)} a "
                        "workbench job may use, so it was stopped: use fewer points or smaller "
                        "arrays in the kernel. A fresh worker is starting.")
                if time.monotonic() - start > timeout_s:
                    raise UserCodeError(
                        f"the kernel took longer than {timeout_s:g} s to compile and run, so it "
                        "was stopped: simplify it (fewer or shorter loops, smaller arrays, fewer "
                        "points). A fresh worker is starting.")
            healthy = True
        except (EOFError, OSError, BrokenPipeError):
            raise UserCodeError("the worker running the kernel stopped unexpectedly; a fresh one "
                                "is starting. Try again.") from None
        finally:
            if healthy:
                worker.last_source = source
            self._release(worker, healthy)
        tag, value, *rest = reply
        if tag == "ok":
            return value
        raise UserCodeError(value, rest[0] if rest else None)

    def pids(self) -> list[int]:
        """The ids of the idle workers' processes (tests)."""
        with self._cond:
            return [w.process.pid for w in self._idle]

    def wait_until_ready(self, timeout_s: float = START_TIMEOUT_S) -> bool:
        """Block until `size` workers are idle (tests, benchmarks); False on timeout."""
        self.start()
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len(self._idle) < self.size:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 1.0))
        return True

    def close(self) -> None:
        """Stop every idle worker; busy ones are stopped when their job returns."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._alive -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.process.join(timeout=2)
            worker.kill()


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """The server's one pool, created (and its workers started) on first use."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._closed:
            _pool = WorkerPool()
            atexit.register(_pool.close)
        _pool.start()
        return _pool


def start_workers() -> None:
    """Start the worker processes now, in the background (idempotent; the page calls it)."""
    pool()


def stop_workers() -> None:
    """Stop the worker processes (tests; the next job starts fresh ones)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


def _checked(source: str) -> Any:
    # Static and cheap: a source that breaks a rule never reaches a worker.
    from core.workbench.language import check_source

    return check_source(source)


def _array(X: Any, what: str) -> np.ndarray:
    arr = np.asarray(X)
    if arr.dtype.kind not in "fiu" or arr.ndim != 2:
        raise UserCodeError(f"{what} must be a numeric matrix of shape (N, D); got "
                            f"{arr.dtype} of shape {arr.shape}.")
    return arr


def user_gram(source: str, X: Any, Y: Any, params: Mapping[str, Any],
              timeout_s: float = JOB_TIMEOUT_S) -> np.ndarray:
    """The (N, M) Gram matrix of the user's kernel by nested `vmap` under `jit`, bounded.

    Args:
      source: the user's text defining `k(params, x, y)` for one pair of (D,) vectors.
      X: (N, D); Y: (M, D), or None for X. float64 X computes in float64, anything
        else in float32. N and M at most `core.workbench.view.MAX_N`.
      params: the kernel's parameters by name (numbers).
      timeout_s: the time limit, compile included.

    Returns:
      K as a NumPy array, (N, M).

    Raises:
      UserCodeError: the source breaks a rule, the kernel fails or returns no scalar, a
        bound is broken (loop, array size, time, memory), or the workers are busy.
    """
    _checked(source)
    X = _array(X, "X")
    Y = None if Y is None else _array(Y, "Y")
    dtype = "float64" if X.dtype == np.float64 else "float32"
    return pool().run("gram", {"source": source, "X": X, "Y": Y, "params": dict(params),
                               "dtype": dtype}, timeout_s=timeout_s, source=source)


def workbench_view(source: str, X: Any, params: Mapping[str, Any], dtype: str,
                   gammas: Sequence[float] | None = None, side: int = 128,
                   fast: bool = False, timeout_s: float = VIEW_TIMEOUT_S) -> Any:
    """Everything the page draws for the kernel (`core.workbench.view.WorkbenchView`), bounded.

    Args:
      source, X, params: as in `user_gram` (X (N, D) against itself).
      dtype: "float32" or "float64".
      gammas: a grid of at most 64 gammas for the live heatmap's frames (used only
        when the source reads params['gamma']); None: no frames.
      side: the most cells a side of a frame.
      fast: the heatmap's fast path: K, frames, shapes, jaxprs and spectrum only (`ways`
        holds Method I alone and `findings` is empty); two compilations instead of five
        or more.
    """
    _checked(source)
    return pool().run("view", {"source": source, "X": _array(X, "X"), "params": dict(params),
                               "dtype": dtype, "gammas": None if gammas is None else
                               np.asarray(gammas, dtype=np.float64), "side": int(side),
                               "fast": bool(fast)},
                      timeout_s=timeout_s, source=source)


def time_ways(source: str, X: Any, params: Mapping[str, Any], dtype: str,
              budget_s: float = 0.5, timeout_s: float = TIME_TIMEOUT_S) -> dict:
    """Each way of batching the kernel and the built-in RBF, timed in a worker.

    Returns:
      name -> `core.bench.timing.TimingResult` (compile apart, medians of repeats within
      `budget_s` a way): the ways of `core.workbench.ways.WAYS` that fit the budgets,
      then "built-in RBF".
    """
    _checked(source)
    return pool().run("time", {"source": source, "X": _array(X, "X"), "params": dict(params),
                               "dtype": dtype, "budget_s": float(budget_s)},
                      timeout_s=timeout_s, source=source)


def workbench_findings(source: str, X: Any, params: Mapping[str, Any], dtype: str,
                       timeout_s: float = VIEW_TIMEOUT_S) -> list:
    """Only the findings (`core.workbench.diagnose.Finding`) for the kernel on X, bounded."""
    _checked(source)
    return pool().run("diagnose", {"source": source, "X": _array(X, "X"),
                                   "params": dict(params), "dtype": dtype},
                      timeout_s=timeout_s, source=source)
