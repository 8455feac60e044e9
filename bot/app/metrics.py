"""Prometheus metrics (`GET /metrics`, text format), and `/readyz`.

Per process: deliveries by platform and outcome, 429 answers, tick durations, inbound request
latency by route. Read from the database at scrape time (the same in every process): the
outbox's depth and the age of its oldest due row, and outbox rows by platform and state. With
HPLJ_METRICS_TOKEN set, `/metrics` wants `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.app.logs import route_of
from store.db import Database
from store.ops import outbox_figures, schema_state

log = logging.getLogger("hplj.metrics")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OUTCOMES = ("sent", "failed", "retried", "expired")


class Metrics:
    """One registry per process (never the library's global one, so tests can run several apps)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.deliveries = Counter("hplj_deliveries", "Outbox rows settled by this process, by platform and outcome "
                                  "(sent, failed: given up, retried: back to pending, expired: too late to send).",
                                  ["platform", "outcome"], registry=r)
        self.rate_limited = Counter("hplj_rate_limited", "429 (rate limited) answers from a platform.",
                                    ["platform"], registry=r)
        self.tick = Histogram("hplj_tick_duration_seconds", "One scheduler pass: due prompts and delivery.",
                              buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120), registry=r)
        self.tick_failures = Counter("hplj_tick_failures", "Scheduler passes that failed (database errors).",
                                     registry=r)
        self.requests = Histogram("hplj_http_request_duration_seconds", "Inbound HTTP requests, by route.",
                                  ["method", "route", "status"],
                                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=r)
        self.outbox_waiting = Gauge("hplj_outbox_depth", "Outbox rows not yet settled, by state.", ["state"],
                                    registry=r)
        self.outbox_age = Gauge("hplj_outbox_oldest_due_age_seconds",
                                "Seconds the oldest outbox row that is due now has waited since it was queued.",
                                registry=r)
        self.outbox_rows = Gauge("hplj_outbox_rows", "Outbox rows by recipient platform and state (all processes).",
                                 ["platform", "state"], registry=r)

    def platforms(self, names: Iterable[str]) -> None:
        """Show every outcome of the platforms this process serves from the start, at 0."""
        for name in names:
            self.rate_limited.labels(name)
            for outcome in OUTCOMES:
                self.deliveries.labels(name, outcome)

    def delivery(self, platform: str, outcome: str) -> None:
        """The dispatcher's observer: one row settled."""
        if outcome == "rate_limited":
            self.rate_limited.labels(platform).inc()
            outcome = "retried"
        self.deliveries.labels(platform, outcome).inc()

    async def refresh(self, db: Database, now: datetime) -> None:
        figures = await outbox_figures(db, now)
        for state in ("pending", "sending"):
            self.outbox_waiting.labels(state).set(figures.waiting.get(state, 0))
        self.outbox_age.set(figures.oldest_due_seconds)
        self.outbox_rows.clear()
        for (platform, state), n in figures.by_platform.items():
            self.outbox_rows.labels(platform, state).set(n)

    def middleware(self) -> Middleware:
        """Inbound latency by route (the route's pattern, never the raw path: ids stay out of labels)."""

        @web.middleware
        async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
            started = time.perf_counter()
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                self.requests.labels(request.method, route_of(request), str(status)).observe(
                    time.perf_counter() - started)

        return measure


METRICS_KEY = web.AppKey("metrics", Metrics)
DB_KEY = web.AppKey("metrics_db", Database)
TOKEN_KEY = web.AppKey("metrics_token", str)


async def metrics_endpoint(request: web.Request) -> web.Response:
    token = request.app[TOKEN_KEY]
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return web.Response(status=401, text="a bearer token is required\n",
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    metrics = request.app[METRICS_KEY]
    try:
        await metrics.refresh(request.app[DB_KEY], datetime.now(UTC))
    except Exception as exc:  # noqa: BLE001 - the process's own figures are still worth a scrape
        log.warning("/metrics: the outbox figures could not be read (%s)", type(exc).__name__)
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the database answers and is at the newest migration (a load balancer's check)."""
    try:
        state = await schema_state(request.app[DB_KEY])
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means not ready
        return web.json_response({"status": "unavailable", "database": type(exc).__name__}, status=503)
    body = {"status": "ready" if state.ready else "migrations pending", "migration": state.current,
            "head": state.head}
    return web.json_response(body, status=200 if state.ready else 503)


def mount_operations(app: web.Application, metrics: Metrics, db: Database, token: str) -> None:
    """`/metrics` and `/readyz` on an app (the web process's, or the worker's own)."""
    app[METRICS_KEY] = metrics
    app[DB_KEY] = db
    app[TOKEN_KEY] = token
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_get("/readyz", readyz)


__all__ = ["METRICS_KEY", "OUTCOMES", "Metrics", "metrics_endpoint", "mount_operations", "readyz"]
