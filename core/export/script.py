"""The percent-format program of one view: the app's code, the view's settings, a runner.

`build_script` writes one Python source in the percent format (`# %%` code cells,
`# %% [markdown]` cells for the page's explanations): the imports and every
definition the view reaches (`core.export.walk`), the data and how it is loaded, the
settings as plain values, then the view called once. Run as a script
(`python page.py --save DIR`) it writes each array as DIR/<name>.npy (a table of
records, such as timings, also as DIR/<name>.csv); in a notebook
it also draws the page's main figure with Plotly. `to_notebook` turns the same
source into an .ipynb with jupytext, so the two files cannot disagree.
"""

from __future__ import annotations

import dataclasses
import pprint
import textwrap
from typing import Any, Callable, Mapping, Sequence

from core.export.walk import collect
from core.views.data import builtin_data, upload_data
from core.workbench.language import check_source

__all__ = ["DataSource", "ViewExport", "build_script", "user_kernel_cell", "to_notebook"]

_RUNNER_IMPORTS = ("import argparse", "import csv", "import pathlib", "import sys")


@dataclasses.dataclass(frozen=True)
class DataSource:
    """Where a view's data comes from: a built-in dataset, or the user's uploaded file.

    Attributes:
      dataset: a key of `core.data.DATASETS`, or "upload".
      n, seed, noise, dtype: the sidebar's values (as the app's data key holds them).
      file_name, shape: the upload's name and (rows, columns), for the comment.
    """

    dataset: str
    n: int
    seed: int
    noise: float
    dtype: str
    file_name: str = ""
    shape: tuple[int, int] | None = None


@dataclasses.dataclass(frozen=True)
class ViewExport:
    """One page's export: its view function, its figure and its words.

    Attributes:
      page: the file stem of the downloads ("gram" -> gram.py, gram.ipynb).
      title: the page's title.
      view: the view function of `core.views`, called as `view(X, y, **SETTINGS)`
        (or as `call` says).
      figure: `figure(view) -> plotly Figure`, drawn when run in a notebook.
      call: the expression that computes the view, if not the default
        (`view(X, y, **SETTINGS)`, or `view(**SETTINGS)` for a view that makes its own data).
      preamble: code run before anything is imported (after `from __future__`), e.g.
        XLA_FLAGS, which JAX reads once, when it starts.
      text_files: {name in the view: file name}: entries written as text files (e.g. the
        race's CSV) instead of DIR/<name>.npy.
    """

    page: str
    title: str
    view: Callable[..., Any]
    figure: Callable[..., Any]
    call: str | None = None
    preamble: str = ""
    text_files: Mapping[str, str] = dataclasses.field(default_factory=dict)


def _comment(text: str) -> str:
    return "\n".join(f"# {line}".rstrip() for line in text.strip().splitlines())


def _markdown(text: str) -> str:
    return "# %% [markdown]\n" + _comment(textwrap.dedent(text))


def _literal(name: str, value: Any) -> str:
    text = pprint.pformat(value, width=88, sort_dicts=False)
    return f"{name} = {text}"


def _data_cell(data: DataSource) -> str:
    if data.dataset == "upload":
        rows, cols = data.shape or ("?", "?")
        return "\n".join([
            f"# Your own file in the app: {data.file_name!r}, {rows} rows x {cols} columns.",
            "# Put its path here (CSV, TSV or .npy, checked as the app checks an upload):",
            f"DATA_PATH = {data.file_name!r}",
            f"X, y = upload_data(DATA_PATH, n={data.n!r}, seed={data.seed!r}, dtype={data.dtype!r})",
        ])
    return "\n".join([
        "# The sidebar's data: a built-in dataset, made or loaded by scikit-learn.",
        f"X, y = builtin_data({data.dataset!r}, n={data.n!r}, seed={data.seed!r}, "
        f"noise={data.noise!r}, dtype={data.dtype!r})",
        "print('X', X.shape, X.dtype)",
    ])


def user_kernel_cell(source: str) -> str:
    """The Workbench's kernel as Python, after the app's own check of the source.

    Raises:
      UserCodeError: the source breaks the Workbench's language (as on the page).
    """
    checked = check_source(source)
    body = textwrap.indent(source.strip("\n"), "    ")
    return "\n".join([
        "def make_kernel():",
        '    """Your kernel, exactly as you wrote it in the Workbench."""',
        "    # The Workbench's language is a subset of Python, and this source passed its check",
        "    # (core.workbench.language.check_source), so it runs here as plain Python with",
        "    # `np` bound to jax.numpy and `lax` to jax.lax, as in the notes. (In the app it is",
        "    # interpreted under bounds; here it is your own program on your own machine.)",
        "    import jax.numpy as np  # noqa: F401",
        "    from jax import lax  # noqa: F401",
        "",
        body,
        "",
        f"    return {checked.kernel_name}",
        "",
        "",
        "kernel = make_kernel()",
    ])


