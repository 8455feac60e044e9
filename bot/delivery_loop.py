"""The delivery loop: a tick turns due work into outbox rows; drains hand the outbox to the ports."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from bot.clock import Clock
from journeys.definition import Journey
from scheduler.delivery import DeliveryResult, Dispatcher
from scheduler.tick import TickResult, process_due
from store.db import Database

log = logging.getLogger("hplj.bot")

# How long a kick waits before draining, so one pass delivers what a burst of actions queued.
KICK_DELAY = 0.05


class DeliveryLoop:
    def __init__(self, db: Database, library: dict[str, Journey], dispatcher: Dispatcher, clock: Clock, *,
                 default_tz: str = "UTC", min_group: int | None = None) -> None:
        self.db = db
        self.library = library
        self.dispatcher = dispatcher
        self.clock = clock
        self.default_tz = default_tz
        self.min_group = min_group
        self.kick_delay = KICK_DELAY
        self._kick_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self._kick_waiting = False

    async def tick(self, now: datetime | None = None) -> tuple[TickResult, DeliveryResult]:
        """One full pass: due prompts -> outbox -> platforms. `hplj tick --at` calls this."""
        at = now or self.clock.now()
        result = await process_due(self.db, self.library, at, default_tz=self.default_tz, min_group=self.min_group)
        delivered = await self.drain(at)
        return result, delivered

    async def drain(self, now: datetime | None = None) -> DeliveryResult:
        total = DeliveryResult()
        async with self._kick_lock:
            for _ in range(1000):
                r = await self.dispatcher.deliver(now or self.clock.now())
                total.add(r)
                if not (r.sent or r.failed or r.expired or r.retried):
                    break
                if r.retried and not (r.sent or r.failed or r.expired):
                    break
        return total

    def kick(self) -> None:
        """Deliver what an inbound action queued, soon, without holding up the response.

        Kicks are coalesced: at most one drain is waiting to start (after `kick_delay`, so a burst
        of actions is delivered by one pass); a kick while a drain runs schedules exactly one more
        after it, so rows committed after that drain's claim are not left for the scheduler."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._kick_waiting:
            return
        self._kick_waiting = True
        self.track(loop.create_task(self._kicked()))

    async def _kicked(self) -> None:
        try:
            if self.kick_delay > 0:
                await asyncio.sleep(self.kick_delay)
        finally:
            self._kick_waiting = False  # actions committed from here on need (and get) another pass
        try:
            await self.drain()
        except Exception:
            log.exception("background delivery failed; the scheduler will retry")

    def track(self, task: asyncio.Task[Any]) -> None:
        """Background work started after answering (a kick, a Teams reply message): `settle()`
        waits for it too."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def settle(self) -> None:
        """Wait for background deliveries (tests, demo)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
