"""ui/state/settings.py without Streamlit: the log grids, snapping, and what Settings keys on."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from tests.app.conftest import ROOT
from ui.state.settings import GAMMAS, UPLOAD, Settings, Upload, log_grid, snap_gamma, snap_log


def test_settings_import_no_streamlit():
    code = "import sys, ui.state.settings; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_gamma_grid_is_20_per_decade_from_1e_6_to_1e4():
    expected = 10.0 ** (np.arange(-6 * 20, 4 * 20 + 1) / 20)
    assert len(GAMMAS) == len(expected) == 201
    # Rounded to 4 significant digits: relative error at most 5e-4.
    np.testing.assert_allclose(GAMMAS, expected, rtol=5e-4)


def test_a_log_grid_passes_through_its_anchor_and_snapping_is_nearest_in_log():
    grid = log_grid(0.05, 50.0, 1.0)
    assert 1.0 in grid and grid[0] >= 0.05 and grid[-1] <= 50.0
    for value in (0.07, 1.0, 3.3, 49.0):
        nearest = grid[int(np.argmin(np.abs(np.log(grid) - np.log(value))))]
        assert snap_log(grid, value) == nearest
    assert snap_gamma(2.0) == 1.995 and snap_gamma(1e9) == 1e4


def test_an_uploads_key_is_its_content_not_its_array():
    X = np.arange(6.0).reshape(3, 2)
    upload = Upload("a.csv", "abc123", X)
    s = Settings(dataset=UPLOAD, n=3, noise=0.1, seed=0, dtype="float32", kernel="rbf", gamma=1.0,
                 kernel_params={}, method="auto", upload=upload)
    assert s.data_key == (UPLOAD, "abc123", 3, 0, "float32")
    assert Upload("a.csv", "abc123", X.copy()) == upload  # compared by name and hash, not by array
