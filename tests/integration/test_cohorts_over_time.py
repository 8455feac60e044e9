"""Two cohorts of one journey on stored events: `report` and the dashboard compare them, impact
with intervals and the change worded by its interval (issue 14, cohorts over time)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.memory import RecordingChat
from bot.dashboard.links import Claims
from bot.dashboard.page import render_dashboard
from bot.dashboard.view import cohort_view
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.models import EnrollmentRow, EventRow
from tests.worlds import service_on

NOW = datetime(2027, 11, 1, 12, tzinfo=UTC)
COHORTS = {"spring": (date(2027, 4, 12), 1), "autumn": (date(2027, 9, 6), 4)}  # start, successes of 5


@pytest.fixture
async def svc(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    service = await service_on(db, load_library(default_library_path()), {"console": RecordingChat(platform="console")},
                               SimulatedClock(NOW), admins={"admin"})
    manager = (await service.ensure_person("console", "max", name="Max Bauer", tz="Europe/London")).id
    people = [(await service.ensure_person("console", f"p{i}", name=f"Person {i}", tz="Europe/London")).id
              for i in range(10)]
    async with db.write() as s:
        for c, (cohort, (start, wins)) in enumerate(COHORTS.items()):
            created = datetime.combine(start, datetime.min.time(), UTC) - timedelta(days=7)
            for i in range(5):
                eid = f"{cohort}-{i}"
                s.add(EnrollmentRow(id=eid, journey_id="active-listening", journey_version=1,
                                    person_id=people[c * 5 + i], manager_id=manager, start=start, events={},
                                    status="completed", cohort=cohort, created_at=created))
                s.add(EventRow(kind="enrolled", enrollment_id=eid, at=created, data={}))
                s.add(EventRow(kind="scm_classified", enrollment_id=eid, at=created + timedelta(days=40),
                               data={"classification": "success" if i < wins else "not_applied"}))
    yield service
    await db.dispose()


async def test_report_compares_the_cohorts_of_the_journey(svc):
    result = await svc.handle_command("console", "admin", "report autumn", "k1")
    lines = result.replies[0].text.splitlines()
    start = lines.index("Cohorts of Active Listening over time (newest first):")
    assert lines[start + 1].startswith("• autumn (started 06 Sep 2027): impact 80% (4 of 5, 95% CI 38%–96%)")
    assert lines[start + 2].startswith("• spring (started 12 Apr 2027): impact 20% (1 of 5, 95% CI 4%–62%)")
    assert lines[start + 3].startswith("Change in impact from spring to autumn: not distinguishable from no difference")


async def test_dashboard_shows_cohorts_over_time(svc):
    view = await cohort_view(svc, "spring", NOW)
    assert [c.name for c in view.cohorts] == ["autumn", "spring"]
    page = render_dashboard(view, ["autumn", "spring"], {}, Claims("admin", "*", NOW + timedelta(hours=1), None), NOW)
    section = page[page.index('id="h-cohorts"'):]
    assert "Recent cohorts of Active Listening, newest first" in section
    assert "38%–96%" in section and "4%–62%" in section
    assert "not distinguishable from no difference" in section
