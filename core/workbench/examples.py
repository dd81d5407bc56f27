"""The Workbench's menu of example kernels: each a source for one pair, and what it shows.

The first is the notes' RBF kernel verbatim. The others each make one thing that
vmap does (or that goes wrong) visible in the findings: a Python `if` that cannot
be traced and its `np.where` fix, `lax.cond` turned into `select_n`, literal
indexing, linear algebra under vmap, the NaN gradient of `np.sqrt` at zero
distance and its safe form, and a function that is not a kernel at all.
tests/core/workbench/test_examples.py computes every claim a blurb makes.
"""

from __future__ import annotations

import dataclasses

__all__ = ["Example", "EXAMPLES"]


@dataclasses.dataclass(frozen=True)
class Example:
    """One menu entry.

    Attributes:
      source: the kernel's text in the workbench language (`np.` is jax.numpy).
      blurb: one or two sentences: what to look at.
    """

    source: str
    blurb: str


_NOTES_RBF = '''\
def sqeuclidean_distances(x: np.ndarray, y: np.ndarray) -> float:
    return np.sum( (x - y) ** 2)


def rbf_kernel(params, x: np.ndarray, y: np.ndarray) -> float:
    """The RBF Kernel"""
    # calculate the kernel
    return np.exp(- params['gamma'] * (sqeuclidean_distances(x, y)) )
'''

_LAPLACIAN = '''\
def kernel(params, x, y):
    # scikit-learn's laplacian_kernel: the L1 distance, not the squared L2
    return np.exp(-params['gamma'] * np.sum(np.abs(x - y)))
'''

_PYTHON_IF = '''\
def kernel(params, x, y):
    d2 = np.sum((x - y) ** 2)
    if d2 < 1.0:  # a Python if needs True or False: d2 is traced, it has no value yet
        return 1.0 - d2 / 2.0
    return np.exp(-params['gamma'] * d2)
'''

_WHERE = '''\
def kernel(params, x, y):
    d2 = np.sum((x - y) ** 2)
    # both values are computed, np.where picks one per pair
    return np.where(d2 < 1.0, 1.0 - d2 / 2.0, np.exp(-params['gamma'] * d2))
'''

_COND = '''\
def kernel(params, x, y):
    d2 = np.sum((x - y) ** 2)
    return lax.cond(d2 < 1.0,
                    lambda d: 1.0 - d / 2.0,
                    lambda d: np.exp(-params['gamma'] * d),
                    d2)
'''

_ARD = '''\
def kernel(params, x, y):
    # one lengthscale per feature: feature 1 counts `ratio` times as much as feature 0
    d0 = (x[0] - y[0]) ** 2
    d1 = (x[1] - y[1]) ** 2
    return np.exp(-params['gamma'] * (d0 + params['ratio'] * d1))
'''

_MAHALANOBIS = '''\
def kernel(params, x, y):
    # a Gaussian kernel in the metric of a fixed 2 x 2 covariance (first two features)
    d = x[:2] - y[:2]
    S = np.eye(2) + 0.5
    return np.exp(-params['gamma'] * np.dot(d, np.linalg.solve(S, d)))
'''

_SQRT = '''\
def kernel(params, x, y):
    # the exponential kernel: exp of minus the Euclidean distance
    d2 = np.sum((x - y) ** 2)
    return np.exp(-params['gamma'] * np.sqrt(d2))
'''

_SAFE_SQRT = '''\
def kernel(params, x, y):
    d2 = np.sum((x - y) ** 2)
    # sqrt'(0) is infinite: take the root only where d2 > 0, and 0 elsewhere
    d = np.where(d2 > 0, np.sqrt(np.where(d2 > 0, d2, 1.0)), 0.0)
    return np.exp(-params['gamma'] * d)
'''

_NOT_PSD = '''\
def kernel(params, x, y):
    # minus the squared distance: symmetric, but not a positive semi-definite kernel
    return -np.sum((x - y) ** 2)
'''

EXAMPLES: dict[str, Example] = {
    "The notes' RBF": Example(_NOTES_RBF, (
        "The notes' two functions, verbatim: a squared distance for one pair and the RBF "
        "kernel on top of it. Every way of batching gives scikit-learn's rbf_kernel.")),
    "Laplacian": Example(_LAPLACIAN, (
        "exp(−gamma·|x − y|₁), scikit-learn's laplacian_kernel: positive definite, with a "
        "sharper peak than the RBF.")),
    "Python if (fails)": Example(_PYTHON_IF, (
        "A Python `if` on the distance: under jit and vmap the distance is traced and has no "
        "value, so JAX stops with its own TracerBoolConversionError.")),
    "Python if, fixed with np.where": Example(_WHERE, (
        "The same kernel with `np.where`: both values are computed for every pair and one is "
        "picked, which is what batching needs.")),
    "lax.cond (becomes select_n)": Example(_COND, (
        "`lax.cond` traces, but its predicate depends on x and y: under vmap it becomes "
        "`select_n`, so both branches run for every pair.")),
    "Indexing x[0], x[1] (ARD)": Example(_ARD, (
        "One lengthscale per feature, reading x[0] and x[1]: literal indices are static "
        "slices, which vmap keeps as slices of X (no gather). Needs 2 features or more.")),
    "Linear algebra (np.linalg.solve)": Example(_MAHALANOBIS, (
        "A Gaussian kernel in a Mahalanobis metric, through `np.linalg.solve`: see whether "
        "this backend batches the solve or loops over it (measured). Needs 2 features or more.")),
    "np.sqrt of a distance (NaN gradient)": Example(_SQRT, (
        "exp(−gamma·|x − y|): K is fine, but the gradient of `np.sqrt` at zero distance is "
        "infinite, so jax.grad at x == y is NaN.")),
    "np.sqrt, safe at zero": Example(_SAFE_SQRT, (
        "The same kernel with the square root taken only where d² > 0: the same K, and "
        "finite gradients everywhere.")),
    "Not a kernel: −‖x − y‖²": Example(_NOT_PSD, (
        "Symmetric, but not positive semi-definite: its diagonal is zero, so its eigenvalues "
        "sum to zero and the smallest is negative.")),
}
