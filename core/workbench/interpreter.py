"""The workbench interpreter: walks a checked tree node by node, under JAX tracing.

Nothing is compiled from the user's text: each node of the checked tree is
evaluated by a small handler, with jax.numpy doing the arithmetic, so JAX traces the
walk once and jit compiles the jaxpr. Every call of the kernel counts its steps,
its nesting and its user-function calls, and stops at the bounds in `allowlist.py`.
Any exception becomes a UserCodeError naming the user's line.
"""

from __future__ import annotations

import ast
import operator
import sys
from collections.abc import Callable, Mapping

import jax
import jax.lax as lax

from core.errors import UserCodeError
from core.workbench.allowlist import (
    FUNCTIONS,
    MAX_CALL_DEPTH,
    MAX_CALLS,
    MAX_EVAL_DEPTH,
    MAX_SHAPE_ELEMENTS,
    MAX_STEPS,
    MODULE_NAMES,
    resolve,
)
from core.workbench.syntax import dotted
from core.workbench.values import ARRAYS, DTYPES, Params, binop, check_value, scalar, shape_size

__all__ = ["build_kernel"]

_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_TRACER_IF = (
    "TracerBoolConversionError: a Python `if` (or and/or/not, a chained comparison, or a "
    "conditional expression) needs True or False, but this value is traced by JAX and has "
    "no value while tracing. Choose values with np.where(cond, a, b) instead, or use "
    "lax.cond(cond, lambda: a, lambda: b).")


class _Returned:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