def build_script(export: ViewExport, data: DataSource | None, settings: Mapping[str, Any],
                 notes: Sequence[str] = (), extra_cells: Sequence[str] = (),
                 settings_note: str = "") -> str:
    """The view's standalone program in the percent format.

    Args:
      export: the page's `ViewExport`.
      data: where the data comes from; None for a view that makes its own (from SETTINGS).
      settings: the view's keyword arguments, plain values (numbers, strings, dicts).
      notes: Markdown paragraphs from the page, one cell each, after the title.
      extra_cells: code cells placed before the view is computed (e.g. the user's kernel).
      settings_note: a comment above the settings (e.g. the method "auto" picked).

    Returns:
      The program's text; `to_notebook` makes the notebook of the same cells.
    """
    loaders = () if data is None else (upload_data if data.dataset == "upload" else builtin_data,)
    program = collect(export.view, export.figure, *loaders)
    imports = ["from __future__ import annotations",
               *([export.preamble.strip("\n"), ""] if export.preamble else []),
               *sorted(set(program.imports) | set(_RUNNER_IMPORTS),
                       key=lambda s: (s.startswith("from "), s))]
    cells = [_markdown(f"""
        # {export.title}, reproduced

        Exported from vmap explorer's {export.title} page: the app's own code for this
        view (taken from its source, not rewritten), its settings, and the view computed
        once. Run it as `python {export.page}.py --save DIR` to write each array the page
        shows as `DIR/<name>.npy`, or open {export.page}.ipynb and run all cells to see
        the page's figure as well. It needs only {', '.join(_packages(program))}.
        """)]
    cells += [_markdown(note) for note in notes]
    cells.append("# %%\n" + "\n".join(imports))
    cells.append(_markdown("## The app's code\n\nEvery function and constant the view uses, "
                           "dependencies first, grouped by the module of `core` it comes from."))
    for module, sources in _by_module(program):
        cells.append(f"# %%\n# from {module.replace('.', '/')}.py\n" + "\n\n\n".join(sources))
    cells.append(_markdown("## The data and the settings of the view"))
    if data is not None:
        cells.append("# %%\n" + _data_cell(data))
    cells.append("# %%\n" + (_comment(settings_note) + "\n" if settings_note else "")
                 + _literal("SETTINGS", dict(settings)))
    cells += ["# %%\n" + cell for cell in extra_cells]
    call = export.call or f"{export.view.__name__}({'' if data is None else 'X, y, '}**SETTINGS)"
    cells.append(_markdown("## The view\n\nComputed on this machine, so any timing you take "
                           "is yours; nothing is copied from the app's run."))
    cells.append("# %%\n" + "\n".join([
        f"view = {call}",
        "for name, array in view.items():",
        "    print(f'{name:>24}  {str(array.shape):>16}  {array.dtype}')",
    ]))
    save = ["        array = np.asarray(array)",
            "        np.save(folder / f'{name}.npy', array, allow_pickle=False)",
            "        if array.dtype.names:  # a table (e.g. timings): also as CSV, one row per record",
            "            with open(folder / f'{name}.csv', 'w', newline='') as f:",
            "                csv.writer(f).writerows([array.dtype.names, *array.tolist()])"]
    if export.text_files:
        save = [f"        if name in {dict(export.text_files)!r}:  # a text file, not an array",
                f"            (folder / {dict(export.text_files)!r}[name]).write_text(str(array))",
                "            continue",
                *save]
    cells.append("# %%\n" + "\n".join([
        "parser = argparse.ArgumentParser(description='Reproduce the app\\'s view.')",
        "parser.add_argument('--save', metavar='DIR', help='write each array as DIR/<name>.npy')",
        "args, _ = parser.parse_known_args()  # known args only: a Jupyter kernel adds its own",
        "if args.save:",
        "    folder = pathlib.Path(args.save)",
        "    folder.mkdir(parents=True, exist_ok=True)",
        "    for name, array in view.items():",
        *save,
        "    print(f'saved {len(view)} results in {folder}')",
    ]))
    cells.append("# %%\n" + "\n".join([
        "if 'ipykernel' in sys.modules:  # in a notebook: draw the page's figure (never in a script)",
        f"    {export.figure.__name__}(view).show()",
    ]))
    return "\n\n".join(cells) + "\n"


def _packages(program) -> list[str]:
    """The packages the program imports, at the top or inside a function (threadpoolctl)."""
    from core.export.walk import ALLOWED_PACKAGES, import_roots

    roots = set().union(*(import_roots(s) for s in
                          (*program.imports, *(p.source for p in program.pieces))))
    names = {"sklearn": "scikit-learn", "threadpoolctl": "threadpoolctl (installed with scikit-learn)"}
    found = sorted(names.get(r, r) for r in roots & ALLOWED_PACKAGES | {"numpy", "sklearn"})
    return found + ["the standard library"]


def _by_module(program) -> list[tuple[str, list[str]]]:
    """Consecutive pieces of one module in one cell (the order stays the walk's)."""
    groups: list[tuple[str, list[str]]] = []
    for piece in program.pieces:
        if groups and groups[-1][0] == piece.module:
            groups[-1][1].append(piece.source)
        else:
            groups.append((piece.module, [piece.source]))
    return groups


def to_notebook(script: str) -> str:
    """The .ipynb (JSON text) of a percent-format script, converted by jupytext."""
    import jupytext  # deferred: only a click on "Download the notebook" needs it

    notebook = jupytext.reads(script, fmt="py:percent")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return jupytext.writes(notebook, fmt="ipynb")
