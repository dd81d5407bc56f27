"""Exception types raised by `core`.

Every message names the problem and what the user can do about it, because the
app shows these messages verbatim (never a traceback).
"""

from __future__ import annotations

__all__ = ["CoreError", "DataError", "TooLargeError"]


class CoreError(Exception):
    """Base class of every error `core` raises on purpose."""


class DataError(CoreError, ValueError):
    """The data a user gave (an upload, a dataset name, a size) cannot be used."""


class TooLargeError(CoreError, MemoryError):
    """A computation would need more memory or time than its budget allows."""
