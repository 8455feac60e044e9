"""The L&D lead's edited "What to change" in a real database (a SQLite file through the migration,
and a throwaway PostgreSQL server): a second `set` replaces the first, two at once leave one row
(the later wins, no duplicate-key error), `reset` removes it, and cohorts never share a text."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from store.db import Database
from store.uow import UnitOfWork

NOW = datetime(2027, 6, 1, 8, tzinfo=UTC)


async def put(db: Database, cohort: str, text: str, at: datetime) -> None:
    async with UnitOfWork(db) as uow:
        await uow.cohort_texts.put(cohort, "recommendations", text, at)
        await uow.commit()


async def get(db: Database, cohort: str) -> tuple[str, datetime] | None:
    async with UnitOfWork(db, read_only=True) as uow:
        got = await uow.cohort_texts.get(cohort, "recommendations")
    return None if got is None else (got.text, got.updated_at)


async def check(db: Database) -> None:
    assert await get(db, "spring") is None
    await put(db, "spring", "First ‘draft’\nsecond line", NOW)
    await put(db, "spring", "Replaced", NOW + timedelta(hours=1))
    await put(db, "autumn", "Autumn's own", NOW)
    assert await get(db, "spring") == ("Replaced", NOW + timedelta(hours=1))
    assert await get(db, "autumn") == ("Autumn's own", NOW)
    await asyncio.gather(*(put(db, "winter", f"text {n}", NOW + timedelta(minutes=n)) for n in range(6)))
    winter = await get(db, "winter")
    assert winter is not None and winter[0].startswith("text ")  # one row, whichever wrote last
    async with UnitOfWork(db) as uow:
        assert await uow.cohort_texts.clear("spring", "recommendations")
        assert not await uow.cohort_texts.clear("nope", "recommendations")
        await uow.commit()
    assert await get(db, "spring") is None and await get(db, "autumn") is not None


async def test_cohort_texts(migrated_db: Database) -> None:
    await check(migrated_db)
