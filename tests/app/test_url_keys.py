"""The URL's names are declared where each page's controls are defined, at import.

ui/state/url.py's `url_keys` registry: a page's names (and families of names by prefix)
belong to that page alone, `bound` refuses a key no page declared, and a session's first
run imports every page's declaring modules before it drops a link's unknown parameters,
so a link to a page this server has not run yet keeps its values.
(tests/app/test_share_links.py checks that each page draws exactly the names declared for it.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import streamlit as st

from tests.app.conftest import ROOT
from ui.state.url import bound, declare_all, owner_of, url_keys

# Run in a fresh interpreter: in this test process other tests have imported every page's
# modules already, and with them their names. The link lands on the Fit page and carries
# names of pages not run yet: the Kernel lab's family w_kern_k1_<parameter>, the Workbench's
# wb_<name>, a "vmap, further" tab's control.
_DEEP_LINK = """
import json, sys
from tests.app.conftest import open_page, widget

declaring = ("ui.state.kernel_lab", "ui.workbench", "ui.state.further", "ui.state.fit")
imported_before = [m for m in declaring if m in sys.modules]
at = open_page("fit.py", {"fit_data": "Diabetes", "fit_seed": "3", "w_kern_k1": "Periodic",
                          "w_kern_k1_period": "2", "wb_ell": "0.5", "further_jac_n": "16"})
print(json.dumps({"imported_before": imported_before, "warnings": [w.value for w in at.warning],
                  "query": dict(at.query_params),
                  "fit": [widget(at, "fit_data").value, widget(at, "fit_seed").value]}))
"""


def test_a_link_to_pages_not_run_yet_keeps_their_values():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VMAP_WARMUP": "0"}
    out = subprocess.run([sys.executable, "-c", _DEEP_LINK], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["imported_before"] == []  # nothing declared before the first run
    assert not [w for w in report["warnings"] if "URL" in w], report["warnings"]
    assert report["fit"] == ["diabetes", 3]  # the page's own values, honoured
    assert report["query"] == {"fit_data": "Diabetes", "fit_seed": "3", "w_kern_k1": "Periodic",
                               "w_kern_k1_period": "2", "wb_ell": "0.5", "further_jac_n": "16"}


def test_bound_refuses_a_key_no_page_declared():
    declare_all()
    with pytest.raises(ValueError, match=r"'w_race_method'.*url_keys\(.*controls"):
        bound(st.slider, "Typo", 1, 10, key="w_race_method")  # the race declares w_race_methods


@pytest.mark.parametrize("names", [
    dict(methods="w_race_methods"),  # the Batching race's
    dict(gamma="gamma"),  # the sidebar's
    dict(period="w_kern_k2_period"),  # in the Kernel lab's family w_kern_k2_<parameter>
    dict(prefixes=("w_race_",)),  # a family holding the race's names
    dict(prefixes=("w_kern_k1_p",)),  # inside the Kernel lab's family
    dict(prefixes=("w",)),  # holding every family
])
def test_a_name_or_family_of_another_page_cannot_be_declared_again(names):
    declare_all()
    with pytest.raises(ValueError, match="already|overlaps"):
        url_keys("gram", **names)
    assert owner_of("w_race_methods") == "race" and owner_of("w_kern_k2_period") == "kernels"
