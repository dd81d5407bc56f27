"""The static rules of the workbench language, checked on the parsed tree.

Every node of the tree is visited once, in source order (and at one position, the
innermost first, so `print(x)` is refused for `print`, not for the bare call), with
no recursion over the tree: `ast.walk` is iterative. The first broken rule raises.
"""

from __future__ import annotations

import ast
import math
import unicodedata

from core.errors import UserCodeError
from core.workbench.allowlist import (
    MAX_FORI_TRIPS,
    MAX_INT,
    MAX_PARAMS,
    MAX_RANGE,
    MAX_SEQUENCE,
    MAX_SHAPE_ELEMENTS,
    MODULE_NAMES,
    RESERVED_PARAM_NAMES,
    builtin_hint,
    resolve,
)
from core.workbench.refusals import ATTR_HINTS, CALLABLE_HINTS, FOREIGN, REFUSED
from core.workbench.syntax import TreeFacts, dotted, fold_int

__all__ = ["check_tree"]

_ALLOWED = (ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign,
            ast.AugAssign, ast.If, ast.For, ast.Expr, ast.Pass, ast.Name, ast.Constant,
            ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
            ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Lambda,
            ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)
_ARRAY_ATTRS = frozenset({"shape", "T", "ndim"})


def _err(node: ast.AST, message: str) -> UserCodeError:
    return UserCodeError(message, getattr(node, "lineno", None))


def _param_name(node: ast.Subscript, params: list[str]) -> None:
    name = node.slice.value
    if not (name.isascii() and name.isidentifier()):
        raise _err(node, f"params[{name!r}]: a parameter name is ASCII letters, digits and _.")
    if name in RESERVED_PARAM_NAMES:
        raise _err(node, f"the parameter name {name!r} is taken by the app's sidebar: rename "
                         f"it, e.g. params['my_{name}'].")
    if name not in params:
        params.append(name)
        if len([p for p in params if p != "gamma"]) > MAX_PARAMS:
            raise _err(node, f"at most {MAX_PARAMS} parameters besides gamma are allowed; "
                             f"this is the fifth, {name!r}: combine or fix some of them.")


def check_tree(tree: ast.Module) -> tuple[list[ast.FunctionDef], list[str]]:
    """Check every node of a parsed (depth-bounded) source against the language.

    Returns:
        The top-level functions, and the params['name'] names in first-use order.

    Raises:
        UserCodeError: at the first broken rule, in source order.
    """
    ctx = TreeFacts(tree)
    seen: set[str] = set()
    for f in ctx.functions:
        if f.name in seen:
            raise _err(f, f"the function `{f.name}` is defined twice: rename one of them.")
        seen.add(f.name)
    params: list[str] = []
    depth = {id(tree): 0}
    for node in ast.walk(tree):  # breadth first: parents before children
        for child in ast.iter_child_nodes(node):
            depth[id(child)] = depth[id(node)] + 1
    for f in ctx.functions:  # a def's signature first: decorators come before its line
        _check_signature(f)
    nodes = sorted((n for n in ast.walk(tree) if hasattr(n, "lineno")),
                   key=lambda n: (n.lineno, n.col_offset, -depth[id(n)]))
    for node in nodes:
        _check_node(node, ctx, params)
    for node in ast.walk(tree):  # nodes without a position (never reached so far)
        if not isinstance(node, _ALLOWED):
            raise _err(node, f"`{type(node).__name__}` is not part of the workbench language.")
    return ctx.functions, params


def _check_node(node: ast.AST, ctx: TreeFacts, params: list[str]) -> None:
    parent = ctx.parent.get(id(node))
    for t, message in REFUSED.items():
        if isinstance(node, t):
            raise _err(node, message)
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) in REFUSED:
                raise _err(node, REFUSED[type(op)])
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in REFUSED:
        raise _err(node, REFUSED[type(node.op)])
    if not isinstance(node, _ALLOWED):
        raise _err(node, f"`{type(node).__name__}` is not part of the workbench language: "
                         "use def, return, assignments, if/else, for i in range(N) and np.")
    if isinstance(parent, ast.Module) and not isinstance(node, ast.FunctionDef) and not (
            isinstance(node, ast.Expr) and id(node.value) in ctx.docstrings):
        raise _err(node, "at the top level only `def` is allowed: put this line inside your "
                         "kernel function.")
    for identifier in _identifiers(node):
        # The tokens were ASCII already; the tree is checked too, in case it was built
        # some other way: Python's parser NFKC-normalises names (fullwidth ｅｘｐ -> exp).
        if not identifier.isascii() or unicodedata.normalize("NFKC", identifier) != identifier:
            raise _err(node, f"the name `{identifier}` has non-ASCII characters: write names "
                             "with ASCII letters, digits and _ only.")
    handler = _HANDLERS.get(type(node))
    if handler is not None:
        handler(node, ctx, params, parent)


