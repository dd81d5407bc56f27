"""One CPU device per core for the app's process, asked for before JAX starts.

JAX sees one CPU device by default. The Scale page's block engine splits its rows
over every device JAX sees (core.scale.step), and with one device per core each
device runs its own rows' program, where the one-device program leaves a core idle
part of the time (figures: docs/BENCHMARKS.md, "One CPU device per core in the
app"). Programs that run on one device (every
dense page) are not slowed: they run on the first device with the same threads.

XLA reads `--xla_force_host_platform_device_count` once, when JAX's CPU backend
starts, so app.py asks before anything imports JAX. Nothing here imports JAX.
A user's own XLA_FLAGS setting of the count wins; GPU and TPU devices are not
affected (the flag only splits the host platform).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping

__all__ = ["COUNT_FLAG", "MAX_CPU_DEVICES", "cores_available", "split_cpu_into_devices"]

COUNT_FLAG = "--xla_force_host_platform_device_count"
# Only 2 cores were measured; a cap keeps a many-core server from cutting the Scale
# page's steps (and the devices tab's rows) into dozens of small shards.
MAX_CPU_DEVICES = 8


def cores_available() -> int:
    """The cores this process may run on (its affinity mask where the OS has one).

    The same count as `core.dense.fast.worker_count`, which cannot be imported
    here: importing anything from `core` starts JAX, before the flag is set.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def split_cpu_into_devices(environ: MutableMapping[str, str] = os.environ,
                           modules: Mapping[str, object] = sys.modules,
                           cores: int | None = None) -> int | None:
    """Add `COUNT_FLAG=<cores, at most MAX_CPU_DEVICES>` to XLA_FLAGS in `environ`.

    Returns the count asked for, or None when nothing was changed: XLA_FLAGS
    already sets the count (the user's choice wins), JAX is already imported (too
    late to be sure the flag is read: the process keeps what it has, e.g. under
    pytest), or there is one core.
    """
    flags = environ.get("XLA_FLAGS", "")
    if COUNT_FLAG in flags or "jax" in modules:
        return None
    count = min(cores_available() if cores is None else cores, MAX_CPU_DEVICES)
    if count < 2:
        return None
    environ["XLA_FLAGS"] = f"{flags} {COUNT_FLAG}={count}".strip()
    return count
