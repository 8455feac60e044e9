"""Engine and transactions. SQLite is tuned for a web process and a scheduler writing at once.

SQLite: WAL (readers never block the writer), a long busy timeout, and `BEGIN IMMEDIATE` for
write transactions so two writers queue on the lock instead of failing with "database is locked"
when a read transaction tries to upgrade. Within one process, write transactions also queue on an
asyncio lock (FIFO) before `BEGIN IMMEDIATE`: SQLite's busy handler polls with sleeps of up to
100 ms, so writers of one process contending on the file lock would wait in those sleeps (and,
under load, time out after 30 s); the lock hands the file lock straight to the next writer.
Connections to a file database are pooled (opening one costs a thread, the pragmas and a schema
read), and their statements run inline on the event loop's thread (`_InlineSqlite`): a local
SQLite statement takes tens of microseconds, while aiosqlite's hand-off to its thread and back
costs more than that for every cursor call (~4 per statement, ~60 per inbound action measured),
and under load each hand-off also waits its turn in the busy loop. Only lock waits would block,
so those connections never wait inside SQLite (busy timeout 0): "database is locked" (another
process writing) is retried with asyncio sleeps, up to the same 30 s. For the same reason those
connections never checkpoint the WAL inside a `COMMIT` (`wal_autocheckpoint=0`): store/checkpoint.py
checkpoints on a thread of its own after writes. PostgreSQL: a normal pool;
claims use SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

from store.checkpoint import LIMIT as CHECKPOINT_LIMIT
from store.checkpoint import PERIOD as CHECKPOINT_PERIOD
from store.checkpoint import WalCheckpointer
from store.dburl import DatabaseUrlError, translate
from store.models import Base

log = logging.getLogger("hplj.store")

# Set while the current task (and tasks it starts) holds this process's SQLite write lock: a
# nested write() then goes straight to SQLite as before instead of waiting on itself.
_WRITING: contextvars.ContextVar[bool] = contextvars.ContextVar("hplj_db_writing", default=False)

BUSY_TIMEOUT = 30.0  # seconds a statement waits for another process's write lock


class _InlineSqlite(aiosqlite.Connection):
    """An aiosqlite connection whose statements run on the calling (event loop) thread.

    The sqlite3 connection is opened by aiosqlite's thread (with `check_same_thread=False`),
    which stays for connect, close and SQLAlchemy's isolation-level setter; every cursor call
    runs inline. SQLite answers "database is locked" at once (busy timeout 0) instead of
    blocking the loop; the statement is retried after an asyncio sleep: a statement refused as
    busy had no effect, so repeating it is safe.
    """

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        delay, waited = 0.001, 0.0
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or waited >= BUSY_TIMEOUT:
                    raise
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.05)

    async def execute(self, sql: str, parameters: Any = None) -> aiosqlite.Cursor:  # type: ignore[override]
        """Raw statements on the driver connection (maintenance: VACUUM, WAL checkpoints) run in
        aiosqlite's thread with the usual busy timeout, so a long one never blocks the loop.
        (SQLAlchemy itself only uses cursors.)"""
        conn = self._conn

        def run() -> sqlite3.Cursor:
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
            try:
                return conn.execute(sql, [] if parameters is None else parameters)
            finally:
                conn.execute("PRAGMA busy_timeout=0")

        cursor = await aiosqlite.Connection._execute(self, run)  # type: ignore[no-untyped-call]
        return aiosqlite.Cursor(self, cursor)


class _WriteLock:
    """FIFO lock for one process's SQLite writers, with a second, earlier queue for `urgent` ones:
    a person waiting for an answer (an inbound action) goes before background writers (outbox
    settles, ticks) that queued first. Release hands the lock straight to the next waiter."""

    def __init__(self) -> None:
        self._locked = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    async def acquire(self, urgent: bool) -> None:
        if not self._locked and not self._urgent and not self._normal:
            self._locked = True
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._normal
        queue.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # handed over just as we were cancelled: pass it on
            else:
                try:
                    queue.remove(fut)
                except ValueError:
                    pass
            raise

    def release(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                fut = queue.popleft()
                if not fut.done():
                    fut.set_result(None)  # still locked: ownership moves to that waiter
                    return
        self._locked = False


def _inline_creator(path: str) -> Any:
    def create() -> aiosqlite.Connection:
        conn = _InlineSqlite(lambda: sqlite3.connect(path, timeout=0, check_same_thread=False), 64)
        conn._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
        return conn

    return create


def async_url(url: str) -> str:
    """Accept the URLs people paste (sqlite:///x.db, postgres://..., postgresql://...?sslmode=require)
    and pick the async driver; libpq parameters are translated by store/dburl.py."""
    return translate(url).url


class Database:
    def __init__(self, url: str, *, echo: bool = False, checkpoint_period: float = CHECKPOINT_PERIOD,
                 checkpoint_limit: int = CHECKPOINT_LIMIT) -> None:
        target = translate(url)  # DatabaseUrlError: one sentence naming what is wrong
        self.url = target.url
        self.is_sqlite = target.is_sqlite
        self.inline = False  # SQLite statements run on the loop's thread (file databases)
        self.checkpointer: WalCheckpointer | None = None  # inline SQLite: WAL checkpoints off the loop
        # Statement parameters hold people's words (reflections, situations): never in a log line
        # or an exception message, echo or not.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            path = make_url(self.url).database
            kwargs["connect_args"] = {"timeout": 30}
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                kwargs["poolclass"] = AsyncAdaptedQueuePool
                kwargs["pool_size"] = 8
                kwargs["max_overflow"] = 24
                kwargs["async_creator"] = _inline_creator(path)
                # sessions always end their transaction; the "reset" listener below rolls back
                # only a connection returned mid-transaction (one statement less per session)
                kwargs["pool_reset_on_return"] = None
                self.inline = True
                self.checkpointer = WalCheckpointer(path, self._exclusive, period=checkpoint_period,
                                                    limit=checkpoint_limit)
            else:
                kwargs["poolclass"] = NullPool
        else:
            kwargs["connect_args"] = target.connect_args
            # A dispatcher settles up to HPLJ_DELIVERY_CONCURRENCY (16) rows at once, each in its own
            # transaction: with 10 pooled connections the rest were opened and closed again for
            # nearly every settle of a burst (1,405 connects for 2,000 prompts, each a new server
            # backend and its statements prepared anew). 20 kept covers a pass and its claim.
            kwargs["pool_size"] = 20
            kwargs["max_overflow"] = 10
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            self._tune_sqlite()
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _WriteLock] = (
            weakref.WeakKeyDictionary())

    def _tune_sqlite(self) -> None:
        inline = self.inline

        @event.listens_for(self.engine.sync_engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # inline connections must not block the loop: _InlineSqlite retries "locked" itself
            cur.execute(f"PRAGMA busy_timeout={0 if inline else 30000}")
            cur.execute("PRAGMA synchronous=NORMAL")
            if inline:  # no checkpoint inside a request's COMMIT: store/checkpoint.py runs them
                cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute("PRAGMA cache_size=-16000")  # 16 MB page cache per connection
            cur.close()

        if inline:
            @event.listens_for(self.engine.sync_engine.pool, "reset")
            def _reset(dbapi_conn: Any, _record: Any, state: Any) -> None:
                if not state.asyncio_safe or state.transaction_was_reset:
                    return
                raw = getattr(getattr(dbapi_conn, "_connection", None), "_connection", None)
                if raw is not None and raw.in_transaction:
                    dbapi_conn.rollback()

        @event.listens_for(self.engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            read_only = conn.get_execution_options().get("hplj_read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    def _write_lock(self) -> _WriteLock:
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = _WriteLock()
        return lock

    @asynccontextmanager
    async def write(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on error.

        `urgent`: someone is waiting for this one (an inbound action); on SQLite it queues ahead
        of background writers."""
        # PostgreSQL needs no queue; a nested write already holds this process's SQLite lock.
        lock = self._write_lock() if self.is_sqlite and not _WRITING.get() else None
        if lock is not None:
            await lock.acquire(urgent)
            token = _WRITING.set(True)
        try:
            async with self._sessions() as session, session.begin():
                yield session
        finally:
            if lock is not None:
                _WRITING.reset(token)
                lock.release()
            if self.checkpointer is not None:
                self.checkpointer.wrote()

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        """This process's SQLite writers held back (behind those already queued), for a WAL
        checkpoint that must complete."""
        lock = self._write_lock()
        await lock.acquire(False)
        try:
            yield
        finally:
            lock.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            if self.is_sqlite:  # a deferred BEGIN: readers don't queue behind writers
                await session.connection(execution_options={"hplj_read_only": True})
            yield session

    async def create_all(self) -> None:
        """For tests and the demo; production uses `hplj db upgrade` (Alembic)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)

    async def compact(self) -> None:
        """SQLite keeps deleted bytes in free pages and the WAL: checkpoint, rebuild, truncate the WAL."""
        if not self.is_sqlite:
            return
        try:
            async with self.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                for sql in ("PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"):
                    cursor = await driver.execute(sql)
                    await cursor.fetchall()
                    await cursor.close()
        except Exception:
            log.exception("could not compact the SQLite file after forget")

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.close()
        await self.engine.dispose()


# Any failure to read or write the database (what a CLI turns into one clear sentence).
from sqlalchemy.exc import SQLAlchemyError as DatabaseError

__all__ = ["BUSY_TIMEOUT", "Database", "DatabaseError", "DatabaseUrlError", "async_url", "is_missing_sqlite_file"]


def is_missing_sqlite_file(url: str) -> str | None:
    """The path, when `url` names an SQLite file that does not exist (so nothing creates it by accident)."""
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        return parsed.database
    return None
