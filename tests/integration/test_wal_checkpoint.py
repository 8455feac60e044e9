"""SQLite's WAL checkpoints run off the request path (store/checkpoint.py), and still bound the WAL.

A request's `COMMIT` must never copy the WAL into the database file (milliseconds on the event
loop's thread); the checkpointer does it on its own thread after writes, so the WAL starts over
instead of growing, and closing the database leaves everything in the database file.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from sqlalchemy import text

from store.checkpoint import LIMIT
from store.db import Database

ROW = 200_000  # bytes per write: ~50 pages of the WAL
WRITES = 40  # 2,000 pages: twice SQLite's automatic checkpoint threshold


async def _db(tmp_path: Path, *, period: float = 3600.0, limit: int = LIMIT) -> tuple[Database, Path]:
    # by default a period far longer than the test: a checkpoint runs only when the test settles it
    db = Database(f"sqlite:///{tmp_path / 'x.db'}", checkpoint_period=period, checkpoint_limit=limit)
    async with db.write() as s:
        await s.execute(text("CREATE TABLE payload (n INTEGER PRIMARY KEY, body BLOB)"))
    assert db.checkpointer is not None
    await db.checkpointer.settle()
    return db, tmp_path / "x.db-wal"


async def _write(db: Database, n: int) -> None:
    async with db.write(urgent=True) as s:
        await s.execute(text("INSERT INTO payload (n, body) VALUES (:n, randomblob(:size))"), {"n": n, "size": ROW})


async def test_connections_keep_wal_and_normal_sync_and_never_checkpoint_in_a_commit(tmp_path: Path) -> None:
    db, wal = await _db(tmp_path)
    async with db.write() as s:
        settings = [(await s.execute(text(f"PRAGMA {name}"))).scalar_one()
                    for name in ("journal_mode", "synchronous", "wal_autocheckpoint")]
    assert settings == ["wal", 1, 0]  # WAL, NORMAL, no automatic checkpoint in COMMIT
    for n in range(WRITES):
        await _write(db, n)
    # SQLite's own checkpoint (1,000 pages) would have started the WAL over half way through
    assert wal.stat().st_size > WRITES * ROW
    assert db.checkpointer is not None and db.checkpointer.runs == 1  # only the one after CREATE TABLE
    await db.dispose()


async def test_the_checkpointer_copies_the_wal_so_it_starts_over_instead_of_growing(tmp_path: Path) -> None:
    db, wal = await _db(tmp_path)
    checkpointer = db.checkpointer
    assert checkpointer is not None
    for n in range(WRITES):
        await _write(db, n)
        await checkpointer.settle()  # what the timer does a second after a write
        assert checkpointer.last is not None and not checkpointer.last.busy
        assert checkpointer.last.copied == checkpointer.last.wal_pages  # all of it
        assert checkpointer.last.wal_pages < 3 * ROW // 4096  # this write's pages, not all so far
    assert checkpointer.runs == WRITES + 1
    assert wal.stat().st_size < 3 * ROW  # reused from the start: never the 8 MB written
    await db.dispose()
    assert not wal.exists()  # the last connection closed: everything is in the database file
    with sqlite3.connect(tmp_path / "x.db") as conn:
        assert conn.execute("SELECT count(*), sum(length(body)) FROM payload").fetchone() == (WRITES, WRITES * ROW)


async def test_the_checkpoint_runs_by_itself_after_a_write(tmp_path: Path) -> None:
    db, _ = await _db(tmp_path, period=0.0)
    checkpointer = db.checkpointer
    assert checkpointer is not None
    before = checkpointer.runs
    await _write(db, 1)
    for _ in range(10_000):  # no timing assert: the loop turns until the timer's own run is done
        if checkpointer.runs > before:
            break
        await asyncio.sleep(0.001)
    assert checkpointer.runs == before + 1
    assert checkpointer.last is not None and checkpointer.last.copied == checkpointer.last.wal_pages
    await db.dispose()


async def test_past_the_limit_a_checkpoint_holds_the_writers_so_it_completes(tmp_path: Path) -> None:
    db, wal = await _db(tmp_path, limit=0)  # every checkpoint ends with a second one holding the writers
    checkpointer = db.checkpointer
    assert checkpointer is not None
    await _write(db, 0)
    checkpointer.wrote()
    running = asyncio.create_task(checkpointer.settle())
    await asyncio.sleep(0)  # the checkpoint has the write queue now
    writer = asyncio.create_task(_write(db, 1))
    await asyncio.gather(running, writer)  # the writer waited its turn, then committed
    assert checkpointer.last is not None and checkpointer.last.copied == checkpointer.last.wal_pages
    await checkpointer.settle()
    async with db.read() as s:
        assert (await s.execute(text("SELECT count(*) FROM payload"))).scalar_one() == 2
    await db.dispose()
    assert not os.path.exists(wal)
