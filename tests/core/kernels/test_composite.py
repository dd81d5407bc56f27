"""Tests of `core.kernels.composite`: registry kernels, their sums and products."""

from __future__ import annotations

import numpy as np
import pytest

from core.kernels.composite import KernelChoice, kernel_gram, kernel_values
from core.lessons.gp import grid_1d
from core.kernels.functions import KERNELS


@pytest.mark.parametrize("op", ["sum", "product"])
def test_combination_gram_is_the_sum_or_product_of_the_parts(op, rng):
    X = rng.normal(size=(12, 2))
    choice = KernelChoice.make(op, "rbf", {"gamma": 0.7}, "linear", {"c": 2.0})
    K1 = kernel_gram(KernelChoice.make("single", "rbf", {"gamma": 0.7}), X, dtype="float64")
    K2 = kernel_gram(KernelChoice.make("single", "linear", {"c": 2.0}), X, dtype="float64")
    expected = K1 + K2 if op == "sum" else K1 * K2
    np.testing.assert_allclose(kernel_gram(choice, X, dtype="float64"), expected, rtol=1e-12)
    assert not choice.stationary  # linear is not
    assert choice.label == ("RBF (Gaussian) + Linear" if op == "sum" else "RBF (Gaussian) × Linear")


def test_the_kernel_function_is_reused_so_jit_does_not_recompile():
    a = KernelChoice.make("product", "rbf", {"gamma": 1.0}, "periodic")
    b = KernelChoice.make("product", "rbf", {"gamma": 3.0}, "periodic", {"period": 2.0})
    assert a.fn is b.fn
    assert KernelChoice.make("single", "rbf").fn is KERNELS["rbf"].fn


def test_with_gamma_sets_every_gamma():
    c = KernelChoice.make("sum", "rbf", {"gamma": 2.0}, "rational_quadratic", {"alpha": 3.0})
    g = c.with_gamma(0.25)
    assert dict(g.p1)["gamma"] == 0.25 and dict(g.p2) == {"gamma": 0.25, "alpha": 3.0}
    assert c.has_gamma and not KernelChoice.make("single", "linear").has_gamma


def test_kernel_values_is_the_kernel_against_distance():
    r = np.linspace(0, 3, 7)
    k = kernel_values(KernelChoice.make("single", "rbf", {"gamma": 0.5}), [0.0], r[:, None],
                      dtype="float64")
    np.testing.assert_allclose(k, np.exp(-0.5 * r**2), rtol=1e-12)


def test_float32_stays_float32_and_parameters_are_validated():
    K = kernel_gram(KernelChoice.make("single", "polynomial"), grid_1d(5), dtype="float32")
    assert K.dtype == np.float32
    # Polynomial of odd degree on negative inputs: a float exponent must not give NaN.
    assert np.all(np.isfinite(K))
    with pytest.raises(ValueError, match="no parameter"):
        KernelChoice.make("single", "rbf", {"period": 1.0})
    with pytest.raises(ValueError, match="Unknown kernel"):
        KernelChoice.make("single", "nope")
    with pytest.raises(ValueError, match="Unknown combination"):
        KernelChoice.make("difference", "rbf")
