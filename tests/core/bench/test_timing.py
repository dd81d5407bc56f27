"""Tests of `core.bench.timing`: statistics and budget logic on a fake clock, real JIT paths."""

from __future__ import annotations

import json
import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from core.errors import CoreError
from core.precision import dtype_scope
from core.bench.timing import (TimingCancelled, TimingResult, block, environment_info, settle_threads,
                               time_call, time_jitted)
from core.bench.report import format_seconds
from core.bench import timing as timing_module


class FakeWork:
    """A callable that 'takes' preset durations on a fake clock and counts calls.

    Each call advances the clock by the next duration, so `time_call` measures
    exactly those durations: the statistics can be checked with `==`.
    """

    def __init__(self, durations: list[float]) -> None:
        self.durations = list(durations)
        self.now = 0.0
        self.calls = 0

    def clock(self) -> float:
        return self.now

    def __call__(self) -> np.ndarray:
        self.now += self.durations[self.calls]
        self.calls += 1
        return np.zeros(2)


def test_statistics_are_exact_on_a_fake_clock():
    # One warm-up (9 s: "compilation") then five repeats.
    work = FakeWork([9.0, 5.0, 1.0, 4.0, 2.0, 3.0])
    result = time_call(work, warmup=1, repeats=5, budget_s=None, clock=work.clock)
    assert result.first_call_s == 9.0
    assert result.times_s == (5.0, 1.0, 4.0, 2.0, 3.0)
    assert result.repeats == 5
    assert result.median_s == 3.0
    assert result.min_s == 1.0
    assert result.spread_s == 2.0  # IQR of 1..5: 4 - 2
    assert result.compile_s is None and result.trace_s is None
    assert not result.stopped_early
    assert work.calls == 6


def test_budget_stops_early_counting_warmups():
    # Warm-up 1 s, then 1 s repeats; a 3.5 s budget is spent after the 3rd repeat.
    work = FakeWork([1.0] * 10)
    result = time_call(work, warmup=1, repeats=7, budget_s=3.5, clock=work.clock)
    assert result.times_s == (1.0, 1.0, 1.0)
    assert result.stopped_early
    assert work.calls == 4


def test_min_repeats_run_even_after_budget_is_spent():
    work = FakeWork([10.0] * 10)
    result = time_call(work, warmup=1, repeats=7, budget_s=1.0, min_repeats=3,
                       clock=work.clock)
    assert result.repeats == 3
    assert result.stopped_early


def test_budget_reached_on_the_last_repeat_is_not_early():
    work = FakeWork([1.0] * 3)
    result = time_call(work, warmup=0, repeats=3, budget_s=3.0, clock=work.clock)
    assert result.repeats == 3 and not result.stopped_early
    assert result.first_call_s is None


def test_on_progress_counts_up_to_repeats():
    work = FakeWork([0.1] * 6)
    calls: list[tuple[int, int]] = []
    time_call(work, warmup=2, repeats=4, clock=work.clock,
              on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_should_stop_raises_and_stops_calling_fn():
    work = FakeWork([0.1] * 10)
    # Allow the warm-up and two repeats, then ask to stop.
    with pytest.raises(TimingCancelled) as excinfo:
        time_call(work, warmup=1, repeats=7, clock=work.clock,
                  should_stop=lambda: work.calls >= 3)
    assert work.calls == 3
    assert isinstance(excinfo.value, CoreError)  # the app shows CoreError messages


def test_invalid_counts_are_rejected():
    with pytest.raises(ValueError):
        time_call(lambda: None, repeats=0)


def test_as_dict_is_a_flat_json_row():
    result = TimingResult(times_s=(1.0, 3.0), first_call_s=5.0, compile_s=2.0)
    row = result.as_dict()
    assert row == {"compile_s": 2.0, "trace_s": None, "compile_cache": "", "first_call_s": 5.0,
                   "median_s": 2.0, "min_s": 1.0, "spread_s": 1.0, "repeats": 2,
                   "stopped_early": False}
    assert result.as_dict(include_times=True)["times_s"] == [1.0, 3.0]
    json.dumps(result.as_dict(include_times=True))


def test_block_returns_the_same_ready_objects():
    x = jnp.arange(4.0) * 2
    assert block(x) is x
    assert x.is_ready()
    tree = {"a": x, "b": np.ones(2), "c": None}
    assert block(tree) is tree
    arr = np.ones(3)
    assert block(arr) is arr


def test_time_jitted_measures_compilation_and_returns_the_output():
    def f(x, power):
        return jnp.sum(x**power, axis=1)

    x = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    result, out = time_jitted(f, x, 2, static_argnums=1, repeats=3)
    assert result.compile_s is not None and result.compile_s > 0
    assert result.trace_s is not None and 0 < result.trace_s <= result.compile_s
    assert result.first_call_s is not None and result.repeats == 3
    np.testing.assert_allclose(np.asarray(out), np.asarray(f(x, 2)))

    # A fresh function is compiled again, not served from a cache with no time.
    result2, _ = time_jitted(lambda x: x + 1, x, repeats=1)
    assert result2.compile_s is not None and result2.compile_s > 0


def test_a_second_compile_of_the_same_program_is_labelled_a_cache_hit():
    # The issue: "compile (once)" read 720 µs on a compile JAX served from memory.
    def f(x):
        return jnp.cos(x) * 2.0

    x = np.ones((4, 3), dtype=np.float32)
    first, _ = time_jitted(f, x, repeats=1)
    again, _ = time_jitted(f, x, repeats=1)
    assert first.compile_cache == ""
    assert again.compile_cache == "in-memory"
    assert again.as_dict()["compile_cache"] == "in-memory"  # in the CSV too


def test_a_fresh_compile_is_a_real_compile_every_time():
    def f(x, power):
        return jnp.sum(x**power, axis=1)

    x = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    time_jitted(f, x, 2, static_argnums=1, repeats=1)  # the program is now in memory
    for _ in range(2):
        result, out = time_jitted(f, x, 2, static_argnums=1, repeats=1, fresh=True)
        assert result.compile_cache == "" and result.compile_s > 0
        np.testing.assert_allclose(np.asarray(out), np.asarray(f(x, 2)))


def test_time_jitted_keeps_float64_inside_dtype_scope():
    x = np.linspace(0.0, 1.0, 5)  # float64
    with dtype_scope("float64"):
        _, out = time_jitted(lambda v: v * 3.0, x, repeats=1)
    assert out.dtype == jnp.float64
    np.testing.assert_array_equal(np.asarray(out), x * 3.0)


def test_environment_info_has_versions_and_is_json_serializable():
    info = environment_info()
    for key in ("python", "jax", "jaxlib", "numpy", "scipy", "scikit-learn", "platform",
                "cpu_count", "jax_devices", "default_backend", "x64_enabled", "xla_flags",
                "timestamp_utc"):
        assert key in info
    assert info["jax"] == jax.__version__
    assert isinstance(info["x64_enabled"], bool)
    with dtype_scope("float64"):
        assert environment_info()["x64_enabled"] is True
    assert {"platform", "device_kind"} <= set(info["jax_devices"][0])
    json.dumps(info)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1.2, "1.20 s"), (0.0123, "12.3 ms"), (850e-6, "850 µs"), (0.99996, "1.00 s"),
     (2.5e-9, "2.50 ns"), (5.2e-10, "0.520 ns"), (None, "n/a"), (float("nan"), "n/a")],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1.26, "1.3 s"), (0.0123, "12 ms"), (850e-6, "850 µs"), (0.99996, "1.0 s"),
     (2.5e-9, "2.5 ns"), (123.4, "120 s"), (None, "n/a"),
     # Below 1 ns (the Scale page's cost per entry of K) it stays in ns, two figures;
     # it read "0.0 s". Zero keeps seconds.
     (5.2e-10, "0.52 ns"), (3.7e-11, "0.037 ns"), (0.0, "0.0 s")],
)
def test_format_seconds_to_two_significant_figures(seconds, text):
    assert format_seconds(seconds, 2) == text


