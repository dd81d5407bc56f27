"""What the workbench language may name: its functions, keywords, constants and limits.

An allowlist, never a blocklist: a dotted name such as `np.linalg.norm` is walked
attribute by attribute through the allowed modules only, and the object it reaches
must be a key of `FUNCTIONS` (by identity), so an alias cannot smuggle anything in.
Everything here is data; `language.py` checks against it, `interpreter.py` runs it.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from types import ModuleType

import jax.lax as lax
import jax.numpy as jnp

from core.kernels import KERNELS

__all__ = [
    "CONSTANTS", "FUNCTIONS", "MAX_AST_DEPTH", "MAX_BRACKET_DEPTH", "MAX_CALLS", "MAX_CALL_DEPTH",
    "MAX_EVAL_DEPTH", "MAX_FORI_TRIPS", "MAX_INT", "MAX_OPERATORS_PER_STATEMENT",
    "MAX_PARAMS", "MAX_RANGE", "MAX_SEQUENCE", "MAX_SHAPE_ELEMENTS", "MAX_SOURCE_CHARS",
    "MAX_STEPS", "MODULE_NAMES", "RESERVED_PARAM_NAMES", "Allowed", "builtin_hint",
    "resolve",
]

MAX_SOURCE_CHARS = 4000  # checked before ast.parse: the parser's own work grows with the text
MAX_PARAMS = 4  # params['name'] names besides 'gamma'
MAX_BRACKET_DEPTH = 40  # ( [ { nesting, counted on tokens before ast.parse
MAX_OPERATORS_PER_STATEMENT = 200  # -, not, ** ... in one logical line: each may nest a level
MAX_AST_DEPTH = 100  # checked iteratively after parsing, so no walker can overflow the stack
MAX_EVAL_DEPTH = 250  # nested evaluations at run time, across calls (about two frames each)
MAX_CALL_DEPTH = 32  # user function calls in progress at once (recursion ends here)
MAX_STEPS = 10_000  # nodes evaluated per call of the kernel: bounds loops inside loops
MAX_CALLS = 1000  # user function calls per call of the kernel: bounds exponential call trees
MAX_RANGE = 64  # `for i in range(c)`: c a literal int up to this
MAX_FORI_TRIPS = 1000  # lax.fori_loop(lo, hi, ...): literal bounds, hi - lo up to this
MAX_INT = 2**53  # Python ints beyond a float's exact range are refused: no 2 ** 10 ** 7
MAX_SEQUENCE = 64  # list and tuple literals: elements
MAX_SHAPE_ELEMENTS = 10**6  # zeros, ones, arange, reshape, eye: literal sizes up to this

# The sidebar's URL keys (ui/state/sidebar.py URL, which core may not import) and every
# kernel parameter: a user parameter of the same name would shadow a sidebar control
# in the URL. 'gamma' is not here: it means the app's shared gamma.
RESERVED_PARAM_NAMES = frozenset(
    {"dataset", "n", "noise", "seed", "dtype", "kernel", "method"}
    | {p.name for spec in KERNELS.values() for p in spec.params}
) - {"gamma"}

# What `np.`, `jnp.` and `lax.` mean, as the notes write them.
MODULE_NAMES: dict[str, ModuleType] = {"np": jnp, "jnp": jnp, "lax": lax}
# The only modules a dotted name may pass through on its way to a function.
_MODULES = (jnp, jnp.linalg, lax)


@dataclass(frozen=True)
class Allowed:
    """One allowlisted function.

    Attributes:
        name: how messages write it, e.g. "np.sum".
        keywords: the keyword arguments it may be given.
        shape_args: how many leading arguments give a shape or size (bounded).
    """

    name: str
    keywords: frozenset[str] = frozenset()
    shape_args: int = 0


def _table() -> dict[object, Allowed]:
    reduce_kw = frozenset({"axis", "keepdims"})
    plain = ["exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "abs",
             "absolute", "square", "sign", "power", "sin", "cos", "tan", "tanh", "sinh",
             "cosh", "arctan", "arctan2", "arcsin", "arccos", "floor", "ceil", "mod",
             "maximum", "minimum", "where", "dot", "vdot", "inner", "outer", "matmul",
             "isnan", "isfinite", "logaddexp", "sinc", "hypot", "diag", "trace", "transpose"]
    table = {getattr(jnp, n): Allowed(f"np.{n}") for n in plain}
    for n in ("sum", "mean", "max", "min", "prod", "var", "std", "all", "any"):
        table[getattr(jnp, n)] = Allowed(f"np.{n}", reduce_kw)
    for n in ("cumsum", "stack", "concatenate", "take"):
        table[getattr(jnp, n)] = Allowed(f"np.{n}", frozenset({"axis"}))
    table[jnp.clip] = Allowed("np.clip", frozenset({"min", "max"}))
    table[jnp.tensordot] = Allowed("np.tensordot", frozenset({"axes"}))
    # Shape builders: their sizes are literal or computed Python ints, bounded.
    for n in ("zeros", "ones", "eye"):
        table[getattr(jnp, n)] = Allowed(f"np.{n}", frozenset({"dtype"}), shape_args=1)
    table[jnp.arange] = Allowed("np.arange", frozenset({"dtype"}), shape_args=3)
    table[jnp.reshape] = Allowed("np.reshape", shape_args=0)
    table[jnp.linalg.norm] = Allowed("np.linalg.norm", frozenset({"ord", "axis", "keepdims"}))
    for n in ("det", "slogdet", "inv", "solve", "cholesky", "eigh"):
        table[getattr(jnp.linalg, n)] = Allowed(f"np.linalg.{n}")
    # The two higher-order functions: their callables are checked on the tree (lambdas
    # or the user's own functions) and their bounds too (fori_loop: literal ints).
    table[lax.cond] = Allowed("lax.cond")
    table[lax.fori_loop] = Allowed("lax.fori_loop")
    return table


FUNCTIONS: dict[object, Allowed] = _table()

# Values a dotted name may name without a call, by (module, attribute).
CONSTANTS: dict[tuple[str, str], object] = {
    ("jnp", n): getattr(jnp, n) for n in ("pi", "e", "inf", "nan", "newaxis", "float32",
                                          "float64")
}
_MODULE_KEY = {id(jnp): "jnp", id(jnp.linalg): "jnp.linalg", id(lax): "lax"}


def resolve(root: str, attrs: tuple[str, ...]) -> tuple[str, object]:
    """Resolve `root.a.b` through the allowed modules only.

    Args:
        root: "np", "jnp" or "lax".
        attrs: the attribute names after it, e.g. ("linalg", "norm").

    Returns:
        ("function", the function object) for a key of `FUNCTIONS`, or ("constant",
        its value) for `np.pi` and the like.

    Raises:
        LookupError: the name is not allowlisted (its message says which part).
    """
    obj: object = MODULE_NAMES[root]
    for i, attr in enumerate(attrs):
        if not (isinstance(obj, ModuleType) and obj in _MODULES):
            raise LookupError(".".join((root, *attrs[:i + 1])))
        if attr.startswith("_") or not attr.isidentifier() or not attr.isascii():
            raise LookupError(".".join((root, *attrs[:i + 1])))
        module_key = _MODULE_KEY[id(obj)]
        if (module_key, attr) in CONSTANTS and i == len(attrs) - 1:
            return "constant", CONSTANTS[(module_key, attr)]
        obj = getattr(obj, attr, None)
        if obj is None:
            raise LookupError(".".join((root, *attrs[:i + 1])))
    try:
        if obj in FUNCTIONS:  # by identity and hash: a function object, not a name
            return "function", obj
    except TypeError:  # unhashable: certainly not an allowlisted function
        pass
    if isinstance(obj, ModuleType) and obj in _MODULES:
        raise LookupError(".".join((root, *attrs)) + " (a module)")
    raise LookupError(".".join((root, *attrs)))


# Python builtins a user might reach for, with what to write instead.
_BUILTIN_HINTS = {
    "print": "there is no output in the workbench: return the value, the page shows it",
    "input": "there is no input in the workbench: use params['name'] for a parameter",
    "open": "the workbench cannot read or write files",
    "range": "range is only allowed as `for i in range(N)` with a literal N up to 64",
    "len": "use x.shape[0]",
    "float": "numbers are already floats: write 1.0, or use np.float32 as a dtype",
    "int": "write an integer literal, or use x.shape[0]",
    "isinstance": "every value is an array or a number: there are no types to test",
    "type": "every value is an array or a number: use x.shape and x.ndim",
}


def builtin_hint(name: str) -> str | None:
    """What to say when user code names `name`, a Python builtin; None if it is not one."""
    if name in _BUILTIN_HINTS:
        return f"`{name}` is not available in the workbench: {_BUILTIN_HINTS[name]}."
    if name in ("abs", "sum", "max", "min", "pow", "round", "all", "any"):
        target = {"pow": "power", "round": "floor"}.get(name, name)
        return f"`{name}` is Python's, not allowed in the workbench: use `np.{target}(...)`."
    if name in dir(builtins) or name in ("exit", "quit", "help", "copyright", "credits",
                                         "license", "__builtins__"):
        return (f"`{name}` is not available in the workbench: only your own functions, "
                "`np.` (jax.numpy) and `lax.` functions can be called.")
    return None
