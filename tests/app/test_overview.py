"""Overview: the default page, its live shape ladder, the data, and the links onward."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from core.data import load_dataset
from core.lessons.projection import pca_2d
from tests.app.conftest import ROOT, TIMEOUT_S, no_exception, open_page, plotly_figures, widget

PAGE = "overview.py"


def ladder_shapes(at) -> list[str]:
    return list(at.dataframe[0].value["output shape"])


def test_the_app_opens_on_the_overview_with_a_link_to_every_other_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    no_exception(at)
    assert at.title[0].value == "vmap explorer"
    labels = [link.proto.label for link in at.get("page_link")]
    titles = ["Gram explorer", "Batching race", "vmap anatomy", "vmap, further", "Gradients",
              "Precision lab", "Kernel lab", "Workbench", "Fit", "Scale"]  # every page but the Overview
    for title in titles:
        assert sum(label.startswith(f"**{title}**") for label in labels) == 1, title
    assert len(labels) == len(titles)
    assert not any("Overview" in label for label in labels)  # no link to itself
    assert ladder_shapes(at) == ["() scalar", "(400,)", "() scalar", "(400,)", "(400, 400)"]
    assert_draws_the_view(at)


def assert_draws_the_view(at) -> None:
    """The ladder's table and the scatter plot are `overview_view`'s arrays, called directly
    on the sidebar's data and seed; the scatter's axes name what they show and hold every point."""
    from core.views.overview import overview_view

    ss = at.session_state
    noise = ss["noise"] if "noise" in ss else 0.1  # not drawn for blobs: its default applies
    X, y = load_dataset(ss["dataset"], n=ss["n"], seed=ss["seed"], noise=noise, dtype=ss["dtype"])
    view = overview_view(X, y, seed=ss["seed"])
    table = at.dataframe[0].value
    assert list(table.columns) == ["call", "inputs", "output shape"]
    assert list(table["call"]) == list(view["ladder_calls"])
    assert list(table["inputs"]) == list(view["ladder_inputs"])
    assert list(table["output shape"]) == list(view["ladder_shapes"])
    scatter = plotly_figures(at)["w_overview_scatter"]
    labels = np.unique(y)
    assert [t["name"] for t in scatter["data"]] == [f"label {g}" for g in labels]
    for trace, label in zip(scatter["data"], labels):
        np.testing.assert_array_equal(trace["x"], view["Z"][y == label, 0])
        np.testing.assert_array_equal(trace["y"], view["Z"][y == label, 1])
    layout = scatter["layout"]
    titles = (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"])
    if X.shape[1] <= 2:
        assert titles == ("x₁", "x₂")
    else:
        assert titles == (f"PC 1 ({view['explained'][0]:.0%} of variance)",
                          f"PC 2 ({view['explained'][1]:.0%})")
    for axis, column in (("xaxis", 0), ("yaxis", 1)):  # autorange, or a range holding every point
        lo, hi = sorted(layout[axis].get("range", [-np.inf, np.inf]))
        assert lo <= view["Z"][:, column].min() and view["Z"][:, column].max() <= hi


def test_the_scatter_and_the_shapes_follow_the_data():
    at = open_page(PAGE)
    scatter = plotly_figures(at)["w_overview_scatter"]
    assert len(scatter["data"]) == 3  # blobs: one trace per label
    widget(at, "dataset").set_value("iris").run()
    no_exception(at)
    assert ladder_shapes(at) == ["() scalar", "(150,)", "() scalar", "(150,)", "(150, 150)"]
    scatter = plotly_figures(at)["w_overview_scatter"]
    assert scatter["layout"]["xaxis"]["title"]["text"].startswith("PC 1")
    X, y = load_dataset("iris", n=150, seed=0, noise=0.1, dtype="float32")
    Z, _ = pca_2d(X)
    first = scatter["data"][0]  # label 0's points, where PCA put them
    np.testing.assert_allclose(first["x"], Z[y == 0, 0], rtol=1e-6)
    assert "4-D" in scatter["layout"]["title"]["text"]


def test_run_alone_the_page_lists_the_pages_instead_of_linking():
    # Without app.py's st.navigation, st.page_link has no pages to point at.
    at = AppTest.from_file(str(ROOT / "app_pages" / PAGE), default_timeout=TIMEOUT_S)
    at.run()
    no_exception(at)
    assert len(at.get("page_link")) == 0
    assert any("**Gram explorer**" in m.value for m in at.markdown)
