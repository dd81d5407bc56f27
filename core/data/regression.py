"""Data with a target, for the Fit page: 1-D and 2-D synthetic functions, and diabetes.

Each set comes as training rows and held-out rows (for the predictive density),
drawn together from one seed. The synthetic targets are a known smooth function
plus Gaussian noise; scikit-learn's diabetes set (shipped with it, no network) is
standardized (features and target to mean 0 and standard deviation 1, with the
training rows' statistics) because the GP has a zero mean and amplitude near 1.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Callable

import numpy as np
from numpy.typing import DTypeLike

from core.errors import DataError
from core.precision import canonical_dtype

__all__ = ["RegressionSet", "REGRESSION_SETS", "RegressionData", "load_regression", "held_out_size",
           "regression_from_table",
           "sine_1d", "wave_2d", "DIABETES_ROWS"]

DIABETES_ROWS = 442
MAX_TRAIN = 2000  # K is N×N and the surface factors it G² times


def sine_1d(X: np.ndarray) -> np.ndarray:
    """The 1-D truth: sin(2x) + 0.3·x at the rows of X (N, 1); shape (N,)."""
    return np.sin(2.0 * X[:, 0]) + 0.3 * X[:, 0]


def wave_2d(X: np.ndarray) -> np.ndarray:
    """The 2-D truth: sin(x₁)·cos(x₂) at the rows of X (N, 2); shape (N,)."""
    return np.sin(X[:, 0]) * np.cos(X[:, 1])


@dataclasses.dataclass(frozen=True)
class RegressionSet:
    """One built-in set: its label (short: the page's URL holds it), feature count, whether
    noise applies, row cap, a one-line description and the true function (synthetic sets)."""

    name: str
    label: str
    n_features: int
    uses_noise: bool
    max_train: int
    description: str
    truth: Callable[[np.ndarray], np.ndarray] | None = None


def held_out_size(n: int) -> int:
    """Held-out rows that go with n training rows: a quarter, at least 10."""
    return max(10, n // 4)


_SETS = (
    RegressionSet("sine_1d", "1-D sine", 1, True, MAX_TRAIN,
                  "x uniform on [−3, 3]; y = sin(2x) + 0.3x + noise·ε, ε standard normal.",
                  sine_1d),
    RegressionSet("wave_2d", "2-D wave", 2, True, MAX_TRAIN,
                  "x uniform on [−3, 3]²; y = sin(x₁)·cos(x₂) + noise·ε.", wave_2d),
    RegressionSet("diabetes", "Diabetes", 10, False,
                  DIABETES_ROWS - held_out_size(DIABETES_ROWS * 4 // 5),
                  "scikit-learn's diabetes set: 442 patients, 10 baseline measurements; target: disease progression one "
                  "year later. Features and target standardized."),
)

REGRESSION_SETS: Mapping[str, RegressionSet] = MappingProxyType({s.name: s for s in _SETS})


@dataclasses.dataclass(frozen=True)
class RegressionData:
    """Training and held-out rows of one set.

    Attributes:
      X: shape (N, D). y: shape (N,). X_test: shape (M, D). y_test: shape (M,).
      spec: the `RegressionSet`.
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    spec: RegressionSet


def _standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mean, sd = train.mean(axis=0), train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)  # a constant column stays constant instead of dividing by 0
    return [(a - mean) / sd for a in (train, *others)]


def load_regression(name: str, n: int, noise: float = 0.2, seed: int = 0,
                    dtype: DTypeLike = "float32") -> RegressionData:
    """n training rows and `held_out_size(n)` held-out rows of set `name`.

    Args:
      name: a key of `REGRESSION_SETS`.
      n: training rows, 2 ≤ n ≤ the set's `max_train`.
      noise: standard deviation of the synthetic targets' noise (ignored by diabetes).
      seed: draws the synthetic points and noise, or picks diabetes' rows.
      dtype: "float32" or "float64".

    Raises:
      DataError: unknown name, n out of range, or negative noise.
    """
    spec = REGRESSION_SETS.get(name)
    if spec is None:
        raise DataError(f"Unknown regression set {name!r}: choose one of {', '.join(REGRESSION_SETS)}.")
    if not 2 <= n <= spec.max_train:
        raise DataError(f"{spec.label} takes 2 to {spec.max_train} training rows; got {n}.")
    if not (np.isfinite(noise) and noise >= 0):
        raise DataError(f"Noise must be a number ≥ 0; got {noise}.")
    m = held_out_size(n)
    rng = np.random.default_rng(seed)
    if spec.truth is not None:
        X_all = rng.uniform(-3.0, 3.0, size=(n + m, spec.n_features))
        y_all = spec.truth(X_all) + noise * rng.standard_normal(n + m)
        X, X_test, y, y_test = X_all[:n], X_all[n:], y_all[:n], y_all[n:]
    else:
        from sklearn.datasets import load_diabetes  # imported here: slow, and only this set needs it

        features, target = load_diabetes(return_X_y=True)
        rows = rng.permutation(features.shape[0])[:n + m]
        X, X_test = _standardize(features[rows[:n]], features[rows[n:]])
        (y, y_test) = (a[:, 0] for a in _standardize(target[rows[:n], None], target[rows[n:], None]))
    dt = canonical_dtype(dtype)
    return RegressionData(X.astype(dt), y.astype(dt), X_test.astype(dt), y_test.astype(dt), spec)


def regression_from_table(table: np.ndarray, target: int, n: int, seed: int = 0,
                          dtype: DTypeLike = "float32") -> RegressionData:
    """A user's table as regression data: column `target` is y, the others are X.

    Rows are shuffled by `seed`; up to n go to training and `held_out_size(n)` (fewer
    if the table is short, at least 10) are held out. Features and target are
    standardized with the training rows' statistics, as for diabetes.

    Args:
      table: shape (rows, C), finite (what `core.data.load_table` returns).
      target: 0-based column index of the target.
      n: training rows wanted (capped by what the table has).
      seed: the shuffle.
      dtype: "float32" or "float64".

    Raises:
      DataError: fewer than 2 columns or 12 rows, or no such target column.
    """
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] < 2:
        raise DataError("A fit needs at least 2 columns: one or more features and the target.")
    rows, cols = table.shape
    if not 0 <= target < cols:
        raise DataError(f"There is no column {target + 1}: the table has {cols} columns.")
    if rows < 12:
        raise DataError(f"The table has {rows} rows: a fit needs at least 12 (2 to train, 10 held out).")
    m = held_out_size(n) if n + held_out_size(n) <= rows else max(10, rows // 5)
    n = min(n, rows - m)
    order = np.random.default_rng(seed).permutation(rows)
    features = np.delete(table, target, axis=1)
    X, X_test = _standardize(features[order[:n]], features[order[n:n + m]])
    y, y_test = (a[:, 0] for a in _standardize(table[order[:n], target, None],
                                               table[order[n:n + m], target, None]))
    spec = RegressionSet("upload", "Your upload", cols - 1, False, rows - m,
                         f"Your table: column {target + 1} is the target, the other {cols - 1} the "
                         "features; both standardized with the training rows' statistics.")
    dt = canonical_dtype(dtype)
    return RegressionData(X.astype(dt), y.astype(dt), X_test.astype(dt), y_test.astype(dt), spec)
