"""Store + scheduler tick: the senior-leader accountability digest, weekly, in the leader's hours.

Sara (New York) leads two managers in London: Ben reports to her on the people row (as the CSV
column manager_manager_email sets it) and Grace is herself enrolled in the journey with Sara as her
manager. Ben has Ana and Chen in the journey, Grace has Dev. The journey's digest slot is Monday
09:00 local time, which is 14:00 in London for Sara.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from adapters.memory import Delivered, RecordingChat
from bot.app.service import BotService
from journeys import timekeeping
from journeys.state import Person
from store.models import DigestRow, OutboxRow, PersonRow
from tests.conftest import Someone

START = date(2027, 4, 12)  # Monday; the before phase starts on Monday 5 April
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LEADER_TITLE = "Manager support in your organisation"


def london(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2027, m, d, hh, mm, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
async def world(make_world):
    w = await make_world(datetime(2027, 3, 29, 8, tzinfo=UTC), [
        Someone("sara", "Sara Mensah", "America/New_York"), ("ben", "Ben Okafor"), ("grace", "Grace Liu"),
        ("ana", "Ana Silva"), ("chen", "Chen Wei"), ("dev", "Dev Patel")])
    svc, ids = w.service, w.ids
    async with w.db.write() as s:
        await s.execute(update(PersonRow).where(PersonRow.id == ids["ben"]).values(manager_id=ids["sara"]))
    assert (await svc.enroll("active-listening", [ids["ana"], ids["chen"]], ids["ben"], START)).enrolled
    assert (await svc.enroll("active-listening", [ids["dev"]], ids["grace"], START)).enrolled
    assert (await svc.enroll("active-listening", [ids["grace"]], ids["sara"], START)).enrolled
    return svc, w.chat, ids


def leader_digests(chat: RecordingChat, user: str) -> list[Delivered]:
    return [d for d in chat.to(user) if d.message.title.startswith(LEADER_TITLE)]


async def tick_and_collect(svc: BotService, chat: RecordingChat, at: datetime) -> list[tuple[datetime, Delivered]]:
    before = len(chat.sent)
    await svc.tick(at)
    return [(at, d) for d in chat.sent[before:]]


async def test_senior_leader_gets_one_digest_a_week_in_her_working_hours(world, library):
    svc, chat, ids = world
    journey = library["active-listening"]
    schedule = [
        london(4, 5, 9, 0),    # the managers' digest slot: Sara's row appears
        london(4, 5, 9, 30),   # the before phase starts
        london(4, 5, 10, 0),   # 05:00 in New York: nothing for Sara yet
        london(4, 5, 14, 0),   # 09:00 in New York: her digest
        london(4, 5, 14, 5),   # the same week again: nothing new
        london(4, 7, 14, 0),   # Wednesday: nothing new
        london(4, 12, 9, 0),
        london(4, 12, 9, 30),
        london(4, 12, 13, 59),  # 08:59 in New York: not yet
        london(4, 12, 23, 0),   # 18:00 in New York: after hours, still not
        london(4, 13, 14, 0),   # Tuesday 09:00 in New York: the second week's digest
        london(4, 14, 15, 0),   # and no more that week
    ]
    got: list[tuple[datetime, Delivered]] = []
    briefs: list[tuple[datetime, Delivered]] = []
    for at in schedule:
        new = [(t, d) for t, d in await tick_and_collect(svc, chat, at) if d.conversation_id == "D-sara"]
        got += [(t, d) for t, d in new if d.message.title.startswith(LEADER_TITLE)]
        briefs += [(t, d) for t, d in new if "your brief" in d.message.title]
    # before the start her first message is the kickoff brief (issue 13), never a digest of zeros
    assert [(t, d.message.title) for t, d in briefs] == [(london(4, 5, 14, 0),
                                                          "Active Listening starts Mon 12 Apr: your brief")]
    assert [t for t, _ in got] == [london(4, 13, 14, 0)]
    assert [d.message.title for _, d in got] == [f"{LEADER_TITLE} · week of Mon 12 Apr"]
    sara = Person(ids["sara"], "Sara Mensah", "America/New_York")
    cal = timekeeping.calendar_for(journey, sara)
    assert all(cal.is_open(t, NEW_YORK) for t, _ in got + briefs)
    first = got[0][1].message
    lines = first.text.splitlines()
    assert lines[0] == f"Business goal: {journey.ppp.business_goal}"  # the PPP opens the digest
    assert "2 managers reporting to you have 3 people in Active Listening." in lines
    assert first.audience == "manager" and first.journey_title == "Active Listening"
    # aggregated: no participant's name appears (managers are named when something waits for them)
    for name in ("Ana", "Chen", "Dev"):
        assert name not in first.text
    # one outbox row per ISO week, and one brief
    async with svc.db.read() as s:
        keys = (await s.execute(select(OutboxRow.key).where(OutboxRow.key.like("leader%")))).scalars().all()
    assert sorted(keys) == [f"leader-brief:{ids['sara']}:active-listening:2027-04-12",
                            f"leader:{ids['sara']}:active-listening:2027-W15"]


async def test_managers_without_reports_of_reports_get_no_leader_digest(world):
    svc, chat, ids = world
    for at in (london(4, 5, 9, 0), london(4, 5, 9, 30), london(4, 5, 14, 0), london(4, 12, 9, 0),
               london(4, 12, 14, 0)):
        await svc.tick(at)
    assert leader_digests(chat, "sara")
    # Ben and Grace manage participants, but nobody who manages participants reports to them
    for manager in ("ben", "grace"):
        assert [d.message.title for d in chat.to(manager) if "weekly digest" in d.message.title]
        assert leader_digests(chat, manager) == []
    for participant in ("ana", "chen", "dev"):
        assert leader_digests(chat, participant) == []
    async with svc.db.read() as s:
        leaders = (await s.execute(select(DigestRow.manager_id).where(DigestRow.kind == "leader")))
        assert leaders.scalars().all() == [ids["sara"]]


async def test_leader_row_is_dropped_when_nobody_below_is_in_the_journey(world):
    svc, chat, ids = world
    await svc.tick(london(4, 5, 9, 0))
    await svc.tick(london(4, 5, 9, 30))
    async with svc.db.write() as s:  # the managers' people leave the journey before Sara's slot
        from store.models import EnrollmentRow

        await s.execute(update(EnrollmentRow).where(EnrollmentRow.manager_id.in_([ids["ben"], ids["grace"]]))
                        .values(status="unenrolled"))
    await svc.tick(london(4, 5, 14, 0))
    assert leader_digests(chat, "sara") == []
    async with svc.db.read() as s:
        rows = (await s.execute(select(DigestRow).where(DigestRow.kind == "leader"))).scalars().all()
    assert rows == []


async def test_each_weekly_digest_says_only_what_is_new(world):
    """Week after week nobody answers a survey and nothing is verified: Sara hears once where the
    estimated value will come from, and no line comes back word for word the week after; a week
    with nothing new sends nothing, and the at-a-glance figures stay in every digest that goes."""
    svc, chat, _ = world
    for day in range(7 * 8):  # every day at 09:00 and 14:00 London from the before phase to week 8
        for hh in (9, 14):
            await svc.tick(datetime(2027, 4, 5, hh, tzinfo=LONDON).astimezone(UTC) + timedelta(days=day))
    digests = [d.message for d in leader_digests(chat, "sara")]
    assert digests  # nothing moves in this cohort, so after the first week there is nothing to tell her
    said = [m.text.splitlines() for m in digests]
    value = [line for lines in said for line in lines if line.startswith("Estimated value:")]
    assert value == [("Estimated value: it comes from the Success Case interviews held after the journey's survey, "
                      "and will be shown here once 5 success cases have been verified with an estimate.")]
    assert sum("Impact: no Success Case survey answers yet." in lines for lines in said) == 1
    for last_week, this_week in itertools.pairwise(said):
        assert not set(last_week) & set(this_week), set(last_week) & set(this_week)
    assert all(dict(m.facts)["People in the journey"] == "3" for m in digests)
