"""Tests of `python -m core.bench`, run as a user runs it: in a subprocess."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from core.dense.methods import METHODS

REPO = Path(__file__).resolve().parents[3]
RACED = ["jit_method1", "sklearn", "map_stack"]


def run_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.bench.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = run_bench("--n", "60", "--d", "2", "--methods", ",".join(RACED), "--repeats", "2",
                     "--csv", str(out / "tmp.csv"), "--json", str(out / "tmp.json"))
    return proc, out


def test_bench_prints_a_table_row_per_method(bench_run):
    proc, _ = bench_run
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("method"))
    assert "median" in header and "max abs error" in header and "speedup" in header
    for name in RACED:
        (row,) = [line for line in lines if line.split()[:1] == [name]]
        assert row.rstrip().endswith("ok")


def test_bench_reports_progress_per_step_on_stderr(bench_run):
    proc, _ = bench_run
    progress = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert [line.split()[:2] for line in progress] == [
        ["[1/3]", "jit_method1"], ["[2/3]", "sklearn"], ["[3/3]", "map_stack"]]
    assert "compile" in progress[0] and "run" in progress[0]
    assert "first call" in progress[1]


def test_bench_csv_has_a_row_per_method_and_the_environment(bench_run):
    _, out = bench_run
    with open(out / "tmp.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == RACED
    assert all(r["status"] == "ok" and float(r["median_s"]) > 0 for r in rows)
    assert all(r["env_jax"] == version("jax") and r["dtype"] == "float32" for r in rows)
    compiled = {r["method"]: r["compile_s"] for r in rows}
    assert float(compiled["jit_method1"]) > 0 and compiled["sklearn"] == ""


def test_bench_json_has_environment_config_and_rows(bench_run):
    _, out = bench_run
    data = json.loads((out / "tmp.json").read_text(encoding="utf-8"))
    assert data["environment"]["jax"] == version("jax")
    assert data["environment"]["dtype"] == "float32"
    assert data["config"]["n"] == 60 and data["config"]["methods"] == RACED
    assert [r["method"] for r in data["rows"]] == RACED
    assert all(len(r["times_s"]) == r["repeats"] for r in data["rows"])
    base = next(r for r in data["rows"] if r["method"] == "map_stack")
    assert base["speedup_vs_baseline"] == 1.0


def test_unknown_method_exits_2_listing_valid_names():
    proc = run_bench("--n", "10", "--methods", "jit_method1,warp_drive")
    assert proc.returncode == 2
    assert "warp_drive" in proc.stderr
    assert all(name in proc.stderr for name in METHODS)
    assert proc.stdout == ""
