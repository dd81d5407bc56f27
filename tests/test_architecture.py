"""Promises of the architecture that a refactor could silently break.

The layers: `core` (plain JAX/NumPy) imports neither `ui` nor the pages; `ui`
(Streamlit helpers) does not import the pages; nothing imports the router
(app.py); and the project's modules import one another without a cycle. The
import graph is read from the source (every `import` and `from ... import`,
at module level, inside functions and under `if TYPE_CHECKING:`), not from a
running interpreter, so an import a test run never reaches still counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES_DIR = "app_pages"

# The app's pages in menu order: {file in app_pages/: its address}. Written out here
# rather than read from the code, so that a page lost, renamed or moved fails a test;
# the e2e tests (tests/e2e/app_page.py) open each of these. One line per page.
EXPECTED_PAGES: dict[str, str] = {
    "overview.py": "overview",
    "gram.py": "gram",
    "race.py": "race",
    "anatomy.py": "anatomy",
    "further.py": "further",
    "gradients.py": "gradients",
    "precision.py": "precision",
    "kernels.py": "kernels",
    "workbench.py": "workbench",
    "fit.py": "fit",
    "scale.py": "scale",
}

# Which layer may not import which: {importer: forbidden}. "app" is the router, app.py.
FORBIDDEN = {
    "core": {"ui", PAGES_DIR, "app", "launch"},
    "ui": {PAGES_DIR, "app"},
    PAGES_DIR: {"app"},
    # Process setup, read before JAX starts: it may import none of the project's JAX layers.
    "launch": {"core", "ui", PAGES_DIR, "app"},
}


def _imports(path: Path) -> set[str]:
    """The top-level package of every import in `path`, wherever it is written."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


# --- the project's import graph -------------------------------------------------------

