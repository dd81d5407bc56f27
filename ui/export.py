""""Reproduce in Python": the page's current view as a script and a notebook to download.

Each page calls `reproduce_control(page, data, settings)` once; the files are built
only when a button is clicked (callables as `data=`), from `core.export`. A new page
needs a view function in `core/views/` and one line in `EXPORTS`.
"""

from __future__ import annotations

import inspect
from typing import Any, Mapping, Sequence

import streamlit as st

from core.export import DataSource, ViewExport, build_script, to_notebook
from core.views.anatomy import anatomy_figure, anatomy_view
from core.views.fit import fit_figure, fit_view
from core.views.further import further_figure, further_view
from core.views.gradients import gradients_figure, gradients_view
from core.views.gram import gram_figure, gram_view
from core.views.kernels import kernel_lab_figure, kernel_lab_view
from core.views.overview import overview_figure, overview_view
from core.views.precision import precision_figure, precision_view
from core.views.race import race_figure, race_view
from core.views.scale import scale_figure, scale_view
from core.views.workbench import workbench_arrays, workbench_figure
from launch import cpu_devices
from ui.state.settings import UPLOAD, Settings

__all__ = ["CPU_DEVICES_PREAMBLE", "EXPORTS", "data_source", "export_files", "reproduce_control"]


def _cpu_devices_preamble() -> str:
    """The app's own request for one CPU device per core (launch/cpu_devices.py), as a preamble."""
    return "\n".join([
        "# Before JAX starts: one CPU device per core, as the app asks for it (its",
        "# launch/cpu_devices.py, below): XLA reads the count once, when JAX starts. An",
        "# XLA_FLAGS of your own that sets the count wins.",
        "import os",
        "import sys",
        "from collections.abc import Mapping, MutableMapping",
        "",
        f"COUNT_FLAG = {cpu_devices.COUNT_FLAG!r}",
        f"MAX_CPU_DEVICES = {cpu_devices.MAX_CPU_DEVICES!r}",
        "",
        "",
        inspect.getsource(cpu_devices.cores_available),
        "",
        inspect.getsource(cpu_devices.split_cpu_into_devices),
        "",
        "split_cpu_into_devices()",
    ])


# Pages whose view splits work over JAX's devices (the block engine's rows; the devices tab).
CPU_DEVICES_PREAMBLE = _cpu_devices_preamble()

# One line per page: its file stem, title, view function and figure.
EXPORTS: dict[str, ViewExport] = {e.page: e for e in (
    ViewExport("overview", "Overview", overview_view, overview_figure),
    ViewExport("gram", "Gram explorer", gram_view, gram_figure),
    ViewExport("anatomy", "vmap anatomy", anatomy_view, anatomy_figure),
    ViewExport("gradients", "Gradients", gradients_view, gradients_figure),
    ViewExport("precision", "Precision lab", precision_view, precision_figure,
               call="precision_view(**SETTINGS)"),  # the lab draws its own data: no X, y
    ViewExport("kernels", "Kernel lab", kernel_lab_view, kernel_lab_figure),
    ViewExport("workbench", "Workbench", workbench_arrays, workbench_figure,
               call="workbench_arrays(kernel, X, y, **SETTINGS)"),
    ViewExport("scale", "Scale", scale_view, scale_figure, preamble=CPU_DEVICES_PREAMBLE),
    ViewExport("fit", "Fit", fit_view, fit_figure),
    ViewExport("race", "Batching race", race_view, race_figure,
               text_files={"race_csv": "race.csv", "scaling_csv": "scaling.csv"}),
    ViewExport("further", "vmap, further", further_view, further_figure,
               preamble=CPU_DEVICES_PREAMBLE),
)}


def data_source(settings: Settings) -> DataSource:
    """The sidebar's data as the export loads it (the values of the app's data key)."""
    if settings.dataset == UPLOAD and settings.upload is not None:
        return DataSource(UPLOAD, settings.n, settings.seed, 0.0, settings.dtype,
                          file_name=settings.upload.name, shape=tuple(settings.upload.X.shape))
    name, n, noise, seed, dtype = settings.data_key
    return DataSource(name, n, seed, noise, dtype)


