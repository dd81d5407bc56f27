"""The worker process itself: what it refuses to keep (a compile cache), its memory bounds,
and its messages. Real processes, no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import core
from core.errors import UserCodeError
from core.workbench import run
from core.workbench.examples import EXAMPLES
from core.workbench.worker import MEMORY_LIMIT_BYTES, plain_message

RBF = EXAMPLES["The notes' RBF"].source


def test_the_worker_runs_without_a_compile_cache_and_with_a_capped_address_space(workers):
    info = workers.run("ping", {})
    assert info["compilation_cache"] is False
    assert info["pid"] != os.getpid()
    # Capped at its start-up size plus the limit: finite, and not below what it holds.
    assert info["resident_bytes"] < info["rlimit_as"] < 2**62
    assert info["rlimit_as"] >= MEMORY_LIMIT_BYTES


def test_user_programs_never_reach_the_persistent_compilation_cache(workers, compile_cache_dir):
    X = np.random.default_rng(0).normal(size=(300, 3)).astype(np.float32)
    for gamma in (0.1, 1.0):
        core.user_gram(RBF, X, None, {"gamma": gamma})
        run.workbench_view(RBF, X, {"gamma": gamma}, "float32", gammas=[0.1, 1.0])
    assert list(compile_cache_dir.iterdir()) == []


def test_the_cache_test_above_could_fail(compile_cache_dir, tmp_path):
    # Control: a plain JAX process with the environment the workers got writes its
    # programs to the folder, so an empty folder above means the worker turned it off.
    from tests.core.workbench.conftest import CACHE_ENV

    env = dict(os.environ, **{k: v for k, v in CACHE_ENV.items() if v is not None},
               JAX_COMPILATION_CACHE_DIR=str(tmp_path))
    code = "import jax, jax.numpy as jnp; jax.jit(lambda x: jnp.exp(x) * 2)(jnp.ones(3)).block_until_ready()"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    assert list(tmp_path.iterdir()) != []


def test_a_worker_over_its_memory_limit_is_killed_with_a_message():
    pool = run.WorkerPool(size=1, memory_limit_bytes=8 * 1024**2)
    try:
        assert pool.wait_until_ready(300)
        X = np.random.default_rng(0).normal(size=(2000, 2)).astype(np.float32)
        with pytest.raises(UserCodeError, match="more than the 8.00 MiB|stopped unexpectedly"):
            pool.run("view", {"source": RBF, "X": X, "params": {"gamma": 1.0}, "dtype": "float32",
                              "gammas": np.geomspace(0.1, 10, 64), "side": 128})
    finally:
        pool.close()


def test_messages_carry_no_traceback():
    try:
        raise ValueError(textwrap.dedent("""\
            first paragraph says what went wrong

            Traceback (most recent call last):
              File "x.py", line 1"""))
    except ValueError as error:
        message = plain_message(error)
    assert message == "ValueError: first paragraph says what went wrong"
    assert "out of the 1.50 GiB" in plain_message(MemoryError())
