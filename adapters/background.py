"""Work an adapter does after its HTTP response has gone out (Teams' extra replies; Slack's work
after the ack uses `adapters/ackfirst.py`, which also lets a burst's acks go first): bounded, so at
a steady load the response path waits behind at most `workers` slices of it on the event loop,
and drainable, for shutdown and tests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any


class WorkPool:
    """At most `workers` jobs at a time, started in arrival order; a failing job is logged."""

    def __init__(self, workers: int, log: logging.Logger, *,
                 on_spawn: Callable[[asyncio.Task[Any]], None] | None = None,
                 pace: Callable[[], Awaitable[object]] | None = None) -> None:
        self.workers = max(1, workers)
        self.pace = pace  # awaited before each job starts (the web process: until no request waits)
        self.log = log
        self.on_spawn = on_spawn
        self.pending: set[asyncio.Task[Any]] = set()
        # one semaphore per event loop (tests and the CLI may run several loops in turn)
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def spawn(self, work: Callable[..., Awaitable[Any]], *args: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._bounded(work, *args))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
        if self.on_spawn is not None:
            self.on_spawn(task)
        return task

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the work started so far, and for work it starts in turn, up to `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.pending and loop.time() < deadline:
            await asyncio.wait(set(self.pending), timeout=max(0.0, deadline - loop.time()))

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.workers))
        return self._slots[1]

    async def _bounded(self, work: Callable[..., Awaitable[Any]], *args: Any) -> None:
        async with self._semaphore():
            if self.pace is not None:
                await self.pace()
            try:
                await work(*args)
            except Exception:
                self.log.exception("work after the response failed")
