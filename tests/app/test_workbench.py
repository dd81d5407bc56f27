"""The Workbench page as a user meets it: the notes' kernel by default, the examples menu,
a kernel shared by its URL, the user's own parameters, and hostile or broken sources.

The numbers the browser draws are read from the component's payloads
(ui/components/live_heatmap.py) and compared with scikit-learn's kernels.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics.pairwise import laplacian_kernel, rbf_kernel

from core.scale.pooling import pool_mean
from core.workbench.examples import EXAMPLES
from core.workbench.language import MAX_SOURCE_CHARS
from tests.app.conftest import no_exception, open_page, widget
from tests.app.test_gram_explorer import data_of
from ui.components.live_heatmap import decode_exact, decode_frames
from ui.workbench import FRAME_SIDE, LIVE_KEY, SOURCE_KEY, frame_gammas

PAGE = "workbench.py"
N = "120"
pytestmark = pytest.mark.slow


def payloads(at) -> dict[str, bytes]:
    return {el.key: el.proto.bytes for el in at.get("bidi_component")}


def ordered_data(at) -> tuple[np.ndarray, float]:
    """X in the page's display order (by label), and the gamma it shows."""
    X, y = data_of(at)
    return X[np.argsort(y, kind="stable")], float(at.session_state["gamma"])


def codes(at) -> list[str]:
    return [c.value for c in at.code]


def test_the_notes_rbf_by_default_draws_sklearns_rbf_kernel_live_over_gamma():
    at = open_page(PAGE, {"n": N, "dataset": "moons"})
    no_exception(at)
    assert "def rbf_kernel(params, x: np.ndarray" in widget(at, SOURCE_KEY).value
    X, gamma = ordered_data(at)
    sent = payloads(at)
    exact = decode_exact(sent[LIVE_KEY + "_exact"])
    expected, factor = pool_mean(rbf_kernel(X.astype(np.float64), gamma=gamma), FRAME_SIDE)
    assert exact["gamma"] == pytest.approx(gamma) and exact["factor"] == factor
    np.testing.assert_allclose(exact["K"], expected, atol=1e-5)
    # The frames: K at 64 gammas around the data's default, one byte a cell over their range.
    frames = decode_frames(sent[LIVE_KEY])
    assert len(sent[LIVE_KEY]) < 1_500_000
    assert frames["gammas"].size == 64
    assert frames["gammas"][0] < gamma < frames["gammas"][-1]
    step = (frames["hi"] - frames["lo"]) / 254
    for g in (0, 31, 63):
        want, _ = pool_mean(rbf_kernel(X.astype(np.float64), gamma=frames["gammas"][g]), FRAME_SIDE)
        np.testing.assert_allclose(frames["frames"][g], want, atol=step / 2 + 1e-5)
    # Every way agrees, and the table says so.
    ways = at.dataframe[0].value
    assert list(ways["agrees"]) == ["yes"] * 3


def test_each_example_fills_the_box_and_runs_without_a_traceback():
    at = open_page(PAGE, {"n": N, "dataset": "blobs"})
    for name, example in EXAMPLES.items():
        widget(at, "w_wb_example").select(name).run()
        no_exception(at)
        assert widget(at, SOURCE_KEY).value == example.source, name
        assert widget(at, "w_wb_example").value is None  # the menu rests after filling the box
        assert any(example.blurb in c.value for c in at.caption), name
        shown = "\n".join(codes(at))
        if name.startswith("Python if (fails)"):
            assert "TracerBoolConversionError" in shown and "np.where" in shown
        else:
            assert len(at.dataframe) >= 1, (name, [e.value for e in at.error], shown[:300])


def findings_text(at) -> str:
    return "\n".join(w.value for w in list(at.warning) + list(at.info))


def test_examples_name_what_vmap_made_of_them():
    at = open_page(PAGE, {"n": N, "dataset": "blobs"})
    widget(at, "w_wb_example").select("lax.cond (becomes select_n)").run()
    assert "select_n" in findings_text(at)
    widget(at, "w_wb_example").select("np.sqrt of a distance (NaN gradient)").run()
    assert "NaN" in findings_text(at)
    not_psd = next(name for name in EXAMPLES if name.startswith("Not a kernel"))
    widget(at, "w_wb_example").select(not_psd).run()
    text = findings_text(at)
    assert "not positive semi-definite" in text.lower()


def test_a_link_with_a_source_runs_it_as_if_typed():
    laplacian = ("def kernel(params, x, y):\n"
                 "    return np.exp(-params['gamma'] * np.sum(np.abs(x - y)))\n")
    at = open_page(PAGE, {"n": N, "dataset": "blobs", SOURCE_KEY: laplacian})
    no_exception(at)
    assert widget(at, SOURCE_KEY).value == laplacian
    X, gamma = ordered_data(at)
    exact = decode_exact(payloads(at)[LIVE_KEY + "_exact"])
    expected, _ = pool_mean(laplacian_kernel(X.astype(np.float64), gamma=gamma), FRAME_SIDE)
    np.testing.assert_allclose(exact["K"], expected, atol=1e-5)


