"""The warm-up: every page's default programs compiled in the background, once per server.

A page's first visit on a fresh server used to wait for its JAX programs to compile
(0.8-6.5 s a page on 2 cores; benchmarks/first_visit.py). Streamlit has no start hook, so
app.py calls `start_warmup()` at the end of every run: the first call of the process (a
`st.cache_resource`) starts one daemon thread, after the first visitor's page has been
drawn. The thread then calls, page by page in menu order, the functions each page calls at
its default settings (the same functions, shapes and dtypes, so the jit caches, and the
`st.cache_data` entries of ui/state/cache.py where a page uses them, are the ones the page will
find), and ends.

It gives way to visitors: before each step it waits until no page's script is running
(`page_running`, around every run in app.py), and it runs at the lowest CPU priority the
OS gives a thread (on Linux, nice 19 for this thread). A step that fails is skipped: the
page will compile what it needs itself.

Settings (environment variables):

- `VMAP_WARMUP=0` turns it off (the tests that measure the server's memory or CPU do).
- `VMAP_WARMUP_HOLD=<file>` (tests): the thread starts, then waits until <file> exists
  before its first step, so a test can check that pages are served while it is held.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import streamlit as st

__all__ = ["WARMUP_ENV", "HOLD_ENV", "THREAD_NAME", "warmup_enabled", "page_running", "start_warmup",
           "STEPS", "run_all"]

WARMUP_ENV = "VMAP_WARMUP"
HOLD_ENV = "VMAP_WARMUP_HOLD"
THREAD_NAME = "vmap-warmup"
log = logging.getLogger(__name__)

_running = 0  # page scripts running now (all sessions)
_running_lock = threading.Lock()


def warmup_enabled(environ=os.environ) -> bool:
    return environ.get(WARMUP_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@contextlib.contextmanager
def page_running() -> Iterator[None]:
    """Around a page's run (app.py): the warm-up waits while any is running."""
    global _running
    with _running_lock:
        _running += 1
    try:
        yield
    finally:
        with _running_lock:
            _running -= 1


def _wait_for_quiet(quiet_s: float = 0.2) -> None:
    """Until no page has run for `quiet_s`: visitors first."""
    quiet_since = None
    while True:
        if _running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            return
        time.sleep(0.05)


def _lowest_priority() -> None:
    """nice 19 for this thread alone (Linux gives each thread its own nice value)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


# --- the steps: what each page computes at its default settings ------------------------

# Each step calls what its page calls at the page's default settings, with the same
# shapes, dtypes and static arguments, so the page's jit calls find their programs compiled.
# They call `core` directly, not the pages' st.cache_data wrappers: Streamlit's API is not
# made for threads outside a script run, and a wrapper keyed on scalars (ui/cache.sqdist,
# whose permutation is not hashed) must only ever see the page's own arguments. The page
# still fills its st.cache_data entries itself (running compiled programs: fast).

def _sidebar_data():
    """The sidebar's default data (the first dataset, N = 400, noise 0.1, seed 0, float32)
    as ui.state.cache.load_data gives it, and its median-heuristic gamma on the slider's grid."""
    from core.data import DATASETS, load_dataset
    from core.kernels.functions import median_heuristic_gamma
    from ui.state.settings import DEFAULT_N, snap_gamma

    name = next(iter(DATASETS))
    noise = 0.1 if DATASETS[name].uses_noise else 0.0
    X, y = load_dataset(name, n=DEFAULT_N, seed=0, noise=noise, dtype="float32")
    return X, y, snap_gamma(median_heuristic_gamma(X))


def _overview() -> None:
    import numpy as np

    from core.lessons.anatomy import vmap_ladder
    from core.lessons.predict import init_params
    from core.lessons.projection import pca_2d
    from core.precision import dtype_scope

    X, _, _ = _sidebar_data()
    with dtype_scope("float32"):
        vmap_ladder(X, init_params(X.shape[1], 0, dtype=np.float32))
    pca_2d(X)


def _gram() -> None:
    from core.dense.methods import rbf_from_sqdist, sqdist_for
    from core.precision import dtype_scope

    X, _, gamma = _sidebar_data()
    with dtype_scope("float32"):
        rbf_from_sqdist(sqdist_for("auto", X), gamma)


def _anatomy() -> None:
    import numpy as np

    from core.lessons.anatomy import JAXPR_EXAMPLES, compare_predict_forms, jaxpr_pair, matmul_ladder
    from core.lessons.predict import init_params, late_binding_demo
    from core.precision import dtype_scope

    X, _, _ = _sidebar_data()
    n, d = X.shape
    params = init_params(d, 0, dtype=np.float32)
    with dtype_scope("float32"):  # the page's row caps: 1000, 40 and 300 rows
        compare_predict_forms(params, X[:min(n, 1000)], budget_s=0.05)
        jaxpr_pair(next(iter(JAXPR_EXAMPLES)), n, d, "float32")
        late_binding_demo(params, init_params(d, 1, dtype=np.float32), X[:min(n, 40)])
        A = X[:min(n, 300)]
        matmul_ladder(A, A.T)


