"""The aiohttp application (`hplj serve`) and the worker loop (`hplj worker`).

APScheduler runs exactly one short periodic job: a tick. It holds no job per message and
pickles nothing; the database decides what is due, so restarts lose nothing.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from adapters.guard import MAX_BODY
from bot.service import BotService

log = logging.getLogger("hplj.web")
SERVICE_KEY = web.AppKey("service", BotService)


class TickLoop:
    """Runs `service.tick()` on an interval; survives database errors with backoff."""

    def __init__(self, service: BotService, every: float,
                 on_pass: Callable[[float, bool], None] | None = None) -> None:
        self.service = service
        self.every = every
        self.on_pass = on_pass or (lambda seconds, ok: None)  # /metrics: each pass's duration and outcome
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.last_ok: float | None = None
        self.last_error: str | None = None
        self.failures = 0
        self._running = asyncio.Lock()

    def start(self) -> None:
        self.scheduler.add_job(self.run_once, IntervalTrigger(seconds=self.every), id="hplj-tick",
                               max_instances=1, coalesce=True, replace_existing=True,
                               next_run_time=datetime.now(UTC))
        self.scheduler.start()

    async def run_once(self) -> None:
        if self._running.locked():
            return
        async with self._running:
            started = time.monotonic()
            try:
                await self.service.tick()
                from scheduler.tick import heartbeat

                await heartbeat(self.service.db, "scheduler", self.service.clock.now())
                self.last_ok = time.monotonic()
                self.on_pass(self.last_ok - started, True)
                self.failures = 0
                self.last_error = None
            except asyncio.CancelledError:
                # The process is stopping mid-pass (SIGTERM, shutdown): not an error. Rows this pass
                # had claimed are taken over when their lease ends, as after a crash.
                log.info("tick interrupted: the process is stopping")
            except Exception as exc:  # noqa: BLE001 - keep ticking through database outages
                self.failures += 1
                self.last_error = type(exc).__name__
                self.on_pass(time.monotonic() - started, False)
                pause = min(60.0, 2.0 ** self.failures)
                log.warning("tick failed (%s); retrying in %.0fs", type(exc).__name__, pause)
                await asyncio.sleep(pause)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    loop: TickLoop | None = request.app.get("tick_loop")
    body: dict[str, Any] = {"status": "ok"}
    try:
        async with service.uow.read() as uow:
            backlog, failed, beat = await uow.views.health()
        body["outbox"] = {"backlog": backlog, "failed": failed}
        body["scheduler"] = {"last_tick": beat.isoformat() if beat else None}
    except Exception as exc:  # noqa: BLE001
        body = {"status": "degraded", "database": type(exc).__name__}
        return web.json_response(body, status=503)
    if loop is not None:
        age = None if loop.last_ok is None else round(time.monotonic() - loop.last_ok, 1)
        alive = loop.scheduler.running and (age is None or age < max(5 * loop.every, 60))
        body["scheduler"].update(running=loop.scheduler.running, seconds_since_ok=age, failures=loop.failures,
                                 last_error=loop.last_error)
        if not alive:
            body["status"] = "degraded"
            return web.json_response(body, status=503)
    return web.json_response(body)


def base_app(service: BotService) -> web.Application:
    """The web application with `/healthz`; bot/wiring.py mounts the platforms and the dashboard."""
    from bot.logs import request_ids

    app = web.Application(client_max_size=MAX_BODY, middlewares=[request_ids])  # adapters.guard.read_body counts the bytes
    app[SERVICE_KEY] = service
    app.router.add_get("/healthz", healthz)
    return app


async def wait_for_signal() -> None:
    stop = asyncio.Event()
    running = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            running.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover
            pass
    await stop.wait()


__all__ = ["SERVICE_KEY", "TickLoop", "base_app", "healthz", "wait_for_signal"]
