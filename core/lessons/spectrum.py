"""What the eigenvalues of a Gram matrix say: effective rank and conditioning.

An RBF Gram matrix is symmetric positive semi-definite. Its eigenvalues decay
fast for small gamma (all points alike: rank near 1) and flatten for large gamma
(each point alone: K near the identity, full rank).
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Spectrum", "spectrum"]


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of a symmetric matrix and summaries of them.

    Attributes:
      eigenvalues: shape (N,), descending (float64).
      effective_rank: exp of the entropy of the normalised positive eigenvalues
        (Roy & Vetterli, 2007): 1 for a matrix of ones, N for the identity.
      condition_number: largest / smallest eigenvalue; inf when the smallest is
        not positive (the matrix is singular in working precision).
      min_eigenvalue: the smallest eigenvalue (can be slightly negative from
        round-off).
    """

    eigenvalues: np.ndarray
    effective_rank: float
    condition_number: float
    min_eigenvalue: float


def spectrum(K: np.ndarray) -> Spectrum:
    """The `Spectrum` of symmetric K, shape (N, N), computed in float64."""
    K = np.asarray(K, dtype=np.float64)
    # eigvalsh reads one triangle; symmetrise so round-off asymmetry cannot bias it.
    ev = np.linalg.eigvalsh((K + K.T) / 2)[::-1]
    pos = ev[ev > 0]
    if pos.size == 0:
        return Spectrum(ev, 0.0, float("inf"), float(ev[-1]) if ev.size else 0.0)
    p = pos / pos.sum()
    eff = float(np.exp(-np.sum(p * np.log(p))))
    cond = float(ev[0] / ev[-1]) if ev[-1] > 0 else float("inf")
    return Spectrum(ev, eff, cond, float(ev[-1]))
