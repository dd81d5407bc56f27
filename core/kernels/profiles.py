"""Kernels that are functions of one distance: k(x, y) = profile(gamma, s(x, y)).

For these kernels a new gamma needs no new distances: the browser can redraw a
Gram matrix from distances sent once (the Gram explorer's live heatmap). Each
profile here is the NumPy twin of the kernel's vector form in
`core.kernels.functions`, and of the JavaScript in `ui/components/live_heatmap.js`
(tests compare all three). The periodic kernel is a function of the distance
too, but it is not monotone in it (so not a mixture of exp(-t s), whose errors
bound the others' per-cell preview, `core.scale.summary`): it stays on the server
path with the linear and polynomial kernels.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

import numpy as np
from scipy.spatial.distance import cdist

__all__ = ["DistanceProfile", "DISTANCE_PROFILES", "NOT_LIVE_REASONS", "pairwise_l1"]


def _rbf(s: np.ndarray, gamma: float, params: Mapping) -> np.ndarray:
    return np.exp(-gamma * s)


def _matern(nu2: int) -> Callable[[np.ndarray, float, Mapping], np.ndarray]:
    def profile(s: np.ndarray, gamma: float, params: Mapping) -> np.ndarray:
        # r = |x - y| / lengthscale, lengthscale = 1 / sqrt(2 gamma); s = |x - y|².
        t = np.sqrt(nu2 * 2.0 * gamma * np.maximum(s, 0.0))
        return (1 + t + (t * t / 3 if nu2 == 5 else 0.0)) * np.exp(-t)
    return profile


def _rational_quadratic(s: np.ndarray, gamma: float, params: Mapping) -> np.ndarray:
    alpha = params["alpha"]
    return (1 + gamma * s / alpha) ** (-alpha)


@dataclasses.dataclass(frozen=True)
class DistanceProfile:
    """How a kernel depends on one distance.

    Attributes:
      distance: "sqeuclidean" (s = |x - y|²) or "l1" (s = |x - y|₁).
      fn: `fn(s, gamma, params) -> k`, elementwise on an array s (any shape);
        decreasing in s for fixed gamma and params.
      code: the number the browser uses for this profile (see live_heatmap.js).
    """

    distance: str
    fn: Callable[[np.ndarray, float, Mapping], np.ndarray]
    code: int


DISTANCE_PROFILES: dict[str, DistanceProfile] = {
    "rbf": DistanceProfile("sqeuclidean", _rbf, 0),
    "laplacian": DistanceProfile("l1", _rbf, 0),  # exp(-gamma s) of the L1 distance
    "matern32": DistanceProfile("sqeuclidean", _matern(3), 1),
    "matern52": DistanceProfile("sqeuclidean", _matern(5), 2),
    "rational_quadratic": DistanceProfile("sqeuclidean", _rational_quadratic, 3),
}

NOT_LIVE_REASONS: dict[str, str] = {
    "periodic": "the periodic kernel rises and falls with distance, so a pooled cell's "
                "preview from a few points of its distances has no measured error",
    "linear": "the linear kernel depends on the dot product x·y, not on a distance",
    "polynomial": "the polynomial kernel depends on the dot product x·y, not on a distance",
}


def pairwise_l1(X: np.ndarray) -> np.ndarray:
    """L1 (city-block) distances of the rows of X (N, D): shape (N, N), X's dtype.

    Summed in float64 by SciPy (no cancellation: a sum of absolute values), then
    cast to X's dtype, so float32 entries are correctly rounded.
    """
    X = np.asarray(X)
    return cdist(X.astype(np.float64), X.astype(np.float64), "cityblock").astype(X.dtype)
