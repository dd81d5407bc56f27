"""What `vmap` does, taken apart: shapes in and out, errors, jaxprs, the forms of predict.

(The in_axes/out_axes playground is `core.lessons.playground`, re-exported here.)

Everything here works on the current data's *shapes* where it can
(`jax.eval_shape`, `jax.make_jaxpr` with `jax.ShapeDtypeStruct`), so showing how
an (N, D) batch flows through a function costs nothing however large N is. The
functions that run for real (`compare_predict_forms`, `matmul_ladder`) run the
very code the app shows (`core.lessons.predict`, `core.kernels.gram`).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from functools import partial
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from core.kernels.distances import sqeuclidean_distances
from core.kernels.gram import gram, mm, mv, vmap_matmul, vv
from core.kernels.functions import rbf_kernel
from core.lessons.predict import BATCHED_PREDICTS, Params, predict, predict_vmap_in_axes
from core.bench.interleave import MachineLoad, time_interleaved
from core.bench.timing import TimingResult, compile_ahead
# The in_axes playground lives in its own module; its names stay importable from here.
from core.lessons.playground import (  # noqa: F401
    AXIS_CHOICES,
    PLAYGROUND_FUNCTIONS,
    VmapTry,
    parse_shape,
    try_vmap,
    vmap_call_code,
)

__all__ = [
    "PLAYGROUND_FUNCTIONS",
    "AXIS_CHOICES",
    "VmapTry",
    "parse_shape",
    "try_vmap",
    "vmap_call_code",
    "LadderStep",
    "vmap_ladder",
    "JAXPR_EXAMPLES",
    "jaxpr_pair",
    "PredictForm",
    "REFERENCE_FORM",
    "JITTABLE_FORMS",
    "agreement_tolerance",
    "compare_predict_forms",
    "MatmulStage",
    "matmul_ladder",
    "matmul_source",
]

@dataclasses.dataclass(frozen=True)
class LadderStep:
    """One rung of `vmap_ladder`: a call, its input shapes and its output shape."""

    code: str
    inputs: str
    shape: tuple[int, ...]
    computed: bool  # False: only traced (jax.eval_shape), the array was never made


def vmap_ladder(X: ArrayLike, params: Params) -> list[LadderStep]:
    """From one vector to the whole matrix: the same function at three batch levels.

    The scalar and (N,) steps run for real on X; the (N, N) step is only traced,
    because its eager form holds an (N, N, D) difference array (4 GB at N = 4000,
    D = 64).

    Args:
      X: the data, shape (N, D).
      params: `(w, b)` of `predict`, w shape (D,).

    Returns:
      Five `LadderStep`s.
    """
    X = jnp.asarray(X)
    n, d = X.shape
    x, y = X[0], X[min(1, n - 1)]
    row = jax.vmap(sqeuclidean_distances, in_axes=(None, 0))
    pairwise = jax.vmap(row, in_axes=(0, None))
    nested = jax.eval_shape(pairwise, X, X)
    return [
        LadderStep("predict(params, x)", f"x: ({d},)", jnp.shape(predict(params, x)), True),
        LadderStep("jax.vmap(predict, in_axes=(None, 0))(params, X)", f"X: ({n}, {d})",
                   jnp.shape(predict_vmap_in_axes(params, X)), True),
        LadderStep("sqeuclidean_distances(x, y)", f"x, y: ({d},)",
                   jnp.shape(sqeuclidean_distances(x, y)), True),
        LadderStep("jax.vmap(sqeuclidean_distances, in_axes=(None, 0))(x, X)",
                   f"x: ({d},), X: ({n}, {d})", jnp.shape(row(x, X)), True),
        LadderStep("jax.vmap(jax.vmap(sqeuclidean_distances, in_axes=(None, 0)),\n"
                   "         in_axes=(0, None))(X, X)", f"X: ({n}, {d}) twice",
                   tuple(nested.shape), False),
    ]


def _predict_pair(n: int, d: int, dtype: Any) -> tuple[Callable, tuple, Callable, tuple]:
    params = (jax.ShapeDtypeStruct((d,), dtype), jax.ShapeDtypeStruct((), dtype))
    return (predict, (params, jax.ShapeDtypeStruct((d,), dtype)),
            jax.vmap(predict, in_axes=(None, 0)), (params, jax.ShapeDtypeStruct((n, d), dtype)))


def _rbf_pair(n: int, d: int, dtype: Any) -> tuple[Callable, tuple, Callable, tuple]:
    params = {"gamma": jax.ShapeDtypeStruct((), dtype)}
    vec = jax.ShapeDtypeStruct((d,), dtype)
    return (rbf_kernel, (params, vec, vec),
            partial(gram, rbf_kernel), (params, jax.ShapeDtypeStruct((n, d), dtype)))


# name -> (label, code of the unbatched call, code of the batched call, builder)
JAXPR_EXAMPLES: dict[str, tuple[str, str, str, Callable[[int, int, Any], tuple]]] = {
    "predict": ("predict: tanh(w·x + b)", "predict(params, x)",
                "jax.vmap(predict, in_axes=(None, 0))(params, X)", _predict_pair),
    "rbf": ("RBF kernel → Gram matrix", "rbf_kernel(params, x, y)",
            "gram(rbf_kernel, params, X)  # nested vmap", _rbf_pair),
}


def jaxpr_pair(name: str, n: int, d: int, dtype: str = "float32") -> tuple[str, str]:
    """The jaxprs of an unbatched function and of its vmapped version, as text.

    Traced on shapes only; the batched jaxpr shows where the batch axis went
    (vmap rewrites each primitive, e.g. `dot_general` gains a free axis).

    Args:
      name: a key of `JAXPR_EXAMPLES`.
      n, d: the batch size N and the vector length D.
      dtype: "float32" or "float64" (call inside `dtype_scope` for float64).

    Returns:
      `(unbatched, batched)` jaxpr text.
    """
    _, _, _, build = JAXPR_EXAMPLES[name]
    f, f_args, g, g_args = build(n, d, jnp.dtype(dtype))
    return str(jax.make_jaxpr(f)(*f_args)), str(jax.make_jaxpr(g)(*g_args))


REFERENCE_FORM = "vmap(predict, in_axes=(None, 0))"
# Forms that can be compiled whole; the loop forms would unroll N calls (or call
# np.stack on tracers), so they are timed as Python runs them.
JITTABLE_FORMS = ("vmap(partial(predict, params))", "vmap(predict, in_axes=(None, 0))")


@dataclasses.dataclass(frozen=True)
class PredictForm:
    """One batched form of `predict`, run and timed on the current data."""

    label: str
    fn: Callable[[Params, ArrayLike], ArrayLike]
    output: np.ndarray  # (N,)
    max_abs_diff: float  # against REFERENCE_FORM's output
    tolerance: float  # see `agreement_tolerance`
    eager: TimingResult
    jitted: TimingResult | None  # None for the forms that cannot be jitted whole
    load: MachineLoad | None = None  # other processes' CPU while every form was timed

    @property
    def agrees(self) -> bool:
        return self.max_abs_diff <= self.tolerance


def agreement_tolerance(params: Params, X: ArrayLike) -> float:
    """How far two correct batched forms of `predict` may differ: round-off of w·x + b.

    The forms add up the D products of w·x in different orders (one vector dot
    per row, or one matrix-vector product), and the error of a sum of D terms is
    bounded by about D·ε·Σⱼ|wⱼxⱼ|; tanh's slope is at most 1, so the outputs
    differ by no more. Anything larger is a real disagreement.

    Args:
      params: `(w, b)`, w shape (D,).
      X: shape (N, D); its dtype sets ε.
    """
    X = np.asarray(X)
    w, b = (np.asarray(p, np.float64) for p in params)
    scale = float(np.max(np.abs(X.astype(np.float64)) @ np.abs(w) + abs(float(b))))
    return X.shape[1] * float(np.finfo(X.dtype).eps) * max(scale, 1.0)


def compare_predict_forms(
    params: Params, X: ArrayLike, budget_s: float = 0.5,
    on_progress: Callable[[float, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[PredictForm]:
    """Run every form of `BATCHED_PREDICTS`, check them against one another, time them.

    Args:
      params: `(w, b)`, w shape (D,).
      X: shape (N, D).
      budget_s: about half the seconds of timing for all forms together (at least
        5 rounds are made).
      on_progress: called with (fraction done in [0, 1], what runs next).
      should_stop: checked between rounds; True abandons the run.

    Returns:
      One `PredictForm` per entry of `BATCHED_PREDICTS`, in its order.

    Raises:
      TimingCancelled: `should_stop()` returned True.
    """
    X = jnp.asarray(X)
    tick = on_progress or (lambda fraction, label: None)
    outputs: dict[str, Any] = {}
    ways: dict[str, Callable[[], Any]] = {}
    for label, fn in BATCHED_PREDICTS.items():
        def run(fn=fn, label=label) -> Any:
            outputs[label] = fn(params, X)  # kept: the output checked below is one that was timed
            return outputs[label]
        ways[label] = run
    programs = {}
    for i, label in enumerate(JITTABLE_FORMS):
        tick(0.2 * i / len(JITTABLE_FORMS), f"Compiling jit({label}) …")
        programs[label] = compile_ahead(BATCHED_PREDICTS[label], params, X)
        ways[f"jit({label})"] = programs[label]
    # Every form and every compiled form in turn, round by round: load from other
    # processes falls on all of them alike (core.bench.interleave).
    run_all = time_interleaved(
        ways, budget_s=budget_s * 2, min_rounds=5, max_rounds=30, should_stop=should_stop,
        on_progress=lambda done, most: tick(0.2 + 0.8 * done / most,
                                            f"All forms in turn, round {done} …"))
    rows = []
    for label, fn in BATCHED_PREDICTS.items():
        jitted = None
        if label in programs:
            jitted = run_all.results[f"jit({label})"]
        rows.append((label, fn, np.asarray(outputs[label]), run_all.results[label], jitted))
    tick(1.0, "Done")
    reference = next(out for label, _, out, _, _ in rows if label == REFERENCE_FORM)
    tol = agreement_tolerance(params, X)
    return [PredictForm(label, fn, out, float(np.max(np.abs(out - reference))), tol, eager, jitted,
                        run_all.load)
            for label, fn, out, eager, jitted in rows]


@dataclasses.dataclass(frozen=True)
class MatmulStage:
    """One step from `vdot` to `A @ B`, checked against NumPy-style matmul."""

    name: str
    code: str
    inputs: str
    shape: tuple[int, ...]
    max_abs_diff: float


def matmul_ladder(A: ArrayLike, B: ArrayLike) -> list[MatmulStage]:
    """vv → mv → mm → `vmap_matmul`: each built by vmap, each checked against `@`.

    Args:
      A: shape (N, K).
      B: shape (K, M).

    Returns:
      Four `MatmulStage`s; `max_abs_diff` is against `A @ B` (or its row/column).
    """
    A = jnp.asarray(A)
    B = jnp.asarray(B)
    n, k = A.shape
    m = B.shape[1]
    a, b = A[0], B[:, 0]

    def diff(x: jax.Array, ref: jax.Array) -> float:
        return float(jnp.max(jnp.abs(x - ref))) if jnp.size(x) else 0.0

    s_vv, s_mv, s_mm, s_full = vv(a, b), mv(A, b), mm(A, B), vmap_matmul(A, B)
    ref = A @ B
    return [
        MatmulStage("vv", "vv(A[0], B[:, 0])", f"({k},) · ({k},)", jnp.shape(s_vv),
                    diff(s_vv, a @ b)),
        MatmulStage("mv", "mv(A, B[:, 0])", f"({n}, {k}) · ({k},)", jnp.shape(s_mv),
                    diff(s_mv, A @ b)),
        MatmulStage("mm", "mm(A, B)", f"({n}, {k}) · ({k}, {m})", jnp.shape(s_mm),
                    diff(s_mm, ref)),
        MatmulStage("vmap_matmul", "vmap_matmul(A, B)", f"({n}, {k}) · ({k}, {m})",
                    jnp.shape(s_full), diff(s_full, ref)),
    ]


def matmul_source() -> str:
    """The source of `vv`, `mv`, `mm` and `vmap_matmul`, read from `core.kernels.gram` itself.

    `mv` and `mm` are module-level `vmap` results, not functions, so
    `inspect.getsource` cannot read them one by one: the module's text from
    `def vv` to the end of `vmap_matmul` is what runs.
    """
    # By import path: `core.kernels.gram` as an attribute is the function the package re-exports.
    text = inspect.getsource(importlib.import_module("core.kernels.gram"))
    start = text.index("def vv(")
    end = text.index("def vmap_matmul(")
    return text[start:end] + inspect.getsource(vmap_matmul)
