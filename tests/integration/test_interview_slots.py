"""The interviewer's calendar in a real database (a SQLite file, and a throwaway PostgreSQL server):
two candidates never hold or book the same or overlapping times, also when two units of work
race for them; an expired hold frees its time; booking one time frees the candidate's others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from store.db import Database
from store.uow import UnitOfWork

NOW = datetime(2027, 6, 1, 8, tzinfo=UTC)
SLOT = NOW + timedelta(days=1)  # 30-minute interviews: two quarter hours each


async def hold(db: Database, eid: str, slots: list[datetime], expires: datetime, now: datetime = NOW) -> list[datetime]:
    async with UnitOfWork(db) as uow:
        got = await uow.interview_slots.hold("lena", eid, slots, 30, lambda _: expires, now)
        await uow.commit()
    return got


async def check_calendar(db: Database) -> None:
    later = NOW + timedelta(days=3)
    assert await hold(db, "e-ana", [SLOT, SLOT + timedelta(hours=2)], later) == [SLOT, SLOT + timedelta(hours=2)]
    # Ben is offered the same time, and one starting a quarter hour later (overlapping): both refused
    assert await hold(db, "e-ben", [SLOT, SLOT + timedelta(minutes=15), SLOT + timedelta(minutes=30)], later) == [
        SLOT + timedelta(minutes=30)]
    async with UnitOfWork(db, read_only=True) as uow:
        assert {SLOT, SLOT + timedelta(minutes=15)} <= await uow.interview_slots.taken("lena", NOW)
    # Ana books the first: her other time is freed, Ben still cannot have hers
    async with UnitOfWork(db) as uow:
        assert await uow.interview_slots.book("e-ana", SLOT, NOW + timedelta(hours=1))
        assert not await uow.interview_slots.book("e-ben", SLOT, NOW + timedelta(hours=1))  # never held for Ben
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        cal = await uow.interview_slots.calendar("lena", NOW)
    assert [(h.slot_at, h.enrollment_id, h.state) for h in cal] == [
        (SLOT, "e-ana", "booked"), (SLOT + timedelta(minutes=30), "e-ben", "held")]
    assert await hold(db, "e-chen", [SLOT + timedelta(hours=2)], later) == [SLOT + timedelta(hours=2)]  # freed
    # Ben's hold expires unanswered: his time is free for Dev, and Ben can no longer book it
    after = NOW + timedelta(days=4)
    assert await hold(db, "e-dev", [SLOT + timedelta(minutes=30)], after + timedelta(days=3), after) == [
        SLOT + timedelta(minutes=30)]
    async with UnitOfWork(db) as uow:
        assert not await uow.interview_slots.book("e-ben", SLOT + timedelta(minutes=30), after)
        await uow.commit()


async def race(db: Database) -> None:
    """Eight candidates offered the same time at once, each in its own unit of work: one holds it."""
    at = SLOT + timedelta(days=5)

    async def one(i: int) -> list[datetime]:
        for _ in range(20):  # SQLite lets one writer in at a time: a busy database is retried
            try:
                return await hold(db, f"e-{i}", [at], at)
            except Exception as exc:
                if "locked" not in str(exc).lower():
                    raise
                await asyncio.sleep(0.05)
        raise AssertionError("the database stayed locked")

    results = await asyncio.gather(*(one(i) for i in range(8)))
    assert sorted(len(r) for r in results) == [0] * 7 + [1]


async def test_held_and_booked_times_never_overlap(migrated_db: Database) -> None:
    await check_calendar(migrated_db)
    await race(migrated_db)
