"""Error bounds shared by the tests of `core`, from the error analysis of each form.

u is the unit round-off of the dtype (2^-24 for float32, 2^-53 for float64). A
bound here holds on every CPU, whatever its instruction set does with FMA or the
order of a sum: it is derived, never measured.
"""

from __future__ import annotations

import numpy as np


def unit_roundoff(dtype) -> float:
    """u: half the spacing of floats at 1 in `dtype`."""
    return float(np.finfo(dtype).eps) / 2


def rbf_error_bound(X, Y, gamma: float, dtype, shifted: bool = False) -> float:
    """Largest absolute error of any registry method's RBF entry on these points.

    The worst form is the expansion |x|² + |y|² - 2 x·y: three dot products of D
    terms and two sums, each of size at most (|x| + |y|)², so its d² is off by at
    most (D + 2)·u·(|x| + |y|)² in any summation order (Higham, Accuracy and
    Stability of Numerical Algorithms, eq. 3.5). The direct forms err by
    (D + 3)·u·d², less; the centered forms by the same expansion bound on shifted
    points, each rounded once more by the shift (two spare units of u cover it,
    taking the larger of the raw and the shifted norms). exp(-γ d²) turns an error
    e in d² into at most γ·e in K (K <= 1), and adds its own rounding: XLA's and
    NumPy's exp are within 2 ulps, so 4u covers it and the final product γ·d².

    Args:
      X: (N, D) points; Y: (M, D) points or None for X; gamma: the RBF's gamma;
      dtype: the compute dtype.
      shifted: True for the forms that shift the points first (`shared_shift`):
        only the shifted norms count, so the bound holds far from the origin.

    Returns:
      The bound, a Python float.
    """
    u = unit_roundoff(dtype)
    X = np.asarray(X, np.float64)
    Y = X if Y is None else np.asarray(Y, np.float64)
    c = np.concatenate([X, Y]).mean(axis=0)
    size = (np.linalg.norm(X - c, axis=1).max() + np.linalg.norm(Y - c, axis=1).max()) ** 2
    if not shifted:
        size = max(size, (np.linalg.norm(X, axis=1).max() + np.linalg.norm(Y, axis=1).max()) ** 2)
    return float(gamma) * (X.shape[1] + 4) * u * size + 4 * u
