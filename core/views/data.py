"""The data of a view: a built-in dataset, or the user's own file, in the chosen dtype."""

from __future__ import annotations

import numpy as np

from core.data.datasets import load_dataset
from core.data.uploads import load_table

__all__ = ["builtin_data", "upload_data", "subsample_rows"]


def subsample_rows(X: np.ndarray, n: int, seed: int) -> np.ndarray:
    """X itself when it has at most n rows, else a seeded sample of n rows in their order.

    Returns:
      shape (min(N, n), D), dtype of X.
    """
    if X.shape[0] <= n:
        return X
    idx = np.sort(np.random.default_rng(seed).choice(X.shape[0], n, replace=False))
    return X[idx]


def builtin_data(dataset: str, n: int, seed: int, noise: float,
                 dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """X (n, D) of `dtype` and its labels y (n,) int64, as the app's sidebar loads them."""
    return load_dataset(dataset, n=n, seed=seed, noise=noise, dtype=dtype)


def upload_data(path: str, n: int, seed: int, dtype: str) -> tuple[np.ndarray, None]:
    """The user's CSV, TSV or .npy file, checked as the app checks an upload, at most n rows.

    Returns:
      `(X, None)`: X (min(rows, n), D) of `dtype` (an upload has no labels).
    """
    return subsample_rows(load_table(path), n, seed).astype(dtype), None
