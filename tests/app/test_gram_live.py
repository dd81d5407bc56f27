"""The live Gram heatmap's Python side: what it sends, once per data and per release.

The browser draws from two binary payloads (ui/components/live_heatmap.py): the
distances, sent once per data, method, dtype and order, and the exact K of each
released gamma. References: SciPy's distances and core's K.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from core.dense.methods import METHODS, sqdist_for
from core.lessons.spectrum import spectrum
from core.scale.pooling import pool_mean
from core.scale.summary import block_gauss_rules, cell_summary
from tests.app.conftest import widget, no_exception, open_page
from tests.app.test_gram_explorer import data_of, release_gamma
from ui.components.live_heatmap import decode_distances, decode_exact

PAGE = "gram.py"
MAX_MESSAGE_BYTES = 1_500_000  # the budget per data and per release


def payloads(at) -> dict[str, bytes]:
    return {el.key: el.proto.bytes for el in at.get("bidi_component")}


def test_distances_are_sent_as_float32_in_display_order():
    at = open_page(PAGE, {"n": "120", "dataset": "moons"})
    X, y = data_of(at)
    sent = decode_distances(payloads(at)["w_gram_live"])
    order = np.argsort(y, kind="stable")
    assert sent["m"] == 0 and sent["n"] == 120
    np.testing.assert_array_equal(sent["order"], order)
    np.testing.assert_array_equal(sent["body"], sqdist_for("auto", X)[np.ix_(order, order)])
    # And they match SciPy's float64 distances to float32 accuracy (scale: |x|² ≈ 4).
    np.testing.assert_allclose(sent["body"], cdist(X[order], X[order], "sqeuclidean"), atol=4 * 2e-6)


def test_a_release_resends_only_the_exact_K():
    at = open_page(PAGE, {"n": "150"})
    before = payloads(at)
    release_gamma(at, at.session_state["gamma"] * 3)
    no_exception(at)
    after = payloads(at)
    # Byte-identical distances: Streamlit's message cache serves them, not the network.
    assert after["w_gram_live"] == before["w_gram_live"]
    assert after["w_gram_live_exact"] != before["w_gram_live_exact"]
    exact = decode_exact(after["w_gram_live_exact"])
    assert exact["gamma"] == at.session_state["gamma"]
    # The bound gamma control (what the URL and the other pages show) holds the released
    # value; AppTest has no address bar, so the URL itself is checked in Chromium
    # (tests/e2e/test_gram_live.py).
    assert widget(at, "gamma").value == exact["gamma"]
    X, y = data_of(at)
    order = np.argsort(y, kind="stable")
    K = METHODS["auto"].compute(X, None, exact["gamma"])
    np.testing.assert_allclose(exact["K"], K[np.ix_(order, order)], atol=2e-6)


def test_large_n_sends_per_cell_rules_within_the_byte_budget():
    at = open_page(PAGE, {"n": "1200", "dataset": "uniform"})
    X, _ = data_of(at)
    sent_bytes = payloads(at)
    sent = decode_distances(sent_bytes["w_gram_live"])
    assert (sent["side"], sent["factor"], sent["m"]) == (400, 3, 7)
    D = sqdist_for("auto", X)  # uniform data has one label: display order is data order
    iu = np.triu_indices(400)
    gauss_x, _ = block_gauss_rules(D, 3)
    # Nodes: the Gauss nodes of each block as float16 of s / max(s) (relative error
    # 2⁻¹¹, absolute at most max(s)·2⁻²⁵ near zero); weights sum to 1 as the browser takes them.
    np.testing.assert_allclose(sent["nodes"], gauss_x[iu], rtol=2.0**-11, atol=float(D.max()) * 2.0**-25)
    assert np.all(sent["weights"].sum(-1) == 1.0)
    exact = decode_exact(sent_bytes["w_gram_live_exact"])
    K = METHODS["auto"].compute(X, None, exact["gamma"])
    np.testing.assert_allclose(exact["K"], pool_mean(K)[0], atol=2e-6)
    assert all(len(b) <= MAX_MESSAGE_BYTES for b in sent_bytes.values())
    # The caption states the measured error of these very rules (CellSummary.grid_error).
    worst = cell_summary(D, 3).grid_error.max()
    assert any("Pooled for display" in c.value and "4-point rule" in c.value
               and f"within {worst:.3f} of its block's exact mean" in c.value for c in at.caption)


def test_laplacian_previews_from_l1_distances():
    at = open_page(PAGE, {"n": "90", "kernel": "laplacian", "dataset": "iris"})
    X, y = data_of(at)
    sent = decode_distances(payloads(at)["w_gram_live"])
    order = np.argsort(y, kind="stable")
    assert sent["kind"] == 1  # L1
    np.testing.assert_allclose(sent["body"], cdist(X[order], X[order], "cityblock"), rtol=1e-6)


def test_non_distance_kernels_say_why_and_keep_the_server_slider():
    for kernel in ("periodic", "linear", "polynomial"):
        at = open_page(PAGE, {"n": "60", "kernel": kernel})
        assert "w_gram_live" not in payloads(at)
        assert any("No live preview while dragging" in c.value for c in at.caption), kernel


def test_above_the_display_side_the_spectrum_and_comparison_still_use_the_full_K():
    # Above 448 points the page sends K's block means without building K; the
    # spectrum (on its button) and the comparison build it when asked, and their
    # numbers must be those of core's full K.
    at = open_page(PAGE, {"n": "1200", "dataset": "uniform"})
    X, _ = data_of(at)
    g = at.session_state["gamma"]
    next(b for b in at.button if b.label.startswith("Compute the eigenvalue spectrum")).click().run()
    no_exception(at)
    spec = spectrum(METHODS["auto"].compute(X, None, g))
    shown = {m.label: m.value for m in at.metric}
    assert float(shown["Effective rank"]) == pytest.approx(spec.effective_rank, abs=0.05)
    widget(at, "w_gram_compare").set_value(True).run()
    widget(at, "w_gram_other").set_value("jit_expansion").run()
    no_exception(at)
    expected = np.abs(METHODS["jit_expansion"].compute(X, None, g).astype(np.float64)
                      - METHODS["auto"].compute(X, None, g)).max()
    metric = next(m for m in at.metric if m.label.startswith("max |K("))
    # Both K in float32: their difference is exact where they are within a factor 2
    # (Sterbenz) and rounds once (2⁻²⁴ relative) elsewhere.
    assert float(metric.value) == pytest.approx(expected, rel=0.05, abs=3e-7)
