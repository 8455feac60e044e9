"""The dashboard's "Who is stuck" on stored prompts: an open prompt waiting the journey's
`stuck_after` working days (in the recipient's calendar) names the participant and whom it waits
on; a completed enrollment is never listed, whatever it left open (issue 13: journeys end)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from adapters.memory import RecordingChat
from bot.dashboard.view import cohort_view
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.models import EnrollmentRow, PromptRow
from tests.worlds import service_on

NOW = datetime(2027, 5, 20, 12, tzinfo=UTC)  # Thursday
SENT = datetime(2027, 5, 13, 9, tzinfo=UTC)  # the Thursday before: 5 working days ago
COHORT = "spring"


async def test_open_prompts_past_stuck_after_are_listed_and_completed_journeys_are_not(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    service = await service_on(db, load_library(default_library_path()), {"console": RecordingChat(platform="console")},
                               SimulatedClock(NOW), admins={"admin"})
    ids = {uid: (await service.ensure_person("console", uid, name=name, tz="Europe/London")).id
           for uid, name in (("mia", "Mia Roth"), ("noor", "Noor Haddad"), ("max", "Max Bauer"))}
    async with db.write() as s:
        for uid, status in (("mia", "active"), ("noor", "completed")):
            eid = f"e-{uid}"
            s.add(EnrollmentRow(id=eid, journey_id="active-listening", journey_version=1, person_id=ids[uid],
                                manager_id=ids["max"], start=date(2027, 4, 12), events={}, status=status,
                                cohort=COHORT, created_at=SENT - timedelta(days=40)))
        await s.flush()
        for uid in ("mia", "noor"):
            eid = f"e-{uid}"
            s.add(PromptRow(id=f"{eid}.support-real", enrollment_id=eid, step_id="support-real",
                            recipient_id=ids["max"], status="open", due_at=SENT, next_at=None, answers={},
                            sent_at=SENT))
            s.add(PromptRow(id=f"{eid}.listening-checkin", enrollment_id=eid, step_id="listening-checkin",
                            recipient_id=ids[uid], status="open", due_at=NOW - timedelta(days=1), next_at=None,
                            answers={}, sent_at=NOW - timedelta(days=1)))  # one working day: not stuck yet
    view = await cohort_view(service, COHORT, NOW)
    assert view.stuck_after == 3
    assert [(r.participant, r.prompt, r.waiting_on, r.working_days) for r in view.stuck] == [
        ("Mia Roth", "Back a real moment that matters", "manager: Max Bauer", 5)]
    await db.dispose()