def _identifiers(node: ast.AST) -> list[str]:
    for field in ("id", "arg", "name", "attr"):
        value = getattr(node, field, None)
        if isinstance(value, str):
            return [value]
    return []


def _check_function(node, ctx, params, parent):
    if not isinstance(parent, ast.Module):
        raise _err(node, "define functions at the top level only, not inside another function.")
    if node.name in MODULE_NAMES or node.name == "range":
        raise _err(node, f"`{node.name}` cannot be a function name: it already means something.")
    _check_signature(node)
    _check_arg_names(node, node.args, ctx)


def _check_signature(node: ast.FunctionDef) -> None:
    if node.decorator_list:
        raise _err(node, "decorators are not allowed: write a plain `def`; the app jits and "
                         "vmaps the kernel itself.")
    _check_arguments(node, node.args, "def")


def _check_arguments(node, args: ast.arguments, what: str) -> None:
    if args.vararg is not None:
        raise _err(node, f"`*{args.vararg.arg}` is not allowed in a {what}: name each argument.")
    if args.kwarg is not None:
        raise _err(node, f"`**{args.kwarg.arg}` is not allowed in a {what}: name each argument.")
    if args.kwonlyargs or args.posonlyargs:
        raise _err(node, f"keyword-only and positional-only markers (*, /) are not allowed in a "
                         f"{what}: list plain arguments.")
    if args.defaults or args.kw_defaults:
        raise _err(node, f"default values are not allowed in a {what}: pass every argument, "
                         "or read a parameter as params['name'].")


def _check_lambda(node, ctx, params, parent):
    if id(node) not in ctx.callable_args:
        raise _err(node, "`lambda` is only allowed as a branch of lax.cond or the body of "
                         "lax.fori_loop: write a `def` for anything else.")
    _check_arguments(node, node.args, "lambda")
    _check_arg_names(node, node.args, ctx)


def _check_arg_names(node, args: ast.arguments, ctx: TreeFacts) -> None:
    for a in args.args:
        if a.arg in MODULE_NAMES or a.arg in ctx.function_names or a.arg == "range":
            raise _err(node, f"`{a.arg}` cannot be a parameter name: it already means something.")


def _is_for_range(call: ast.Call, ctx: TreeFacts) -> bool:
    loop = ctx.parent.get(id(call))
    return isinstance(loop, ast.For) and loop.iter is call


def _check_expr(node, ctx, params, parent):
    if id(node.value) not in ctx.docstrings:
        raise _err(node, "an expression on its own line does nothing here: assign it "
                         "(d = ...) or `return` it.")


def _check_store(target: ast.expr, ctx: TreeFacts) -> None:
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _check_store(element, ctx)
    elif isinstance(target, ast.Subscript):
        raise _err(target, "arrays cannot be changed in place (x[i] = ...): build a new array "
                           "with np.where(mask, new, x) or np.stack.")
    elif not isinstance(target, ast.Name):
        raise _err(target, "only names can be assigned to, as d = ... or a, b = ...")
    elif target.id in MODULE_NAMES or target.id in ctx.function_names or target.id == "range":
        raise _err(target, f"`{target.id}` cannot be assigned to: it already means something; "
                           "pick another name.")


def _check_assign(node, ctx, params, parent):
    for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
        if isinstance(node, ast.AugAssign) and not isinstance(target, ast.Name):
            raise _err(node, "augmented assignment (+=) works on names only.")
        _check_store(target, ctx)


def _check_for(node, ctx, params, parent):
    it = node.iter
    if node.orelse:
        raise _err(node, "`for ... else` is not allowed: write the else part after the loop.")
    if not isinstance(node.target, ast.Name):
        raise _err(node, "a for loop takes one name: for i in range(N).")
    literal = (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
               and it.func.id == "range" and not it.keywords and 1 <= len(it.args) <= 3
               and all(isinstance(a, ast.Constant) and type(a.value) is int for a in it.args))
    if not literal:
        raise _err(node, f"a for loop must be `for i in range(N)` with a literal integer N up "
                         f"to {MAX_RANGE}: for other lengths use np. array operations or "
                         "lax.fori_loop.")
    count = len(range(*(a.value for a in it.args)))
    if count > MAX_RANGE:
        raise _err(node, f"range(...) runs {count:,} times; a for loop runs at most "
                         f"{MAX_RANGE} times: use np. array operations or lax.fori_loop.")


