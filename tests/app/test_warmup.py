"""The warm-up (ui/server/warmup.py) compiles what each page it covers needs at its defaults: after
it, opening those pages compiles no JAX program (a first visitor does not wait for one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ui.server.warmup import STEPS, warmup_enabled

ROOT = Path(__file__).resolve().parents[2]

# A fresh process (nothing compiled yet, no persistent cache): the warm-up, then each page it
# covers through app.py in AppTest, counting the backend compilations JAX reports per page.
AFTER_WARMUP = """
import json, sys
from launch.cpu_devices import split_cpu_into_devices
split_cpu_into_devices()
import jax.monitoring
from streamlit.testing.v1 import AppTest
from ui.server import warmup
from ui.page_index import PAGES

compiled, page = {}, ["warm-up"]
def on_duration(event, duration, **kw):
    if event == "/jax/core/compile/backend_compile_duration":
        compiled.setdefault(page[0], []).append(kw.get("fun_name", ""))
jax.monitoring.register_event_duration_secs_listener(on_duration)
took = warmup.run_all()
pages = [f for f in PAGES if f[:-3] in warmup.STEPS]
for file in pages:
    page[0] = file
    at = AppTest.from_file(sys.argv[1], default_timeout=600)
    at.switch_page(f"app_pages/{file}")
    at.run()
    assert not at.exception, (file, [e.value for e in at.exception])
print(json.dumps({"took": took, "pages": pages, "compiled": compiled}))
"""


@pytest.mark.slow
def test_after_the_warmup_its_pages_open_without_compiling(tmp_path):
    script = tmp_path / "after_warmup.py"
    script.write_text(AFTER_WARMUP)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VMAP_WARMUP": "0",
           "VMAP_JAX_CACHE_DIR": str(tmp_path / "jax-cache")}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    out = subprocess.run([sys.executable, str(script), str(ROOT / "app.py")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(s == s for s in report["took"].values()), report["took"]  # no step failed (NaN)
    assert len(report["pages"]) == len(STEPS)  # every step is named after a page
    assert {p: c for p, c in report["compiled"].items() if p != "warm-up"} == {}


def test_the_setting_turns_it_off():
    assert warmup_enabled({}) and warmup_enabled({"VMAP_WARMUP": "1"})
    assert not any(warmup_enabled({"VMAP_WARMUP": v}) for v in ("0", "false", "no", "off"))
