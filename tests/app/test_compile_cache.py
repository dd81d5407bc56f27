"""The app keeps its compiled programs on disk (ui/server/compile_cache.py): a second server reads
them back instead of compiling again, the folder is bounded, and a process the app spawns
(the workbench's worker) does not inherit the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ui.server.compile_cache import CACHE_DIR_ENV, MAX_BYTES, cache_dir

ROOT = Path(__file__).resolve().parents[2]

# A fresh Python that sets the app's cache up as app.py does, compiles one small jitted
# program (the kind the pages run: 0.01-0.1 s to compile on a CPU) and reports what the
# persistent cache did, from JAX's own monitoring events.
APP_PROCESS = """
import json, multiprocessing


def child_cache_dir(queue):
    import jax
    queue.put(jax.config.jax_compilation_cache_dir)


def main():
    from launch.cpu_devices import split_cpu_into_devices
    split_cpu_into_devices()
    from ui.server.compile_cache import enable_compilation_cache
    folder = enable_compilation_cache()
    import jax, jax.numpy as jnp, jax.monitoring
    counts = {"hits": 0, "misses": 0}

    def on_event(event, **kw):
        if event == "/jax/compilation_cache/cache_hits":
            counts["hits"] += 1
        elif event == "/jax/compilation_cache/cache_misses":
            counts["misses"] += 1

    jax.monitoring.register_event_listener(on_event)

    @jax.jit
    def rbf_row(x, X):
        return jnp.exp(-0.5 * jnp.sum((X - x) ** 2, axis=1))

    rbf_row(jnp.ones(3), jnp.ones((40, 3))).block_until_ready()
    # A worker started as the workbench starts its own (spawn: a fresh interpreter).
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=child_cache_dir, args=(queue,))
    child.start()
    spawned = queue.get(timeout=120)
    child.join(timeout=120)
    print(json.dumps({**counts, "folder": str(folder), "spawned_cache_dir": spawned,
                      "max_size": jax.config.jax_compilation_cache_max_size}))


if __name__ == "__main__":
    main()
"""


def _app_process(folder: Path) -> dict:
    script = folder.parent / "app_process.py"
    script.write_text(APP_PROCESS)
    env = {**os.environ, CACHE_DIR_ENV: str(folder), "PYTHONPATH": str(ROOT)}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    out = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_second_process_reads_the_program_back_instead_of_compiling_it(tmp_path):
    folder = tmp_path / "jax-cache"
    first = _app_process(folder)
    assert first["folder"] == str(folder)
    assert first["misses"] >= 1 and first["hits"] == 0, first
    written = [p for p in folder.rglob("*") if p.is_file() and p.name != ".lockfile"]
    assert written, "no cache entry was written: the minimum compile time or size keeps CPU programs out"
    second = _app_process(folder)
    # Every program the first process compiled is read back: none compiled again.
    assert second["hits"] >= first["misses"] and second["misses"] == 0, (first, second)


def test_the_cache_is_bounded_and_a_spawned_worker_does_not_inherit_it(tmp_path):
    report = _app_process(tmp_path / "jax-cache")
    assert report["max_size"] == MAX_BYTES > 0  # JAX evicts the least recently used beyond it
    assert report["spawned_cache_dir"] is None  # set by jax.config, not by the environment


def test_the_folder_is_the_variable_or_the_users_cache_folder(tmp_path):
    assert cache_dir({CACHE_DIR_ENV: str(tmp_path)}) == tmp_path
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "vmap-explorer" / "jax"
    assert cache_dir({}) == Path.home() / ".cache" / "vmap-explorer" / "jax"
