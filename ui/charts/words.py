"""Words for counts on screen: "1 step", "40 steps", never "step(s)"."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with thousands separators and `noun` in the number it needs.

    Args:
      n: the count.
      noun: the singular ("step").
      plural: the plural where it is not `noun + "s"`.

    Returns:
      "1 step", "3,907 steps".
    """
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
