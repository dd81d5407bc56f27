"""What `vmap` does, taken apart: shapes in and out, errors, jaxprs, the forms of predict.

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
import re
from functools import partial
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from core.kernels.distances import sqeuclidean_distances
from core.kernels.gram import gram, mm, mv, vmap_matmul, vv
from core.kernels.functions import rbf_kernel
from core.lessons.predict import BATCHED_PREDICTS, Params, predict, predict_vmap_in_axes
from core.bench.timing import TimingResult, time_call, time_jitted

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

MAX_RANK = 4  # shapes in the playground: at most this many axes ...
MAX_AXIS_SIZE = 100_000  # ... each at most this long (only shapes are traced, never data)

# f(a, b) for the in_axes playground: (label shown, function).
PLAYGROUND_FUNCTIONS: dict[str, tuple[str, Callable[[jax.Array, jax.Array], jax.Array]]] = {
    "sqeuclidean_distances": ("sqeuclidean_distances(a, b) = sum((a − b)²)", sqeuclidean_distances),
    "dot": ("jnp.dot(a, b)", jnp.dot),
    "outer": ("jnp.outer(a, b)", jnp.outer),
    "add": ("a + b (broadcasting add)", jnp.add),
}

AXIS_CHOICES = (0, 1, None)  # what the playground offers for each in_axes entry


@dataclasses.dataclass(frozen=True)
class VmapTry:
    """The outcome of `try_vmap`: an output shape, or JAX's own error message.

    Attributes:
      shape: the batched output's shape; None when JAX refused.
      error: the text of the exception JAX raised; None on success.
      per_example_in: the shapes f itself sees for one example (mapped axis
        removed); None when JAX refused.
      per_example_out: f's output shape for one example; None likewise.
      batch_size: length of the mapped axis; None likewise.
      code: the call, as Python, that was traced.
    """

    shape: tuple[int, ...] | None
    error: str | None
    per_example_in: tuple[tuple[int, ...], ...] | None
    per_example_out: tuple[int, ...] | None
    batch_size: int | None
    code: str

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_shape(text: str) -> tuple[int, ...]:
    """A shape typed by a person: "5, 3", "(5, 3)", "5x3", "5 3"; "" or "()" is a scalar.

    Raises:
      ValueError: with a message that says what to type instead.
    """
    body = text.strip().strip("()[]").strip()
    if not body:
        return ()
    parts = [p for p in re.split(r"[,x×*\s]+", body) if p]
    if not all(p.isdigit() for p in parts):
        raise ValueError(f"{text.strip()[:30]!r} is not a shape: type whole numbers separated "
                         "by commas, e.g. 5, 3.")
    shape = tuple(int(p) for p in parts)
    if len(shape) > MAX_RANK:
        raise ValueError(f"{len(shape)} axes is more than this playground shows: use at most "
                         f"{MAX_RANK}.")
    if any(s < 1 or s > MAX_AXIS_SIZE for s in shape):
        raise ValueError(f"Each axis needs a length from 1 to {MAX_AXIS_SIZE:,}; got {shape}.")
    return shape


def vmap_call_code(fn_name: str, in_axes: Sequence[int | None], out_axes: int) -> str:
    """The Python call that `try_vmap` traces, as the app shows it."""
    f = {"sqeuclidean_distances": "sqeuclidean_distances", "dot": "jnp.dot",
         "outer": "jnp.outer", "add": "jnp.add"}[fn_name]
    return f"jax.vmap({f}, in_axes=({in_axes[0]}, {in_axes[1]}), out_axes={out_axes})(a, b)"


def try_vmap(fn_name: str, shapes: Sequence[Sequence[int]], in_axes: Sequence[int | None],
             out_axes: int, dtype: str = "float32") -> VmapTry:
    """Trace `jax.vmap(f, in_axes, out_axes)(a, b)` on shapes only and report what came out.

    Nothing is computed (`jax.eval_shape`), so any sizes are instant. A choice
    JAX refuses is not an error here: its message is returned for the app to show.

    Args:
      fn_name: a key of `PLAYGROUND_FUNCTIONS`.
      shapes: the shapes of a and b.
      in_axes: for a and b, the axis to map (0, 1, ...) or None (not mapped).
      out_axes: where the mapped axis goes in the output.
      dtype: of a and b.

    Returns:
      A `VmapTry`.
    """
    _, fn = PLAYGROUND_FUNCTIONS[fn_name]
    code = vmap_call_code(fn_name, in_axes, out_axes)
    args = [jax.ShapeDtypeStruct(tuple(s), jnp.dtype(dtype)) for s in shapes]
    try:
        out = jax.eval_shape(jax.vmap(fn, in_axes=tuple(in_axes), out_axes=out_axes), *args)
    # vmap's own checks raise ValueError; f itself may raise TypeError (dot's
    # contracting sizes) or ValueError (broadcasting) on what one example looks like.
    except (ValueError, TypeError, IndexError) as err:
        return VmapTry(None, str(err), None, None, None, code)
    per_in = tuple(tuple(s) if ax is None else tuple(np.delete(np.array(s, dtype=int), ax).tolist())
                   for s, ax in zip(shapes, in_axes))
    batch = next(tuple(s)[ax] for s, ax in zip(shapes, in_axes) if ax is not None)
    one = jax.eval_shape(fn, *(jax.ShapeDtypeStruct(s, jnp.dtype(dtype)) for s in per_in))
    return VmapTry(tuple(out.shape), None, per_in, tuple(one.shape), int(batch), code)


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
      budget_s: seconds of timing per form and per compiled variant.
      on_progress: called with (fraction done in [0, 1], what runs next).
      should_stop: passed to `time_call`; True abandons the run.

    Returns:
      One `PredictForm` per entry of `BATCHED_PREDICTS`, in its order.

    Raises:
      TimingCancelled: `should_stop()` returned True.
    """
    X = jnp.asarray(X)
    steps = len(BATCHED_PREDICTS) + len(JITTABLE_FORMS)
    done = 0

    def tick(label: str) -> None:
        if on_progress is not None:
            on_progress(done / steps, label)

    rows = []
    for label, fn in BATCHED_PREDICTS.items():
        tick(f"Timing {label} …")
        last: list[Any] = [None]

        def run(p: Params, x: jax.Array, fn=fn, last=last) -> Any:
            last[0] = fn(p, x)  # kept: the output checked below is one that was timed
            return last[0]

        eager = time_call(run, params, X, warmup=1, repeats=5, budget_s=budget_s,
                          should_stop=should_stop)
        done += 1
        jitted = None
        if label in JITTABLE_FORMS:
            tick(f"Compiling and timing jit({label}) …")
            jitted, _ = time_jitted(fn, params, X, warmup=1, repeats=10, budget_s=budget_s,
                                    should_stop=should_stop)
            done += 1
        rows.append((label, fn, np.asarray(last[0]), eager, jitted))
    tick("Done")
    reference = next(out for label, _, out, _, _ in rows if label == REFERENCE_FORM)
    tol = agreement_tolerance(params, X)
    return [PredictForm(label, fn, out, float(np.max(np.abs(out - reference))), tol, eager, jitted)
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
