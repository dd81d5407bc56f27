"""The pages of the app: one entry per file in app_pages/, in menu order.

The router (app.py) builds the navigation from it and the Overview links to it,
so a page's title, icon and address are written once. To add a page, add its
file to app_pages/ and one entry here (and to the expected list in
tests/test_architecture.py, which the tests check against). Its URL keys (the
keys of its bound controls) are declared with `ui.state.url.url_keys(<url_path>,
...)` in the module(s) where its controls are defined, named in its entry's
`controls`: a session's first run imports them all before it drops a link's
unknown parameters, so a link to any page keeps its values.

The folder is not called `pages/`: Streamlit (1.67) treats a `pages/` folder
next to the entry script as a legacy file-based multipage app until the first
`st.navigation` call of the server's life (`PagesManager.uses_pages_directory`),
so the first visitor of a freshly started server got the legacy page list: a
"Page not found" pop-up on /gram, the legacy menu of file names on /overview.

A page's file is named after its address (app_pages/gram.py serves /gram): before a
session's first run Streamlit identifies a page by its file name, and `st.Page`
hashes its url_path, so the two must agree for a test (AppTest) or a first visit to
land on the page the address names. tests/test_architecture.py checks it.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["PageInfo", "PAGES", "PAGES_DIR"]

# The folder of the page files, relative to app.py (never "pages": see above).
PAGES_DIR = "app_pages"


class PageInfo(NamedTuple):
    """A page's menu title, Material icon, address (/<url_path>), one-line blurb, and the
    modules that declare its URL keys (`ui.state.url.url_keys(url_path, ...)` at import).

    The first page of PAGES is the default page: Streamlit serves it at "/", and
    its url_path leads there too (app.py)."""

    title: str
    icon: str
    url_path: str
    blurb: str
    controls: tuple[str, ...] = ()


PAGES: dict[str, PageInfo] = {
    "overview.py": PageInfo("Overview", ":material/home:", "overview",
                            "what vmap is, live on your data"),
    "gram.py": PageInfo("Gram explorer", ":material/grid_on:", "gram",
                                 "the kernel matrix of the current data, live under the gamma slider",
                                 ("ui.state.gram",)),
    "race.py": PageInfo("Batching race", ":material/speed:", "race",
                                 "the ways to batch the Gram matrix, timed against each other",
                                 ("ui.state.race_run",)),
    "anatomy.py": PageInfo("vmap anatomy", ":material/account_tree:", "anatomy",
                                "in_axes and out_axes, jaxprs, the notes' predict four ways, vv → mv → mm",
                                ("ui.charts.anatomy",)),
    "further.py": PageInfo("vmap, further", ":material/alt_route:", "further",
                                "collectives, cond and while, keys, Jacobians, memory, custom batching, devices",
                                ("ui.state.further",)),
    "gradients.py": PageInfo("Gradients", ":material/trending_down:", "gradients",
                             "per-sample gradients by vmap(grad), a kernel's gradient field, ds/dγ",
                             ("ui.charts.gradients",)),
    "precision.py": PageInfo("Precision lab", ":material/science:", "precision",
                                 "float32 against float64: where round-off shows, and why",
                                 ("ui.state.precision",)),
    "kernels.py": PageInfo("Kernel lab", ":material/tune:", "kernels",
                              "every kernel, its Gram matrix, GP prior samples, positive definiteness",
                              ("ui.state.kernel_lab",)),
    "workbench.py": PageInfo("Workbench", ":material/edit_note:", "workbench",
                             "your own kernel for one pair of vectors, batched, checked, timed",
                             ("ui.workbench",)),
    "fit.py": PageInfo("Fit", ":material/show_chart:", "fit",
                       "a Gaussian process fitted by vmap over hyperparameters and grad through a Cholesky",
                       ("ui.state.fit",)),
    "scale.py": PageInfo("Scale", ":material/zoom_out_map:", "scale",
                         "a million points: Gram matrices computed in blocks, never held whole",
                         ("ui.state.scale_run",)),
}
