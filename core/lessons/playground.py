"""The in_axes/out_axes playground: what `jax.vmap(f, in_axes, out_axes)(a, b)` does to shapes.

Everything is traced on shapes only (`jax.eval_shape`), so any sizes are instant.
JAX checks that the mapped axes agree; it cannot check that f receives what it
was written for. A choice of in_axes that hands f a scalar where it expects a
vector is not an error: f broadcasts and returns *something*. `try_vmap`
reports that case (`VmapTry.rank_notes`) next to JAX's own refusals.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from core.kernels.distances import sqeuclidean_distances

__all__ = [
    "PLAYGROUND_FUNCTIONS",
    "WRITTEN_FOR",
    "AXIS_CHOICES",
    "VmapTry",
    "parse_shape",
    "try_vmap",
    "vmap_call_code",
    "rank_notes",
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

# The rank each argument of f was written for (None: any rank works the same).
WRITTEN_FOR: dict[str, tuple[int | None, int | None]] = {
    "sqeuclidean_distances": (1, 1),
    "dot": (1, 1),
    "outer": (1, 1),
    "add": (None, None),
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
      rank_notes: one sentence per argument that f receives with another rank
        than it was written for (see `rank_notes`); empty when none, or when
        JAX refused.
    """

    shape: tuple[int, ...] | None
    error: str | None
    per_example_in: tuple[tuple[int, ...], ...] | None
    per_example_out: tuple[int, ...] | None
    batch_size: int | None
    code: str
    rank_notes: tuple[str, ...] = ()

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
    return VmapTry(tuple(out.shape), None, per_in, tuple(one.shape), int(batch), code,
                   rank_notes(fn_name, per_in))


_RANK_WORDS = {0: "a scalar", 1: "a vector", 2: "a matrix"}


def rank_notes(fn_name: str, per_example: Sequence[Sequence[int]]) -> tuple[str, ...]:
    """Sentences for each argument f sees with another rank than it was written for.

    A lower rank is the silent case: f was written for two vectors, receives a
    scalar, and NumPy-style broadcasting spreads that one number over the other
    vector, so JAX computes something (no error) that is not what f means.

    Args:
      fn_name: a key of `PLAYGROUND_FUNCTIONS`.
      per_example: the shapes f receives for one example (`VmapTry.per_example_in`).

    Returns:
      One sentence per mismatched argument (empty tuple: f gets what it expects).
    """
    notes = []
    for name, shape, want in zip("ab", per_example, WRITTEN_FOR[fn_name]):
        got = len(shape)
        if want is None or got == want:
            continue
        what = _RANK_WORDS.get(got, f"a rank-{got} array")
        expected = _RANK_WORDS.get(want, f"rank {want}")
        if got < want:
            notes.append(
                f"f was written for {expected} {name}, but receives {name} as {what} "
                f"(shape {tuple(shape)}): the mapped axis took the axis f needed. No error: "
                f"inside f, broadcasting repeats {name} across the other argument, so the "
                f"result has a shape, but it is not what f computes for two vectors.")
        else:
            notes.append(
                f"f was written for {expected} {name}, but receives {name} as {what} "
                f"(shape {tuple(shape)}): f's operations run over the extra axes too "
                "(a sum adds them up, a dot contracts the last one), which JAX does not flag.")
    return tuple(notes)


