"""One pool of real worker processes for the workbench's runner tests (started once).

Starting a worker imports JAX in a fresh process (seconds, tens of seconds on a busy
machine), so the runner, worker, diagnose and examples tests share one pool for the
whole session. It is started with JAX's persistent compilation cache pointed at a
temporary folder, with the thresholds that keep small programs out of it set to 0,
so `test_worker.py` can check that no user program is ever written there.
"""

from __future__ import annotations

import os

import pytest

CACHE_ENV = {"JAX_COMPILATION_CACHE_DIR": None,
             "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
             "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}


@pytest.fixture(scope="session")
def compile_cache_dir(tmp_path_factory):
    """The folder the workers' environment names as JAX's persistent compilation cache."""
    return tmp_path_factory.mktemp("jax_compile_cache")


@pytest.fixture(scope="session")
def workers(compile_cache_dir):
    """The server's pool (`core.workbench.run.pool()`), both workers ready."""
    from core.workbench import run

    env = dict(CACHE_ENV, JAX_COMPILATION_CACHE_DIR=str(compile_cache_dir))
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # spawned workers inherit the environment at start
    try:
        run.stop_workers()
        pool = run.pool()
        assert pool.wait_until_ready(300), "the workers did not start within 300 s"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield pool
    run.stop_workers()
