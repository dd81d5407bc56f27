"""The registry of URL parameter names: each page declares its own at import.

A page's names (and families of names by prefix) are declared with `url_keys` in the
module where its controls are defined, which ui/page_index.py names as the page's
`controls`. ui/state/url.py re-exports this module's functions: `bound` refuses an
undeclared key, and a session's first run calls `declare_all` before it prunes the
names no page declares. No Streamlit here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from ui.page_index import PAGES

__all__ = ["UrlKeys", "url_keys", "owner_of", "is_known", "declared", "declare_all"]


class UrlKeys(Mapping[str, str]):
    """One page's URL parameter names, read by attribute (`URL.methods`) or by item (`URL["k1"]`).

    Made by `url_keys`; read-only. `prefixes` are the page's families of names
    (`w_kern_k1_<parameter>`), whose members are known by their start.
    """

    __slots__ = ("page", "prefixes", "_names")

    def __init__(self, page: str, prefixes: tuple[str, ...], names: dict[str, str]) -> None:
        object.__setattr__(self, "page", page)
        object.__setattr__(self, "prefixes", prefixes)
        object.__setattr__(self, "_names", MappingProxyType(dict(names)))

    def __getattr__(self, attr: str) -> str:
        try:
            return self._names[attr]
        except KeyError:
            raise AttributeError(f"the {self.page!r} page declares no URL key {attr!r}") from None

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError("a page's URL keys are read-only")

    def __getitem__(self, attr: str) -> str:
        return self._names[attr]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _Owner(NamedTuple):
    page: str  # its address, or "sidebar"
    module: str  # the module whose import declared it


# The registry, filled at import by each page's `url_keys` (in the modules named by
# ui/page_index.py's `controls`): {URL name: owner}, {name prefix: owner}.
_NAMES: dict[str, _Owner] = {}
_PREFIXES: dict[str, _Owner] = {}
_SIDEBAR_CONTROLS = "ui.state.sidebar"  # the shared sidebar's names: url_keys("sidebar", ...)


def url_keys(page: str, prefixes: tuple[str, ...] = (), **keys: str) -> UrlKeys:
    """Declare `page`'s URL parameter names where its controls are defined, at import.

    Args:
      page: the page's address (`ui.page_index.PAGES`' url_path; "sidebar" for the
        shared sidebar's controls, which every page draws).
      prefixes: families of names, e.g. ("w_kern_k1_",) for one parameter per kernel.
      **keys: {attribute: URL name}: the name is the bound widget's key.

    Returns:
      The names by attribute, for `bound(..., key=URL.<attribute>)`.

    Raises:
      ValueError: a name (or a prefix, or a name a prefix covers) is already another
        page's; a shared link could not say which control it sets.
    """
    for name in keys.values():
        owner = owner_of(name)
        if owner not in (None, page):
            raise ValueError(f"URL key {name!r} of the {page!r} page is already the {owner!r} page's")
    for prefix in prefixes:
        clash = [(n, o.page) for n, o in _NAMES.items() if o.page != page and n.startswith(prefix)] + [
            (x, o.page) for x, o in _PREFIXES.items()
            if o.page != page and (x.startswith(prefix) or prefix.startswith(x))]
        if clash:
            raise ValueError(f"URL prefix {prefix!r} of the {page!r} page overlaps the "
                             f"{clash[0][1]!r} page's {clash[0][0]!r}")
    # The caller's module: what declare_all must import (tests check it is the page's `controls`).
    owner = _Owner(page, sys._getframe(1).f_globals.get("__name__", "?"))
    for name in keys.values():  # a module imported again (a reload) keeps the first owner
        _NAMES.setdefault(name, owner)
    for prefix in prefixes:
        _PREFIXES.setdefault(prefix, owner)
    return UrlKeys(page, tuple(prefixes), keys)


def owner_of(key: str) -> str | None:
    """The page that declared the URL parameter `key` (by name or prefix), or None."""
    if key in _NAMES:
        return _NAMES[key].page
    return next((o.page for prefix, o in _PREFIXES.items() if key.startswith(prefix)), None)


def is_known(key: str) -> bool:
    """Whether some page declared the URL parameter `key` (`url_keys`)."""
    return owner_of(key) is not None


def declared(page: str) -> tuple[dict[str, str], dict[str, str]]:
    """What `page` declared so far (all of it once `declare_all` ran): its URL names and its
    name prefixes, each with the module that declared it."""
    return ({n: o.module for n, o in _NAMES.items() if o.page == page},
            {x: o.module for x, o in _PREFIXES.items() if o.page == page})


def declare_all() -> None:
    """Import every module that declares URL keys (each page's `controls` in ui/page_index.py).

    The registry is filled at import; before `start` prunes a shared link's unknown
    parameters, every page's names must be in it, not only those of the pages this
    process has run (a deep link to a page not yet visited kept none of its values).
    Python imports each module once: later calls cost a dictionary look-up each.
    """
    for module in (_SIDEBAR_CONTROLS, *(m for info in PAGES.values() for m in info.controls)):
        importlib.import_module(module)
