"""vmap explorer's engine: plain JAX/NumPy, no Streamlit.

Distances, kernels and Gram matrices in vector form batched by `vmap`, the
registry of batching methods, data loading and validation, and the timing harness.
"""

from __future__ import annotations

from core.distances import DISTANCE_METHODS, pairwise_sqeuclidean, safe_sqrt, sqeuclidean_distances
from core.errors import CoreError, DataError, TooLargeError
from core.gram import covariance_matrix, gram, gram_jit, mm, mv, vmap_matmul, vv
from core.kernels import (
    KERNELS,
    default_params,
    laplacian_kernel,
    linear_kernel,
    matern32_kernel,
    matern52_kernel,
    median_heuristic_gamma,
    periodic_kernel,
    polynomial_kernel,
    product_kernel,
    rational_quadratic_kernel,
    rbf_kernel,
    sum_kernel,
)
from core.methods import METHODS, GramMethod, choose_auto, get_method
from core.precision import dtype_scope
from core.predict import (
    BATCHED_PREDICTS,
    late_binding_demo,
    per_sample_grads,
    per_sample_grads_loop,
    predict,
    predict_loop,
    predict_map_stack,
    predict_vmap_in_axes,
    predict_vmap_partial,
)

__all__ = [
    "BATCHED_PREDICTS", "DISTANCE_METHODS", "KERNELS", "METHODS", "CoreError", "DataError",
    "GramMethod", "TooLargeError", "choose_auto", "covariance_matrix", "default_params",
    "dtype_scope", "get_method", "gram", "gram_jit", "laplacian_kernel", "late_binding_demo",
    "linear_kernel", "matern32_kernel", "matern52_kernel", "median_heuristic_gamma", "mm", "mv",
    "pairwise_sqeuclidean", "per_sample_grads", "per_sample_grads_loop", "periodic_kernel",
    "polynomial_kernel", "predict", "predict_loop", "predict_map_stack", "predict_vmap_in_axes",
    "predict_vmap_partial", "product_kernel", "rational_quadratic_kernel", "rbf_kernel",
    "safe_sqrt", "sqeuclidean_distances", "sum_kernel", "vmap_matmul", "vv",
]
