"""Bounds every inbound endpoint checks before it parses anything: body size, body read time and
JSON depth.

Python's `json` recurses once per nesting level, so a ~2 KB body of brackets raises
`RecursionError` deep inside whatever parses it; and nothing a platform sends us is more than a
few levels deep or more than a few hundred kilobytes. Both checks are a linear scan, no parse.
The body is read by `read_body`, which counts the bytes that arrive (a chunked body declares no
length) and gives up on a body that stalls.
"""

from __future__ import annotations

import asyncio
import logging
import re

from aiohttp import ClientError, web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger("hplj.http")

MAX_BODY = 512 * 1024  # bytes; Slack and Bot Framework payloads are far smaller
DEFAULT_BODY_TIMEOUT = 60.0  # seconds to receive a whole body (HPLJ_HTTP_BODY_TIMEOUT)
BODY_TIMEOUT = web.AppKey("hplj_body_timeout", float)
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


def _refuse(status: int, reason: str) -> web.Response:
    resp = web.json_response({"error": reason}, status=status)
    resp.force_close()  # the rest of the body is never read: the connection cannot be reused
    return resp


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes | web.Response:
    """The request body, or the response that refuses it: 413 once more than `limit` bytes have
    arrived (declared or counted), 408 when the whole body has not arrived within the app's
    `BODY_TIMEOUT`, 400 when the client went away mid-body. Each refusal is one log line."""
    refused = await refuse_oversized(request, limit)
    if refused is not None:
        return refused
    timeout = float(request.app.get(BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT))
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.content.iter_any():
                size += len(chunk)
                if size > limit:
                    log.warning("http: refused a body over %d bytes on %s (413)", limit, request.path)
                    return _refuse(413, "request body too large")
                chunks.append(chunk)
    except TimeoutError:
        log.warning("http: a body on %s was not complete after %.0f s; connection closed (408)", request.path,
                    timeout)
        return _refuse(408, "request body too slow")
    except (ConnectionError, ClientError, HttpProcessingError) as exc:
        log.info("http: the client left before its body on %s was complete (%s)", request.path,
                 type(exc).__name__)
        return _refuse(400, "request body incomplete")
    return b"".join(chunks)


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


__all__ = ["BODY_TIMEOUT", "MAX_BODY", "MAX_DEPTH", "json_depth_ok", "read_body", "refuse_oversized", "too_large"]
