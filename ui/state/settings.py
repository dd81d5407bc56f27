"""What the user chose, without Streamlit: `Settings`, the upload it points at, log grids.

The sidebar (ui/state/sidebar.py) fills a `Settings` from its widgets; pages and
ui/state/cache.py read only this. Nothing here imports Streamlit, so the grids and
the snapping are testable on their own.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from core.data import DATASETS
from core.kernels.functions import KERNELS, ParamSpec

__all__ = [
    "DataChoice",
    "Settings",
    "Upload",
    "UPLOAD",
    "N_MIN",
    "N_MAX",
    "DEFAULT_N",
    "GAMMAS",
    "gamma_grid",
    "snap_gamma",
    "log_grid",
    "snap_log",
    "grid_label",
    "kernel_param_specs",
]

UPLOAD = "upload"  # the dataset name of the user's own file
N_MIN, N_MAX, DEFAULT_N = 10, 4000, 400
GAMMA_MIN_EXP, GAMMA_MAX_EXP, GAMMA_STEPS_PER_DECADE = -6, 4, 20
GRID_DIGITS = 4  # significant digits of every log-grid value: its canonical precision


def log_grid(low: float, high: float, anchor: float, per_decade: int = 20) -> tuple[float, ...]:
    """Log-spaced values in [low, high] through `anchor` (so a default is on the grid).

    Returns:
      Python floats rounded to GRID_DIGITS significant digits, ascending.
    """
    ks = np.arange(math.ceil(per_decade * math.log10(low / anchor) - 1e-9),
                   math.floor(per_decade * math.log10(high / anchor) + 1e-9) + 1)
    return tuple(float(grid_label(anchor * 10 ** (k / per_decade))) for k in ks)


def grid_label(value: float) -> str:
    """A log-grid value as every control, title and URL writes it: "0.1995", "1e-06".

    The grid's values have GRID_DIGITS significant digits, so this text is the value
    exactly: a slider that shows it, a URL that holds it and the browser's live
    slider (`fmt` in ui/components/live_heatmap.js, 4 digits) all say the same number.
    Fewer digits made the URL say gamma=0.2 for the 0.1995 a slider showed.
    """
    return f"{value:.{GRID_DIGITS}g}"


def snap_log(grid: tuple[float, ...], value: float) -> float:
    """The value of the log-spaced `grid` nearest to `value` (a positive float)."""
    return grid[int(np.argmin(np.abs(np.log10(grid) - math.log10(value))))]


def gamma_grid() -> tuple[float, ...]:
    """The log-spaced gamma values of the slider, 20 per decade from 1e-6 to 1e4.

    Its ends are the cap on gamma: a URL value outside them is refused.
    """
    return log_grid(10.0**GAMMA_MIN_EXP, 10.0**GAMMA_MAX_EXP, 1.0, GAMMA_STEPS_PER_DECADE)


GAMMAS = gamma_grid()


def snap_gamma(gamma: float) -> float:
    """The gamma slider's value nearest to `gamma` on a log scale."""
    return snap_log(GAMMAS, gamma)


def kernel_param_specs() -> dict[str, ParamSpec]:
    """Every kernel parameter but gamma, by name (one sidebar control each)."""
    specs: dict[str, ParamSpec] = {}
    for k in KERNELS.values():
        for p in k.params:
            if p.name != "gamma":
                specs.setdefault(p.name, p)
    return specs


@dataclasses.dataclass(frozen=True)
class Upload:
    """A validated upload: X (rows, D) float64, its file name and a content hash."""

    name: str
    sha: str
    X: np.ndarray = dataclasses.field(compare=False, repr=False)
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class DataChoice:
    """Which data the sidebar points at: enough to load it (`ui.state.cache.load_data`)."""

    dataset: str
    n: int
    noise: float
    seed: int
    dtype: str
    upload: Upload | None = dataclasses.field(default=None, repr=False)

    @property
    def data_key(self) -> tuple:
        """Small hashable key of the data (for caches keyed on scalars)."""
        if self.dataset == UPLOAD:
            sha = self.upload.sha if self.upload else None
            return (UPLOAD, sha, self.n, self.seed, self.dtype)
        spec = DATASETS[self.dataset]
        return (self.dataset, self.n, self.noise if spec.uses_noise else 0.0,
                self.seed if spec.uses_seed else 0, self.dtype)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(DataChoice):
    """What the user chose in the sidebar; pages read only this. Built once per run, from
    the bound controls, by `ui.state.sidebar.render_sidebar`."""

    kernel: str
    gamma: float
    kernel_params: dict[str, float]
    method: str

    @property
    def params(self) -> dict[str, float]:
        """The kernel's full parameter dict, gamma included where it has one."""
        names = {p.name for p in KERNELS[self.kernel].params}
        out = {k: v for k, v in self.kernel_params.items() if k in names}
        if "gamma" in names:
            out["gamma"] = self.gamma
        return out
