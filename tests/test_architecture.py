"""Promises of the architecture that a refactor could silently break."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_streamlit():
    offenders = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "core").rglob("*.py"))
                 if "streamlit" in _imports(p)]
    assert offenders == [], f"core/ must stay plain JAX/NumPy; these import streamlit: {offenders}"


def test_the_check_above_sees_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from streamlit import session_state\n")
    assert "streamlit" in _imports(bad)


def test_every_page_draws_the_shared_sidebar_first():
    # A page run alone (AppTest.switch_page) must still have the sidebar and state.
    for page in sorted((ROOT / "pages").glob("*.py")):
        source = page.read_text(encoding="utf-8")
        assert "render_sidebar(" in source, f"{page.name} does not call render_sidebar()"


def test_every_page_file_has_a_title_icon_and_address():
    from ui.page_index import PAGES

    files = {p.name for p in (ROOT / "pages").glob("*.py")}
    assert files <= set(PAGES), f"pages without an entry in ui/page_index.py: {sorted(files - set(PAGES))}"
    urls = [info.url_path for info in PAGES.values()]
    assert len(set(urls)) == len(urls), "two pages share an address"
