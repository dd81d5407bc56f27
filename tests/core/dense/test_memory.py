"""Tests of `core.dense.memory`: dense memory estimates and the guard that refuses above a budget."""

from __future__ import annotations

import pytest

from core.errors import CoreError, TooLargeError
from core.dense.memory import (
    DENSE_MEMORY_BUDGET_BYTES,
    check_dense_budget,
    dense_gram_bytes,
    format_bytes,
)
from core.dense.methods import METHODS


def test_dense_bytes_are_n_times_m_times_itemsize_times_copies():
    assert dense_gram_bytes(1_000_000, 1_000_000, "float32") == 4 * 10**12  # no int32 overflow
    assert dense_gram_bytes(8000, 8000, "float64") == 8000 * 8000 * 8
    assert dense_gram_bytes(100, 50, "float32", copies=2.5) == 100 * 50 * 4 * 2.5
    with pytest.raises(ValueError):
        dense_gram_bytes(-1, 5)


def test_guard_refuses_above_the_budget_with_the_number_and_the_way_out():
    with pytest.raises(TooLargeError) as info:
        check_dense_budget(1_000_000, 1_000_000, "float32")
    message = str(info.value)
    assert "1,000,000 × 1,000,000" in message
    assert "3.64 TiB" in message  # 4e12 bytes
    assert "2.00 GiB" in message  # the budget
    assert "block engine" in message and "Scale page" in message
    assert isinstance(info.value, CoreError) and isinstance(info.value, MemoryError)


def test_guard_passes_within_the_budget_and_counts_copies():
    assert check_dense_budget(1000, 1000, "float32") == 4_000_000
    # 20,000² float32 is 1.49 GiB: one copy fits, two (K and a temporary) do not.
    assert check_dense_budget(20_000, 20_000, "float32") < DENSE_MEMORY_BUDGET_BYTES
    with pytest.raises(TooLargeError, match=r"2 × N·M·4 bytes"):
        check_dense_budget(20_000, 20_000, "float32", copies=2)
    with pytest.raises(TooLargeError, match="float64"):
        check_dense_budget(20_000, 20_000, "float64")


def test_budget_boundary_is_inclusive():
    n = int((DENSE_MEMORY_BUDGET_BYTES // 4) ** 0.5)
    assert check_dense_budget(n, n, "float32") <= DENSE_MEMORY_BUDGET_BYTES
    check_dense_budget(1, DENSE_MEMORY_BUDGET_BYTES // 4, "float32")  # exactly the budget
    with pytest.raises(TooLargeError):
        check_dense_budget(1, DENSE_MEMORY_BUDGET_BYTES // 4 + 1, "float32")


def test_same_budget_as_the_registry():
    # The registry's refusals and this guard must agree on what is too large.
    method = METHODS["jit_centered"]
    for n in (10_000, 16_000, 17_000, 30_000):
        refused_here = n * n * 4 * method.copies > DENSE_MEMORY_BUDGET_BYTES
        assert (method.declines(n, n, 2, "float32") is not None) == refused_here
        if refused_here:
            with pytest.raises(TooLargeError):
                check_dense_budget(n, n, "float32", copies=method.copies)


def test_registry_refuses_with_the_guards_one_message():
    # One budget, one message: a method's refusal is check_dense_budget's, word for word.
    method = METHODS["jit_method1"]
    with pytest.raises(TooLargeError) as info:
        check_dense_budget(30_000, 30_000, "float32", copies=method.copies, what=method.label)
    assert method.declines(30_000, 30_000, 3, "float32") == str(info.value)
    assert "block engine" in str(info.value) and "Scale page" in str(info.value)


@pytest.mark.parametrize("n_bytes, text", [
    (0, "0 B"), (512, "512 B"), (1536, "1.50 KiB"), (381.5 * 1024**2, "382 MiB"),
    (2 * 1024**3, "2.00 GiB"), (4e12, "3.64 TiB"), (999 * 1024, "999 KiB"),
    (1000 * 1024, "0.98 MiB"),
])
def test_format_bytes(n_bytes, text):
    assert format_bytes(n_bytes) == text
