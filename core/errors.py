"""Exception types raised by `core`.

Every message names the problem and what the user can do about it, because the
app shows these messages verbatim (never a traceback).
"""

from __future__ import annotations

__all__ = ["CoreError", "DataError", "TooLargeError", "UserCodeError"]


class CoreError(Exception):
    """Base class of every error `core` raises on purpose."""


class DataError(CoreError, ValueError):
    """The data a user gave (an upload, a dataset name, a size) cannot be used."""


class TooLargeError(CoreError, MemoryError):
    """A computation would need more memory or time than its budget allows."""


class UserCodeError(CoreError, ValueError):
    """A workbench source that may not run: it breaks the language's rules or a bound.

    The message names the line (where there is one), says what is not allowed and
    what to write instead; the app shows it verbatim, never a traceback.
    """

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        super().__init__(f"Line {line}: {message}" if line is not None else message)