def test_the_kernels_own_parameters_get_log_sliders_bound_to_the_url():
    source = ("def kernel(params, x, y):\n"
              "    return params['amp'] * np.exp(-params['gamma'] * np.sum((x - y) ** 2))\n")
    at = open_page(PAGE, {"n": N, "dataset": "blobs", SOURCE_KEY: source, "wb_amp": "2"})
    no_exception(at)
    amp = widget(at, "wb_amp")
    assert amp.value == 2.0 and amp.options[0] == "0.001" and amp.options[-1] == "1000"
    X, gamma = ordered_data(at)
    exact = decode_exact(payloads(at)[LIVE_KEY + "_exact"])
    expected, _ = pool_mean(2.0 * rbf_kernel(X.astype(np.float64), gamma=gamma), FRAME_SIDE)
    np.testing.assert_allclose(exact["K"], expected, atol=2e-5)
    amp.set_value(0.5).run()
    halved = decode_exact(payloads(at)[LIVE_KEY + "_exact"])["K"]
    np.testing.assert_allclose(halved, expected / 4, atol=2e-5)


@pytest.mark.parametrize("source, expect", [
    ("import os\ndef kernel(params, x, y):\n    return 1.0\n", "import"),
    ("def kernel(params, x, y):\n    return x.__class__\n", "__class__"),
    ("def kernel(params, x, y):\n    return params['n'] * 1.0\n", "'n'"),
    ("def kernel(params, x, y)\n    return 1.0\n", "Line 1"),
])
def test_a_hostile_or_broken_source_is_refused_with_its_reason_as_code(source, expect):
    at = open_page(PAGE, {"n": N, SOURCE_KEY: source})
    no_exception(at)
    assert any("cannot run" in e.value for e in at.error)
    assert any(expect in c for c in codes(at)), codes(at)
    assert not at.get("bidi_component") or LIVE_KEY not in payloads(at)
    assert widget(at, SOURCE_KEY).value == source  # nothing the user had is lost
    assert len(at.sidebar.selectbox) >= 1  # the rest of the app keeps working


def test_a_source_over_the_length_cap_is_refused_with_a_notice():
    source = "def kernel(params, x, y):\n    return 1.0\n" + "#" * MAX_SOURCE_CHARS
    at = open_page(PAGE, {"n": N, SOURCE_KEY: source})
    no_exception(at)
    assert any(f"{MAX_SOURCE_CHARS:,}" in c or str(MAX_SOURCE_CHARS) in c for c in codes(at))


def test_frame_gammas_span_three_decades_each_way_of_the_default():
    g = frame_gammas(0.5)
    assert g.size == 64 and g[0] == pytest.approx(0.5e-3) and g[-1] == pytest.approx(0.5e3)


def test_frames_payload_keeps_each_value_to_one_colour_step_and_marks_nan_cells():
    from ui.components.live_heatmap import frames_payload

    rng = np.random.default_rng(0)
    frames = rng.uniform(-3.0, 5.0, size=(4, 6, 6))
    frames[1, 2, 3] = np.nan
    frames[2, 0, 0] = np.inf
    sent = decode_frames(frames_payload(frames, np.array([0.1, 1.0, 10.0, 100.0]), 12, 2,
                                        np.arange(12)))
    finite = np.isfinite(frames)
    assert (sent["lo"], sent["hi"]) == (frames[finite].min(), frames[finite].max())
    assert np.array_equal(np.isnan(sent["frames"]), ~finite)
    step = (sent["hi"] - sent["lo"]) / 254
    np.testing.assert_allclose(sent["frames"][finite], frames[finite], atol=step / 2 + 1e-12)
    np.testing.assert_allclose(sent["gammas"], [0.1, 1.0, 10.0, 100.0])
    # A kernel whose values lie in [0, 1] keeps the Gram explorer's colour scale.
    unit = decode_frames(frames_payload(np.full((1, 2, 2), 0.3), np.array([1.0]), 2, 1, np.arange(2)))
    assert (unit["lo"], unit["hi"]) == (0.0, 1.0)


def test_at_its_defaults_the_live_heatmap_draws_the_export_views_arrays():
    """The notes' RBF at the page's defaults (N = 400, pooled 4 × 4 to 100 × 100 cells): the
    exact K after release and the 64 frames are `workbench_arrays`' (the export's view),
    called here on the same data with the kernel as plain Python; rows in the same order."""
    from core.export import user_kernel_cell
    from core.kernels.functions import median_heuristic_gamma
    from core.views.workbench import workbench_arrays

    at = open_page(PAGE)
    no_exception(at)
    X, y = data_of(at)
    gamma = float(at.session_state["gamma"])
    namespace: dict = {}
    exec(user_kernel_cell(EXAMPLES[next(iter(EXAMPLES))].source), namespace)  # the notes' RBF
    view = workbench_arrays(namespace["make_kernel"](), X, y, params={"gamma": gamma},
                            default_gamma=median_heuristic_gamma(X), timed=False)
    sent = payloads(at)
    exact = decode_exact(sent[LIVE_KEY + "_exact"])
    assert exact["n"] == X.shape[0] == 400 and exact["factor"] == 4 and exact["gamma"] == gamma
    np.testing.assert_allclose(exact["K"], view["K_pooled"], atol=2e-6)
    frames = decode_frames(sent[LIVE_KEY])
    np.testing.assert_array_equal(frames["order"], np.argsort(y, kind="stable"))
    np.testing.assert_allclose(frames["gammas"], view["frame_gammas"], rtol=1e-6)
    assert frames["frames"].shape == view["frames"].shape == (64, 100, 100)
    step = (frames["hi"] - frames["lo"]) / 254  # one byte a cell over the frames' range
    np.testing.assert_allclose(frames["frames"], view["frames"], atol=step / 2 + 2e-6)
    assert list(at.dataframe[0].value["agrees"]) == ["yes"] * 3
