"""Escalations grouped per recipient per day, at engine level: `now` injected, one scheduler pass
simulated by firing each due prompt and merging the outcomes as the tick does."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from journeys import engine
from journeys.escalation_groups import group_escalations
from journeys.state import EnrollmentState, Outcome, Person, PromptState
from journeys.text import plain

START = date(2027, 4, 12)
LONDON = ZoneInfo("Europe/London")
BEN = Person("ben", "Ben Okafor", "Europe/London")
GRACE = Person("grace", "Grace Liu", "Europe/London")
HANA = Person("hana", "Hana Kobayashi", "Europe/London")
REPORTS = [Person("ana", "Ana Silva", "Europe/London"), Person("chen", "Chen Wei", "Asia/Singapore"),
           Person("eli", "Eli Haddad", "Asia/Kolkata")]


def run_until(journey, enrollments: dict[str, EnrollmentState], prompts: list[PromptState],
              until: datetime) -> list[tuple[datetime, Outcome]]:
    """Fire every prompt at its next_at up to `until`, one pass per instant (as the tick claims
    everything due), each pass merged and grouped as the tick does."""
    passes = []
    live = {p.id: p for p in prompts}
    for _ in range(100):
        due = [p for p in live.values() if p.next_at is not None and p.next_at <= until]
        if not due:
            break
        now = min(p.next_at for p in due if p.next_at is not None)
        combined = Outcome()
        for p in [p for p in due if p.next_at == now]:
            combined.extend(engine.fire(journey, enrollments[p.enrollment_id], p, None, now))
        group_escalations({journey.id: journey}, enrollments, combined, now)
        for p in combined.prompts:
            live[p.id] = p
        passes.append((now, combined))
    return passes


def to(passes: list[tuple[datetime, Outcome]], who: str) -> list[tuple[datetime, str, str]]:
    return [(now, plain(o.message.title), plain(o.message.text)) for now, out in passes for o in out.queued()
            if o.message.recipient_id == who]


def test_three_reports_stuck_the_same_day_make_one_message_naming_each(journey):
    enrollments = {f"e{i}": EnrollmentState(f"e{i}", journey.id, p, BEN, START) for i, p in enumerate(REPORTS)}
    plans = [next(p for p in engine.schedule_enrollment(journey, e, datetime(2027, 3, 1, tzinfo=UTC)).prompts
                  if p.step_id == "mtm-safe") for e in enrollments.values()]
    passes = run_until(journey, enrollments, plans, datetime(2027, 5, 1, tzinfo=UTC))
    stuck = [m for m in to(passes, "ben") if "may be stuck" in m[1]]
    (at, title, text), = stuck  # one message, not one per report
    local = at.astimezone(LONDON)
    assert (local.hour, local.minute) == (9, 0)  # Ben's working morning
    assert title == "Ana, Chen and Eli may be stuck"
    assert text.startswith("3 people in your team have not responded in Active Listening after the reminders:")
    for name in ("Ana Silva", "Chen Wei", "Eli Haddad"):
        assert f"• *{name}*: no response to “Plan a safe practice moment” for " in text


def test_one_report_stuck_on_two_steps_is_named_once_with_the_current_step(journey):
    e = EnrollmentState("e0", journey.id, REPORTS[0], BEN, START)
    f = EnrollmentState("e1", journey.id, REPORTS[1], BEN, START)
    at = datetime(2027, 4, 23, 8, 0, tzinfo=UTC)  # Fri 23 Apr, 09:00 in London
    older = PromptState("e0.mtm-safe", "e0", "mtm-safe", "ana", "open", datetime(2027, 4, 14, 9, tzinfo=UTC), at,
                        reminders_sent=2, sent_at=datetime(2027, 4, 14, 9, tzinfo=UTC))
    newer = PromptState("e0.mtm-real", "e0", "mtm-real", "ana", "open", datetime(2027, 4, 16, 9, tzinfo=UTC), at,
                        reminders_sent=2, sent_at=datetime(2027, 4, 16, 9, tzinfo=UTC))
    chen = older.with_(id="e1.mtm-safe", enrollment_id="e1", recipient_id="chen")
    combined = Outcome()
    for p, en in ((older, e), (newer, e), (chen, f)):
        combined.extend(engine.fire(journey, en, p, None, at))
    assert len(combined.outgoing) == 3
    group_escalations({journey.id: journey}, {"e0": e, "e1": f}, combined, at)
    (msg,) = combined.outgoing
    text = plain(msg.message.text)
    assert plain(msg.message.title) == "Ana and Chen may be stuck"
    assert text.count("*Ana Silva*") == 1 and "“Plan a real moment that matters”" in text  # her current step
    assert all(p.escalated for p in combined.prompts)  # each escalated once, all told in one message
    assert msg.enrollment_id is None  # it is about several people


def test_a_leader_gets_one_message_covering_every_manager_below_them(journey):
    people = [(REPORTS[0], BEN), (REPORTS[1], BEN), (REPORTS[2], GRACE)]
    enrollments = {f"e{i}": EnrollmentState(f"e{i}", journey.id, p, m, START, leader=HANA)
                   for i, (p, m) in enumerate(people)}
    tasks = [next(p for p in engine.schedule_enrollment(journey, e, datetime(2027, 3, 1, tzinfo=UTC)).prompts
                  if p.step_id == "expectations") for e in enrollments.values()]
    passes = run_until(journey, enrollments, tasks, datetime(2027, 4, 12, tzinfo=UTC))
    to_hana = to(passes, "hana")
    (at, title, text), = to_hana  # one message for Ben's two reports and Grace's one
    assert at.astimezone(LONDON).hour == 9 and at.astimezone(LONDON).date() < START
    assert title == "Waiting on Ben and Grace: 3 items"
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert lines[0].startswith("• Ben hasn't done “Expectations conversation” for Ana and Chen (asked ")
    assert lines[1].startswith("• Grace hasn't done “Expectations conversation” for Eli (asked ")
    assert len(lines) == 2
