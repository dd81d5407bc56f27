"""The workbench: a user's own kernel, written for one pair of vectors, batched by vmap.

User text becomes code here and nowhere else, only through the allowlisted
language of `language.py` (parsed, checked on the tree, then interpreted node by
node: never `exec`), and runs only through the bounded path of `run.py`.
"""

from __future__ import annotations

from core.workbench.language import (
    MAX_PARAMS,
    MAX_SOURCE_CHARS,
    RESERVED_PARAM_NAMES,
    CheckedSource,
    check_source,
    user_kernel,
)

__all__ = ["MAX_PARAMS", "MAX_SOURCE_CHARS", "RESERVED_PARAM_NAMES", "CheckedSource",
           "check_source", "user_kernel"]
