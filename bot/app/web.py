"""The aiohttp application (`hplj serve`): `/healthz`, and the signal a server or worker waits for.

The periodic tick it reports on is scheduler/loop.py's `TickLoop`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

from aiohttp import web

from adapters.guard import MAX_BODY
from bot.app.logs import request_ids
from bot.app.service import BotService
from scheduler.loop import TickLoop

log = logging.getLogger("hplj.web")
SERVICE_KEY = web.AppKey("service", BotService)


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
    """The web application with `/healthz`; bot/app/wiring.py mounts the platforms and the dashboard."""

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


__all__ = ["SERVICE_KEY", "base_app", "healthz", "wait_for_signal"]
