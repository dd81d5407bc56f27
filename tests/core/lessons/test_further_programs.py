"""vmap, further, topics 5-8: lax.map memory, three spellings, custom batching, devices.

Expected values come from NumPy in float64; the several-device checks run in a
subprocess with the CPU split into 4 devices (XLA reads the flag at start-up).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from core.lessons.further import custom, forms, memory, sharding
from core.bench.report import format_seconds
from core.precision import dtype_scope
from tests.conftest import TOL

ROOT = Path(__file__).resolve().parents[3]


def _gram64(X: np.ndarray, gamma: float) -> np.ndarray:
    X = np.asarray(X, np.float64)
    return np.exp(-gamma * ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))


# --- 5. memory against time ---------------------------------------------------------

def test_lax_map_holds_b_rows_of_distances_and_b_equal_n_is_vmap(rng):
    X = rng.normal(size=(300, 3)).astype(np.float32)
    sizes = memory.batch_sizes(300)
    assert sizes == (1, 4, 16, 64, 256, 300, None)
    rows = memory.memory_sweep(jnp.asarray(X), 4, sizes, budget_s=0.01)
    temp = [r["temp_bytes"] for r in rows]
    for r in rows:
        assert r["temp_bytes"] >= (r["batch_size"] or 300) * 300 * 4, r
    # grows with b once the b × N block dominates (at b = 1, loop bookkeeping is as large)
    assert temp[1:] == sorted(temp[1:])
    assert temp[-1] == temp[-2]  # b = N and vmap: the same memory
    assert temp[0] * 50 < temp[-1]
    d2 = ((X[:, None, :].astype(np.float64) - X[None, :, :]) ** 2).sum(-1)
    expected = np.sort(d2, axis=1)[:, :4].mean(1)
    for b in (1, 16, None):
        got = np.asarray(memory.mapped(jnp.asarray(X), 4, b))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# --- 6. vectorize, nested vmap, broadcasting -------------------------------------------

def test_three_spellings_are_one_computation(rng, dtype):
    X = rng.normal(size=(30, 3)).astype(dtype)
    info = forms.form_jaxprs(5, 3, dtype)
    base = info["broadcasting"]["arithmetic"]
    assert [p for p, _ in base] == ["sub", "integer_pow", "reduce_sum", "mul", "exp"]
    assert all(v["arithmetic"] == base for v in info.values())
    reshaping = {k: sum(c for p, c in v["counts"].items() if p in forms.RESHAPING)
                 for k, v in info.items()}
    assert reshaping["jnp.vectorize"] > reshaping["nested vmap"] == reshaping["broadcasting"]
    flops = {k: forms.compiled_flops(k, 30, 3, dtype) for k in forms.FORMS}
    assert len(set(flops.values())) == 1
    with dtype_scope(dtype):
        results = forms.form_results(jnp.asarray(X), 0.5)
    for name, K in results.items():
        np.testing.assert_allclose(np.asarray(K), _gram64(X, 0.5), atol=10 * TOL[dtype], err_msg=name)


# --- 7. custom batching ------------------------------------------------------------

def test_custom_vmap_rule_runs_under_vmap_and_gives_the_gram_matrix(rng, dtype):
    X = rng.normal(size=(40, 3)).astype(dtype)
    with dtype_scope(dtype):
        K = np.asarray(custom.custom_gram(jnp.asarray(X), 0.5))
    # |x|² + |y|² - 2x·y cancels: absolute error ~ gamma · eps · (|x|² + |y|²) in the exponent
    eps = np.finfo(dtype).eps
    bound = 0.5 * 16 * eps * 2 * (X.astype(np.float64) ** 2).sum(1).max()
    np.testing.assert_allclose(K, _gram64(X, 0.5), atol=bound)
    one, batched = custom.custom_jaxpr(6, 3, "float32")
    assert "integer_pow" in one and "dot_general" not in one
    assert "dot_general" in batched and "integer_pow" not in batched


def test_pure_callback_reaches_the_host_as_each_vmap_method_says(rng):
    X = jnp.asarray(rng.normal(size=(6, 3)).astype(np.float32))
    expected = _gram64(np.asarray(X), 0.5)
    runs = {m: custom.callback_calls(m, X, 0.5) for m in custom.VMAP_METHODS}
    assert runs["sequential"]["calls"] == [((3,), (6, 3), ())] * 6
    assert runs["sequential_unrolled"]["calls"] == [((3,), (6, 3), ())] * 6
    assert runs["expand_dims"]["calls"] == [((6, 3), (1, 6, 3), (1,))]
    assert runs["broadcast_all"]["calls"] == [((6, 3), (6, 6, 3), (6,))]
    assert runs[None]["output"] is None and "vmap_method" in runs[None]["error"]
    for m in ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all"):
        np.testing.assert_allclose(runs[m]["output"], expected, rtol=1e-6, err_msg=str(m))


# --- 8. devices -----------------------------------------------------------------------

def test_one_device_holds_the_whole_matrix(rng):
    X = jnp.asarray(rng.normal(size=(12, 2)).astype(np.float32))
    for how in ("shard_map", "spmd"):
        out = sharding.sharded_gram(X, 0.5, how)
        np.testing.assert_allclose(np.asarray(out["K"]), _gram64(np.asarray(X), 0.5), atol=1e-6)
        if out["devices"] == 1:  # the suite itself runs on one CPU device unless XLA_FLAGS says
            assert [shape for _, shape in out["shards"]] == [(12, 12)]


FOUR_DEVICES = """
import json, jax, jax.numpy as jnp, numpy as np
from core.lessons.further import sharding
X = jnp.asarray(np.random.default_rng(0).normal(size=(12, 2)).astype(np.float32))
out = {}
for how in ("shard_map", "spmd"):
    r = sharding.sharded_gram(X, 0.5, how)
    out[how] = {"devices": r["devices"], "shards": [s for _, s in r["shards"]], "spec": r["spec"],
                "split_in_program": "f32[12@rows" in r["jaxpr"], "K": np.asarray(r["K"]).tolist()}
try:
    sharding.sharded_gram(X[:10], 0.5, "spmd")
except ValueError as err:
    out["uneven"] = str(err)
print(json.dumps(out))
"""


@pytest.mark.slow
def test_four_cpu_devices_each_hold_a_quarter_of_the_rows():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
           "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", FOUR_DEVICES], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    X = np.random.default_rng(0).normal(size=(12, 2)).astype(np.float32)
    for how in ("shard_map", "spmd"):
        r = out[how]
        assert r["devices"] == 4 and r["shards"] == [[3, 12]] * 4 and r["spec"] == "P('rows', None)"
        np.testing.assert_allclose(np.asarray(r["K"]), _gram64(X, 0.5), atol=1e-6)
    assert out["spmd"]["split_in_program"]  # every intermediate keeps the rows split
    assert "N = 10 rows do not split evenly over 4 devices" in out["uneven"]


def test_times_are_shown_to_two_significant_figures():
    # The one formatter of every page (core.bench.report), at the further page's precision.
    assert format_seconds(0.0012345, 2) == "1.2 ms"
    assert format_seconds(0.04567, 2) == "46 ms"
    assert format_seconds(2.0e-6, 2) == "2.0 µs"
    assert format_seconds(float("nan"), 2) == "n/a"
