"""The hostile corpus is the workbench language's specification: every file in
tests/data/hostile_kernels is a source the workbench must refuse, with a clear message.

Each file starts with two header lines:

    # expect: <a substring of the refusal message, case-insensitive>
    # stage: check | trace

and the rest of the file is the user's source. `check` sources are refused by
`check_source`, before JAX sees anything; `trace` sources pass the static checks and
are refused when the kernel is traced under `jax.jit` on (D,) vectors. Either way the
refusal is a UserCodeError, quick, without a traceback, and nothing is written to disk.
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from core.errors import UserCodeError
from core.workbench import check_source, user_kernel

CORPUS = Path(__file__).resolve().parents[2] / "data" / "hostile_kernels"
FILES = sorted(CORPUS.glob("[0-9][0-9][0-9]_*.py"))
D = 3
# Hangs show up as seconds to minutes; a refusal takes milliseconds. Not a benchmark.
GENEROUS_SECONDS = 10.0


def read_case(path: Path) -> tuple[str, str, str]:
    """(expect, stage, source) of one corpus file; bytes kept as written (\\r, \\t, \\x00)."""
    expect_line, stage_line, source = (path.read_bytes().decode("utf-8").split("\n", 2) + [""])[:3]
    assert expect_line.startswith("# expect: "), path.name
    assert stage_line.startswith("# stage: "), path.name
    stage = stage_line.removeprefix("# stage: ").strip()
    assert stage in ("check", "trace"), path.name
    return expect_line.removeprefix("# expect: ").strip(), stage, source


def refuse(source: str) -> UserCodeError:
    """Run a source the way the runner does: build it, then trace it on (D,) vectors."""
    try:
        k = user_kernel(source)
        params = {"gamma": 0.5, **{p: 1.0 for p in check_source(source).param_names}}
        x, y = jnp.linspace(-1.0, 1.0, D), jnp.linspace(0.5, 2.0, D)
        jax.jit(k)(params, x, y)
    except UserCodeError as e:
        return e
    pytest.fail("the source was not refused")


def test_the_corpus_cannot_silently_shrink():
    assert len(FILES) >= 50
    stages = [read_case(path)[1] for path in FILES]
    assert stages.count("check") >= 40 and stages.count("trace") >= 5


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_hostile_source_is_refused_clearly_quickly_and_harmlessly(path, tmp_path, monkeypatch):
    expect, _, source = read_case(path)
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    error = refuse(source)
    elapsed = time.monotonic() - start
    message = str(error)
    assert expect.lower() in message.lower(), message
    assert "Traceback" not in message
    assert elapsed < GENEROUS_SECONDS, f"{elapsed:.1f} s: a hang, not a refusal"
    assert list(tmp_path.iterdir()) == []  # no file written, none opened for writing


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_stage_says_where_the_refusal_happens(path):
    expect, stage, source = read_case(path)
    if stage == "check":
        # Refused on the tree alone: the interpreter and JAX never see it.
        with pytest.raises(UserCodeError) as e:
            check_source(source)
        assert expect.lower() in str(e.value).lower(), str(e.value)
    else:
        check_source(source)  # passes the static checks: the bound is a run-time one
        user_kernel(source)
