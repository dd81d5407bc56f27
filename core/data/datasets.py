"""The built-in datasets: synthetic ones from scikit-learn's generators and small real
ones shipped inside scikit-learn (no network).

`load_dataset` gives the same arrays for the same (name, n, seed, noise), validated,
in the dtype asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import DTypeLike

from core.errors import DataError
from core.precision import canonical_dtype

__all__ = ["DatasetSpec", "DATASETS", "MAX_POINTS", "load_dataset"]

# Dense kernel matrices are n x n: 20k points is 1.6 GB in float32 already, so
# larger inputs go through the block engine (core.scale, the Scale page), not here.
MAX_POINTS = 20_000


@dataclass(frozen=True)
class DatasetSpec:
    """What the UI needs to know about one built-in dataset.

    Attributes:
      name: key in `DATASETS` and argument of `load_dataset`.
      label: short human name for a select box.
      kind: "synthetic" (generated) or "real" (measured data).
      n_features: number of columns d of X.
      n_available: rows in a real dataset (the most `n` can give); None for
        synthetic sets, which make exactly `n` rows.
      uses_n: whether the `n` argument changes the result.
      uses_noise: whether the `noise` argument changes the result.
      uses_seed: whether the `seed` argument changes the result (for real sets,
        only when `n < n_available`, because it picks the subsample).
      description: one line for a caption.
    """

    name: str
    label: str
    kind: str
    n_features: int
    n_available: int | None
    uses_n: bool
    uses_noise: bool
    uses_seed: bool
    description: str


_SPECS = (
    DatasetSpec("blobs", "Blobs", "synthetic", 2, None, True, False, True,
                "Three Gaussian clusters in 2-D (sklearn make_blobs)."),
    DatasetSpec("moons", "Two moons", "synthetic", 2, None, True, True, True,
                "Two interleaving half circles in 2-D; noise jitters the points."),
    DatasetSpec("circles", "Circles", "synthetic", 2, None, True, True, True,
                "A small circle inside a large one in 2-D; noise jitters the points."),
    DatasetSpec("uniform", "Uniform square", "synthetic", 2, None, True, False, True,
                "Points drawn uniformly from the square [-1, 1]^2 (no labels)."),
    DatasetSpec("grid1d", "1-D grid", "synthetic", 1, None, True, False, False,
                "Evenly spaced points on [-3, 3], one feature: for kernel and GP plots."),
    DatasetSpec("iris", "Iris", "real", 4, 150, True, False, True,
                "150 iris flowers, 4 measurements, 3 species."),
    DatasetSpec("wine", "Wine", "real", 13, 178, True, False, True,
                "178 wines, 13 chemical measurements, 3 cultivars."),
    DatasetSpec("breast_cancer", "Breast cancer", "real", 30, 569, True, False, True,
                "569 tumour biopsies, 30 image features, benign or malignant."),
    DatasetSpec("digits", "Digits (8x8)", "real", 64, 1797, True, False, True,
                "1797 handwritten digits as 8x8 grey-level images, 64 features."),
)

DATASETS: Mapping[str, DatasetSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})


# --------------------------------------------------------------------------- #
# Built-in datasets
# --------------------------------------------------------------------------- #


@functools.lru_cache(maxsize=None)
def _load_real(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The full real dataset as read-only float64 X (N, d) and int64 y (N,)."""
    from sklearn import datasets  # deferred: importing sklearn costs ~1 s

    loader = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
        "digits": datasets.load_digits,
    }[name]
    bunch = loader()
    features = np.ascontiguousarray(bunch.data, dtype=np.float64)
    labels = np.ascontiguousarray(bunch.target, dtype=np.int64)
    # The cache hands out the same arrays to every caller: make them immutable
    # so one caller cannot corrupt another's data.
    features.flags.writeable = False
    labels.flags.writeable = False
    return features, labels


