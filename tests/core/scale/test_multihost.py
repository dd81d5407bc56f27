"""The block engine across two processes joined by `jax.distributed`, for real.

Two Python processes on 127.0.0.1, each with two forced CPU devices, connect through
`jax.distributed.initialize` (CPU collectives through gloo): one mesh of four devices
over two "hosts". Each runs the engine on the same seeded points; every process must
end with the whole result (inputs built with `jax.make_array_from_callback`, outputs
gathered with `process_allgather`), equal bit for bit to a single-process run with
the same number of rows per device; with top-k (every tile) and without (K(X, X)'s
symmetric path, prefixed "sym_").
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.scale import BlockReductions, run_blocks

ROOT = Path(__file__).resolve().parents[3]
FIELDS = ("pooled", "row_sums", "matvec", "diagonal", "top_k_values", "top_k_indices")
SYM_FIELDS = ("pooled", "row_sums", "matvec", "diagonal")
N, ROWS_PER_DEVICE, GAMMA = 1999, 64, 0.3  # 1999 rows: 7 full steps of 4 × 64 and a padded one

WORKER = textwrap.dedent("""
    import sys
    import jax
    import numpy as np

    port, pid, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"127.0.0.1:{{port}}", num_processes=2, process_id=pid,
                               initialization_timeout=120)
    from core.scale import BlockReductions, run_blocks

    rng = np.random.default_rng(0)
    X = (rng.normal(size=({n}, 3)) + 100).astype(np.float32)
    red = BlockReductions(matvec=np.linspace(-1, 1, {n}), diagonal=True, top_k=4)
    r = run_blocks(X, {gamma}, reductions=red, rows_per_device={rpd})
    sym = run_blocks(X, {gamma}, reductions=BlockReductions(matvec=np.linspace(-1, 1, {n}),
                     diagonal=True), rows_per_device={rpd})
    assert sym.symmetric and not r.symmetric
    np.savez(out, process_count=jax.process_count(), devices=jax.device_count(),
             local_devices=jax.local_device_count(), plan_devices=r.plan.n_devices,
             **{{f: getattr(r, f) for f in {fields}}},
             **{{"sym_" + f: getattr(sym, f) for f in {sym_fields}}})
    jax.distributed.shutdown()
""").format(n=N, rpd=ROWS_PER_DEVICE, gamma=GAMMA, fields=FIELDS, sym_fields=SYM_FIELDS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> list[dict[str, np.ndarray]]:
    """The results each of the two processes saved."""
    tmp = tmp_path_factory.mktemp("multihost")
    env = {**os.environ, "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") +
                                       " --xla_force_host_platform_device_count=2").strip(),
           "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(port), str(pid),
                               str(tmp / f"p{pid}.npz")], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for pid in (0, 1)]
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=300)[0])
    finally:
        for p in procs:  # one that hangs (a peer died) must not outlive the test
            if p.poll() is None:
                p.kill()
                p.wait()
    for pid, (p, log) in enumerate(zip(procs, logs)):
        assert p.returncode == 0, f"process {pid} failed:\n{log[-3000:]}"
    out = []
    for pid in (0, 1):
        with np.load(tmp / f"p{pid}.npz") as z:
            out.append(dict(z))
    return out


def test_two_processes_form_one_mesh_of_four_devices(two_processes):
    for r in two_processes:
        assert int(r["process_count"]) == 2
        assert int(r["local_devices"]) == 2 and int(r["devices"]) == 4
        assert int(r["plan_devices"]) == 4  # the engine's mesh spans both processes


@pytest.mark.parametrize("field", FIELDS)
def test_every_process_gets_the_single_process_result(two_processes, field):
    # The same per-device program on the same rows: equal bit for bit, in both processes.
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(N, 3)) + 100).astype(np.float32)
    red = BlockReductions(matvec=np.linspace(-1, 1, N), diagonal=True, top_k=4)
    here = run_blocks(X, GAMMA, reductions=red, rows_per_device=ROWS_PER_DEVICE)
    for pid, r in enumerate(two_processes):
        np.testing.assert_array_equal(r[field], getattr(here, field), err_msg=f"process {pid}")


@pytest.mark.parametrize("field", SYM_FIELDS)
def test_every_process_gets_the_single_process_symmetric_result(two_processes, field):
    # K(X, X) without top-k: tiles on and above each block's diagonal, the column
    # reductions gathered and added in device order: still equal bit for bit.
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(N, 3)) + 100).astype(np.float32)
    red = BlockReductions(matvec=np.linspace(-1, 1, N), diagonal=True)
    here = run_blocks(X, GAMMA, reductions=red, rows_per_device=ROWS_PER_DEVICE)
    assert here.symmetric
    for pid, r in enumerate(two_processes):
        np.testing.assert_array_equal(r["sym_" + field], getattr(here, field),
                                      err_msg=f"process {pid}")
