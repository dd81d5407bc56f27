"""docs/LESSONS.md names, for every lesson the app teaches, the test that computes it:
each test it names must exist, so the list cannot point at tests that were renamed away."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_named_in_lessons_md_exists():
    text = (ROOT / "docs" / "LESSONS.md").read_text(encoding="utf-8")
    named = re.findall(r"(tests/[\w/]+\.py)::(\w+)", text)
    assert len(named) > 50
    missing = [f"{path}::{name}" for path, name in named
               if not (ROOT / path).exists()
               or not re.search(rf"^\s*def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M)]
    assert not missing, missing


def test_every_lesson_line_has_a_statement_a_page_and_a_test():
    text = (ROOT / "docs" / "LESSONS.md").read_text(encoding="utf-8")
    section = text[text.index("## Overview"):text.index("## README tour")]
    for line in (ln for ln in section.splitlines() if ln.startswith("- ")):
        parts = line[2:].split(" — ")
        assert len(parts) >= 3 and parts[-1].strip(), line
        assert "tests/" in parts[-1] or "benchmarks/" in parts[-1], line
