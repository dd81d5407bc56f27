"""The pages of the app: one entry per file in pages/, in menu order.

The router (app.py) builds the navigation from it and the Overview links to it,
so a page's title, icon and address are written once.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["PageInfo", "PAGES"]


class PageInfo(NamedTuple):
    title: str
    icon: str
    url_path: str
    blurb: str


PAGES: dict[str, PageInfo] = {
    "overview.py": PageInfo("Overview", ":material/home:", "overview",
                            "what vmap is, live on your data"),
    "gram_explorer.py": PageInfo("Gram explorer", ":material/grid_on:", "gram",
                                 "the kernel matrix of the current data, live under the gamma slider"),
    "batching_race.py": PageInfo("Batching race", ":material/speed:", "race",
                                 "the ways to batch the Gram matrix, timed against each other"),
    "vmap_anatomy.py": PageInfo("vmap anatomy", ":material/account_tree:", "anatomy",
                                "in_axes and out_axes, jaxprs, the notes' predict four ways, vv → mv → mm"),
    "gradients.py": PageInfo("Gradients", ":material/trending_down:", "gradients",
                             "per-sample gradients by vmap(grad), a kernel's gradient field, ds/dγ"),
    "precision_lab.py": PageInfo("Precision lab", ":material/science:", "precision",
                                 "float32 against float64: where round-off shows, and why"),
    "kernel_lab.py": PageInfo("Kernel lab", ":material/tune:", "kernels",
                              "every kernel, its Gram matrix, GP prior samples, positive definiteness"),
    "fit.py": PageInfo("Fit", ":material/show_chart:", "fit",
                       "a Gaussian process fitted by vmap over hyperparameters and grad through a Cholesky"),
    "scale.py": PageInfo("Scale", ":material/zoom_out_map:", "scale",
                         "a million points: Gram matrices computed in blocks, never held whole"),
}
