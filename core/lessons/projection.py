"""A 2-D view of any data: the first two principal components."""

from __future__ import annotations

import numpy as np

__all__ = ["pca_2d"]


def pca_2d(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project X onto its first two principal axes.

    Args:
      X: shape (N, D).

    Returns:
      `(Z, explained)`: Z shape (N, 2) (float64; D = 1 gets a zero second
      column, D = 2 is only centred), explained shape (2,) the fraction of
      variance each axis keeps.
    """
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0)
    if X.shape[1] <= 2:
        Z = np.zeros((X.shape[0], 2))
        Z[:, : X.shape[1]] = Xc
        var = Xc.var(axis=0) if X.shape[0] > 1 else np.zeros(X.shape[1])
        total = var.sum() or 1.0
        explained = np.zeros(2)
        explained[: X.shape[1]] = var / total
        return Z, explained
    # SVD of the centred data: right singular vectors are the principal axes.
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    total = float(np.sum(s**2)) or 1.0
    return Xc @ vt[:2].T, (s[:2] ** 2) / total