def _gradients() -> None:
    import numpy as np

    from core.kernels.functions import KERNELS
    from core.lessons.gradients import (compare_per_sample_grads, field_grid, gamma_range,
                                        kernel_gradient_field, kernel_values, regression_targets,
                                        summary_curve)
    from core.lessons.predict import init_params
    from core.precision import dtype_scope

    X, y, gamma = _sidebar_data()
    n, d = X.shape
    targets, _ = regression_targets(X, y, 0)
    params = init_params(d, 0, dtype=np.float32)
    rbf = KERNELS["rbf"].fn
    with dtype_scope("float32"):
        compare_per_sample_grads(params, X, targets, loop_rows=min(n, 100), budget_s=0.05)
        if d == 2:  # the page's field: 90 x 90 values, 21 x 21 arrows, one at the centre
            center = X[0]
            kernel_values(rbf, {"gamma": gamma}, center, field_grid(X, 90)[2])
            kernel_gradient_field(rbf, {"gamma": gamma}, center, field_grid(X, 21)[2])
            kernel_gradient_field(rbf, {"gamma": gamma}, center, center[None])
    gammas = gamma_range(float(gamma), gamma)
    gammas = np.logspace(np.log10(gammas[0]), np.log10(gammas[-1]), len(gammas))
    with dtype_scope("float32"):
        summary_curve(rbf, {}, X, gammas, max_points=300)


def _precision() -> None:
    from core.lessons.accuracy import DEFAULT_LAB_METHODS, lab_accuracy

    # The lab's defaults: N = 200, D = 5, spread 1, offset 1000, seed 0, float32.
    lab_accuracy(200, 5, 1.0, 1000.0, 0, "float32", DEFAULT_LAB_METHODS, None, keep_error=True)


def _fit() -> None:
    from core.lessons.fit.compare import compute_surface, fit_curve, held_out
    from core.data.regression import REGRESSION_SETS, load_regression
    from core.precision import dtype_scope

    # The page's defaults: its first set, N = 100, noise sd 0.2, seed 0, float64; a 64 x 64
    # surface at amplitude 1; the chosen point gamma 1, noise 0.1.
    data = load_regression(next(iter(REGRESSION_SETS)), 100, 0.2, 0, "float64")
    with dtype_scope("float64"):
        compute_surface(data.X, data.y, 64, 1.0)
        if data.X.shape[1] == 1:
            fit_curve(data.X, data.y, 1.0, 0.1, 1.0)
        held_out(data.X, data.y, data.X_test, data.y_test, 1.0, 0.1, 1.0, budget_s=0.05)


# Menu order (ui/page_index.py); the race and Scale pages compute nothing until asked.
STEPS: dict[str, Callable[[], None]] = {
    "overview": _overview, "gram": _gram, "anatomy": _anatomy, "gradients": _gradients,
    "precision": _precision, "fit": _fit,
}


def run_all(wait: Callable[[], None] = lambda: None) -> dict[str, float]:
    """Every step in order, each after `wait()`; returns the seconds each took (failed: NaN)."""
    took = {}
    for name, step in STEPS.items():
        wait()
        start = time.perf_counter()
        try:
            step()
        except Exception:  # noqa: BLE001 - the page will compile what it needs itself
            log.warning("warm-up step %s failed", name, exc_info=True)
            took[name] = float("nan")
        else:
            took[name] = time.perf_counter() - start
    return took


def _say(text: str) -> None:
    """One line on the server's output (what an operator, or a test, reads in its log)."""
    print(f"vmap explorer: {text}", flush=True)


def _hold(environ=os.environ) -> None:
    path = environ.get(HOLD_ENV, "").strip()
    if path and not Path(path).exists():
        _say(f"warm-up held until {path} exists ({HOLD_ENV})")
        while not Path(path).exists():
            time.sleep(0.1)


def _work() -> None:
    _lowest_priority()
    _hold()
    _say("warm-up started: " + ", ".join(STEPS))
    took = run_all(wait=_wait_for_quiet)
    _say("warm-up done: " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))


@st.cache_resource(show_spinner=False)
def start_warmup() -> threading.Thread | None:
    """Start the warm-up thread (once per process: a cached resource); None when turned off."""
    if not warmup_enabled():
        return None
    thread = threading.Thread(target=_work, name=THREAD_NAME, daemon=True)
    thread.start()
    return thread