def export_files(page: str, data: DataSource | None, settings: Mapping[str, Any],
                 notes: Sequence[str] = (), extra_cells: Sequence[str] = (),
                 settings_note: str = "") -> tuple[str, str]:
    """The two downloads of one view: (`<page>.py` text, `<page>.ipynb` JSON text)."""
    script = build_script(EXPORTS[page], data, settings, notes, extra_cells, settings_note)
    return script, to_notebook(script)


def reproduce_control(page: str, data: DataSource | None, settings: Mapping[str, Any],
                      notes: Sequence[str] = (), extra_cells: Sequence[str] = (),
                      settings_note: str = "") -> None:
    """A "Reproduce in Python" popover with `<page>.py` and `<page>.ipynb` of the current view.

    `data` is the sidebar's data (`data_source`), or None for a page with its own (made
    from `settings`). The arguments are kept in the session (`_export_<page>`), so a test
    can rebuild exactly what the buttons give.
    """
    args = (data, dict(settings), tuple(notes), tuple(extra_cells), settings_note)
    st.session_state[f"_export_{page}"] = args
    script = lambda: build_script(EXPORTS[page], *args)  # noqa: E731  (built on click only)
    with st.popover("Reproduce in Python", icon=":material/code:"):
        st.caption("This view as a standalone program: the app's own code for it, its data "
                   "and settings. It imports only JAX, NumPy, SciPy, scikit-learn, pandas, "
                   "optax and Plotly (and threadpoolctl, which scikit-learn installs, where it "
                   "takes the app's fast NumPy methods along); its first cell names what it "
                   f"needs. `python {page}.py --save DIR` writes each array the page shows as "
                   "DIR/<name>.npy (timings also as CSV); the notebook also draws the figure.")
        c1, c2 = st.columns(2)
        c1.download_button(f"{page}.py", script, file_name=f"{page}.py", mime="text/x-python",
                           key=f"w_{page}_export_py", on_click="ignore", icon=":material/download:")
        c2.download_button(f"{page}.ipynb", lambda: to_notebook(script()), file_name=f"{page}.ipynb",
                           mime="application/x-ipynb+json", key=f"w_{page}_export_ipynb",
                           on_click="ignore", icon=":material/download:")


def gram_method_note(current: Settings, n: int, d: int) -> str:
    """Which batching method the settings' distances come from ("auto": the one it picked)."""
    from core.dense.methods import METHODS, resolve

    if current.kernel != "rbf":
        return "Distances as jit · Method I computes them (the page's choice for this kernel)."
    picked = resolve(current.method, n, n, d, current.dtype)
    chosen = METHODS[current.method].label + (f" -> it picked {picked.label}"
                                              if current.method == "auto" else "")
    return f"Batching method in the app: {chosen}; its distances are the '{picked.distance_method}' form."


def gram_settings(current: Settings, n: int, d: int, order_by_label: bool,
                  spectrum_clicked: bool = False, compare_with: str | None = None) -> dict[str, Any]:
    """The Gram explorer's view settings: the kernel, and the distances its method computes
    ("auto" resolved to the method it picked; other kernels' distances are Method I's), the
    spectrum where the user pressed its button (above the size it is computed unasked), and
    the distances of the method the page compares with (`compare_with`, a METHODS name)."""
    from core.dense.methods import METHODS, resolve

    method = (resolve(current.method, n, n, d, current.dtype) if current.kernel == "rbf"
              else METHODS["jit_method1"])
    other = resolve(compare_with, n, n, d, current.dtype) if compare_with else None
    return {"kernel": current.kernel, "params": dict(current.params),
            "distances": method.distance_method, "exact_diagonal": method.zero_diagonal,
            "order_by_label": bool(order_by_label),
            **({"spectrum": True} if spectrum_clicked else {}),
            **({"compare_distances": other.distance_method,
                "compare_exact_diagonal": other.zero_diagonal} if other is not None else {})}