def _modules(root: Path) -> dict[str, Path]:
    """{dotted module name: file} for app.py and every .py under core/, ui/ and app_pages/
    and launch/ (a package is named by its __init__.py: core/kernels/__init__.py is `core.kernels`)."""
    found = {"app": root / "app.py"} if (root / "app.py").exists() else {}
    for top in ("core", "ui", PAGES_DIR, "launch"):
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _targets(node: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The project modules one import statement loads (`from a.b import c` loads the
    module a.b.c if there is one, else the names c of a.b); relative imports resolved."""
    if isinstance(node, ast.Import):
        wanted = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            anchor = package[:len(package) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        wanted = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                  for alias in node.names]
    else:
        return set()
    hits = set()
    for name in wanted:
        parts = name.split(".")
        # The module itself, or the nearest enclosing project package (import a.b.c.x).
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in known:
                hits.add(".".join(parts[:n]))
                break
    return hits


def import_graph(root: Path) -> dict[str, set[str]]:
    """{module: the project modules it imports} for the project under `root`."""
    modules = _modules(root)
    known = set(modules)
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(tree):
            edges |= _targets(node, module, is_package, known)
        graph[module] = edges - {module}
    return graph


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """"importer -> imported" for every import that crosses a forbidden layer line."""
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if b.split(".")[0] in FORBIDDEN.get(a.split(".")[0], set()))


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), sorted: each is
    an import cycle."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(groups)


# --- the rules, on the real tree ---------------------------------------------------

def test_core_never_imports_streamlit():
    offenders = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "core").rglob("*.py"))
                 if "streamlit" in _imports(p)]
    assert offenders == [], f"core/ must stay plain JAX/NumPy; these import streamlit: {offenders}"


def test_process_setup_imports_neither_jax_nor_streamlit():
    # launch/ runs before JAX starts (XLA reads its flags once): a benchmark imports it
    # without the app, and it must not start JAX itself.
    offenders = {p.relative_to(ROOT).as_posix(): sorted(_imports(p) & {"jax", "jaxlib", "streamlit"})
                 for p in sorted((ROOT / "launch").rglob("*.py"))}
    assert offenders and not any(offenders.values()), offenders


def test_the_check_above_sees_an_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from streamlit import session_state\n")
    assert "streamlit" in _imports(bad)


def test_core_imports_neither_ui_nor_pages_and_ui_not_the_pages():
    graph = import_graph(ROOT)
    assert {"app", "core", "ui"} <= set(graph) and any(m.startswith(f"{PAGES_DIR}.") for m in graph)
    assert layer_violations(graph) == [], (
        "imports across the layers (core < ui < pages < app.py): "
        f"{layer_violations(graph)}; move the shared code down a layer")


# Cycles known today, each to be removed from this list by the change that breaks it
# (the test fails once a listed cycle is gone, as it does for a new one).
KNOWN_CYCLES: list[list[str]] = []


def test_the_project_has_no_import_cycles():
    cycles = import_cycles(import_graph(ROOT))
    assert cycles == KNOWN_CYCLES, (
        f"modules that import each other (directly or round a loop): {cycles}; "
        f"known and listed in this file: {KNOWN_CYCLES} (delete an entry once its cycle is gone)")


def test_the_checks_above_see_planted_violations(tmp_path):
    files = {
        "app.py": "import app_pages.home\n",
        "core/__init__.py": "from core.maths import square\n",
        "core/maths.py": "def square(x):\n    from ui.charts import draw  # inside a function\n",
        "core/typing_only.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import ui\n",
        "ui/__init__.py": "",
        "ui/charts.py": "from . import sidebar\n\ndef draw():\n    pass\n",
        "ui/sidebar.py": "from .charts import draw\nfrom app_pages.home import TITLE\n",
        "ui/clean.py": "import core.maths\nimport numpy\n",
        "app_pages/home.py": "from ui import charts\nTITLE = 'home'\n",
        "app_pages/back.py": "import app\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path)
    assert graph["ui.clean"] == {"core.maths"}  # numpy is not the project's
    assert graph["ui.charts"] == {"ui.sidebar"}  # `from . import sidebar`: the module
    assert graph["ui.sidebar"] == {"ui.charts", "app_pages.home"}
    assert layer_violations(graph) == [
        "app_pages.back -> app", "core.maths -> ui.charts", "core.typing_only -> ui",
        "ui.sidebar -> app_pages.home"]
    assert import_cycles(graph) == [["app_pages.home", "ui.charts", "ui.sidebar"]]


# --- the pages -----------------------------------------------------------------------

def test_every_page_file_is_named_after_its_address():
    # AppTest (and Streamlit before a session's first run) finds a page by its file
    # name; st.Page finds it by url_path. The default page is served at "/".
    from ui.page_index import PAGES

    (home, _), *others = PAGES.items()
    assert [(file[:-3], info.url_path) for file, info in others if file[:-3] != info.url_path] == []


def test_the_router_serves_exactly_the_expected_pages():
    from ui.page_index import PAGES
    from ui.page_index import PAGES_DIR as INDEX_DIR

    assert INDEX_DIR == PAGES_DIR
    assert [(file, info.url_path) for file, info in PAGES.items()] == list(EXPECTED_PAGES.items())
    files = sorted(p.name for p in (ROOT / PAGES_DIR).glob("*.py"))
    assert files == sorted(EXPECTED_PAGES), "app_pages/ holds files that are not pages, or lacks one"
    titles = [info.title for info in PAGES.values()]
    assert len(set(titles)) == len(titles), "two pages share a title"
    assert all(info.icon.startswith(":material/") and info.blurb for info in PAGES.values())


def test_every_page_draws_the_shared_sidebar_first():
    # A page run alone (AppTest.switch_page) must still have the sidebar and state.
    for name in EXPECTED_PAGES:
        source = (ROOT / PAGES_DIR / name).read_text(encoding="utf-8")
        assert "render_sidebar(" in source, f"{name} does not call render_sidebar()"

