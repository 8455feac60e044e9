"""Two decisions made on the same copy of an enrollment (Ana says yes to sharing while Ben records
what they agreed, in two requests at once) both keep what they wrote: the stored notes are merged,
not overwritten by the later save."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from journeys.state import EnrollmentState, Outcome, Person
from store.db import Database
from store.models import EnrollmentRow, PersonRow
from store.uow import UnitOfWork

NOW = datetime(2027, 4, 6, 9, tzinfo=UTC)


async def test_concurrent_notes_from_the_participant_and_the_manager_are_both_kept(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    async with db.write() as s:
        for pid, name in (("p-ana", "Ana"), ("p-ben", "Ben")):
            s.add(PersonRow(id=pid, platform="console", platform_user_id=pid, name=name, tz="Europe/London",
                            greeted=False, created_at=NOW))
        await s.flush()
        s.add(EnrollmentRow(id="e1", journey_id="active-listening", journey_version=1, person_id="p-ana",
                            manager_id="p-ben", start=date(2027, 4, 12), events={}, status="active", cohort="c",
                            created_at=NOW, notes={"shared": {"focus-situation": "one-to-ones"}}))
    ana, ben = Person("p-ana", "Ana", "Europe/London"), Person("p-ben", "Ben", "Europe/London")
    seen = EnrollmentState("e1", "active-listening", ana, ben, date(2027, 4, 12),
                           notes={"shared": {"focus-situation": "one-to-ones"}})  # both read this copy
    participant = replace(seen, notes={**seen.notes, "consent": "yes",
                                       "shared": {**seen.notes["shared"], "success-picture": "calm callers"}})
    manager = replace(seen, notes={**seen.notes, "agreed": "One safe 1:1 first"})
    for decided in (participant, manager):
        async with UnitOfWork(db) as uow:
            await uow.save(Outcome(enrollments=[decided]), NOW)
            await uow.commit()
    async with UnitOfWork(db, read_only=True) as uow:
        (state,) = (await uow.enrollments.states({"e1"})).values()
    assert state.notes == {"consent": "yes", "agreed": "One safe 1:1 first",
                           "shared": {"focus-situation": "one-to-ones", "success-picture": "calm callers"}}
    await db.dispose()
