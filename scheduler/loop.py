"""Every loop of the bot: the tick, the outbox drain and the periodic job that runs them.

`DeliveryLoop.tick` turns due work into outbox rows (scheduler/tick.py) and drains them to the
ports (scheduler/delivery.py); `kick` drains soon after an inbound action. `TickLoop` is the one
APScheduler job `hplj serve` and `hplj worker` run: a tick and a heartbeat, on an interval. It
holds no job per message and pickles nothing; the database decides what is due, so restarts
lose nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from journeys.definition import Journey
from journeys.evaluation.success_case import MIN_GROUP
from scheduler.delivery import DeliveryResult, Dispatcher
from scheduler.tick import TickResult, heartbeat, process_due
from store.uow import UnitsOfWork

log = logging.getLogger("hplj.bot")

# How long a kick waits before draining, so one pass delivers what a burst of actions queued.
KICK_DELAY = 0.05


class DeliveryLoop:
    def __init__(self, units: UnitsOfWork, library: dict[str, Journey], dispatcher: Dispatcher,
                 now: Callable[[], datetime], *, min_group: int = MIN_GROUP,
                 pace: Callable[[], Awaitable[object]] | None = None) -> None:
        self.units = units
        self.pace = pace  # the web process's: the tick's batches let waiting requests go first
        self.library = library
        self.dispatcher = dispatcher
        self.now = now
        self.min_group = min_group
        self.kick_delay = KICK_DELAY
        self._kick_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self._kick_waiting = False

    async def tick(self, now: datetime | None = None) -> tuple[TickResult, DeliveryResult]:
        """One full pass: due prompts -> outbox -> platforms. `hplj tick --at` calls this."""
        at = now or self.now()
        result = await process_due(self.units, self.library, at, min_group=self.min_group, pace=self.pace)
        delivered = await self.drain(at)
        return result, delivered

    async def drain(self, now: datetime | None = None) -> DeliveryResult:
        total = DeliveryResult()
        async with self._kick_lock:
            for _ in range(1000):
                r = await self.dispatcher.deliver(now or self.now(), follow=True)
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


class TickLoop:
    """Runs a tick (and the scheduler's heartbeat) on an interval; survives database errors with backoff."""

    def __init__(self, delivery: DeliveryLoop, every: float,
                 on_pass: Callable[[float, bool], None] | None = None) -> None:
        self.delivery = delivery
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
                await self.delivery.tick()
                await heartbeat(self.delivery.units, "scheduler", self.delivery.now())
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
