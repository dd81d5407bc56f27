"""Take a view away: the app's code for one view, as a standalone script and notebook.

`walk.collect` finds every definition of `core` a view function reaches and the
imports they use; `script.build_script` writes them, the data, the settings and a
runner as one percent-format program; `script.to_notebook` converts it with jupytext.
"""

from __future__ import annotations

from core.export.script import DataSource, ViewExport, build_script, to_notebook, user_kernel_cell
from core.export.walk import ALLOWED_PACKAGES, ExportError, collect, import_roots

__all__ = ["ALLOWED_PACKAGES", "DataSource", "ExportError", "ViewExport", "build_script",
           "collect", "import_roots", "to_notebook", "user_kernel_cell"]
