"""Work an adapter does after its acknowledgement, run so that acknowledgements come first.

Slack wants an answer to every request within 3 seconds and retries (then shows the person an
error) when none comes; the work behind a click — the database write, the reply — may come a
little later. On one event loop both compete: a job's steps run between the steps of the
requests waiting to be answered. `AckFirstQueue` keeps the jobs in a FIFO and starts the next one
only when the loop is not busy answering: before each job a runner measures one turn of the
loop; while that turn takes longer than `busy_turn` (requests are queued behind it), the runner
steps aside for `backoff` and measures again, for at most `max_defer` per job, so a sustained
overload still moves the work on. The queue holds at most `max_backlog` jobs; when it is full,
`put` waits for room, and the acknowledgement with it: an overload then shows as slow answers,
never as lost work. A job whose point is lost after a few seconds (opening a form: Slack's
trigger_id is valid for 3 s) is `urgent`: it starts at once, ahead of the queue.

`step_aside()` is the same measure on its own, for other background work of the process (the
outbox's sends, scheduler/delivery.py) that must not take the core from the answers either.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

Job = tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]
# HPLJ_SLACK_BACKLOG's default (README, Operations): a 13-s burst at 2,000 clicks/s is 26,000 jobs
DEFAULT_BACKLOG = 50_000


async def step_aside(*, probe: float = 0.0005, busy_turn: float = 0.002, backoff: float = 0.005,
                     max_defer: float = 0.25) -> int:
    """Return once the loop is quick to come back to a timer (nothing is queued: requests that
    arrived are handled before timers are), or after `max_defer`; returns how often it waited.
    Each wait doubles, up to 8 x `backoff`: a long burst (or a machine whose other jobs slow every
    turn) costs a few wake-ups per second, not hundreds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + max_defer
    waited = 0
    pause = backoff
    while True:
        start = loop.time()
        await asyncio.sleep(probe)
        end = loop.time()
        if end - start < probe + busy_turn or end >= give_up:
            return waited
        waited += 1
        await asyncio.sleep(min(pause, max(0.0, give_up - end)))
        pause = min(2 * pause, 8 * backoff)


class AckFirstQueue:
    """At most `workers` jobs at a time, started in arrival order when the loop has time."""

    def __init__(self, workers: int, log: logging.Logger, *, max_backlog: int = DEFAULT_BACKLOG,
                 busy_turn: float = 0.002, backoff: float = 0.005, max_defer: float = 0.25,
                 probe: float = 0.0005) -> None:
        self.workers = max(1, workers)
        self.log = log
        self.max_backlog = max(1, max_backlog)
        self.busy_turn = busy_turn
        self.backoff = backoff
        self.max_defer = max_defer
        self.probe = probe
        self.jobs: deque[Job] = deque()
        self.deferred = 0  # how often a runner stepped aside for the loop's other work
        self._runners: set[asyncio.Task[None]] = set()
        self._urgent: set[asyncio.Task[None]] = set()
        # events are made per event loop (tests and the CLI may run several loops in turn)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle = asyncio.Event()
        self._room = asyncio.Event()

    def __len__(self) -> int:
        return len(self.jobs)

    async def put(self, work: Callable[..., Awaitable[Any]], *args: Any, urgent: bool = False) -> None:
        """Queue `work(*args)`; waits while `max_backlog` jobs are already waiting. `urgent`: start
        it now, beside the queue (not counted against `workers` or `max_backlog`)."""
        self._bind()
        if urgent:
            self._idle.clear()
            task = asyncio.get_running_loop().create_task(self._one(work, args))
            self._urgent.add(task)
            task.add_done_callback(self._urgent_done)
            return
        while len(self.jobs) >= self.max_backlog:
            self._room.clear()
            await self._room.wait()
        self.jobs.append((work, args))
        self._idle.clear()
        self._start_runner()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued job (and any job those queue in turn) has run, up to `timeout`."""
        self._bind()
        if self._finished():
            return
        if self.jobs and not self._runners:  # queued on an earlier event loop
            self._idle.clear()
            self._start_runner()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            self.log.warning("%d jobs after the ack still queued after %.0f s", len(self.jobs), timeout)

    def _start_runner(self) -> None:
        if len(self._runners) < self.workers:
            task = asyncio.get_running_loop().create_task(self._run())
            self._runners.add(task)
            task.add_done_callback(self._runners.discard)

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._idle, self._room = loop, asyncio.Event(), asyncio.Event()
            self._runners, self._urgent = set(), set()

    async def _one(self, work: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            await work(*args)
        except Exception:
            self.log.exception("work after the response failed")

    def _finished(self) -> bool:
        """Nothing queued, nothing running, nothing urgent: what `drain` waits for."""
        return not self.jobs and not self._runners and not self._urgent

    def _urgent_done(self, task: asyncio.Task[None]) -> None:
        self._urgent.discard(task)
        if self._finished():
            self._idle.set()

    async def _run(self) -> None:
        try:
            while self.jobs:
                await self._step_aside()
                if not self.jobs:
                    break
                work, args = self.jobs.popleft()
                self._room.set()
                await self._one(work, args)
        finally:
            me = asyncio.current_task()
            if me is not None:
                self._runners.discard(me)
            if self._finished():
                self._idle.set()

    async def _step_aside(self) -> None:
        self.deferred += await step_aside(probe=self.probe, busy_turn=self.busy_turn, backoff=self.backoff,
                                          max_defer=self.max_defer)
