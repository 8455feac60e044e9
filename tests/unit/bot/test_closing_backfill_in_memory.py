"""Enrollments made before journeys could end get their closing prompt once, when a process
builds the bot (bot/services/backfill.py): the service on units of work in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.services.backfill import add_closing_prompts
from journeys.ending import CLOSE_STEP
from journeys.loader import default_library_path, load_library
from store.memory import InMemoryUnitsOfWork

START = date(2027, 4, 12)
NOW = datetime(2027, 4, 1, 9, tzinfo=UTC)


async def test_old_enrollments_get_their_closing_prompt_once() -> None:
    units, library = InMemoryUnitsOfWork(), load_library(default_library_path())
    async with units() as uow:  # enrolled before journeys had an end: no closing prompt at all
        ids = {name: await uow.people.add("slack", f"U-{name}", NOW, name=name, tz="Europe/London")
               for name in ("ana", "chen", "ben", "dee")}
        enrollments = {name: await uow.enrollments.add(journey_id="active-listening", version=1,
                                                       person_id=ids[name], manager_id=ids["ben"], start=START,
                                                       events={}, cohort="c1", now=NOW)
                       for name in ("ana", "chen", "dee")}
        await uow.commit()
    ana_e, chen_e, dee_e = enrollments["ana"], enrollments["chen"], enrollments["dee"]
    state = units.state
    state.enrollments[chen_e] = replace(state.enrollments[chen_e], status="paused")
    state.enrollments[dee_e] = replace(state.enrollments[dee_e], status="unenrolled")

    assert await add_closing_prompts(units, library, NOW) == 2
    assert await add_closing_prompts(units, library, NOW) == 0  # nothing left to do
    rows = {p.enrollment_id: p for p in state.prompts.values() if p.step_id == CLOSE_STEP}
    thu_20_may = datetime(2027, 5, 20, 10, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
    assert {k: (p.status, p.due_at) for k, p in rows.items()} == {
        ana_e: ("scheduled", thu_20_may), chen_e: ("scheduled", thu_20_may)}  # not the unenrolled one
    assert rows[ana_e].next_at is not None and rows[chen_e].next_at is None  # paused: resume moves it
