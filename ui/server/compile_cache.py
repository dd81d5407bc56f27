"""JAX's persistent compilation cache for the app's process: compiled programs kept on disk.

Every page runs jitted programs, and each one compiles on its first call in a process: on
a fresh server that was most of a page's first visit (benchmarks/first_visit.py). With the
cache, a program compiled once on this machine is read back from disk by every later
server instead of compiled again.

Where: `VMAP_JAX_CACHE_DIR` if set, else `$XDG_CACHE_HOME/vmap-explorer/jax` (by default
`~/.cache/vmap-explorer/jax`). Delete the folder to clear it. Bounded: at most
`MAX_BYTES`; JAX then deletes the least recently used entries (`jax_compilation_cache_max_size`,
which needs the `filelock` package). Thresholds: JAX by default writes only programs that
took at least 1 s to compile, and this app's CPU programs compile in 0.01-1 s, so the
minimum compile time is 0 and the size minimum is off (-1): every program is kept.

Set through `jax.config` in the app's process only, never through environment variables:
a process this one spawns (the workbench's worker) starts from JAX's defaults, with no
cache unless it asks for one. JAX reads the settings on its first compilation, so
app.py calls `enable_compilation_cache()` first thing, before any page runs; JAX is
imported only inside that call, after `split_cpu_into_devices` (launch/cpu_devices.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CACHE_DIR_ENV", "MAX_BYTES", "cache_dir", "enable_compilation_cache"]

CACHE_DIR_ENV = "VMAP_JAX_CACHE_DIR"
# The default views of all the pages write about 200 programs, about 2 MB (each page
# opened once in AppTest); other settings add programs (a bucket of N, a dtype, a
# kernel, a method). 256 MiB keeps over a hundred times that.
MAX_BYTES = 256 * 2**20


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The cache folder: VMAP_JAX_CACHE_DIR, else <XDG cache home>/vmap-explorer/jax."""
    chosen = environ.get(CACHE_DIR_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    base = environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base).expanduser() / "vmap-explorer" / "jax"


def enable_compilation_cache(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Point JAX's persistent compilation cache at `cache_dir()`, bounded, for every program.

    Returns the folder, or None when it cannot be created (a read-only home): the app
    then runs as before, compiling in each process."""
    path = cache_dir(environ)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return path