class _Run:
    """One call of the kernel: its counters, so concurrent calls share nothing."""

    def __init__(self, functions: dict[str, ast.FunctionDef], resolved: dict[int, object]):
        self.functions = functions
        self.resolved = resolved
        self.steps = self.calls = self.depth = self.calls_made = 0
        # About three Python frames per level; keep room for JAX's own frames below us,
        # and never raise the interpreter's recursion limit.
        room = (sys.getrecursionlimit() - _stack_depth() - 250) // 3
        self.max_depth = max(20, min(MAX_EVAL_DEPTH, room))

    # -- bookkeeping ---------------------------------------------------------------
    def _enter(self, node: ast.AST) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise UserCodeError(
                f"the kernel took more than {MAX_STEPS:,} steps to trace (each name, operation "
                "and call is a step): are functions calling others many times over, or loops "
                "inside loops? Use np. array operations or lax.fori_loop.", node.lineno)
        self.depth += 1
        if self.depth > self.max_depth:
            raise UserCodeError("the evaluation is nested too deeply (calls inside calls): "
                                "split expressions, or call fewer functions inside each other.",
                                node.lineno)

    def _wrap(self, e: Exception, node: ast.AST) -> UserCodeError:
        line = getattr(node, "lineno", None)
        if isinstance(e, jax.errors.TracerBoolConversionError):
            return UserCodeError(_TRACER_IF, line)
        if isinstance(e, jax.errors.ConcretizationTypeError):
            return UserCodeError(
                f"{type(e).__name__}: this needs a concrete number, but the value is traced "
                "by JAX: use np.where(cond, a, b) or lax.cond for choices that depend on x, y "
                "or params.", line)
        if isinstance(e, RecursionError):
            return UserCodeError("the evaluation is nested too deeply: split expressions, or "
                                 "call fewer functions inside each other.", line)
        text = str(e).strip()
        first = text.splitlines()[0][:300] if text else "(no message)"
        if "traceback" in first.lower():
            first = "(see JAX's documentation for this error)"
        return UserCodeError(f"{type(e).__name__}: {first}", line)

    def evaluate(self, node: ast.expr, scope: dict):
        """Evaluate one expression node in `scope` (the function's local names)."""
        self._enter(node)
        try:
            return _EXPRESSIONS[type(node)](self, node, scope)
        except UserCodeError as e:
            if e.line is None:  # raised by a helper that knows no line: this one
                raise UserCodeError(str(e), node.lineno) from None
            raise
        except Exception as e:  # noqa: BLE001 - every failure is reported on the user's line
            raise self._wrap(e, node) from None
        finally:
            self.depth -= 1

    def run_body(self, body: list[ast.stmt], scope: dict) -> _Returned | None:
        """Run statements until one returns; the _Returned, or None at the end."""
        for stmt in body:
            self._enter(stmt)
            try:
                result = _STATEMENTS[type(stmt)](self, stmt, scope)
            except UserCodeError:
                raise
            except Exception as e:  # noqa: BLE001
                raise self._wrap(e, stmt) from None
            finally:
                self.depth -= 1
            if result is not None:
                return result
        return None

    def call_user(self, name: str, args: list, node: ast.AST):
        """Call the user's function `name` with positional `args`."""
        function = self.functions[name]
        if len(args) != len(function.args.args):
            raise UserCodeError(f"`{name}` takes {len(function.args.args)} arguments; it was "
                                f"given {len(args)}.", node.lineno)
        self.calls += 1
        self.calls_made += 1
        try:
            if self.calls_made > MAX_CALLS:
                raise UserCodeError(
                    f"the kernel made more than {MAX_CALLS:,} function calls while tracing: do "
                    "functions call others many times over? Compute a value once, assign it, "
                    "and reuse the name.", node.lineno)
            if _stack_depth() > sys.getrecursionlimit() - 200:  # JAX's frames count too
                raise UserCodeError("the evaluation is nested too deeply (calls inside lax.cond "
                                    "or lax.fori_loop inside calls): call fewer functions "
                                    "inside each other.", node.lineno)
            if self.calls > MAX_CALL_DEPTH:
                raise UserCodeError(
                    f"function calls nest more than {MAX_CALL_DEPTH} deep (does `{name}` call "
                    f"itself?): recursion must end within {MAX_CALL_DEPTH} calls; use a for "
                    "loop or lax.fori_loop.", node.lineno)
            scope = {a.arg: v for a, v in zip(function.args.args, args)}
            result = self.run_body(function.body, scope)
            return None if result is None else result.value
        finally:
            self.calls -= 1

    def truth(self, value) -> bool:
        """Python truth, as `if` needs it (JAX raises TracerBoolConversionError when traced)."""
        if isinstance(value, (Params, list, tuple)) or callable(value):
            raise TypeError("a condition must be a number or a comparison")
        return bool(value)

    def callable_arg(self, node: ast.expr, scope: dict, owner: str) -> Callable:
        """A lambda or a user function's name, as the callable lax.cond/fori_loop calls."""
        if isinstance(node, ast.Name):
            return lambda *values: self.call_user(node.id, list(values), node)
        names = [a.arg for a in node.args.args]

        def call(*values):
            if len(values) != len(names):
                raise UserCodeError(f"this lambda takes {len(names)} arguments; {owner} gives "
                                    f"it {len(values)}.", node.lineno)
            return self.evaluate(node.body, {**scope, **dict(zip(names, values))})

        return call


# -- statements -----------------------------------------------------------------------
def _bind(run: _Run, target: ast.expr, value, scope: dict) -> None:
    if isinstance(target, ast.Name):
        scope[target.id] = value
        return
    n = len(target.elts)
    if isinstance(value, (tuple, list)):
        items = list(value)
    elif isinstance(value, ARRAYS) and value.ndim >= 1 and value.shape[0] == n:
        items = [value[i] for i in range(n)]  # n is bounded by the source's length
    else:
        raise ValueError(f"cannot unpack this value into {n} names")
    if len(items) != n:
        raise ValueError(f"cannot unpack {len(items)} values into {n} names")
    for element, item in zip(target.elts, items):
        _bind(run, element, item, scope)


def _assign(run, node, scope):
    value = run.evaluate(node.value, scope)
    for target in node.targets:
        _bind(run, target, value, scope)