def _check_constant(node, ctx, params, parent):
    value = node.value
    if isinstance(value, str):
        is_param = isinstance(parent, ast.Subscript) and parent.slice is node
        if id(node) not in ctx.docstrings and not is_param:
            raise _err(node, "strings are not data in the workbench: a string may only name a "
                             "parameter, params['name'], or be a docstring.")
    elif isinstance(value, bytes):
        raise _err(node, "bytes literals are not allowed: the workbench computes with numbers.")
    elif isinstance(value, complex):
        raise _err(node, "complex numbers are not supported in the workbench: use real floats.")
    elif value is Ellipsis:
        raise _err(node, "`...` is not allowed: write the indices out, x[:, 0].")
    elif value is None:
        in_index = isinstance(parent, ast.Subscript) or (
            isinstance(parent, ast.Tuple) and isinstance(ctx.parent.get(id(parent)), ast.Subscript))
        if not in_index:
            raise _err(node, "None is only allowed in indexing, as in x[:, None].")
    elif type(value) is int and abs(value) > MAX_INT:
        raise _err(node, "this integer is larger than 2**53: write it as a float (1e20).")


def _check_name(node, ctx, params, parent):
    name, f = node.id, ctx.owner.get(id(node))
    if isinstance(node.ctx, ast.Store):
        return
    if name in MODULE_NAMES:
        if not (isinstance(parent, ast.Attribute) and parent.value is node):
            raise _err(node, f"`{name}` must be followed by a function name, as {name}.exp(x).")
    elif name in ctx.function_names and (f is None or name not in ctx.local_names[f.name]):
        if id(node) not in ctx.callee and id(node) not in ctx.callable_args:
            raise _err(node, f"your function `{name}` can only be called, as {name}(...), or "
                             "given to lax.cond / lax.fori_loop.")
    elif name == "range":
        if isinstance(parent, ast.Call) and _is_for_range(parent, ctx):
            return
        raise _err(node, builtin_hint("range"))
    elif f is None or name not in ctx.local_names[f.name]:
        if name in FOREIGN:
            raise _err(node, f"`{name}.` is not available in the workbench: use `np.` "
                             "(jax.numpy) and `lax.` (jax.lax), they are already there.")
        hint = builtin_hint(name)
        raise _err(node, hint or f"`{name}` is not defined: assign it first, or pass it in.")


def _check_attribute(node, ctx, params, parent):
    root, attrs = dotted(node)
    if isinstance(root, ast.Name) and root.id in MODULE_NAMES:
        if isinstance(parent, ast.Attribute) and parent.value is node:
            return  # the outermost attribute of the chain checks the whole name
        path = ".".join((root.id, *attrs))
        try:
            kind, _ = resolve(root.id, attrs)
        except LookupError as e:
            if any(a.startswith("__") for a in attrs):
                raise _err(node, f"`{path}` is not allowed: names with double underscores are "
                                 "never available in the workbench.") from None
            hint = CALLABLE_HINTS.get(attrs[-1], "see the workbench's list of functions")
            raise _err(node, f"`{e.args[0]}` is not allowed in the workbench: {hint}.") from None
        if kind == "function" and id(node) not in ctx.callee:
            raise _err(node, f"`{path}` can only be called, as {path}(...).")
        if kind == "constant" and id(node) in ctx.callee:
            raise _err(node, f"`{path}` is a value, not a function.")
        return
    attr = node.attr
    if attr.startswith("__"):
        raise _err(node, f"`.{attr}` is not allowed: names with double underscores are never "
                         "available in the workbench.")
    if attr not in _ARRAY_ATTRS:
        hint = ATTR_HINTS.get(attr, "only .shape, .T and .ndim are")
        raise _err(node, f"`.{attr}` is not allowed: {hint}" + (
            "" if attr in ATTR_HINTS else " available on arrays."))
    if not isinstance(node.ctx, ast.Load):
        raise _err(node, "attributes cannot be assigned to.")


