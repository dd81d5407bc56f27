"""The values workbench code handles, and the checks on them while it runs.

The params view (read by literal name, or passed on to the user's own functions),
Python integer arithmetic bounded to ±2**53 (no `2 ** 10 ** 7` however computed),
what may be handed to an allowlisted function, the sizes the shape builders may
make, and the kernel's result as one scalar.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from core.errors import UserCodeError
from core.workbench.allowlist import MAX_INT

__all__ = ["ARRAYS", "DTYPES", "Params", "binop", "check_value", "scalar", "shape_size"]

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.BitAnd: operator.and_,
           ast.BitOr: operator.or_, ast.BitXor: operator.xor}
DTYPES = (jnp.float32, jnp.float64)
ARRAYS = (jax.Array, np.ndarray)


class Params:
    """The params mapping as user code sees it: read by literal name, or passed on."""

    __slots__ = ("values",)

    def __init__(self, values: Mapping):
        self.values = values


def binop(op: type, a, b):
    """`a op b` for an `ast` operator class, with Python ints kept within ±2**53."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        raise UserCodeError("arithmetic on lists and tuples is not allowed: build arrays with "
                            "np.stack or np.concatenate.")
    if isinstance(a, Params) or isinstance(b, Params) or callable(a) or callable(b):
        raise TypeError("only numbers and arrays can be combined with operators")
    ints = type(a) is int and type(b) is int
    if ints and op is ast.Pow and b > 0 and abs(a) > 1 and b.bit_length() > 6:
        raise UserCodeError("this integer would be larger than 2**53: use floats, 2.0 ** n.")
    result = _BINOPS[op](a, b)
    if type(result) is int and abs(result) > MAX_INT:
        raise UserCodeError("this integer would be larger than 2**53: use floats, 2.0 ** n.")
    return result


def check_value(value, where: str) -> None:
    """Refuse params and callables as arguments of an allowlisted function `where`."""
    if isinstance(value, Params):
        raise UserCodeError(f"params cannot be given to {where}: read one value, "
                            "params['name'], or pass params to your own functions.")
    if isinstance(value, (list, tuple)):
        for item in value:
            check_value(item, where)
    elif callable(value) and not isinstance(value, ARRAYS) and value not in DTYPES:
        raise UserCodeError(f"functions cannot be given to {where}.")


def shape_size(name: str, args: list) -> int:
    """How many elements np.zeros/ones/eye/arange would build from these arguments."""
    if name == "np.arange":
        if not all(type(a) in (int, float) for a in args[:3]):
            raise TypeError("np.arange takes literal or integer bounds")
        if len(args) == 1:
            start, stop, step = 0, args[0], 1
        elif len(args) == 2:
            start, stop, step = args[0], args[1], 1
        else:
            start, stop, step = args[:3]
        return max(0, int(-(-(stop - start) // step))) if step else 0
    shape = args[0] if args else ()
    sizes = list(shape) if isinstance(shape, (tuple, list)) else [shape]
    if not all(type(s) is int for s in sizes):
        raise TypeError(f"{name}'s shape must be integers, as (3, 3) or x.shape")
    total = 1
    for s in sizes:
        total *= max(s, 0)
    return total * (sizes[0] if name == "np.eye" else 1)


def scalar(value, kernel: ast.FunctionDef) -> jax.Array:
    """The kernel's result as a 0-d array, or a UserCodeError saying what it was."""
    if type(value) in (int, float, bool):
        return jnp.asarray(value)
    if isinstance(value, ARRAYS):
        if value.shape != ():
            raise UserCodeError(
                f"the kernel must return a scalar (one number for one pair x, y), but it "
                f"returned an array of shape {tuple(value.shape)}: reduce it, e.g. "
                "np.sum(...).", kernel.lineno)
        return jnp.asarray(value)
    what = "nothing (add `return ...`)" if value is None else type(value).__name__.strip("_")
    raise UserCodeError(f"the kernel must return a scalar (one number for one pair x, y); "
                        f"it returned {what}.", kernel.lineno)
