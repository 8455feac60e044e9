"""Enrollments made before journeys could end get their closing prompt once, when a process
builds the bot (bot/services/backfill.py), on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update

from bot.services.backfill import add_closing_prompts
from journeys.ending import CLOSE_STEP
from store.models import EnrollmentRow, PromptRow

START = date(2027, 4, 12)


async def test_old_enrollments_get_their_closing_prompt_once(make_world) -> None:
    w = await make_world(datetime(2027, 3, 29, 8, tzinfo=UTC), [("ana", "Ana Silva"), ("chen", "Chen Wei"),
                                                               ("ben", "Ben Okafor")])
    res = await w.service.enroll("active-listening", [w.ids["ana"], w.ids["chen"]], w.ids["ben"], START)
    (ana_e, _), (chen_e, _) = sorted((eid, pid) for pid, eid in res.enrolled)
    async with w.db.write() as s:  # as before this change: no closing prompts; Chen is paused
        await s.execute(delete(PromptRow).where(PromptRow.step_id == CLOSE_STEP))
        await s.execute(update(EnrollmentRow).where(EnrollmentRow.id == chen_e).values(status="paused"))
    now = datetime(2027, 4, 1, 9, tzinfo=UTC)
    assert await add_closing_prompts(w.service.uow, w.service.library, now) == 2
    assert await add_closing_prompts(w.service.uow, w.service.library, now) == 0  # nothing left to do
    async with w.db.read() as s:
        rows = {r.enrollment_id: r for r in (await s.execute(
            select(PromptRow).where(PromptRow.step_id == CLOSE_STEP))).scalars().all()}
    thu_20_may = datetime(2027, 5, 20, 10, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
    assert {k: (r.status, r.due_at.replace(tzinfo=UTC)) for k, r in rows.items()} == {
        ana_e: ("scheduled", thu_20_may), chen_e: ("scheduled", thu_20_may)}
    assert rows[ana_e].next_at is not None and rows[chen_e].next_at is None  # paused: resume moves it
