"""The public names of `core`: what the core issue fixed, plus the data loaders and the
block engine. A refactor that moves a module must keep every one importable from `core`."""

from __future__ import annotations

import importlib

import pytest

import core

FIXED_NAMES = (
    # vector forms, kernels, Gram matrices
    "sqeuclidean_distances", "rbf_kernel", "gram", "covariance_matrix", "pairwise_sqeuclidean",
    "safe_sqrt", "vmap_matmul", "vv", "mv", "mm", "median_heuristic_gamma",
    "linear_kernel", "polynomial_kernel", "laplacian_kernel", "matern32_kernel",
    "matern52_kernel", "rational_quadratic_kernel", "periodic_kernel", "sum_kernel",
    "product_kernel", "KERNELS", "default_params",
    # the notes' predict and its batched forms, per-sample gradients
    "predict", "predict_loop", "predict_map_stack", "predict_vmap_partial",
    "predict_vmap_in_axes", "late_binding_demo", "per_sample_grads", "per_sample_grads_loop",
    # the registry of batching methods
    "METHODS", "GramMethod", "choose_auto", "get_method",
    # data
    "load_dataset", "load_table",
    # the block engine
    "run_blocks", "BlockReductions",
    # errors and dtypes
    "CoreError", "DataError", "TooLargeError", "dtype_scope",
    # the workbench: a user's own kernel, from text through the allowlisted language
    "user_kernel", "UserCodeError",
    # ... and its Gram matrix, only through the bounded worker processes
    "user_gram",
)


@pytest.mark.parametrize("name", FIXED_NAMES)
def test_name_is_importable_from_core(name):
    namespace: dict = {}
    exec(f"from core import {name}", namespace)  # the very statement a user writes
    assert namespace[name] is getattr(core, name)
    assert name in core.__all__


def test_every_name_in_all_exists():
    missing = [name for name in core.__all__ if not hasattr(core, name)]
    assert missing == []


@pytest.mark.parametrize("package", ["kernels", "dense", "scale", "data", "bench", "workbench"])
def test_each_package_exports_what_its_all_names(package):
    module = importlib.import_module(f"core.{package}")
    assert module.__all__, f"core.{package} exports nothing"
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_the_names_work_together():
    # A smoke test of the public path a README reader takes: data -> Gram -> block engine.
    import numpy as np

    X, _ = core.load_dataset("blobs", n=50, seed=0)
    params = {"gamma": core.median_heuristic_gamma(X)}
    K = np.asarray(core.gram(core.rbf_kernel, params, X))
    v = np.linspace(-1.0, 1.0, len(X))
    result = core.run_blocks(X, params["gamma"], reductions=core.BlockReductions(matvec=v))
    # float32 sums of 50 terms <= 1: a few dozen round-offs of 6e-8 relative.
    np.testing.assert_allclose(result.row_sums, K.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(result.matvec, K @ v, rtol=1e-5, atol=1e-5)
