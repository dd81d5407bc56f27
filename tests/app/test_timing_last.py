"""A page's own timing runs after the rest of the screen is drawn.

Timing a lesson takes seconds on a busy machine; the charts, code and jaxprs around it
must not wait for it. Each case makes the page's timing function fail as it starts and
checks that what is drawn elsewhere on the screen (below the timed figures as well as
above them) is already there, and that the timed figures are not.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT, TIMEOUT_S, plotly_figures


class TimingHeldBack(RuntimeError):
    pass


def _held_back(*args, **kwargs):
    raise TimingHeldBack("the timing was reached")


def _open(page: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(f"app_pages/{page}")
    return at.run()


# page, URL, the timing function the page calls, the figures it times, what must be drawn
# regardless (a chart key, or a snippet of a code block).
CASES = {
    "vmap anatomy": ("anatomy.py", {}, "core.views.anatomy.predict_forms",
                     "w_anatomy_forms_chart", ["w_anatomy_late_chart", "code:def late_binding_demo"]),
    "Gradients": ("gradients.py", {}, "core.views.gradients.per_sample_gradients",
                  "w_grad_timing_chart", ["w_grad_summary_chart", "w_grad_derivative_chart"]),
    "further, Control flow": ("further.py", {"further_topic": "Control flow"},
                              "ui.further.control.cond_section", "w_further_cond_chart",
                              ["w_further_while_chart", "code:select_n", "code:def newton_sqrt"]),
    "further, Jacobians": ("further.py", {"further_topic": "Jacobians"},
                           "ui.further.jacobians.jacobian_sweep", "w_further_jac_chart",
                           ["code:def jacobian_by_vjp"]),
    "further, Memory": ("further.py", {"further_topic": "Memory"}, "ui.further.memory.memory_tab",
                        "w_further_memory_chart", ["code:def knn_sqdist"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_rest_of_the_screen_is_drawn_before_the_timing_starts(case, monkeypatch):
    page, query, target, timed_chart, drawn = CASES[case]
    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{name}", _held_back)
    at = _open(page, query)
    assert [e.value for e in at.exception if "the timing was reached" in e.value], \
        "the page never reached its timing"
    charts = plotly_figures(at)
    codes = [c.value for c in at.code]
    for item in drawn:
        if item.startswith("code:"):
            assert any(item[5:] in c for c in codes), f"{item[5:]!r} not drawn before the timing"
        else:
            assert item in charts, f"{item} not drawn before the timing"
    assert timed_chart not in charts
