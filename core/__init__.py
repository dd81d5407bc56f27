"""vmap explorer's engine: plain JAX/NumPy, no Streamlit.

The packages tell the app's story: `kernels` (vector forms, kernels, the Gram matrix
by nested `vmap`), `dense` (the batching methods and their memory budget), `scale`
(the block engine), `data` (built-in sets and uploads), `bench` (timing and the
race), `lessons` (the page models). The public names are re-exported here.
"""

from __future__ import annotations

from core.kernels import DISTANCE_METHODS, pairwise_sqeuclidean, safe_sqrt, sqeuclidean_distances
from core.errors import CoreError, DataError, TooLargeError, UserCodeError
from core.kernels import covariance_matrix, gram, gram_jit, mm, mv, vmap_matmul, vv
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
from core.dense import METHODS, GramMethod, choose_auto, get_method
from core.precision import dtype_scope
from core.data import load_dataset, load_table
from core.scale import BlockReductions, run_blocks
from core.lessons.fit.model import gp_log_marginal_likelihood, gp_posterior
from core.workbench import user_kernel
from core.workbench.run import user_gram
from core.lessons.predict import (
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
    "BATCHED_PREDICTS", "BlockReductions", "DISTANCE_METHODS", "KERNELS", "METHODS", "CoreError", "DataError",
    "GramMethod", "TooLargeError", "choose_auto", "covariance_matrix", "default_params",
    "dtype_scope", "get_method", "gp_log_marginal_likelihood", "gp_posterior", "gram", "gram_jit", "laplacian_kernel", "late_binding_demo",
    "linear_kernel", "load_dataset", "load_table", "matern32_kernel", "matern52_kernel", "median_heuristic_gamma", "mm", "mv",
    "pairwise_sqeuclidean", "per_sample_grads", "per_sample_grads_loop", "periodic_kernel",
    "polynomial_kernel", "predict", "predict_loop", "predict_map_stack", "predict_vmap_in_axes",
    "predict_vmap_partial", "product_kernel", "rational_quadratic_kernel", "rbf_kernel", "run_blocks",
    "safe_sqrt", "sqeuclidean_distances", "sum_kernel", "vmap_matmul", "vv",
    "UserCodeError", "user_kernel",
    "user_gram",
]
