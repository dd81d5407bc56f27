"""One view function per page: the page's settings (plain values) in, the arrays it shows out.

Each `<page>_view(...)` returns `{name: array}`. The page computes what it draws with
the same functions, and the "Reproduce in Python" export (`core.export`) copies the
view function, and everything it reaches in `core`, into a standalone program.
"""

from __future__ import annotations

from core.views.anatomy import anatomy_view
from core.views.data import builtin_data, subsample_rows, upload_data
from core.views.fit import fit_view
from core.views.further import further_view
from core.views.gradients import gradients_view
from core.views.gram import gram_view
from core.views.kernels import kernel_lab_view
from core.views.overview import overview_view
from core.views.precision import precision_view
from core.views.race import race_view
from core.views.scale import scale_view
from core.views.workbench import workbench_arrays

__all__ = ["builtin_data", "subsample_rows", "upload_data", "anatomy_view", "fit_view",
           "further_view", "gradients_view", "gram_view", "kernel_lab_view", "overview_view",
           "precision_view", "race_view", "scale_view", "workbench_arrays"]
