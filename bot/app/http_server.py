"""How `hplj serve` holds its HTTP connections: read timeouts and a connection cap (SECURITY.md).

aiohttp's server has no timeout for a request head that never completes (a client dribbling
header bytes keeps its socket until the keep-alive timer, an hour by default) and no cap on open
connections, so enough half-open sockets exhaust the process's file descriptors and `/healthz`
stops answering. This module adds, around aiohttp's own request handler:

- a header timeout: from connecting until the first request head is complete;
- an idle keep-alive timeout: between requests (aiohttp's own timer; the next head must arrive
  within it);
- a body timeout and a byte count (`adapters.guard.read_body`, configured through the app);
- a connection cap: a connection over it is answered 503 and closed at once.

A malformed or oversized request head, a client that leaves mid-request and a refused connection
are each one log line, never a traceback; refused connections are logged at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from adapters.guard import BODY_TIMEOUT

log = logging.getLogger("hplj.http")

_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\n"
         b"Content-Length: 24\r\n\r\ntoo many open connections")


@dataclass(frozen=True)
class Limits:
    """Seconds and counts, from HPLJ_HTTP_*; the defaults let a phone on a slow network through."""

    header_timeout: float = 30.0
    body_timeout: float = 60.0
    keepalive_timeout: float = 30.0
    max_connections: int = 512

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        d = cls()
        return cls(header_timeout=float(getattr(settings, "http_header_timeout", d.header_timeout)),
                   body_timeout=float(getattr(settings, "http_body_timeout", d.body_timeout)),
                   keepalive_timeout=float(getattr(settings, "http_keepalive_timeout", d.keepalive_timeout)),
                   max_connections=int(getattr(settings, "http_max_connections", d.max_connections)))


class _Quiet:
    """Log a repeated event once per `every` seconds, with how many happened since."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self.last = -every
        self.count = 0

    def note(self, message: str) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= self.every:
            log.warning("%s (%d since the last such line)", message, self.count)
            self.last = now
            self.count = 0


_REFUSED = _Quiet()
_SLOW_HEADS = _Quiet()


class _GuardedHandler(RequestHandler):
    """aiohttp's request handler with a header timeout, the connection cap and one-line logs."""

    def __init__(self, manager: web.Server, *, limits: Limits, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.limits = limits
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        manager = self._manager
        if manager is not None and len(manager.connections) >= self.limits.max_connections:
            self._force_close = True
            _REFUSED.note(f"http: {self.limits.max_connections} connections open "
                          "(HPLJ_HTTP_MAX_CONNECTIONS); refused one with 503")
            if isinstance(transport, asyncio.WriteTransport):
                transport.write(_BUSY)
            transport.close()
            return
        super().connection_made(transport)
        self.head_timer = self._loop.call_later(self.limits.header_timeout, self._head_timeout)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._request_count and self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        super().connection_lost(exc)

    def _head_timeout(self) -> None:
        self.head_timer = None
        if not self._request_count and not self._force_close:
            _SLOW_HEADS.note(f"http: no complete request head within {self.limits.header_timeout:.0f} s "
                             "(HPLJ_HTTP_HEADER_TIMEOUT); connection closed")
            self.force_close()

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        if isinstance(exc, (HttpProcessingError, ConnectionError)):
            self.logger.warning("http: refused a malformed request (%s: %s)", type(exc).__name__,
                                getattr(exc, "message", "") or "")
            return
        super().log_exception(*args, **kw)


class _GuardedServer(web.Server):
    limits: Limits

    def __call__(self) -> RequestHandler:
        return _GuardedHandler(self, loop=self._loop, limits=self.limits, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """`web.AppRunner` whose connections have the `Limits`."""

    def __init__(self, app: web.Application, limits: Limits, **kwargs: Any) -> None:
        app[BODY_TIMEOUT] = limits.body_timeout
        super().__init__(app, keepalive_timeout=limits.keepalive_timeout, **kwargs)
        self.limits = limits

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _GuardedServer  # the same object, handing out guarded handlers
        assert isinstance(server, _GuardedServer)
        server.limits = self.limits
        return server


__all__ = ["GuardedRunner", "Limits"]
