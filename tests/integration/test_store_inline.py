"""The SQLite store's fast path: inline statements, the in-process write queue, lock retries."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from store.db import Database
from store.models import InboundRow


async def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    await db.create_all()
    return db


async def test_writers_queue_urgent_first_and_all_commit(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    assert db.inline
    order: list[str] = []
    gate = asyncio.Event()

    async def writer(name: str, *, urgent: bool = False, hold: bool = False) -> None:
        async with db.write(urgent=urgent) as s:
            order.append(name)
            s.add(InboundRow(key=name, person_id=None, at=datetime.now(UTC)))
            if hold:
                await gate.wait()  # keeps the write lock while the others queue

    first = asyncio.create_task(writer("first", hold=True))
    await asyncio.sleep(0.01)
    background = [asyncio.create_task(writer(f"bg{i}")) for i in range(3)]
    await asyncio.sleep(0.01)
    urgent = asyncio.create_task(writer("urgent", urgent=True))
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(first, *background, urgent)
    assert order == ["first", "urgent", "bg0", "bg1", "bg2"]
    async with db.read() as s:
        assert (await s.execute(select(func.count()).select_from(InboundRow))).scalar_one() == 5
    await db.dispose()


async def test_a_failed_write_rolls_back_and_releases_the_lock(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    try:
        async with db.write() as s:
            s.add(InboundRow(key="k", person_id=None, at=datetime.now(UTC)))
            await s.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with db.write() as s:  # not deadlocked, and the connection is clean
        s.add(InboundRow(key="k", person_id=None, at=datetime.now(UTC)))
    async with db.read() as s:
        assert (await s.execute(select(func.count()).select_from(InboundRow))).scalar_one() == 1
    await db.dispose()


async def test_another_process_holding_the_lock_is_waited_for_without_blocking_the_loop(tmp_path: Path) -> None:
    db = await _db(tmp_path)
    other = sqlite3.connect(tmp_path / "x.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # as `hplj worker` would, from another process
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.create_task(ticker())

    async def write() -> None:
        async with db.write() as s:
            s.add(InboundRow(key="after", person_id=None, at=datetime.now(UTC)))

    task = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not task.done()  # waiting for the other writer...
    assert ticks >= 10  # ...while the event loop keeps running
    other.execute("COMMIT")
    await asyncio.wait_for(task, 5)
    running.cancel()
    other.close()
    async with db.read() as s:
        assert (await s.execute(select(func.count()).select_from(InboundRow))).scalar_one() == 1
    await db.dispose()
