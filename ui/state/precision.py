"""The Precision lab's URL names: its own precision, data, methods and the sweep's error.

The page draws these controls itself (app_pages/precision.py); their grids are in
`ui.charts.precision`.
"""

from __future__ import annotations

from ui.state.url import url_keys

__all__ = ["URL"]

URL = url_keys("precision", dtype="w_prec_dtype", offset="w_prec_offset", scale="w_prec_scale",
               n="w_prec_n", d="w_prec_d", matmul_highest="w_prec_matmul_highest",
               methods="w_prec_methods", sweep_metric="w_prec_sweep_metric")
