"""Stops in the cohort report, on a real SQLite file: the count and, from the minimum group up,
the reasons people typed after `stop yes` without a name attached (theirs and their manager's
taken out), rendered inert; below the minimum group only the count."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapters.memory import RecordingChat
from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from bot.services.reports import cohort_report_lines
from journeys.evaluation.success_case import MIN_GROUP
from journeys.loader import default_library_path, load_library
from journeys.text import TYPED_CLOSE, TYPED_OPEN, plain
from store.db import Database
from store.models import EnrollmentRow

NOW = datetime(2027, 5, 20, 12, tzinfo=UTC)
REASONS = ["No time this quarter, Max keeps piling on work", "*not* relevant to my role <!channel>",
           "Moving teams next month", "Too many meetings already", "Rosa asked me to pause"]


async def report_with(tmp_path, stops: int) -> list[str]:
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    service = BotService(db, load_library(default_library_path()), {"console": RecordingChat(platform="console")},
                         SimulatedClock(NOW), bootstrap_admins={"admin"})
    max_id = (await service.ensure_person("console", "max", name="Max Bauer", tz="Europe/London")).id
    async with db.write() as s:
        for i in range(MIN_GROUP + 2):
            pid = (await service.ensure_person("console", f"p{i}", name=f"Rosa Vega{i}" if i == 4 else f"Person {i}",
                                               tz="Europe/London")).id
            stopped = i < stops
            note = {"at": "2027-04-20T10:00:00+00:00"}
            if i < len(REASONS):  # the last to stop gave no reason
                note["reason"] = REASONS[i]
            notes = {"stopped": note} if stopped else {}
            s.add(EnrollmentRow(id=f"e{i}", journey_id="active-listening", journey_version=1, person_id=pid,
                                manager_id=max_id, start=date(2027, 4, 12), events={},
                                status="stopped" if stopped else "active", cohort="c1", notes=notes,
                                created_at=NOW))
    return await cohort_report_lines(service, "c1")


@pytest.mark.parametrize("stops", [MIN_GROUP + 1])
async def test_reasons_shown_without_names_from_the_minimum_group(tmp_path, stops: int) -> None:
    lines = await report_with(tmp_path, stops)
    (head,) = [line for line in lines if line.startswith("Stopped by the participant")]
    assert head == f"Stopped by the participant: {stops} of {MIN_GROUP + 2} people, {stops - 1} with a reason."
    shown = [line for line in lines if line.startswith("  • “")]
    assert len(shown) == stops - 1
    text = "\n".join(shown)
    assert "Max" not in plain(text) and "Rosa" not in plain(text)  # no name attached, none inside
    assert "“No time this quarter, [name] keeps piling on work”" in plain(text)
    # typed text stays inert: marked as typed, so no renderer turns it into bold or a mention
    assert f"“{TYPED_OPEN}*not* relevant to my role <!channel>{TYPED_CLOSE}”" in text
    assert not any("Person " in line for line in shown)


async def test_below_the_minimum_group_only_the_count(tmp_path) -> None:
    lines = await report_with(tmp_path, 2)
    assert "Stopped by the participant: 2 of 7 people, 2 with a reason." in lines
    assert not [line for line in lines if line.startswith("  • “")]
    joined = "\n".join(lines)
    assert "Moving teams" not in joined and "piling on work" not in joined and "relevant to my role" not in joined
    assert f"fewer than {MIN_GROUP} people have stopped (`status c1` lists them" in joined


async def test_nobody_stopped_no_line(tmp_path) -> None:
    assert not [line for line in await report_with(tmp_path, 0) if "Stopped" in line]