def test_timing_and_ratio_text_carry_two_figures_and_the_spread():
    from core.bench.timing import TimingResult
    from core.bench.report import format_ratio, format_timing, ratio_interval

    slow = TimingResult(times_s=(0.010, 0.012, 0.011, 0.013, 0.0105))
    fast = TimingResult(times_s=(0.0010, 0.0011, 0.0009))
    q = {name: np.percentile(t.times_s, [25, 50, 75]) for name, t in (("s", slow), ("f", fast))}
    ratio, low, high = ratio_interval(slow, fast)
    assert ratio == pytest.approx(q["s"][1] / q["f"][1])
    assert low == pytest.approx(q["s"][0] / q["f"][2]) and high == pytest.approx(q["s"][2] / q["f"][0])
    assert low <= ratio <= high
    assert format_timing(slow) == (f"{format_seconds(q['s'][1], 2)} (IQR "
                                   f"{format_seconds(q['s'][2] - q['s'][0], 2)}, 5 runs)")
    assert format_timing(slow) == "11 ms (IQR 1.5 ms, 5 runs)"
    assert format_ratio(slow, fast) == "11×, range 10–13×"  # 0.0105/0.00105, 0.012/0.00095
    assert format_ratio(fast, slow) == "0.091×, range 0.079–0.1×"
    big = TimingResult(times_s=(16.7,)), TimingResult(times_s=(0.001,))
    assert format_ratio(*big) == "17,000×, range 17,000–17,000×"


# --- settle_threads: no method starts while another one's threads still run ---

_needs_proc = pytest.mark.skipif(timing_module._other_threads_cpu_ns() is None,
                                 reason="no /proc/self/task/<tid>/schedstat on this OS")


@_needs_proc
def test_settle_threads_waits_for_a_spinning_thread_to_stop():
    # What OpenBLAS's workers do after a call: spin on a core for a while. The
    # spinner here stops when told to, 0.2 s after it starts; settle_threads must
    # not return before that (a generous cap: only "waited for it" is checked).
    stop, stopped = threading.Event(), threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))
        stopped.set()

    threading.Thread(target=spin, daemon=True).start()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    try:
        waited = settle_threads(window_s=0.02, busy_share=0.02, max_wait_s=30.0)
        assert stopped.is_set()  # it returned only once the spinner had ended
        assert waited < 30.0  # and it did not give up
    finally:
        stop.set()
        timer.cancel()


@_needs_proc
def test_settle_threads_gives_up_at_its_cap_while_a_thread_stays_busy():
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    threading.Thread(target=spin, daemon=True).start()
    try:
        assert settle_threads(window_s=0.01, busy_share=0.0, max_wait_s=0.1) >= 0.1
    finally:
        stop.set()


def test_time_call_settles_before_its_first_call_only_when_asked(monkeypatch):
    settled = []
    monkeypatch.setattr(timing_module, "settle_threads", lambda: settled.append(True) or 0.0)
    work = FakeWork([1.0, 2.0, 3.0])
    time_call(work, warmup=1, repeats=2, budget_s=None, clock=work.clock)
    assert settled == []
    work = FakeWork([1.0, 2.0, 3.0])
    result = time_call(work, warmup=1, repeats=2, budget_s=None, clock=work.clock, settle=True)
    assert settled == [True] and result.times_s == (2.0, 3.0)
