"""URL-encoded form bodies (slash commands, `payload=` interactivity) decoded as urllib's
`parse_qsl(text, keep_blank_values=True)` decodes them, but in C.

A click's `payload=` field is its whole JSON percent-encoded (a few hundred `%XX` escapes), and
`urllib.parse` decodes escapes in a Python loop: that was the largest single cost of answering a
click (BENCHMARKS.md, issue 25). yarl, which aiohttp is built on, ships the same decoding compiled
(`_Unquoter`, with `+` as a space and invalid UTF-8 replaced as urllib replaces it); it is not
part of yarl's documented API, so without it the standard library's decoder is used, and
tests/unit/adapters/test_slack_form.py holds the two to the same results.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_plus

_unquote: Callable[[str], str]
try:
    from yarl._quoting import _Unquoter  # compiled in yarl's wheels

    _unquote = _Unquoter(plus=True, replace_invalid=True)
except (ImportError, TypeError):  # pragma: no cover - an older or newer yarl: the standard library's
    _unquote = unquote_plus


def form_fields(text: str) -> dict[str, str]:
    """`dict(parse_qsl(text, keep_blank_values=True))`: `&`-separated, a name without `=` has the
    value "", the last of a repeated name wins."""
    out: dict[str, str] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        out[_unquote(name)] = _unquote(value)
    return out


__all__ = ["form_fields"]