def _stratified_subsample(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of `n` rows, without replacement, keeping class proportions.

    Each row gets a key (rank within its class in a random order + jitter) /
    (class size), so every class is spread evenly over [0, 1) and the `n`
    smallest keys take about n * class_fraction rows of every class. Plain random
    sampling can miss a class entirely for small n.

    Returns:
      int64 (n,) sorted indices, so rows keep their original order.
    """
    rng = np.random.default_rng(seed)
    keys = np.empty(labels.shape[0])
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        ranks = rng.permutation(members.size)
        keys[members] = (ranks + rng.uniform(size=members.size)) / members.size
    chosen = np.argsort(keys, kind="stable")[:n]
    return np.sort(chosen)


def _check_dataset_args(name: str, n: int, seed: int, noise: float) -> DatasetSpec:
    if name not in DATASETS:
        raise DataError(
            f"Unknown dataset {name!r}. Choose one of: {', '.join(DATASETS)}."
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise DataError(f"The number of points must be a whole number, got {n!r}.")
    if n < 2:
        raise DataError(f"The number of points must be at least 2, got {n}. Choose a larger n.")
    if n > MAX_POINTS:
        raise DataError(
            f"{n:,} points is more than the {MAX_POINTS:,} this view can handle. "
            f"Choose n <= {MAX_POINTS:,}, or use the Scale page (the block engine never holds N × N)."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise DataError(f"The seed must be a whole number from 0 to 4294967295, got {seed!r}.")
    try:
        noise_value = float(noise)
    except (TypeError, ValueError):
        raise DataError(f"The noise level must be a number, got {noise!r}.") from None
    if not np.isfinite(noise_value) or noise_value < 0:
        raise DataError(f"The noise level must be zero or positive, got {noise!r}. Choose noise >= 0.")
    return DATASETS[name]


def load_dataset(
    name: str,
    n: int = 300,
    seed: int = 0,
    noise: float = 0.1,
    dtype: DTypeLike = "float32",
    standardize: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One of the built-in datasets in `DATASETS`.

    The same (name, n, seed, noise) always gives identical arrays.

    Args:
      name: a key of `DATASETS`.
      n: number of rows, 2 <= n <= MAX_POINTS. For real sets it is a cap: when
        `n` is below the number of rows available, a seeded subsample keeping the
        class proportions (rows stay in their original order); otherwise all rows.
      seed: random seed, 0 <= seed < 2**32 (ignored where the spec says so).
      noise: standard deviation of the jitter for "moons" and "circles", >= 0.
      dtype: float dtype of X, "float32" or "float64".
      standardize: if True, shift and scale each column to mean 0 and standard
        deviation 1 (constant columns are only shifted).

    Returns:
      X: (n, d) C-contiguous array of `dtype`.
      y: (n,) int64 class labels (all zero for "uniform" and "grid1d").

    Raises:
      DataError: unknown name, n out of range, bad seed, negative noise or an
        unsupported dtype.
    """
    spec = _check_dataset_args(name, n, seed, noise)
    try:
        out_dtype = canonical_dtype(dtype)
    except (TypeError, ValueError):
        raise DataError(f"Unsupported dtype {dtype!r}. Choose float32 or float64.") from None
    n, seed, noise = int(n), int(seed), float(noise)

    if spec.kind == "real":
        features, labels = _load_real(name)
        if n < features.shape[0]:
            rows = _stratified_subsample(labels, n, seed)
            features, labels = features[rows], labels[rows]
    else:
        from sklearn import datasets  # deferred: importing sklearn costs ~1 s

        if name == "blobs":
            features, labels = datasets.make_blobs(
                n_samples=n, n_features=2, centers=3, cluster_std=1.0,
                center_box=(-6.0, 6.0), random_state=seed,
            )
        elif name == "moons":
            features, labels = datasets.make_moons(n_samples=n, noise=noise, random_state=seed)
        elif name == "circles":
            features, labels = datasets.make_circles(
                n_samples=n, noise=noise, factor=0.5, random_state=seed
            )
        elif name == "uniform":
            features = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, 2))
            labels = np.zeros(n, dtype=np.int64)
        else:  # grid1d
            features = np.linspace(-3.0, 3.0, n)[:, None]
            labels = np.zeros(n, dtype=np.int64)

    features = np.asarray(features, dtype=np.float64)
    if standardize:
        # Statistics in float64 so float32 output is as accurate as it can be.
        scale = features.std(axis=0)
        scale[scale == 0] = 1.0  # a constant column has no spread to divide by
        features = (features - features.mean(axis=0)) / scale
    return (
        np.array(features, dtype=out_dtype, order="C"),
        np.array(labels, dtype=np.int64, order="C"),
    )


# --------------------------------------------------------------------------- #
# User uploads
# --------------------------------------------------------------------------- #
