"""Facts about a parsed workbench source that the checks and the interpreter share.

Parents, top-level functions, each function's local names, docstrings, and which
nodes are called or handed to lax.cond / lax.fori_loop; plus dotted names and
bounded folding of integer literals. Built with `ast.walk`, which does not recurse.
"""

from __future__ import annotations

import ast
import math

from core.errors import UserCodeError
from core.workbench.allowlist import FUNCTIONS, MAX_INT, MODULE_NAMES, Allowed, resolve

__all__ = ["TreeFacts", "dotted", "fold_int"]


def _err(node: ast.AST, message: str) -> UserCodeError:
    return UserCodeError(message, getattr(node, "lineno", None))


def dotted(node: ast.Attribute) -> tuple[ast.expr, tuple[str, ...]]:
    """The root and attribute names of `a.b.c` (root `a`, names ("b", "c")); iterative."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return node, tuple(reversed(attrs))


def fold_int(node: ast.AST) -> int | None:
    """The value of an integer literal expression (2 ** 10, -3 * 4), bounded; else None.

    Raises:
        UserCodeError: the value would leave [-2**53, 2**53]: `2 ** 10 ** 7` is refused
            before anything computes it.
    """
    if isinstance(node, ast.Constant):
        return node.value if type(node.value) is int else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = fold_int(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if not isinstance(node, ast.BinOp):
        return None
    a, b = fold_int(node.left), fold_int(node.right)
    if a is None or b is None:
        return None
    big = _err(node, f"this integer would be larger than 2**53: the workbench keeps Python "
                     "integers within ±2**53; use floats (2.0 ** 60) for large numbers.")
    op = node.op
    if isinstance(op, ast.Pow):
        if b < 0:
            return None
        if abs(a) > 1 and b * math.log2(abs(a)) > 53:
            raise big
        value = a**b
    elif isinstance(op, (ast.Add, ast.Sub, ast.Mult)):
        value = a + b if isinstance(op, ast.Add) else a - b if isinstance(op, ast.Sub) else a * b
    elif isinstance(op, (ast.FloorDiv, ast.Mod)) and b != 0:
        value = a // b if isinstance(op, ast.FloorDiv) else a % b
    else:
        return None
    if abs(value) > MAX_INT:
        raise big
    return value


class TreeFacts:
    """What the walk knows about the tree: parents, functions, special positions."""

    def __init__(self, tree: ast.Module):
        self.parent: dict[int, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parent[id(child)] = node
        self.functions = [s for s in tree.body if isinstance(s, ast.FunctionDef)]
        self.function_names = {f.name for f in self.functions}
        self.owner: dict[int, ast.FunctionDef] = {}  # node -> its top-level function
        self.local_names: dict[str, set[str]] = {}
        for f in self.functions:
            names = set()
            for node in ast.walk(f):
                self.owner[id(node)] = f
                if isinstance(node, ast.arg):
                    names.add(node.arg)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
            self.local_names[f.name] = names
        self.docstrings = {id(body[0].value) for body in
                           [tree.body] + [f.body for f in self.functions]
                           if body and isinstance(body[0], ast.Expr)
                           and isinstance(body[0].value, ast.Constant)
                           and isinstance(body[0].value.value, str)}
        self.callee: set[int] = set()  # nodes that are the function of a call
        self.callable_args: set[int] = set()  # lambdas and function names cond/fori may take
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.callee.add(id(node.func))
                allowed = self.allowed_function(node.func)
                name = allowed.name if allowed else None
                slots = {"lax.cond": (1, 2), "lax.fori_loop": (2,)}.get(name, ())
                self.callable_args.update(id(node.args[i]) for i in slots if i < len(node.args))

    def allowed_function(self, func: ast.expr) -> Allowed | None:
        if not isinstance(func, ast.Attribute):
            return None
        root, attrs = dotted(func)
        if not (isinstance(root, ast.Name) and root.id in MODULE_NAMES):
            return None
        try:
            kind, obj = resolve(root.id, attrs)
        except LookupError:
            return None
        return FUNCTIONS[obj] if kind == "function" else None
