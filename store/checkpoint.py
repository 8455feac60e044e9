"""WAL checkpoints off the request path, for inline SQLite connections (private to store/).

SQLite's default is an automatic checkpoint inside the `COMMIT` that takes the WAL past 1,000
pages: that commit then copies the WAL into the database file and syncs both, milliseconds spent
on the event loop's thread (store/db.py runs statements inline), so whatever requests are open
wait for it. Our connections turn that off (`PRAGMA wal_autocheckpoint=0`) and this module runs
the checkpoint instead, on a thread of its own with its own connection, at most once a `period`
after a write: SQLite lets go of Python's GIL while it copies and syncs, so the loop keeps
answering. A PASSIVE checkpoint never waits for or blocks readers and writers.

The WAL still stays bounded: a passive checkpoint copies what was committed when it started, and
the next writer starts the WAL over only if everything was copied by then. Under steady writes
(50 clicks a second) a commit nearly always lands while the checkpoint runs, so the WAL would
grow for ever; when a checkpoint finds it past `limit` pages, a second one follows at once while
this process's writers wait on their asyncio queue (the loop keeps answering): it copies only
what was committed during the first, so it completes quickly and the WAL starts over.

Durability is unchanged: `synchronous=NORMAL` in WAL mode syncs the WAL at each checkpoint (not at
each commit), whoever runs it (README, "Operations").
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

log = logging.getLogger("hplj.store")

# One thread for every database's checkpoints (threads start when first needed).
_CHECKPOINTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hplj-checkpoint")

PERIOD = 1.0  # seconds from a write to the checkpoint that follows it
LIMIT = 10_000  # WAL pages (40 MB at 4 KB) past which a checkpoint ends holding the write queue


@dataclass(frozen=True)
class CheckpointResult:
    """`PRAGMA wal_checkpoint`'s row: busy (another checkpoint ran), WAL pages, pages copied."""

    busy: bool
    wal_pages: int
    copied: int


class WalCheckpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` on `path` after writes, on its own thread.

    `exclusive` is the process's write queue (store/db.py), entered only for a checkpoint that
    must complete (the WAL past `limit`)."""

    def __init__(self, path: str, exclusive: Callable[[], AbstractAsyncContextManager[None]], *,
                 period: float = PERIOD, limit: int = LIMIT) -> None:
        self.path = path
        self.exclusive = exclusive
        self.period = period
        self.limit = limit
        self.runs = 0
        self.last: CheckpointResult | None = None
        self._conn: sqlite3.Connection | None = None
        # a timer (no task: nothing is left pending when a loop closes), then the run it starts
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._closed = False

    def wrote(self) -> None:
        """A write transaction ended on this loop: have a checkpoint run within `period`."""
        loop = asyncio.get_running_loop()
        if self._closed or (self._loop is loop and self._timer is not None):
            return
        if self._loop is loop and self._task is not None:
            self._again = True  # committed after the running checkpoint started: one more after it
            return
        self._loop, self._task, self._again = loop, None, False
        self._timer = loop.call_later(self.period, self._start)

    def _start(self) -> None:
        self._timer = None
        assert self._loop is not None
        self._task = self._loop.create_task(self._once())

    async def settle(self) -> None:
        """Run the checkpoint a write asked for now, or wait for the one running (tests, shutdown)."""
        if self._loop is not asyncio.get_running_loop():
            return
        if self._timer is not None:
            self._timer.cancel()
            self._start()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def close(self) -> None:
        """Stop checkpointing and close the connection (the pool's last connection, closed after,
        checkpoints what is left)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None and self._loop is asyncio.get_running_loop():
            await asyncio.gather(self._task, return_exceptions=True)
        conn, self._conn = self._conn, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(_CHECKPOINTS, conn.close)

    async def _once(self) -> None:
        try:
            await self._run()
            if self.last is not None and self.last.wal_pages > self.limit:
                # what was committed during that run, copied while this process's writers wait:
                # a few pages and the syncs, so the writers are held as briefly as possible
                async with self.exclusive():
                    await self._run()
        except (sqlite3.Error, OSError) as exc:  # retried after the next write
            log.info("WAL checkpoint did not run (%s); it is retried after the next write", type(exc).__name__)
        finally:
            self._task = None
            if self._again:
                self.wrote()

    async def _run(self) -> None:
        run: Callable[[], CheckpointResult] = self._checkpoint
        pending: Awaitable[CheckpointResult] = asyncio.get_running_loop().run_in_executor(_CHECKPOINTS, run)
        self.last = await pending
        self.runs += 1

    def _checkpoint(self) -> CheckpointResult:
        """On the checkpoint thread (its connection is used nowhere else)."""
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
        busy, pages, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return CheckpointResult(bool(busy), int(pages), int(copied))


__all__ = ["LIMIT", "PERIOD", "CheckpointResult", "WalCheckpointer"]
