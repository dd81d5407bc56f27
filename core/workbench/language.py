"""The workbench language: the only place where a user's text becomes code.

The text is never run as Python. It is length-capped and its tokens measured
(nesting, non-ASCII names) before `ast.parse`; the parsed tree's depth is checked
without recursion; then every node is checked against an allowlist
(`allowlist.py`); and `user_kernel` hands the checked tree to an interpreter that
walks it node by node under JAX tracing (`interpreter.py`): no `compile`, no `exec`.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import UserCodeError
from core.workbench.allowlist import (
    MAX_AST_DEPTH,
    MAX_BRACKET_DEPTH,
    MAX_OPERATORS_PER_STATEMENT,
    MAX_PARAMS,
    MAX_SOURCE_CHARS,
    RESERVED_PARAM_NAMES,
)
from core.workbench.checks import check_tree
from core.workbench.interpreter import build_kernel

__all__ = ["MAX_PARAMS", "MAX_SOURCE_CHARS", "RESERVED_PARAM_NAMES", "CheckedSource",
           "check_source", "user_kernel"]

# Tokens that may open one more level of nesting in the parser without a bracket.
_NESTING_OPS = frozenset({"+", "-", "*", "/", "//", "%", "**", "@", "~", "<", ">", "<=",
                          ">=", "==", "!=", "&", "|", "^", "<<", ">>"})
_NESTING_WORDS = frozenset({"not", "and", "or", "if", "lambda", "await"})


@dataclass(frozen=True)
class CheckedSource:
    """A source that passed every static check.

    Attributes:
        source: the text as given.
        kernel_name: the function named `kernel`, else the last `def`.
        function_names: every top-level function, in order.
        param_names: every params['name'] literal, in first-use order ('gamma' too).
        tree: the checked tree, annotations removed (they are never evaluated).
    """

    source: str
    kernel_name: str
    function_names: tuple[str, ...]
    param_names: tuple[str, ...]
    tree: ast.Module


def _guard_text(source: object) -> str:
    """The checks that must come before the parser sees the text: type, size, bytes."""
    if not isinstance(source, str):
        raise UserCodeError(f"The kernel source must be text, not {type(source).__name__}.")
    if len(source) > MAX_SOURCE_CHARS:
        raise UserCodeError(
            f"The source is {len(source):,} characters; the workbench takes at most "
            f"{MAX_SOURCE_CHARS:,} characters. Shorten it: one kernel and a few helpers fit.")
    if "\x00" in source:
        line = source[:source.index("\x00")].count("\n") + 1
        raise UserCodeError("the source contains a null byte (\\x00): paste plain text.", line)
    if not source.strip():
        raise UserCodeError("The source is empty: write `def kernel(params, x, y):` and return "
                            "one number for one pair of vectors x, y.")
    # Old Mac line endings: the tokenizer reads a lone \r as part of the line.
    return source.replace("\r\n", "\n").replace("\r", "\n")


def _guard_tokens(text: str) -> None:
    """Measure nesting on the token stream, so the parser never recurses deeply.

    Python's parser NFKC-normalises identifiers (fullwidth `ｅｘｐ` parses as `exp`),
    so non-ASCII names are refused here, where the tokens still hold their spelling.
    """
    depth = operators = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string, line = tok.type, tok.string, tok.start[0]
            if kind in (tokenize.NAME, tokenize.ERRORTOKEN) and not string.isascii():
                raise UserCodeError(
                    f"the name `{string}` has non-ASCII characters (look-alike letters are "
                    "refused): write names with ASCII letters, digits and _ only.", line)
            if kind == tokenize.OP and string in "([{":
                depth += 1
                if depth > MAX_BRACKET_DEPTH:
                    raise UserCodeError(
                        f"brackets are nested more than {MAX_BRACKET_DEPTH} deep: split the "
                        "expression into several assignments.", line)
            elif kind == tokenize.OP and string in ")]}":
                depth -= 1
            elif (kind == tokenize.OP and string in _NESTING_OPS) or (
                    kind == tokenize.NAME and string in _NESTING_WORDS):
                operators += 1
                if operators > MAX_OPERATORS_PER_STATEMENT:
                    raise UserCodeError(
                        f"one statement has more than {MAX_OPERATORS_PER_STATEMENT} operators: "
                        "split it into several assignments.", line)
            elif kind == tokenize.NEWLINE:
                operators = 0
    except (tokenize.TokenError, SyntaxError):
        # The parser will report the error itself; guard its way there by the raw depth.
        depth = deepest = 0
        for ch in text:
            depth += (ch in "([{") - (ch in ")]}")
            deepest = max(deepest, depth)
        if deepest > MAX_BRACKET_DEPTH:
            raise UserCodeError(f"brackets are nested more than {MAX_BRACKET_DEPTH} deep: "
                                "split the expression into several assignments.") from None


def _parse(text: str) -> ast.Module:
    try:
        return ast.parse(text, mode="exec")
    except SyntaxError as e:  # IndentationError and TabError included
        raise UserCodeError(
            f"Python cannot read this ({type(e).__name__}: {e.msg}): check the brackets, "
            "colons and indentation (use spaces, not tabs).", e.lineno) from None
    except (RecursionError, MemoryError):
        raise UserCodeError("the source is nested too deeply for the parser: split long "
                            "expressions into several assignments.") from None


def _guard_depth(tree: ast.Module) -> None:
    """Refuse trees deeper than MAX_AST_DEPTH, walking with an explicit stack."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_AST_DEPTH:
            raise UserCodeError(
                f"the code is nested more than {MAX_AST_DEPTH} levels deep: split long "
                "expressions into several assignments.", getattr(node, "lineno", None))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _drop_annotations(tree: ast.Module) -> None:
    """Annotations (`x: np.ndarray`, `-> float`) are documentation: never checked or run."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            node.returns = None
            node.type_comment = None
        elif isinstance(node, ast.arg):
            node.annotation = None
            node.type_comment = None


def check_source(source: str) -> CheckedSource:
    """Check a workbench source without running any of it.

    Args:
        source: the user's text: top-level `def`s, one of them the kernel
            `k(params, x, y)` for one pair of (D,) vectors.

    Returns:
        The checked source, its kernel's name and the parameter names it reads.

    Raises:
        UserCodeError: a rule or a bound is broken; the message names the line, what
            is not allowed and what to write instead.
    """
    text = _guard_text(source)
    _guard_tokens(text)
    tree = _parse(text)
    _guard_depth(tree)
    _drop_annotations(tree)
    functions, params = check_tree(tree)
    if not functions:
        raise UserCodeError("There is no function: write `def kernel(params, x, y):` and "
                            "return one number for one pair of vectors x, y.")
    names = [f.name for f in functions]
    kernel = functions[names.index("kernel")] if "kernel" in names else functions[-1]
    if len(kernel.args.args) != 3:
        got = ", ".join(a.arg for a in kernel.args.args) or "nothing"
        raise UserCodeError(
            f"the kernel `{kernel.name}` takes ({got}); it must take exactly 3 parameters, "
            "(params, x, y): the parameters dict and two vectors of shape (D,).", kernel.lineno)
    extra = [p for p in params if p != "gamma"]
    if len(extra) > MAX_PARAMS:  # check_tree refuses the fifth at its line; a last guard
        raise UserCodeError(f"at most {MAX_PARAMS} parameters besides gamma are allowed.")
    return CheckedSource(source=source, kernel_name=kernel.name, function_names=tuple(names),
                         param_names=tuple(params), tree=tree)


def user_kernel(source: str) -> Callable:
    """Turn a workbench source into a kernel function `k(params, x, y)`.

    Args:
        source: the user's text (see `check_source`).

    Returns:
        A function of (params, x, y): params a mapping with 'gamma' and the source's
        other parameter names (values may be traced), x and y arrays of shape (D,).
        It returns a scalar jax.Array and may be transformed by jax.jit, jax.vmap and
        jax.grad. Any failure while it runs is a UserCodeError naming the user's line.

    Raises:
        UserCodeError: the source breaks a rule (see `check_source`).
    """
    return build_kernel(check_source(source))
