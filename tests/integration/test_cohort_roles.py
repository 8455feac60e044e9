"""The two tables of the cohort roles in a real database (a SQLite file through the migration, and
a throwaway PostgreSQL server): one facilitator per cohort, due rows found and rescheduled, one
endorsement per leader and journey, and `forget` leaves neither behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.db import Database
from store.uow import UnitOfWork

NOW = datetime(2027, 4, 1, 8, tzinfo=UTC)
BRIEF_AT = datetime(2027, 4, 16, 8, tzinfo=UTC)


async def person(db: Database, uid: str) -> str:
    async with UnitOfWork(db) as uow:
        row, _ = await uow.people.upsert("console", uid, NOW, name=uid.title())
        await uow.commit()
    return row.id


async def check(db: Database) -> None:
    fay, gil, hana = await person(db, "fay"), await person(db, "gil"), await person(db, "hana")
    async with UnitOfWork(db) as uow:
        assert await uow.cohort_roles.assign("active-listening", "north", fay, "brief", BRIEF_AT, NOW) is None
        # the same person again keeps the schedule; a journey's other cohort is another row
        again = await uow.cohort_roles.assign("active-listening", "north", fay, "progress", None, NOW)
        assert again is not None and (again.stage, again.next_at) == ("brief", BRIEF_AT)
        await uow.cohort_roles.assign("active-listening", "south", gil, "brief", BRIEF_AT + timedelta(days=7), NOW)
        await uow.endorsements.record(hana, "active-listening", "First words", NOW)
        await uow.endorsements.record(hana, "active-listening", "Second words", NOW + timedelta(hours=1))
        await uow.commit()
    async with UnitOfWork(db) as uow:
        assert await uow.cohort_roles.due(BRIEF_AT - timedelta(minutes=1)) == []
        (due,) = await uow.cohort_roles.due(BRIEF_AT)
        assert (due.cohort, due.person_id) == ("north", fay)
        await uow.cohort_roles.reschedule(due, "progress", BRIEF_AT + timedelta(days=10))
        replaced = await uow.cohort_roles.assign("active-listening", "north", gil, "brief", BRIEF_AT, NOW)
        assert replaced is not None and replaced.person_id == fay
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        assert [(r.cohort, r.person_id) for r in await uow.cohort_roles.in_cohort("north")] == [("north", gil)]
        found = await uow.endorsements.of_leaders([(hana, "active-listening"), (hana, "other-journey"), (fay, "x")])
        assert list(found) == [(hana, "active-listening")] and found[(hana, "active-listening")].text == "Second words"
    async with UnitOfWork(db) as uow:
        for pid in (gil, hana):
            record = (await uow.people.by_ids([pid]))[pid]
            await uow.forget(record, NOW, None)
        await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        assert await uow.cohort_roles.in_cohort("north") == [] and await uow.cohort_roles.in_cohort("south") == []
        assert await uow.endorsements.of_leaders([(hana, "active-listening")]) == {}


async def test_cohort_roles_and_endorsements(migrated_db: Database) -> None:
    await check(migrated_db)