def _aug_assign(run, node, scope):
    name = node.target.id
    if name not in scope:
        raise UserCodeError(f"`{name}` is used before it is assigned.", node.lineno)
    scope[name] = binop(type(node.op), scope[name], run.evaluate(node.value, scope))


def _if(run, node, scope):
    branch = node.body if run.truth(run.evaluate(node.test, scope)) else node.orelse
    return run.run_body(branch, scope)


def _for(run, node, scope):
    for i in range(*(a.value for a in node.iter.args)):  # literal, at most MAX_RANGE
        scope[node.target.id] = i
        result = run.run_body(node.body, scope)
        if result is not None:
            return result
    return None


_STATEMENTS = {
    ast.Return: lambda run, node, scope: _Returned(
        None if node.value is None else run.evaluate(node.value, scope)),
    ast.Assign: _assign, ast.AugAssign: _aug_assign, ast.If: _if, ast.For: _for,
    ast.Expr: lambda run, node, scope: None,  # a docstring: the checks allow no other
    ast.Pass: lambda run, node, scope: None,
}


# -- expressions ----------------------------------------------------------------------
def _name(run, node, scope):
    if node.id in scope:
        return scope[node.id]
    raise UserCodeError(f"`{node.id}` is used before it is assigned (is it assigned in only "
                        "one branch of an if?).", node.lineno)


def _attribute(run, node, scope):
    if id(node) in run.resolved:
        return run.resolved[id(node)]
    value = run.evaluate(node.value, scope)
    if not isinstance(value, ARRAYS):
        raise UserCodeError(f"`.{node.attr}` works on arrays only.", node.lineno)
    return getattr(value, node.attr)  # the checks allow shape, T and ndim only


def _subscript(run, node, scope):
    value = run.evaluate(node.value, scope)
    key = node.slice
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        if not isinstance(value, Params):
            raise UserCodeError("a literal string index may only read a parameter, "
                                "params['name'].", node.lineno)
        if key.value not in value.values:
            raise UserCodeError(f"params has no {key.value!r}: give it a value in the "
                                "workbench's parameters.", node.lineno)
        return value.values[key.value]
    if isinstance(value, Params):
        raise UserCodeError("params can only be read with a literal name, as params['ell'].",
                            node.lineno)
    if not isinstance(value, (*ARRAYS, tuple, list)):
        raise TypeError("only arrays, tuples and lists can be indexed")
    return value[_index(run, key, scope)]


def _index(run, node, scope):
    if isinstance(node, ast.Slice):
        parts = [None if p is None else run.evaluate(p, scope)
                 for p in (node.lower, node.upper, node.step)]
        if any(p is not None and type(p) is not int for p in parts):
            raise TypeError("slice bounds must be integers, as x[1:3]")
        return slice(*parts)
    if isinstance(node, ast.Tuple):
        return tuple(_index(run, element, scope) for element in node.elts)
    value = run.evaluate(node, scope)
    if isinstance(value, (bool, float, Params)) or callable(value):
        raise TypeError("indices must be integers, slices or None")
    return value


def _boolop(run, node, scope):
    want = isinstance(node.op, ast.Or)  # `or` stops at the first true value
    for element in node.values:
        value = run.evaluate(element, scope)
        if run.truth(value) is want:
            return value
    return value


def _compare(run, node, scope):
    left = run.evaluate(node.left, scope)
    for i, (op, right_node) in enumerate(zip(node.ops, node.comparators)):
        right = run.evaluate(right_node, scope)
        result = _COMPARE[type(op)](left, right)
        if i == len(node.ops) - 1 or not run.truth(result):
            return result
        left = right
    return result


def _unary(run, node, scope):
    value = run.evaluate(node.operand, scope)
    if isinstance(node.op, ast.Not):
        return not run.truth(value)
    if isinstance(value, (Params, list, tuple)) or callable(value):
        raise TypeError("only numbers and arrays take a sign")
    return _UNARY[type(node.op)](value)