def _check_call(node, ctx, params, parent):
    func = node.func
    for kw in node.keywords:
        if kw.arg is None:
            raise _err(node, "`**` unpacking is not allowed: pass keyword arguments by name.")
    if isinstance(func, ast.Name) and func.id in ctx.function_names:
        target = next(f for f in ctx.functions if f.name == func.id)
        if node.keywords:
            raise _err(node, f"call your function `{func.id}` with positional arguments only.")
        if len(node.args) != len(target.args.args):
            raise _err(node, f"`{func.id}` takes {len(target.args.args)} arguments; this call "
                             f"gives {len(node.args)}.")
        return
    if _is_for_range(node, ctx):
        return
    allowed = ctx.allowed_function(func)
    if allowed is None and isinstance(func, ast.Lambda):
        _check_lambda(func, ctx, params, node)
    if allowed is None:
        what = f"`{func.id}`" if isinstance(func, ast.Name) else "this"
        raise _err(node, f"{what} is not a function you can call: call your own functions or "
                         "np. / lax. functions.")
    name = allowed.name
    for kw in node.keywords:
        if kw.arg not in allowed.keywords:
            takes = ", ".join(sorted(allowed.keywords)) or "no keyword arguments"
            raise _err(node, f"`{kw.arg}=` is not allowed in {name}: it takes {takes}.")
    if name == "lax.cond":
        _check_callable_args(node, ctx, name, (1, 2), 3)
    elif name == "lax.fori_loop":
        _check_callable_args(node, ctx, name, (2,), 4)
        if len(node.args) != 4:
            raise _err(node, "lax.fori_loop takes (lower, upper, body, init).")
        lo, hi = (fold_int(a) if isinstance(a, ast.Constant) else None for a in node.args[:2])
        if lo is None or hi is None or lo < 0:
            raise _err(node, "lax.fori_loop's bounds must be literal integers, as "
                             f"lax.fori_loop(0, 10, body, init), with at most {MAX_FORI_TRIPS:,} "
                             "steps.")
        if hi - lo > MAX_FORI_TRIPS:
            raise _err(node, f"lax.fori_loop runs {hi - lo:,} steps; at most {MAX_FORI_TRIPS:,} "
                             "are allowed.")
    elif name in ("np.zeros", "np.ones", "np.eye", "np.arange", "np.reshape") and node.args:
        arg = node.args[1 if name == "np.reshape" and len(node.args) > 1 else 0]
        sizes = arg.elts if isinstance(arg, (ast.Tuple, ast.List)) else [arg]
        folded = [fold_int(s) for s in sizes]
        if all(v is not None for v in folded):
            total = math.prod(abs(v) for v in folded) * (folded[0] if name == "np.eye" else 1)
            if total > MAX_SHAPE_ELEMENTS:
                raise _err(node, f"{name} would build {total:,} elements; at most "
                                 f"{MAX_SHAPE_ELEMENTS:,} are allowed.")


def _check_callable_args(node, ctx, name, slots, least):
    if len(node.args) < least:
        raise _err(node, f"{name} needs at least {least} arguments.")
    for i in slots:
        arg = node.args[i]
        if not (isinstance(arg, ast.Lambda) or (
                isinstance(arg, ast.Name) and arg.id in ctx.function_names)):
            raise _err(node, f"{name}'s functions must be lambdas or your own functions' names.")


def _check_subscript(node, ctx, params, parent):
    key = node.slice
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        if not isinstance(node.value, ast.Name):
            raise _err(node, "a literal string index may only read a parameter, params['name'].")
        _param_name(node, params)
    elif isinstance(node.value, ast.Name) and node.value.id == "params":
        raise _err(node, "params can only be read with a literal name, as params['ell'].")


def _check_binop(node, ctx, params, parent):
    if isinstance(node.left, (ast.List, ast.Tuple)) or isinstance(node.right, (ast.List, ast.Tuple)):
        raise _err(node, "arithmetic on lists and tuples is not allowed (such as [0] * n): build "
                         "arrays with np.zeros, np.stack or np.concatenate.")
    fold_int(node)


def _check_sequence(node, ctx, params, parent):
    if len(node.elts) > MAX_SEQUENCE:
        raise _err(node, f"a list or tuple may have at most {MAX_SEQUENCE} elements.")


_HANDLERS = {
    ast.FunctionDef: _check_function, ast.Lambda: _check_lambda, ast.Expr: _check_expr,
    ast.Assign: _check_assign, ast.AugAssign: _check_assign, ast.For: _check_for,
    ast.Constant: _check_constant, ast.Name: _check_name, ast.Attribute: _check_attribute,
    ast.Call: _check_call, ast.Subscript: _check_subscript, ast.BinOp: _check_binop,
    ast.Tuple: _check_sequence, ast.List: _check_sequence,
}
