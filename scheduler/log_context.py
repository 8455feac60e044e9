"""The outbox delivery a log line belongs to (a context variable, so concurrent sends keep theirs).

Set by the dispatcher around each send; bot/app/logs.py puts it on every record."""

from __future__ import annotations

import contextvars

DELIVERY_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("hplj_delivery_id", default=None)

__all__ = ["DELIVERY_ID"]
