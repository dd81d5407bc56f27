"""What the eigenvalues of a Gram matrix say: effective rank and conditioning.

An RBF Gram matrix is symmetric positive semi-definite. Its eigenvalues decay
fast for small gamma (all points alike: rank near 1) and flatten for large gamma
(each point alone: K near the identity, full rank). Not every kernel is: the
periodic kernel of a Euclidean distance in D > 1 can give a K with eigenvalues
far below zero, which `definiteness` tells apart from round-off.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["ROUNDOFF_MARGIN", "Spectrum", "spectrum", "roundoff_bound", "definiteness"]

# Safety factor over the eps·N·λ_max round-off bound before calling a matrix indefinite.
ROUNDOFF_MARGIN = 10.0


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


def roundoff_bound(n: int, max_abs_eigenvalue: float, dtype: str) -> float:
    """How far round-off can move an eigenvalue of an N × N symmetric matrix in `dtype`.

    Computing K's entries and its eigenvalues each perturb them by about
    eps·N·|λ|_max (Weyl's inequality with a backward-stable eigensolver); the
    margin `ROUNDOFF_MARGIN` keeps an honest round-off case from being called
    indefinite.
    """
    return ROUNDOFF_MARGIN * float(np.finfo(dtype).eps) * n * abs(max_abs_eigenvalue)


def definiteness(spec: Spectrum, dtype: str) -> str:
    """What the eigenvalues say about K, computed in `dtype`:

    "positive definite" (every eigenvalue > 0), "positive semi-definite to
    round-off" (some ≤ 0, but none below -`roundoff_bound`), or "indefinite"
    (an eigenvalue below -`roundoff_bound`: the kernel itself is not positive
    semi-definite on these points, whatever the precision).
    """
    ev = spec.eigenvalues
    if ev.size == 0 or not np.all(np.isfinite(ev)):
        return "undefined"
    if spec.min_eigenvalue > 0:
        return "positive definite"
    bound = roundoff_bound(ev.size, float(np.max(np.abs(ev))), dtype)
    return "indefinite" if spec.min_eigenvalue < -bound else "positive semi-definite to round-off"
