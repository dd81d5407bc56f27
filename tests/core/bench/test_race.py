"""Tests of `core.bench.race`: a small real race, declines, cancelling, and crossovers."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.bench.race import RaceRow, crossovers, race, scaling_race, standard_normal_data
from core.bench.timing import TimingCancelled, TimingResult
from tests.core.bounds import rbf_error_bound


def _k_bound(X, gamma, dtype):
    """Largest |K - K_ref| any registry method may show on X: its own bound in dtype
    (the expansion's, the worst form; tests/core/bounds.py) plus the float64 reference's."""
    X = np.asarray(X).astype(dtype)
    return rbf_error_bound(X, None, gamma, dtype) + rbf_error_bound(X, None, gamma, np.float64)


SMALL = dict(repeats=2, budget_s=0.2)
METHODS_MIX = ["map_stack", "jit_method1", "python_loop", "sklearn"]


@pytest.fixture(scope="module")
def small_data():
    X, _ = standard_normal_data(40, 2, seed=1)
    return X


@pytest.fixture(scope="module")
def float32_rows(small_data):
    return race(small_data, gamma=0.5, methods=METHODS_MIX, dtype="float32", **SMALL)


def test_small_race_runs_every_method_accurately(float32_rows, small_data):
    assert [r.method for r in float32_rows] == METHODS_MIX
    for row in float32_rows:
        assert row.status == "ok" and row.reason == ""
        assert (row.n, row.m, row.d, row.dtype) == (40, 40, 2, "float32")
        assert 1 <= row.timing.repeats <= 2
        assert 0 <= row.max_abs_error <= _k_bound(small_data, 0.5, "float32")


def test_compile_time_is_reported_only_for_compiled_methods(float32_rows):
    by_name = {r.method: r for r in float32_rows}
    assert by_name["jit_method1"].compiled
    assert by_name["jit_method1"].timing.compile_s > 0
    for name in ("map_stack", "python_loop", "sklearn"):
        assert not by_name[name].compiled
        assert by_name[name].timing.compile_s is None
        assert by_name[name].timing.first_call_s > 0  # the warm-up call


def test_speedups_are_relative_to_map_stack(float32_rows):
    by_name = {r.method: r for r in float32_rows}
    base = np.asarray(by_name["map_stack"].timing.times_s)
    assert by_name["map_stack"].speedup_vs_baseline == 1.0
    for name in ("jit_method1", "python_loop", "sklearn"):
        row = by_name[name]  # timed in the same rounds: the median of the per-round ratios
        assert row.speedup_vs_baseline == pytest.approx(np.median(base / np.asarray(row.timing.times_s)))


def test_no_speedups_without_the_baseline(small_data):
    rows = race(small_data, gamma=0.5, methods=["jit_method1"], **SMALL)
    assert rows[0].speedup_vs_baseline is None


def test_float64_race_is_accurate_to_float64(small_data):
    rows = race(small_data, gamma=0.5, methods=["jit_method1", "sklearn", "numpy_expansion"],
                dtype="float64", **SMALL)
    for row in rows:
        assert row.status == "ok" and row.dtype == "float64"
        assert row.max_abs_error <= _k_bound(small_data, 0.5, "float64")


def test_too_large_for_the_python_loop_declines_without_running():
    X, Y = standard_normal_data(200, 2, m=200, seed=0)
    steps = []
    rows = race(X, Y, methods=["python_loop"], on_step=lambda *a: steps.append(a), **SMALL)
    (row,) = rows
    assert row.status == "declined"
    assert "200×200" in row.reason and "10,000 pairs" in row.reason
    # Never called: no timing, no accuracy, and it took no time to decline.
    assert row.timing is None and row.max_abs_error is None
    assert steps == [(1, 1, "python_loop", "start"), (1, 1, "python_loop", "done")]


def test_auto_is_labelled_with_its_pick(small_data):
    (row,) = race(small_data, gamma=0.5, methods=["auto"], **SMALL)
    assert row.status == "ok" and row.picked == "jit_centered"
    # The pick is named by its label, as everywhere on screen, never by its internal id.
    from core.dense.methods import METHODS

    assert row.label == f"auto → {METHODS['jit_centered'].label}"
    assert "jit_centered" not in row.label and row.compiled and row.timing.compile_s > 0
    # Compiled as the registry says its pick is, at this size: the page's code list
    # asks the same question (`resolve`), so the two always agree.
    assert row.compiled == METHODS["auto"].resolve(40, 40, 2, "float32").compiled


def test_on_step_reports_start_and_done_for_each_method(small_data):
    steps = []
    race(small_data, gamma=0.5, methods=["sklearn", "scipy_cdist"],
         on_step=lambda *a: steps.append(a), **SMALL)
    assert steps[:4] == [(1, 2, "sklearn", "start"), (1, 2, "sklearn", "done"),
                         (2, 2, "scipy_cdist", "start"), (2, 2, "scipy_cdist", "done")]
    # Then one step per round of timing, both methods in each round.
    rounds = steps[4:]
    assert rounds == [(r, SMALL["repeats"], "", "round") for r in range(1, len(rounds) + 1)]
    assert 1 <= len(rounds) <= SMALL["repeats"]


def test_the_methods_are_timed_together_round_by_round(small_data):
    rows = race(small_data, gamma=0.5, methods=["map_stack", "vmap_nojit", "jit_centered"], **SMALL)
    timings = [r.timing for r in rows]
    assert all(r.status == "ok" for r in rows)
    assert len({(t.run_id, t.repeats) for t in timings}) == 1  # paired samples
    base, fast = timings[0], timings[2]
    ratio = np.median(np.asarray(base.times_s) / np.asarray(fast.times_s))
    assert rows[2].speedup_vs_baseline == pytest.approx(ratio)
    assert timings[2].compile_s > 0 and timings[0].compile_s is None


def test_should_stop_after_the_first_step_cancels_the_race(small_data):
    steps = []
    with pytest.raises(TimingCancelled):
        race(small_data, gamma=0.5, methods=["sklearn", "scipy_cdist", "jit_method1"],
             on_step=lambda *a: steps.append(a),
             should_stop=lambda: any(s[3] == "done" for s in steps), **SMALL)
    assert steps == [(1, 3, "sklearn", "start"), (1, 3, "sklearn", "done")]


def test_unknown_method_names_are_rejected(small_data):
    with pytest.raises(ValueError, match="jit_method1"):
        race(small_data, methods=["no_such_method"])


def test_as_dict_is_flat_with_timing_columns_even_when_declined(float32_rows):
    ok = float32_rows[0].as_dict()
    declined = RaceRow("python_loop", "Python double loop", False, "declined", "too big").as_dict()
    assert list(ok) == list(declined)
    assert ok["median_s"] > 0 and declined["median_s"] is None
    assert not any(isinstance(v, (dict, TimingResult)) for v in ok.values())


def test_scaling_race_gives_rows_per_size_and_counts_steps_across_sizes():
    steps = []
    rows = scaling_race([20, 30], d=2, methods=["sklearn", "jit_method1"], repeats=1,
                        budget_s=0.1, on_step=lambda *a: steps.append(a))
    assert [(r.n, r.method) for r in rows] == [(20, "sklearn"), (20, "jit_method1"),
                                               (30, "sklearn"), (30, "jit_method1")]
    assert [s[:2] for s in steps if s[3] == "done"] == [(1, 4), (2, 4), (3, 4), (4, 4)]


def _row(method: str, n: int, median_s: float) -> RaceRow:
    return RaceRow(method, method, False, "ok", timing=TimingResult(times_s=(median_s,)), n=n)


def test_crossover_is_interpolated_in_log_log_space():
    # slow_start: t = 1e-3 flat; fast_start: 1e-5 at N=100 growing as N² (1e-3 at N=1000,
    # 1e-1 at N=10000). They cross where 1e-5 (N/100)² = 1e-3, i.e. N = 1000; with the
    # sizes 100 and 10000 only, the log-log line between them crosses exactly there.
    rows = [_row("slow_start", 100, 1e-3), _row("fast_start", 100, 1e-5),
            _row("slow_start", 10_000, 1e-3), _row("fast_start", 10_000, 1e-1)]
    ((n, faster, slower),) = crossovers(rows)
    assert n == pytest.approx(1000.0, rel=1e-12)
    assert (faster, slower) == ("slow_start", "fast_start")


def test_crossover_between_uneven_sizes_uses_log_interpolation():
    # log t_a - log t_b goes from log 2 at N=10 to -log 8 at N=1000: zero a quarter of
    # the way in log N (log 2 / (log 2 + log 8) = 1/4), so N = 10 * 100**0.25.
    rows = [_row("a", 10, 2e-3), _row("b", 10, 1e-3), _row("a", 1000, 1e-3), _row("b", 1000, 8e-3)]
    ((n, faster, slower),) = crossovers(rows)
    assert n == pytest.approx(10 * 100**0.25, rel=1e-12)
    assert (faster, slower) == ("a", "b")


def test_no_crossover_when_order_never_changes_and_declined_rows_are_ignored():
    rows = [_row("a", 10, 1e-3), _row("b", 10, 2e-3), _row("a", 100, 1e-2), _row("b", 100, 5e-2),
            RaceRow("b", "b", False, "declined", "too big", n=1000),
            _row("a", 1000, 1.0)]
    assert crossovers(rows) == []


def test_several_crossovers_are_sorted_by_n():
    rows = [_row("a", 10, 1.0), _row("b", 10, 2.0), _row("a", 100, 3.0), _row("b", 100, 2.0),
            _row("a", 1000, 1.0), _row("b", 1000, 2.0)]
    found = crossovers(rows)
    assert [f[1:] for f in found] == [("b", "a"), ("a", "b")]
    assert 10 < found[0][0] < 100 < found[1][0] < 1000
    assert all(math.isfinite(f[0]) for f in found)


def _repeats(method: str, n: int, times: tuple[float, ...]) -> RaceRow:
    return RaceRow(method, method, False, "ok", timing=TimingResult(times_s=times), n=n)


def test_a_crossover_within_the_noise_is_not_reported():
    # The medians swap order between N = 100 and 1000, but at 1000 the repeats of
    # a and b overlap (a: 1.0–1.4 ms, b: 1.1–1.5 ms): no repeat-proof change of order.
    rows = [_repeats("a", 100, (1.0e-3, 1.1e-3, 1.2e-3)), _repeats("b", 100, (2.0e-3, 2.1e-3, 2.2e-3)),
            _repeats("a", 1000, (1.0e-3, 1.35e-3, 1.4e-3)), _repeats("b", 1000, (1.1e-3, 1.2e-3, 1.5e-3))]
    assert rows[2].timing.median_s > rows[3].timing.median_s  # the medians did cross
    assert crossovers(rows) == []


def test_a_crossover_that_holds_across_repeats_is_reported_between_clear_sizes():
    # a is clearly faster at 100, unclear at 1000 (overlap), clearly slower at 10000:
    # the crossing is interpolated between 100 and 10000, the two clear sizes.
    rows = [_repeats("a", 100, (0.9e-3, 1e-3, 1.1e-3)), _repeats("b", 100, (9e-3, 1e-2, 1.1e-2)),
            _repeats("a", 1000, (1e-3, 2e-3, 3e-3)), _repeats("b", 1000, (2.5e-3, 2.6e-3, 2.7e-3)),
            _repeats("a", 10_000, (0.9e-1, 1e-1, 1.1e-1)), _repeats("b", 10_000, (0.9e-2, 1e-2, 1.1e-2))]
    ((n, faster, slower),) = crossovers(rows)
    assert (faster, slower) == ("b", "a")
    # log(t_a/t_b) goes from log 0.1 at N=100 to log 10 at N=10000: zero halfway, N = 1000.
    assert n == pytest.approx(1000.0, rel=1e-12)


def test_auto_runs_in_the_race_when_its_pick_is_compiled():
    # The race compiles a compiled pick ahead of time at the exact N: it times the
    # pick's own function (auto's runner pads N on the host and cannot be traced).
    X = standard_normal_data(200, 2)[0]
    rows = {r.method: r for r in race(X, gamma=0.5, methods=["auto"], repeats=2)}
    auto = rows["auto"]
    assert auto.compiled and auto.picked, auto
    assert auto.status == "ok", auto.reason
    assert auto.timing is not None and auto.max_abs_error is not None


# Run in a new process with JAX's persistent compilation cache on (every program
# written, however small or quick), as the app may run: argv[1] "prime" compiles
# jit · Method I's program the ordinary way; "race" races it, then compiles it the
# ordinary way again. Prints one JSON line.
CACHE_SCRIPT = """
import json, os, sys
import numpy as np
from core.bench.race import race, standard_normal_data
from core.bench.timing import time_jitted
from core.dense import METHODS
from core.precision import dtype_scope

X, _ = standard_normal_data(50, 3, seed=2)
method = METHODS["jit_method1"]
args = method.prepare(X, None, 0.5, "float32")
def files():
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(sys.argv[2]) for f in fs)
out = {}
if sys.argv[1] == "race":
    before = files()
    row, = race(X, None, 0.5, ["jit_method1"], "float32", repeats=1, budget_s=0.1)
    out["race"] = row.timing.compile_cache
    out["written_by_race"] = len(files()) - len(before)
with dtype_scope("float32"):
    timing, _ = time_jitted(method.fn, *args, repeats=1)
out["ordinary"] = timing.compile_cache
out["files"] = len(files())
print(json.dumps(out))
"""


def test_the_race_compiles_for_real_with_a_persistent_cache_on(tmp_path):
    cache = tmp_path / "jax_cache"
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(cache),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
           "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[3])}

    def run(step: str) -> dict:
        done = subprocess.run([sys.executable, "-c", CACHE_SCRIPT, step, str(cache)], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    primed = run("prime")
    assert primed["ordinary"] == "" and primed["files"] > 0  # compiled, and written to disk
    raced = run("race")
    # The cache was live (an ordinary compile of the same program read it from disk),
    # yet the race compiled its program for real and wrote nothing there.
    assert raced["ordinary"] == "persistent"
    assert raced["race"] == "" and raced["written_by_race"] == 0