def _call(run, node, scope):
    func = node.func
    if isinstance(func, ast.Name):  # the checks allow only the user's own functions here
        return run.call_user(func.id, [run.evaluate(a, scope) for a in node.args], node)
    target = run.resolved[id(func)]
    name = FUNCTIONS[target].name
    if target is lax.cond:
        pred = run.evaluate(node.args[0], scope)
        branches = [run.callable_arg(a, scope, name) for a in node.args[1:3]]
        operands = [run.evaluate(a, scope) for a in node.args[3:]]
        check_value(operands, name)
        return lax.cond(pred, *branches, *operands)
    if target is lax.fori_loop:
        lower, upper = (run.evaluate(a, scope) for a in node.args[:2])  # literal ints
        init = run.evaluate(node.args[3], scope)
        check_value(init, name)
        return lax.fori_loop(lower, upper, run.callable_arg(node.args[2], scope, name), init)
    args = [run.evaluate(a, scope) for a in node.args]
    kwargs = {kw.arg: run.evaluate(kw.value, scope) for kw in node.keywords}
    check_value(args, name)
    check_value(list(kwargs.values()), name)
    if "dtype" in kwargs and kwargs["dtype"] not in DTYPES:
        raise UserCodeError("dtype= may only be np.float32 or np.float64.", node.lineno)
    if name in ("np.zeros", "np.ones", "np.eye", "np.arange"):
        size = shape_size(name, args)
        if size > MAX_SHAPE_ELEMENTS:
            raise UserCodeError(f"{name} would build {size:,} elements; at most "
                                f"{MAX_SHAPE_ELEMENTS:,} are allowed.", node.lineno)
    return target(*args, **kwargs)


_EXPRESSIONS = {
    ast.Constant: lambda run, node, scope: node.value,
    ast.Name: _name, ast.Attribute: _attribute, ast.Subscript: _subscript,
    ast.BinOp: lambda run, node, scope: binop(
        type(node.op), run.evaluate(node.left, scope), run.evaluate(node.right, scope)),
    ast.UnaryOp: _unary, ast.BoolOp: _boolop, ast.Compare: _compare,
    ast.IfExp: lambda run, node, scope: run.evaluate(
        node.body if run.truth(run.evaluate(node.test, scope)) else node.orelse, scope),
    ast.Tuple: lambda run, node, scope: tuple(run.evaluate(e, scope) for e in node.elts),
    ast.List: lambda run, node, scope: [run.evaluate(e, scope) for e in node.elts],
    ast.Call: _call,
}


def build_kernel(checked) -> Callable:
    """The callable `k(params, x, y)` of a CheckedSource (see `language.user_kernel`)."""
    functions = {s.name: s for s in checked.tree.body if isinstance(s, ast.FunctionDef)}
    resolved: dict[int, object] = {}
    for node in ast.walk(checked.tree):
        if isinstance(node, ast.Attribute):
            root, attrs = dotted(node)
            if isinstance(root, ast.Name) and root.id in MODULE_NAMES:
                try:
                    resolved[id(node)] = resolve(root.id, attrs)[1]
                except LookupError:  # an inner part of a checked chain, e.g. np.linalg
                    pass
    kernel_def = functions[checked.kernel_name]

    def kernel(params: Mapping, x, y) -> jax.Array:
        if not isinstance(params, Mapping):
            raise UserCodeError(f"params must be a dict of parameters, not "
                                f"{type(params).__name__}.")
        run = _Run(functions, resolved)
        try:
            value = run.call_user(kernel_def.name, [Params(params), x, y], kernel_def)
        except RecursionError:
            raise UserCodeError("the evaluation is nested too deeply: split expressions, or "
                                "call fewer functions inside each other.") from None
        return scalar(value, kernel_def)

    kernel.__name__ = kernel.__qualname__ = checked.kernel_name
    kernel.__doc__ = ast.get_docstring(kernel_def) or f"The workbench kernel {kernel_def.name}."
    return kernel
