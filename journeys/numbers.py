"""Numbers people type: ASCII digits only.

`str.isdigit()` is true for superscripts ("²") and other scripts' digits that `int()` either
refuses or reads as a different number; a typed answer is a number only when every character is
0-9, and anything else is asked again like any other unrecognised answer.
"""

from __future__ import annotations


def is_number(text: str) -> bool:
    """True for a non-empty string of ASCII digits 0-9 and nothing else."""
    return bool(text) and text.isascii() and text.isdigit()


__all__ = ["is_number"]
