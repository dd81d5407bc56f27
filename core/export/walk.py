"""The dependency walk: a function of `core` and everything it reaches in `core`, as source.

`collect(fn, ...)` reads each root's source (`inspect.getsource`), finds the names it
loads (`ast`), and resolves each where the function's module binds it: a `def`,
`class` or assignment at the top of a `core` module is taken with its source and
walked in turn; `from core.x import name` is followed to the module that defines
`name`; any other import is kept as the module writes it (`import jax.numpy as jnp`),
after checking that it names the standard library or an allowed package. Each piece
is emitted once, its dependencies first, so the program runs top to bottom and
cannot drift from the app: it *is* the app's code.

A function decorated by an attribute of an exported one (`@f.def_vmap`, `@f.defjvp`)
registers a rule on it and is emitted right after it, though nothing names it.

Limits (each an `ExportError` naming the object, never a silently broken file):
names must be bound at the top of their module (not in an `if` or `try`); two
different objects of the same name in different modules cannot both be exported;
a module object of `core` (`import core.x`) cannot be exported; names used only in
annotations are not followed (the program starts with `from __future__ import
annotations`, so they are never evaluated).
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import importlib
import inspect
import sys
import textwrap
from typing import Any, Callable

__all__ = ["ALLOWED_PACKAGES", "ExportError", "Program", "collect", "import_roots"]

# What an exported program may import besides the standard library. threadpoolctl (pure
# Python, a dependency of scikit-learn, pinned in requirements.txt) is imported by the fast
# NumPy methods (core/dense/fast.py), which every view that reaches `METHODS` takes along;
# the program's header names every package it needs (`script._packages`).
ALLOWED_PACKAGES = frozenset({"jax", "numpy", "scipy", "sklearn", "pandas", "optax", "plotly",
                              "threadpoolctl"})
_PROJECT = ("core", "ui", "app_pages", "app")


class ExportError(Exception):
    """The walk met something it cannot turn into standalone source."""


@dataclasses.dataclass(frozen=True)
class Piece:
    """One top-level statement of a `core` module: its source and where it came from."""

    module: str
    names: tuple[str, ...]
    source: str


@dataclasses.dataclass(frozen=True)
class Program:
    """The walk's result.

    Attributes:
      imports: import statements, one each, sorted (`import ...` before `from ...`).
      pieces: top-level definitions in dependency order (dependencies first).
    """

    imports: tuple[str, ...]
    pieces: tuple[Piece, ...]


def import_roots(source: str) -> set[str]:
    """The top-level package of every import statement anywhere in `source`."""
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            roots.add("." if node.level else (node.module or "").split(".")[0])
    return roots


def _check_allowed(statement: str, where: str) -> None:
    for root in import_roots(statement):
        if root == "__future__":
            continue
        if root in _PROJECT or root == ".":
            raise ExportError(f"{where} imports the app's own code ({statement!r}): an export "
                              "must stand alone; import what it needs at the top of its module.")
        if root not in ALLOWED_PACKAGES and root not in sys.stdlib_module_names:
            raise ExportError(f"{where} needs {root!r} ({statement!r}), which an exported program "
                              f"may not import (allowed: {', '.join(sorted(ALLOWED_PACKAGES))} "
                              "and the standard library).")


@functools.cache
def _module_table(module: str) -> tuple[dict[str, ast.stmt], dict[str, list[ast.stmt]], str]:
    """A module's top-level bindings: {name: defining statement}, {name: import statements}, source."""
    source = inspect.getsource(importlib.import_module(module))
    tree = ast.parse(source)
    defs: dict[str, ast.stmt] = {}
    imports: dict[str, list[ast.stmt]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:  # `METHODS["auto"] = ...` binds no name: not a definition
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                        defs[name.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            defs[node.target.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                one = (ast.Import(names=[alias]) if isinstance(node, ast.Import) else
                       ast.ImportFrom(module=node.module, names=[alias], level=node.level))
                imports.setdefault(bound, []).append(one)
    return defs, imports, source


def _segment(module: str, node: ast.stmt) -> str:
    """The statement's source, decorators included."""
    lines = _module_table(module)[2].splitlines()
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return "\n".join(lines[first - 1:node.end_lineno])


def _bound_names(node: ast.AST) -> set[str]:
    """Every name the statement binds anywhere inside it (arguments, assignments, loops…)."""
    bound = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            bound.add(sub.id)
        elif isinstance(sub, ast.arg):
            bound.add(sub.arg)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            bound.update(a.asname or a.name.split(".")[0] for a in sub.names)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            bound.add(sub.name)
    return bound


def _loaded_names(node: ast.AST) -> list[str]:
    """Names the statement reads, annotations left out, in order of first use."""
    skip: set[int] = set()
    for sub in ast.walk(node):
        annotations = []
        if isinstance(sub, ast.arg) and sub.annotation is not None:
            annotations.append(sub.annotation)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and sub.returns is not None:
            annotations.append(sub.returns)
        elif isinstance(sub, ast.AnnAssign):
            annotations.append(sub.annotation)
        for a in annotations:
            skip.update(id(x) for x in ast.walk(a))
    seen: dict[str, None] = {}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and id(sub) not in skip:
            seen.setdefault(sub.id, None)
    return list(seen)


class _Walk:
    def __init__(self) -> None:
        self.pieces: list[Piece] = []
        self.done: set[tuple[str, int]] = set()      # (module, id of statement)
        self.visiting: set[tuple[str, int]] = set()
        self.owner: dict[str, tuple[str, str]] = {}  # exported name -> (module, name)
        self.imports: dict[str, str] = {}            # statement text -> bound name

    def claim(self, name: str, origin: tuple[str, str]) -> None:
        if self.owner.setdefault(name, origin) != origin:
            other = self.owner[name]
            raise ExportError(f"two different objects are both named {name!r} ({other[0]}.{other[1]} "
                              f"and {origin[0]}.{origin[1]}): rename one so the export can hold both.")

    def name(self, module: str, name: str, where: str) -> str:
        """Make `name`, as `module` binds it, available in the program; return its exported name."""
        defs, imports, _ = _module_table(module)
        if name in defs:
            self.statement(module, defs[name])
            return name
        if name in imports:
            for node in imports[name]:
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "core":
                    alias = node.names[0]
                    original = self.name(node.module, alias.name, f"{module}.{name}")
                    if original != name:
                        self.claim(name, (node.module, alias.name))
                        self.add_piece(Piece(module, (name,), f"{name} = {original}"))
                    return name
                statement = ast.unparse(node)
                _check_allowed(statement, where)
                if self.imports.setdefault(statement, name) != name:
                    raise ExportError(f"{statement!r} binds two names")
                bound = [s for s, n in self.imports.items() if n == name]
                plain = all(s.startswith("import ") and " as " not in s for s in bound)
                if len(bound) > 1 and not plain:
                    raise ExportError(f"{name!r} is imported differently in two modules: "
                                      f"{' and '.join(bound)}.")
            return name
        if hasattr(builtins, name):
            return name
        raise ExportError(f"{where} uses {name!r}, which {module} does not bind at its top level.")

    def add_piece(self, piece: Piece) -> None:
        if piece not in self.pieces:
            self.pieces.append(piece)

    def statement(self, module: str, node: ast.stmt) -> None:
        key = (module, id(node))
        if key in self.done or key in self.visiting:
            return  # emitted already, or a cycle (functions that call each other: fine)
        self.visiting.add(key)
        names = tuple(n for n, s in _module_table(module)[0].items() if s is node)
        for n in names:
            self.claim(n, (module, n))
        source = _segment(module, node)
        for sub in ast.walk(node):  # an import inside a function must be allowed too
            if isinstance(sub, (ast.Import, ast.ImportFrom)) and sub is not node:
                _check_allowed(ast.unparse(sub), f"{module}.{names[0]}")
        # A name declared `global` in a function is the module's, though the function assigns it.
        declared = {n for sub in ast.walk(node) if isinstance(sub, ast.Global) for n in sub.names}
        local = _bound_names(node) - set(names) - declared
        for used in [*_loaded_names(node), *sorted(declared)]:
            if used not in local and used not in names:
                self.name(module, used, f"{module}.{names[0]}")
        self.visiting.discard(key)
        self.done.add(key)
        self.add_piece(Piece(module, names, textwrap.dedent(source)))
        for rule in _registrations(module, names):  # `@f.def_vmap`, `@f.defjvp`: part of f
            self.statement(module, rule)


def _registrations(module: str, names: tuple[str, ...]) -> list[ast.stmt]:
    """The module's top-level functions decorated by an attribute of one of `names`.

    `@rbf_pair.def_vmap` (custom_vmap) or `@f.defjvp` (custom_jvp) registers a rule on f
    as a side effect: nothing refers to the rule by name, yet f is not f without it.
    """
    rules = []
    for node in _module_table(module)[0].values():
        decorators = getattr(node, "decorator_list", [])
        if node not in rules and any(
                isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name)
                and sub.value.id in names for d in decorators for sub in ast.walk(d)):
            rules.append(node)
    return rules


def _origin(obj: Any) -> tuple[str, str]:
    obj = inspect.unwrap(obj)
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", "")
    if not module or module.split(".")[0] != "core" or "." in qualname or "<" in qualname:
        raise ExportError(f"{obj!r} is not a top-level function or class of core: only those "
                          "can be exported.")
    return module, qualname


def collect(*roots: Callable[..., Any]) -> Program:
    """The standalone source of `roots` (top-level functions or classes of `core`).

    Returns:
      `Program`: the imports the collected code uses and every definition it reaches,
      dependencies first; each root is among the pieces under its own name.

    Raises:
      ExportError: see the module docstring.
    """
    walk = _Walk()
    for root in roots:
        module, name = _origin(root)
        walk.name(module, name, f"{module}.{name}")
    statements = sorted(walk.imports, key=lambda s: (s.startswith("from "), s))
    return Program(imports=tuple(statements), pieces=tuple(walk.pieces))
