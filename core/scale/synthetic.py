"""Synthetic data for the block engine: up to a million seeded points in a few dimensions.

`core.data.load_dataset` caps N where a dense N × N matrix still fits; these sets
go past that, for `core.scale`. Points come out ordered (by cluster, or along the
first coordinate), so the structure of K shows in a pooled heatmap of the matrix.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
from numpy.typing import DTypeLike

from core.errors import DataError
from core.precision import canonical_dtype

__all__ = ["SCALE_DATASETS", "MAX_SCALE_POINTS", "MAX_SCALE_FEATURES", "synthetic_points"]

MAX_SCALE_POINTS = 1_000_000
MAX_SCALE_FEATURES = 8
_CLUSTERS = 5

SCALE_DATASETS = MappingProxyType({
    "blobs": f"{_CLUSTERS} Gaussian clusters of equal size, points ordered by cluster.",
    "uniform": "Uniform in the cube [-1, 1]^D, points ordered by their first coordinate.",
})


def synthetic_points(kind: str, n: int, d: int, seed: int = 0,
                     dtype: DTypeLike = "float32") -> np.ndarray:
    """`n` seeded points in `d` dimensions; the same arguments give the same array.

    Args:
      kind: a key of `SCALE_DATASETS`.
      n: number of points, 2 <= n <= MAX_SCALE_POINTS.
      d: number of features, 1 <= d <= MAX_SCALE_FEATURES.
      seed: the generator's seed, >= 0.
      dtype: "float32" or "float64".

    Returns:
      X of shape (n, d) and the requested dtype, C-contiguous.

    Raises:
      DataError: an unknown kind or a size out of range, with the valid range.
    """
    if kind not in SCALE_DATASETS:
        raise DataError(f"Unknown synthetic dataset {kind!r}: choose one of "
                        f"{', '.join(SCALE_DATASETS)}.")
    if not 2 <= n <= MAX_SCALE_POINTS:
        raise DataError(f"N = {n:,} is out of range: choose 2 ≤ N ≤ {MAX_SCALE_POINTS:,}.")
    if not 1 <= d <= MAX_SCALE_FEATURES:
        raise DataError(f"D = {d} is out of range: choose 1 ≤ D ≤ {MAX_SCALE_FEATURES}.")
    if seed < 0:
        raise DataError(f"The seed must be zero or positive, got {seed}.")
    rng = np.random.default_rng(seed)
    if kind == "blobs":
        centres = rng.uniform(-6.0, 6.0, size=(_CLUSTERS, d))
        # Equal cluster sizes in cluster order: contiguous blocks of rows.
        label = np.arange(n) * _CLUSTERS // n
        X = centres[label] + rng.standard_normal((n, d))
    else:
        X = rng.uniform(-1.0, 1.0, size=(n, d))
        X = X[np.argsort(X[:, 0], kind="stable")]
    return np.ascontiguousarray(X, dtype=canonical_dtype(dtype))
