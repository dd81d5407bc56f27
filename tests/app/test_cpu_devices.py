"""app.py splits the CPU into one JAX device per core before JAX starts
(launch/cpu_devices.py), unless the user's XLA_FLAGS says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from launch.cpu_devices import COUNT_FLAG, MAX_CPU_DEVICES, split_cpu_into_devices

ROOT = Path(__file__).resolve().parents[2]


def test_the_flag_asks_for_one_device_per_core_and_keeps_other_flags():
    env = {"XLA_FLAGS": "--xla_cpu_enable_fast_math=false"}
    assert split_cpu_into_devices(env, modules={}, cores=2) == 2
    assert env["XLA_FLAGS"] == f"--xla_cpu_enable_fast_math=false {COUNT_FLAG}=2"
    env = {}
    assert split_cpu_into_devices(env, modules={}, cores=64) == MAX_CPU_DEVICES
    assert env["XLA_FLAGS"] == f"{COUNT_FLAG}={MAX_CPU_DEVICES}"


@pytest.mark.parametrize("env, modules, cores", [
    ({"XLA_FLAGS": f"{COUNT_FLAG}=4"}, {}, 2),   # the user's own count wins
    ({}, {"jax": object()}, 2),                 # JAX already started: too late to be sure
    ({}, {}, 1),                                # one core: nothing to split
])
def test_nothing_changes_when_the_user_chose_jax_started_or_one_core(env, modules, cores):
    before = dict(env)
    assert split_cpu_into_devices(env, modules=modules, cores=cores) is None
    assert env == before


def _devices_in_fresh_python(xla_flags: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if xla_flags is not None:
        env["XLA_FLAGS"] = xla_flags
    code = ("from launch.cpu_devices import split_cpu_into_devices; split_cpu_into_devices(); "
            "import jax; print(jax.device_count(), jax.devices()[0].platform)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    return out.stdout.split()


def test_jax_then_sees_one_cpu_device_per_core_or_the_users_count():
    cores = len(os.sched_getaffinity(0))
    count, platform = _devices_in_fresh_python(None)
    if platform == "cpu":
        assert int(count) == min(cores, MAX_CPU_DEVICES)
    assert _devices_in_fresh_python(f"{COUNT_FLAG}=3")[0] == ("3" if platform == "cpu" else count)
