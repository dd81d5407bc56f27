"""The workbench's refusals in words: what each forbidden construct is told.

Every message says what is not allowed and what to write instead; the app shows it
verbatim after "Line N: ". `checks.py` decides, this module only words.
"""

from __future__ import annotations

import ast

from core.workbench.allowlist import MAX_RANGE

__all__ = ["ATTR_HINTS", "CALLABLE_HINTS", "FOREIGN", "REFUSED"]

_NO_IMPORT = ("`import` is not allowed in the workbench: use `np.` (jax.numpy) and `lax.` "
              "(jax.lax) directly, they are already there.")
_COMPREHENSION = ("comprehensions and generator expressions are not allowed in the workbench: "
                  "use array operations such as np.sum(x * y), or `for i in range(N)`.")
_ASYNC = "`async` and `await` are not allowed in the workbench: write a plain `def`."
REFUSED: dict[type, str] = {
    ast.Import: _NO_IMPORT, ast.ImportFrom: _NO_IMPORT,
    ast.ClassDef: "classes are not allowed in the workbench: write functions with `def`.",
    ast.While: ("`while` loops are not allowed in the workbench: use `for i in range(N)` with "
                f"a literal N up to {MAX_RANGE}, or lax.fori_loop(0, N, body, init)."),
    ast.ListComp: _COMPREHENSION, ast.SetComp: _COMPREHENSION, ast.DictComp: _COMPREHENSION,
    ast.GeneratorExp: _COMPREHENSION,
    ast.Global: "`global` and `nonlocal` are not allowed: pass values as arguments, return results.",
    ast.Nonlocal: "`global` and `nonlocal` are not allowed: pass values as arguments, return results.",
    ast.Try: "`try` is not allowed in the workbench: guard values with np.where instead.",
    ast.With: "`with` is not allowed in the workbench: there are no files or contexts to open.",
    ast.AsyncWith: _ASYNC, ast.AsyncFor: _ASYNC, ast.AsyncFunctionDef: _ASYNC, ast.Await: _ASYNC,
    ast.Delete: "`del` is not allowed in the workbench: assign a new value instead.",
    ast.Yield: "`yield` (generators) is not allowed in the workbench: `return` one value.",
    ast.YieldFrom: "`yield` (generators) is not allowed in the workbench: `return` one value.",
    ast.NamedExpr: "the walrus operator `:=` is not allowed: assign on its own line, d = ...",
    ast.Starred: "starred arguments (`*args`) are not allowed: pass each argument separately.",
    ast.JoinedStr: "f-strings are not allowed: strings are not data in the workbench.",
    ast.FormattedValue: "f-strings are not allowed: strings are not data in the workbench.",
    ast.Assert: "`assert` is not allowed: a check on a traced value cannot run; use np.where.",
    ast.Raise: "`raise` is not allowed: return a value (np.where can choose one).",
    ast.Dict: "dicts are not allowed in the workbench: read parameters as params['name'].",
    ast.Set: "sets are not allowed in the workbench: use arrays.",
    ast.Break: "`break` and `continue` are not allowed: loops run their full count; use np.where.",
    ast.Continue: "`break` and `continue` are not allowed: loops run their full count; use np.where.",
    ast.AnnAssign: "annotated assignments (a: float = ...) are not allowed: write a = ...",
    ast.Match: "`match` is not allowed in the workbench: use if/else or np.where.",
    ast.Is: "`is` and `in` are not allowed in comparisons: compare numbers with ==, <, >.",
    ast.IsNot: "`is` and `in` are not allowed in comparisons: compare numbers with ==, <, >.",
    ast.In: "`is` and `in` are not allowed in comparisons: compare numbers with ==, <, >.",
    ast.NotIn: "`is` and `in` are not allowed in comparisons: compare numbers with ==, <, >.",
    ast.LShift: "`<<` and `>>` are not allowed: use * and // with powers of two.",
    ast.RShift: "`<<` and `>>` are not allowed: use * and // with powers of two.",
}
if hasattr(ast, "TryStar"):
    REFUSED[ast.TryStar] = REFUSED[ast.Try]

FOREIGN = {"jax", "numpy", "math", "os", "sys", "scipy", "builtins", "subprocess"}
ATTR_HINTS = {
    "at": "`.at[...]` (in-place update) is not allowed: build a new array, np.where(mask, new, x).",
    "astype": "`.astype` is not allowed: arrays are already floats.",
    "keys": "params can only be read as params['name'], with a literal name.",
    "get": "params can only be read as params['name'], with a literal name.",
    "items": "params can only be read as params['name'], with a literal name.",
    "values": "params can only be read as params['name'], with a literal name.",
}
CALLABLE_HINTS = {
    "vectorize": "functions that take arbitrary callables are not allowed: write the kernel "
                 "for one pair, the app batches it with vmap",
    "piecewise": "use np.where(cond, a, b)",
    "while_loop": "use lax.fori_loop with literal bounds",
    "scan": "use lax.fori_loop with literal bounds", "map": "use lax.fori_loop or vmap's own batching",
    "reduce": "use np.sum, np.max or np.min", "load": "the workbench cannot read or write files",
    "save": "the workbench cannot read or write files", "finfo": "write the number itself",
    "set_printoptions": "there is no output to format",
}
