"""Logging for `hplj serve` and `hplj worker`: LOG_LEVEL, plain text or one JSON object per line.

LOG_LEVEL applies to hplj's own loggers; libraries stay at WARNING whatever it is, because at
DEBUG the HTTP clients log request bodies and headers (people's words, bearer tokens). Every
record, in either format, carries the id of the inbound request or the outbox delivery it belongs
to, and passes a scrubber that replaces the configured secrets and anything shaped like a Slack
token or a bearer credential. People's words are never logged by hplj in the first place (see
SECURITY.md); the scrubber is the second line for credentials.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from scheduler.log_context import DELIVERY_ID

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("hplj_request_id", default=None)
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
OWN_LOGGERS = ("hplj", "adapters", "bot", "scheduler", "store")
_SLACK_TOKEN = re.compile(r"\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]+")
_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# Warnings that are wrong for the way hplj uses a library (bolt reads SLACK_BOT_TOKEN from the
# environment even though hplj hands it a client built with that very token).
_NOT_FOR_US = ("As you gave `client` as well, `token` will be unused.",)


class _Context(logging.Filter):
    """Adds request_id / delivery_id, drops the warnings above, scrubs secrets."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _CREDENTIAL.sub(r"\1 ***", _SLACK_TOKEN.sub("***", text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in _NOT_FOR_US:
            return False
        record.msg, record.args = self.scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        if not hasattr(record, "delivery_id"):
            record.delivery_id = DELIVERY_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the ids that are set."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "delivery_id"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{k}={getattr(record, k)}" for k in ("request_id", "delivery_id") if getattr(record, k, None))
        return f"{line} [{ids}]" if ids else line


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Configure the root handler once for this process (replacing any earlier configuration)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Context(secrets))
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         _TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    own = getattr(logging, level)
    root.setLevel(max(own, logging.WARNING))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    # Libraries' INFO lines on every start (Alembic's "Context impl", APScheduler's job runs) are
    # noise; so are APScheduler's warnings about the one tick job ("missed by", "maximum number of
    # running instances reached"): a pass longer than the interval is skipped by design (TickLoop).
    logging.getLogger("alembic").setLevel(max(own, logging.WARNING))
    logging.getLogger("apscheduler").setLevel(max(own, logging.ERROR))
    logging.captureWarnings(True)


_access = logging.getLogger("hplj.http")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def route_of(request: web.Request) -> str:
    """The route's pattern, never the raw path (signed dashboard links carry tokens in theirs)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def request_ids(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Each inbound request's id (the proxy's X-Request-Id when it is a plain token, else a new
    one) on every log line its handling writes, including work it starts after answering."""
    given = request.headers.get("X-Request-Id", "")
    rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]
    token = REQUEST_ID.set(rid)
    status = 500
    try:
        response = await handler(request)
        status = response.status
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        _access.debug("%s %s %s", request.method, route_of(request), status)
        REQUEST_ID.reset(token)
    if not response.prepared:
        response.headers["X-Request-Id"] = rid
    return response


__all__ = ["FORMATS", "LEVELS", "REQUEST_ID", "JsonFormatter", "request_ids", "setup_logging"]
