"""Tests of `core.compile_options`: the wide-vector option changes speed, never results.

Expected values come from the same functions compiled with XLA's defaults; the
vector width is read from the LLVM IR that XLA itself writes (`xla_dump_to`).
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from pathlib import Path

import jax
import numpy as np
import pytest

from core.bench.timing import time_jitted
from core.compile_options import COMPILER_OPTIONS
from core.dense import METHODS
from core.dense.fast import rbf_panel, rbf_tile_pairs
from core.precision import dtype_scope

COMPILED = [name for name, m in METHODS.items() if m.compiled]


def _data(n, d, dtype, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d)).astype(dtype)
    return X, 1.0 / d


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", COMPILED)
def test_the_options_give_the_same_bits_as_xla_defaults(name, dtype):
    method = METHODS[name]
    X, gamma = _data(300, 16, dtype)
    args = method.prepare(X, None, gamma, dtype)
    with dtype_scope(dtype):
        ours = np.asarray(method.jitted(*args))
        default = np.asarray(jax.jit(method.fn)(*args))
    np.testing.assert_array_equal(ours, default)


def test_the_registry_and_the_race_compile_with_the_options():
    # What jax.jit was given (a private field: XLA's compiled programs do not report
    # their debug options back); the test above shows what the option changes.
    expected = tuple(COMPILER_OPTIONS.items())
    for fn in [*(METHODS[n].jitted for n in COMPILED), rbf_panel, rbf_tile_pairs]:
        assert fn._jit_info.compiler_options_kvs == expected
    # The race times each compiled method through time_jitted's own jax.jit.
    assert inspect.signature(time_jitted).parameters["compiler_options"].default is COMPILER_OPTIONS


def _has_avx512() -> bool:
    try:
        return " avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def _exp_vector_width(options, dump: Path, dtype) -> int:
    """The commonest vector width (lanes) in the LLVM IR of jit_centered's exp fusion."""
    method = METHODS["jit_centered"]
    X, gamma = _data(64, 2, dtype)
    args = method.prepare(X, None, gamma, dtype)
    with dtype_scope(dtype):
        jax.jit(method.fn, compiler_options={**options, "xla_dump_to": str(dump)})(*args)
    element = "double" if dtype == "float64" else "float"
    ir = "".join(p.read_text() for p in dump.glob("*exponential*ir-with-opt.ll"))
    assert ir, f"XLA wrote no IR for the exp fusion into {dump}"
    widths = Counter(int(k) for k in re.findall(rf"<(\d+) x {element}>", ir))
    del widths[1]  # scalar tails
    return widths.most_common(1)[0][0]


@pytest.mark.skipif(not _has_avx512(), reason="the option widens vectors only on an AVX-512 CPU")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_exp_pass_runs_on_512_bit_vectors(tmp_path, dtype):
    lanes = 512 // np.dtype(dtype).itemsize // 8
    assert _exp_vector_width(COMPILER_OPTIONS, tmp_path / "wide", dtype) == lanes
    assert _exp_vector_width({}, tmp_path / "default", dtype) == lanes // 2


def test_the_gradients_loop_of_jit_grad_compiles_like_its_jit_vmap_partner():
    # The Gradients page compares a loop of jit(grad) with jit(vmap(grad)) timed by
    # time_jitted: like with like only if both get the same options.
    from core.lessons import predict
    assert predict._grad_loss_jit._jit_info.compiler_options_kvs == tuple(COMPILER_OPTIONS.items())
