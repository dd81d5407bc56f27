"""The bounded path: `core.user_gram` and the pool of worker processes, with real workers.

What a user would notice: their kernel's Gram matrix comes back equal to nested vmap;
a kernel that is too slow, too large or broken comes back as one clear message (never
a traceback, never a hung page); and the next kernel still works.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import core
from core.errors import UserCodeError
from core.workbench import check_source, run
from core.workbench.examples import EXAMPLES
from core.workbench.program import ARRAY_BUDGET_BYTES, check_program

RBF = EXAMPLES["The notes' RBF"].source
CORPUS = Path(__file__).resolve().parents[2] / "data" / "hostile_kernels"

# 900 trips over every pair: seconds of work at N = 2,000 (about 1.8e10 values, just within
# the work bound), about a second at N = 600.
SLOW = """\
def kernel(params, x, y):
    d2 = np.sum((x - y) ** 2)
    return lax.fori_loop(0, 900, lambda i, acc: acc + np.exp(-d2 * i), 0.0)
"""
HUGE = """\
def kernel(params, x, y):
    big = np.ones((1000, 1000)) * np.sum(x * y)
    return np.sum(big)
"""


def _data(n=40, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def test_user_gram_is_nested_vmap_of_the_kernel(workers):
    X, Y = _data(40), _data(30, seed=1)
    K = core.user_gram(RBF, X, Y, {"gamma": 0.3})
    expected = np.asarray(core.gram(core.rbf_kernel, {"gamma": 0.3}, X, Y))
    assert isinstance(K, np.ndarray) and K.shape == (40, 30) and K.dtype == np.float32
    np.testing.assert_allclose(K, expected, atol=2e-6)


def test_user_gram_in_float64_follows_x(workers):
    X = _data(20).astype(np.float64)
    K = core.user_gram(RBF, X, None, {"gamma": 0.3})
    assert K.dtype == np.float64 and K.shape == (20, 20)
    with jax.enable_x64(True):
        expected = np.asarray(core.gram(core.rbf_kernel, {"gamma": 0.3}, X))
    np.testing.assert_allclose(K, expected, atol=1e-12)


def test_a_rule_breaking_source_is_refused_before_any_worker(workers, monkeypatch):
    monkeypatch.setattr(run.WorkerPool, "run", lambda *a, **k: pytest.fail("sent to a worker"))
    with pytest.raises(UserCodeError, match="import"):
        core.user_gram("import os\ndef kernel(params, x, y):\n    return 1.0\n", _data(), None, {})


def test_a_kernel_that_returns_a_vector_is_refused_with_its_shape(workers):
    source = "def kernel(params, x, y):\n    return x - y\n"
    with pytest.raises(UserCodeError, match=r"one number for one pair x, y") as info:
        core.user_gram(source, _data(), None, {})
    assert "shape (3,)" in str(info.value)


def test_jax_errors_come_back_as_one_message_without_a_traceback(workers):
    with pytest.raises(UserCodeError) as info:
        core.user_gram(EXAMPLES["Python if (fails)"].source, _data(), None, {"gamma": 0.3})
    assert "TracerBoolConversionError" in str(info.value)
    assert "Traceback" not in str(info.value) and info.value.line == 3


def test_too_many_points_are_refused_with_the_cap(workers):
    with pytest.raises(UserCodeError, match="at most 2,000 points"):
        core.user_gram(RBF, np.zeros((2001, 2), np.float32), None, {"gamma": 1.0})


def test_a_huge_intermediate_is_refused_before_it_runs(workers):
    start = time.monotonic()
    with pytest.raises(UserCodeError) as info:
        core.user_gram(HUGE, _data(100), None, {})
    message = str(info.value)
    # Nested vmap makes the (1000, 1000) array one per pair: (100, 100, 1000, 1000).
    assert "(100, 100, 1000, 1000)" in message and "batch_size" in message
    assert time.monotonic() - start < run.JOB_TIMEOUT_S


def test_check_program_refuses_a_while_loop_and_names_the_fix():
    closed = jax.make_jaxpr(lambda x: lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x))(1.0)
    with pytest.raises(UserCodeError, match="fori_loop"):
        check_program(closed)


def test_check_program_counts_a_scan_body_length_times():
    body = lambda i, acc: acc + jnp.exp(-acc)  # noqa: E731
    closed = jax.make_jaxpr(lambda x: lax.fori_loop(0, 1000, body, x))(jnp.ones(1000))
    stats = check_program(closed)
    assert stats.primitives.get("scan") == 1 and stats.work >= 1000 * 1000
    with pytest.raises(UserCodeError, match="values"):
        check_program(closed, work_budget=stats.work / 2)


def test_check_program_sees_arrays_inside_nested_jaxprs():
    inner = jax.jit(lambda x: jnp.outer(x, x).sum())
    closed = jax.make_jaxpr(lambda x: lax.cond(x[0] > 0, inner, lambda x: x.sum(), x))(jnp.ones(300))
    assert check_program(closed).largest_shape == (300, 300)
    with pytest.raises(UserCodeError, match=r"\(300, 300\)"):
        check_program(closed, array_budget=300 * 300 * 4 - 1)
    assert ARRAY_BUDGET_BYTES == 256 * 1024**2


def test_a_job_over_its_time_limit_is_killed_and_the_next_job_works(workers):
    X = _data(2000, 2)
    before = set(workers.pids())
    start = time.monotonic()
    with pytest.raises(UserCodeError, match="took longer than 0.5 s"):
        workers.run("gram", {"source": SLOW, "X": X, "Y": None, "params": {}, "dtype": "float32"},
                    timeout_s=0.5, source=SLOW)
    assert time.monotonic() - start < 5.0
    killed = before - set(workers.pids())
    assert len(killed) == 1  # the worker that ran it is gone...
    K = core.user_gram(RBF, _data(10), None, {"gamma": 0.5})  # ...and the next job runs
    assert K.shape == (10, 10)
    assert workers.wait_until_ready(300)  # a fresh worker replaced it
    assert not set(workers.pids()) & killed


def test_the_server_stays_responsive_while_a_job_runs(workers):
    X = _data(600, 2)
    done = threading.Event()

    def job():
        try:
            workers.run("gram", {"source": SLOW, "X": X, "Y": None, "params": {}, "dtype": "float32"},
                        source=SLOW)
        except UserCodeError:
            pass
        finally:
            done.set()

    threading.Thread(target=job, daemon=True).start()
    gaps, last = [], time.monotonic()
    while not done.is_set():
        np.linalg.norm(np.ones(1000))  # the server's own work, in this thread
        time.sleep(0.01)
        now = time.monotonic()
        gaps.append(now - last)
        last = now
    # The waiting job holds no lock and no GIL: the server's loop kept running every few ms.
    assert len(gaps) > 20 and max(gaps) < 0.5
    assert workers.wait_until_ready(300)


def test_a_third_job_waits_and_then_gets_a_busy_message():
    pool = run.WorkerPool(size=0)  # no worker will ever be free
    start = time.monotonic()
    with pytest.raises(run.WorkbenchBusy, match="busy"):
        pool.run("ping", {}, wait_s=0.3)
    assert 0.3 <= time.monotonic() - start < 2.0


def test_the_first_job_of_a_new_pool_waits_for_its_worker_to_start_instead_of_busy():
    # A fresh server's first visitor: the worker is still importing JAX when the job
    # comes, and a wait shorter than that start must not end in "busy".
    pool = run.WorkerPool(size=1)
    try:
        assert pool.run("ping", {}, wait_s=0.1)
    finally:
        pool.close()


def _corpus_trace_cases():
    cases = []
    for path in sorted(CORPUS.glob("[0-9][0-9][0-9]_*.py")):
        expect, stage, source = (path.read_bytes().decode("utf-8").split("\n", 2) + [""])[:3]
        if stage.removeprefix("# stage: ").strip() == "trace":
            cases.append(pytest.param(expect.removeprefix("# expect: ").strip(), source, id=path.stem))
    return cases or [pytest.param("", "", marks=pytest.mark.skip(reason="no trace-stage corpus yet"))]


@pytest.mark.parametrize("expect,source", _corpus_trace_cases())
def test_every_trace_stage_hostile_kernel_is_refused_by_user_gram(workers, expect, source):
    start = time.monotonic()
    with pytest.raises(UserCodeError) as info:
        params = {"gamma": 0.5, **{p: 1.0 for p in check_source(source).param_names}}
        core.user_gram(source, _data(8), None, params)
    assert expect.lower() in str(info.value).lower()
    assert time.monotonic() - start < run.JOB_TIMEOUT_S + 5
    assert core.user_gram(RBF, _data(5), None, {"gamma": 0.5}).shape == (5, 5)


def test_time_ways_times_each_way_and_the_builtin_rbf_in_a_worker(workers):
    from core.bench.timing import TimingResult

    timings = run.time_ways(RBF, _data(200, 2), {"gamma": 0.5}, "float32", budget_s=0.05)
    assert list(timings) == ["Method I", "Method II", "pair list", "built-in RBF"]
    for t in timings.values():  # crossed the pipe whole: compile apart, repeats timed
        assert isinstance(t, TimingResult) and t.compile_s > 0 and t.repeats >= 3
        assert t.median_s > 0


def test_the_view_gives_every_way_frames_over_gamma_and_the_spectrum(workers):
    from core.scale.pooling import pool_mean

    X = _data(300, 2)
    gammas = np.geomspace(0.05, 5.0, 16)
    view = run.workbench_view(RBF, X, {"gamma": 0.5}, "float32", gammas=gammas, side=64)
    np.testing.assert_allclose(view.K, np.asarray(core.gram(core.rbf_kernel, {"gamma": 0.5}, X)), atol=2e-6)
    assert view.shapes == {"x": (2,), "y": (2,), "k": (), "K": (300, 300)}
    assert view.frames.shape == (16, 60, 60) and view.frames.dtype == np.float32 and view.factor == 5
    K5 = np.asarray(core.gram(core.rbf_kernel, {"gamma": gammas[5]}, X))
    np.testing.assert_allclose(view.frames[5], pool_mean(K5, 64)[0], atol=1e-6)
    assert view.definiteness.startswith("positive") and view.asymmetry == 0.0
    assert "exp" in view.jaxpr_pair and "f32[300,300]" in view.jaxpr_batched


def test_the_fast_view_has_the_heatmap_and_skips_the_other_ways_and_findings(workers):
    X = _data(200, 2)
    view = run.workbench_view(RBF, X, {"gamma": 0.5}, "float32", gammas=[0.1, 1.0], fast=True)
    full = run.workbench_view(RBF, X, {"gamma": 0.5}, "float32", gammas=[0.1, 1.0])
    assert list(view.ways) == ["Method I"] and view.findings == ()
    assert list(full.ways) == ["Method I", "Method II", "pair list"] and full.findings
    np.testing.assert_array_equal(view.K, full.K)
    np.testing.assert_array_equal(view.frames, full.frames)
