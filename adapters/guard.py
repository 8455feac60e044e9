"""Bounds every inbound endpoint checks before it parses anything: body size and JSON depth.

Python's `json` recurses once per nesting level, so a ~2 KB body of brackets raises
`RecursionError` deep inside whatever parses it; and nothing a platform sends us is more than a
few levels deep or more than a few hundred kilobytes. Both checks are a linear scan, no parse.
"""

from __future__ import annotations

import re

from aiohttp import web

MAX_BODY = 512 * 1024  # bytes; Slack and Bot Framework payloads are far smaller
MAX_DEPTH = 32  # nesting levels of JSON objects and arrays
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def too_large(length: int | None, limit: int = MAX_BODY) -> bool:
    return length is not None and length > limit


async def refuse_oversized(request: web.Request, limit: int = MAX_BODY) -> web.Response | None:
    """A 413 for a body declared larger than `limit`, before it is read; None when it may be read."""
    if too_large(request.content_length, limit):
        return web.json_response({"error": "request body too large"}, status=413)
    return None


def json_depth_ok(data: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """True when no JSON value in `data` nests deeper than `limit` (strings are skipped)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if text.count("[") + text.count("{") <= limit:
        return True
    depth = 0
    for m in _BRACKETS.finditer(_STRINGS.sub("", text)):
        depth += 1 if m.group() in "[{" else -1
        if depth > limit:
            return False
    return True


__all__ = ["MAX_BODY", "MAX_DEPTH", "json_depth_ok", "refuse_oversized", "too_large"]
