"""A tick batch's commit overlapped with the next batch's decisions, on SQLite (private to store/).

A due step's commit (writing its pages to the WAL) costs about as much wall time as the engine's
decision for it, and SQLite's `COMMIT` runs without Python's GIL. So the tick reads the next batch
in the transaction that is about to commit (it sees exactly what a new transaction would), then
runs the `COMMIT` on a worker thread while this thread lets the engine decide that next batch
(pure work: no database, no event loop turn). The decisions are only used if nobody else wrote in
between: the next transaction (`BEGIN IMMEDIATE`, so nobody can write after it) compares the
database's `data_version` and the connection's own change count with a mark taken in the
transaction before. Any other write, from this process or another, and the tick reads and decides
again as it always did.

Only for inline SQLite connections (store/db.py `_InlineSqlite`); elsewhere there is no mark and
nothing is overlapped.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from store.hotpath import _inline_sqlite3

T = TypeVar("T")

# Commits run here (threads start when first needed): a tick commits one batch at a time.
_COMMITS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hplj-commit")


@dataclass(frozen=True)
class WriteMark:
    """The database as one write transaction left it: its connection, that connection's view of
    other connections' commits (`PRAGMA data_version`) and its own row changes (`total_changes`)."""

    conn: sqlite3.Connection
    version: int
    changes: int


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


async def mark(session: AsyncSession) -> WriteMark | None:
    """Call inside a write transaction, after its last write; None: nothing can be overlapped."""
    raw = await _inline_sqlite3(session)
    if raw is None:
        return None
    return WriteMark(raw, _version(raw), raw.total_changes)


async def unchanged_since(session: AsyncSession, before: WriteMark) -> bool:
    """Whether nothing was written to the database since `before`'s transaction committed. Call
    first thing in a write transaction: it holds the write lock, so this stays true until it ends."""
    raw = await _inline_sqlite3(session)  # begins this transaction: BEGIN IMMEDIATE
    if raw is None:
        return False
    old = before.conn
    if old is not raw and old.in_transaction:
        return False  # in another task's transaction: its snapshot may be older than the last commit
    try:
        # data_version: commits by any other connection; total_changes: writes made on the marked
        # connection itself afterwards (another task of this process may have used it since)
        return _version(old) == before.version and old.total_changes == before.changes
    except sqlite3.Error:  # closed by the pool meanwhile
        return False


async def commit_while(session: AsyncSession, work: Callable[[], T]) -> T:
    """Commit the session's transaction while `work` runs on this thread; `work`'s result.

    `work` must not touch the database or await: the event loop does not turn while it runs, so
    nothing else uses the connection committing on the worker thread."""
    raw = await _inline_sqlite3(session)
    if raw is None:
        await session.commit()
        return work()
    started = threading.Event()

    def commit() -> None:
        started.set()
        raw.commit()

    committing = asyncio.get_running_loop().run_in_executor(_COMMITS, commit)
    # Until the worker thread is inside COMMIT (where it lets go of the GIL), `work` would hold the
    # GIL and the worker would wait for it for a whole switch interval (5 ms) before starting. Its
    # own threads, so no other task's work holds this up (and the wait is bounded all the same).
    started.wait(0.05)
    try:
        return work()
    finally:
        await committing
        await session.commit()  # SQLAlchemy's own bookkeeping: the driver has nothing left to commit
