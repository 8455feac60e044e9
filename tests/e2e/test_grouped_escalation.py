"""Escalations grouped per recipient per day, end to end on Slack and Teams over the local fakes.

Ana and Chen (in two time zones) both ignore their first moment-that-matters plan, reminders and
all. Their manager Ben then hears it ONCE that day, at his working morning: one "may be stuck"
message naming both of them and the step each is on, not one message per report.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import tests.e2e.test_slack_scenario as slack
import tests.e2e.test_teams_scenario as teams
from journeys.text import plain
from store.db import Database
from store.models import OutboxRow

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# mtm-safe: sent Wed 9 Dec, reminded twice (2 working days apart), escalated 2 working days later
AFTER_THE_ESCALATION = slack.START + timedelta(days=12)  # Sat 19 Dec


async def stuck_notices(db: Database, person_id: str) -> list[tuple[datetime, dict[str, str]]]:
    """Every "may be stuck" message delivered to this person, with when (the outbox's sent_at)."""
    async with db.read() as s:
        rows = (await s.execute(select(OutboxRow.sent_at, OutboxRow.payload).where(
            OutboxRow.recipient_id == person_id, OutboxRow.state == "sent", OutboxRow.replaces_key.is_(None))
            .order_by(OutboxRow.id))).all()
    return [(t if t.tzinfo else t.replace(tzinfo=UTC), p) for t, p in rows if "may be stuck" in p.get("title", "")]


def assert_one_naming_both(notices: list[tuple[datetime, dict[str, str]]], tz: str, ana: str, chen: str) -> None:
    assert len(notices) == 1, [(t, p["title"]) for t, p in notices]  # one message, not one per report
    at, payload = notices[0]
    local = at.astimezone(ZoneInfo(tz))
    assert (local.hour, local.minute) == (9, 0) and local.weekday() < 5  # Ben's working morning
    title, text = plain(payload["title"]), plain(payload["text"])
    assert title == f"{ana} and {chen} may be stuck"
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(lines) == 2, text
    for line in lines:  # each report by name, with the step they are on
        assert "no response to “Plan a safe practice moment”" in line and "after 2 reminders" in line
    assert {lines[0].split("*")[1].split()[0], lines[1].split("*")[1].split()[0]} == {ana, chen}


async def test_slack_manager_gets_one_stuck_message_naming_both_reports(tmp_path: Path) -> None:
    w = await slack.make_world(tmp_path)
    try:
        await slack.enroll(w)
        await w.tick(slack.at_local(AFTER_THE_ESCALATION, "12:00", slack.BEN.tz))
        ben = await w.service.ensure_person("slack", slack.BEN.id, name="Ben", tz=slack.BEN.tz)
        assert_one_naming_both(await stuck_notices(w.db, ben.id), slack.BEN.tz, "ana", "chen")  # (Slack profile names are lowercase here)
        # what Slack received: one post, in Ben's hours, with both names
        blocks = [plain(json.dumps(c.params["blocks"], ensure_ascii=False)) for c in w.posts_to(slack.BEN)]
        posts = [c for c, b in zip(w.posts_to(slack.BEN), blocks, strict=True) if "ana and chen may be stuck" in b]
        assert len(posts) == 1 and not [b for b in blocks if "has not responded to" in b]  # no single one
        slack.assert_in_working_hours(w, slack.BEN, posts)
    finally:
        await slack.close_world(w)


async def test_teams_manager_gets_one_stuck_message_naming_both_reports(tmp_path: Path) -> None:
    w = await teams.make_world(tmp_path)
    try:
        await teams.install_everyone(w)
        status, _ = await teams.enroll_by_command(w)
        assert status == 200
        await w.tick(teams.at_local(AFTER_THE_ESCALATION, "12:00", teams.BEN.tz))
        ben = await w.person(teams.BEN)
        assert ben is not None
        assert_one_naming_both(await stuck_notices(w.db, ben.id), teams.BEN.tz, "Ana", "Chen")
        # what Teams received: one card with both names (the weekly digest mentions them too, as a digest)
        texts = [plain(t) for t in w.texts_to(teams.BEN)]
        assert len([t for t in texts if "Ana and Chen may be stuck" in t]) == 1
        assert not [t for t in texts if "Active Listening — Ana may be stuck" in t or "— Chen may be stuck" in t]
    finally:
        await teams.close_world(w)
