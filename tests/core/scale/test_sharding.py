"""Tests of the block engine's sharding: rows over several devices, the same numbers as one.

JAX fixes its device count when it starts, so the multi-device run happens in a
fresh interpreter with `XLA_FLAGS=--xla_force_host_platform_device_count=4` (four
CPU "devices" on this machine, the same code path as four GPUs). That process runs
the engine on all four devices and on one, and saves both; this one compares them
bit for bit, and with its own single-device run. Two reductions: with top-k (every
tile of K) and without (K(X, X)'s symmetric path: tiles on and above each block's
diagonal, column reductions added by the host in device order), prefixed "sym_".
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest

from core.scale import BlockReductions, BlockRun, row_mesh, run_blocks

ROOT = Path(__file__).resolve().parents[3]
FIELDS = ("pooled", "row_sums", "matvec", "diagonal", "top_k_values", "top_k_indices")
SYM_FIELDS = ("pooled", "row_sums", "matvec", "diagonal")
ALL_FIELDS = FIELDS + tuple("sym_" + f for f in SYM_FIELDS)
N, ROWS_PER_DEVICE = 1999, 64  # 1999 = 7 full steps of 4 × 64 rows and a padded one

SCRIPT = textwrap.dedent("""
    import sys
    import jax
    import numpy as np
    from core.scale import BlockReductions, BlockRun, run_blocks

    assert jax.device_count() == 4, jax.devices()
    rng = np.random.default_rng(0)
    X = (rng.normal(size=({n}, 3)) + 100).astype(np.float32)
    red = BlockReductions(matvec=np.linspace(-1, 1, {n}), diagonal=True, top_k=4)
    four = run_blocks(X, 0.3, reductions=red, rows_per_device={rpd})
    one = run_blocks(X, 0.3, reductions=red, rows_per_device={rpd}, devices=jax.devices()[:1])
    sym = BlockReductions(matvec=np.linspace(-1, 1, {n}), diagonal=True)
    sym_four = run_blocks(X, 0.3, reductions=sym, rows_per_device={rpd})
    sym_one = run_blocks(X, 0.3, reductions=sym, rows_per_device={rpd}, devices=jax.devices()[:1])
    assert sym_four.symmetric and sym_one.symmetric and not four.symmetric
    run = BlockRun(X, 0.3, rows_per_device={rpd})
    out = run._dispatch(0)["row_sums"]  # the symmetric path: (n_tiles, rows) partial row sums
    np.savez(sys.argv[1], n_devices=four.plan.n_devices, one_devices=one.plan.n_devices,
             out_devices=len(out.sharding.device_set),
             **{{"four_" + f: getattr(four, f) for f in {fields}}},
             **{{"one_" + f: getattr(one, f) for f in {fields}}},
             **{{"four_sym_" + f: getattr(sym_four, f) for f in {sym_fields}}},
             **{{"one_sym_" + f: getattr(sym_one, f) for f in {sym_fields}}})
""").format(n=N, rpd=ROWS_PER_DEVICE, fields=FIELDS, sym_fields=SYM_FIELDS)


@pytest.fixture(scope="module")
def four_devices(tmp_path_factory) -> dict[str, np.ndarray]:
    """Results of a run in a process that has four CPU devices."""
    out = tmp_path_factory.mktemp("sharding") / "runs.npz"
    env = {**os.environ, "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") +
                                       " --xla_force_host_platform_device_count=4").strip(),
           "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out) as z:
        return dict(z)


def test_rows_are_sharded_over_all_four_devices(four_devices):
    assert int(four_devices["n_devices"]) == 4
    assert int(four_devices["out_devices"]) == 4  # each device holds its own rows of a step
    assert int(four_devices["one_devices"]) == 1


@pytest.mark.parametrize("field", ALL_FIELDS)
def test_four_devices_give_exactly_the_single_device_result(four_devices, field):
    # Every device runs the same per-device program on rows_per_device rows; a row's
    # numbers do not depend on which device computed it: equal bit for bit.
    np.testing.assert_array_equal(four_devices["four_" + field], four_devices["one_" + field])


def test_same_result_as_a_single_device_process(four_devices):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(N, 3)) + 100).astype(np.float32)
    red = BlockReductions(matvec=np.linspace(-1, 1, N), diagonal=True, top_k=4)
    here = run_blocks(X, 0.3, reductions=red, rows_per_device=ROWS_PER_DEVICE)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(here, field), four_devices["four_" + field],
                                      err_msg=field)
    sym = BlockReductions(matvec=np.linspace(-1, 1, N), diagonal=True)
    here = run_blocks(X, 0.3, reductions=sym, rows_per_device=ROWS_PER_DEVICE)
    for field in SYM_FIELDS:
        np.testing.assert_array_equal(getattr(here, field), four_devices["four_sym_" + field],
                                      err_msg="symmetric " + field)


def test_one_device_uses_the_same_sharded_path():
    # With one device the engine still builds the "rows" mesh and shard_map: no
    # separate single-device code to drift from the multi-device one.
    run = BlockRun(np.ones((10, 2)), 1.0)
    assert run.mesh.axis_names == ("rows",) and run.mesh.devices.size == len(jax.devices())
    assert row_mesh().devices.size == jax.device_count()
