"""Interleaved timing: round-robin order, paired ratios, the stopping rule, the load meter."""

from __future__ import annotations

import subprocess
import sys
import numpy as np
import pytest

from core.bench.interleave import LoadMeter, time_interleaved
from core.bench.report import format_load, format_ratio, format_timing, median_interval, ratio_interval, within_noise
from core.bench.timing import TimingCancelled, TimingResult


class Clock:
    """A fake clock that contenders advance by their (scripted) durations."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[str] = []

    def __call__(self) -> float:
        return self.now

    def contender(self, name: str, seconds: float):
        """A call that takes `seconds` and is recorded in call order."""
        def call():
            self.calls.append(name)
            self.now += seconds
        return call


def test_every_round_calls_each_contender_once_and_each_goes_first_in_turn():
    clock = Clock()
    calls = {n: clock.contender(n, s) for n, s in (("a", 0.01), ("b", 0.02), ("c", 0.04))}
    run = time_interleaved(calls, warmup=1, min_rounds=6, max_rounds=6, budget_s=100,
                           min_sample_s=0, clock=clock)
    assert run.rounds == 6 and run.loops == {"a": 1, "b": 1, "c": 1}
    rounds = [clock.calls[6 + 3 * r: 9 + 3 * r] for r in range(6)]  # after 2 warm calls each
    assert [r[0] for r in rounds] == ["a", "b", "c", "a", "b", "c"]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds)
    assert run.results["c"].median_s == pytest.approx(0.04)
    ratio, low, high = run.ratio("c", "a")
    assert (ratio, low, high) == pytest.approx((4.0, 4.0, 4.0))
    assert len({r.run_id for r in run.results.values()}) == 1


def test_a_burst_of_load_on_some_rounds_leaves_the_paired_ratio_alone():
    # Rounds 2, 5 and 8 run three times slower for everyone (another process woke up):
    # the per-round ratio is still 10, while the ratio of quartiles, timed apart, is not.
    clock = Clock()
    state = {"round": 0}
    slow_rounds = {2, 5, 8}

    def call(name, seconds):
        def run():
            clock.calls.append(name)
            clock.now += seconds * (3.0 if state["round"] in slow_rounds else 1.0)
        return run

    names = {"loop": call("loop", 0.010), "vmap": call("vmap", 0.001)}
    run = time_interleaved(names, min_rounds=10, max_rounds=10, budget_s=100, min_sample_s=0,
                           clock=clock, on_progress=lambda done, _: state.update(round=done))
    ratio, low, high = ratio_interval(run.results["loop"], run.results["vmap"])
    assert (ratio, low, high) == pytest.approx((10.0, 10.0, 10.0))
    apart = [TimingResult(times_s=r.times_s) for r in (run.results["loop"], run.results["vmap"])]
    _, low_apart, high_apart = ratio_interval(*apart)
    assert high_apart / low_apart > 3  # the same samples, unpaired, smear the lesson


def test_the_run_stops_once_the_ratios_are_known_or_the_budget_is_spent():
    clock = Clock()
    exact = {"a": clock.contender("a", 0.1), "b": clock.contender("b", 0.2)}
    run = time_interleaved(exact, min_rounds=7, max_rounds=60, budget_s=100, min_sample_s=0,
                           clock=clock)
    assert run.rounds == 7  # every round gives ratio 2 exactly: known at once

    rng = np.random.default_rng(0)
    noisy = {"a": lambda: setattr(clock, "now", clock.now + 0.1 * rng.uniform(0.5, 1.5)),
             "b": lambda: setattr(clock, "now", clock.now + 0.1 * rng.uniform(0.5, 1.5))}
    run = time_interleaved(noisy, min_rounds=7, max_rounds=60, budget_s=2.0, min_sample_s=0,
                           clock=clock)
    # 0.2 s a round (both contenders): the budget of 2 s ends it after 10 rounds.
    assert 7 <= run.rounds <= 11


def test_fast_contenders_are_looped_so_that_a_sample_is_long_enough():
    clock = Clock()
    run = time_interleaved({"fast": clock.contender("fast", 2e-6), "slow": clock.contender("slow", 5e-3)},
                           min_rounds=3, max_rounds=3, min_sample_s=1e-3, clock=clock)
    assert run.loops["slow"] == 1 and run.loops["fast"] * 2e-6 == pytest.approx(1e-3, rel=0.01)
    assert run.results["fast"].median_s == pytest.approx(2e-6)


def test_by_default_a_fast_contenders_sample_lasts_ten_milliseconds():
    # Samples of 1 ms let a 30 µs program's ratio to a loop vary by 69 % between quiet runs
    # (docs/BENCHMARKS.md, "Steady lessons"); 10 ms held it within ±25 %.
    clock = Clock()
    run = time_interleaved({"slow": clock.contender("slow", 5e-3), "fast": clock.contender("fast", 3e-5)},
                           min_rounds=3, max_rounds=3, clock=clock)
    assert run.loops["fast"] * 3e-5 == pytest.approx(1e-2, rel=0.01) and run.loops["slow"] == 2


def test_a_stop_request_cancels_the_run():
    clock = Clock()
    with pytest.raises(TimingCancelled):
        time_interleaved({"a": clock.contender("a", 0.1)}, should_stop=lambda: True, clock=clock)


def test_the_median_interval_takes_the_binomial_order_statistics():
    samples = np.arange(1.0, 11.0)  # n = 10: P(B(10, 1/2) < 2) = 11/1024 <= 2.5 % < P(< 3)
    assert median_interval(samples) == (5.5, 2.0, 9.0)
    assert median_interval(np.array([3.0, 1.0, 2.0])) == (2.0, 1.0, 3.0)  # n < 6: min to max
    # Coverage: the interval holds the true median in about 95 % of samples or more.
    rng = np.random.default_rng(1)
    hits = sum(lo <= 0.0 <= hi for _, lo, hi in (median_interval(rng.standard_normal(25))
                                                  for _ in range(2000)))
    assert hits / 2000 >= 0.94


def test_a_ratio_whose_range_holds_one_says_within_noise():
    clock = Clock()
    rng = np.random.default_rng(2)
    same = {n: (lambda: setattr(clock, "now", clock.now + 0.01 * rng.uniform(0.8, 1.2)))
            for n in ("cond", "select")}
    run = time_interleaved(same, min_rounds=15, max_rounds=15, min_sample_s=0, clock=clock)
    assert within_noise(run.results["cond"], run.results["select"])
    assert "within noise on this machine now" in format_ratio(run.results["cond"], run.results["select"])
    apart = TimingResult(times_s=(0.010, 0.011, 0.012)), TimingResult(times_s=(0.001, 0.0011, 0.0012))
    assert not within_noise(*apart) and format_ratio(*apart).startswith("10×, range")


def test_the_load_meter_sees_another_process_keep_a_core_busy():
    meter = LoadMeter().start()
    spin = subprocess.Popen([sys.executable, "-c",
                             "import time\nend = time.time() + 1.0\nwhile time.time() < end: pass"])
    spin.wait()
    load = meter.stop()
    if load is None:
        pytest.skip("/proc/stat is not readable here")
    # The spinner ran about a second of CPU (less where the machine was shared).
    assert load.others_cpu_s >= 0.3 and load.busy
    assert "busy" in format_load(load.others_cores, load.cores)
    assert "quiet" in format_load(0.1, 2) and format_load(None) == "" == format_load(float("nan"))


def test_one_run_shows_no_spread():
    one = TimingResult(times_s=(0.0123,))
    assert format_timing(one) == "12 ms (1 run)"
    assert format_timing(TimingResult(times_s=(0.01, 0.012))) == "11 ms (IQR 1.0 ms, 2 runs)"
