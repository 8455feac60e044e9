"""Issue 20, items 1-3 at the engine: the before phase in the method's order and on purpose when
late, nothing that has lost its point, and progress that counts only what people did.

Pure: `now` is passed in. Ana (participant) and Ben (manager) in London; start Mon 12 Apr 2027.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise

from journeys import before_phase, engine, timekeeping
from journeys.calendar import WorkCalendar
from journeys.digest import ReportView, build_digest
from journeys.relative import starts_phrase
from journeys.state import EnrollmentState, Person, PromptState
from journeys.text import plain
from tests.unit.journeys.test_message_flow import ANA, BEN, START, london


def enrollment() -> EnrollmentState:
    return EnrollmentState("e1", "active-listening", ANA, BEN, START)


def schedule(journey, now: datetime) -> dict[str, PromptState]:
    return {p.step_id: p for p in engine.schedule_enrollment(journey, enrollment(), now).prompts}


def fired(journey, p: PromptState, now: datetime):
    out = engine.fire(journey, enrollment(), p, None, now)
    return next(q for q in out.prompts if q.id == p.id), out


def test_the_start_is_described_for_the_day_the_message_is_read(journey):
    cal = timekeeping.calendar_for(journey, ANA)
    assert isinstance(cal, WorkCalendar)
    assert starts_phrase(START, date(2027, 4, 7), cal) == "starts next week, on Mon 12 Apr"
    assert starts_phrase(START, date(2027, 4, 9), cal) == "starts on your next working day, Mon 12 Apr"
    assert starts_phrase(START, date(2027, 4, 11), cal) == "starts tomorrow, Mon 12 Apr"
    assert starts_phrase(START, START, cal) == "starts today"
    assert starts_phrase(START, date(2027, 4, 13), cal) == "started on Mon 12 Apr"
    # the expectations card, sent on time and sent on the start day by a late enrollment
    ps = schedule(journey, london(3, 1, 9))
    _, on_time = fired(journey, ps["expectations"], ps["expectations"].due_at)
    assert plain(on_time.outgoing[0].message.text).startswith(
        "Ana's six-week Active Listening journey starts next week, on Mon 12 Apr.")
    compressed = ps["success-picture"].with_(due_at=london(4, 12, 11), next_at=london(4, 12, 11))
    _, late = fired(journey, compressed, london(4, 12, 11))
    text = plain(late.outgoing[0].message.text)
    assert text.startswith("Your journey starts today.") and "next working day" not in text


def test_the_participant_prepares_before_the_managers_card(journey):
    ps = schedule(journey, london(3, 1, 9))
    order = sorted(ps.values(), key=lambda p: p.due_at)
    before = [p.step_id for p in order if p.due_at < london(4, 12, 0)]
    assert before.index("focus-situation") < before.index("share-line-of-sight") \
        < before.index("success-picture") < before.index("expectations")


def test_a_late_enrollment_is_compressed_in_order_and_spaced_not_sent_in_one_minute(journey):
    now = london(4, 9, 14)  # Fri 9 Apr 14:00, the start is Monday: the before phase needs six working days
    titles = before_phase.compressed_titles(journey, enrollment(), now)
    assert titles == ["Why this matters", "Your focus", "Share with your manager?", "Your picture of success",
                      "Expectations conversation"]
    ps = schedule(journey, now)
    late = sorted((ps[s] for s in ("why-it-matters", "focus-situation", "share-line-of-sight",
                                    "success-picture", "expectations")), key=lambda p: p.due_at)
    assert [p.step_id for p in late][-1] == "expectations"  # the manager's card after the preparation
    assert late[0].due_at == now
    gaps = [b.due_at - a.due_at for a, b in pairwise(late)]
    assert all(g >= before_phase.GAP for g in gaps), gaps
    assert all(p.next_at == p.due_at for p in late)
    # on time, nothing is compressed
    assert before_phase.compressed_titles(journey, enrollment(), london(3, 1, 9)) == []


def test_before_phase_tasks_close_at_the_start_with_their_card_updated(journey):
    ps = schedule(journey, london(3, 1, 9))
    exp, _ = fired(journey, ps["expectations"], ps["expectations"].due_at)
    assert exp.status == "open"
    # reminders never run past the start: the last thing due is the close, Mon 12 Apr 09:00
    while exp.next_at is not None and exp.next_at < london(4, 12, 9):
        exp, _ = fired(journey, exp, exp.next_at)
    assert exp.next_at == london(4, 12, 9)
    closed, out = fired(journey, exp, exp.next_at)
    assert closed.status == "expired" and closed.next_at is None
    (card,) = out.queued()  # the card change: queued, as a tick's is
    assert card.replaces_key == exp.last_delivery_key and card.message.closed
    assert "⌛ Closed: Ana's journey started on Mon 12 Apr." in plain(card.message.text)
    assert [ev.data.get("why") for ev in out.events] == ["started"]


def test_after_the_end_no_reminder_no_stuck_line_only_the_survey(journey):
    ps = schedule(journey, london(3, 1, 9))
    checkin, _ = fired(journey, ps["listening-checkin"], ps["listening-checkin"].due_at)
    after_end = london(6, 1, 10)  # week 8
    again, out = fired(journey, checkin.with_(next_at=after_end), after_end)
    assert out.outgoing == [] and again.next_at is None
    survey, _ = fired(journey, ps["success-case"], ps["success-case"].due_at)
    _, out = fired(journey, survey.with_(next_at=after_end), after_end)
    assert out.outgoing and "reminder" in plain(out.outgoing[0].message.text).lower()
    # Ben's digest has nothing about Ana after the end
    assert build_digest(journey, BEN, [ReportView(enrollment(), [checkin, survey], [])], after_end) is None


def test_digest_names_the_current_step_and_counts_only_what_she_did(journey):
    ps = schedule(journey, london(3, 1, 9))
    old, _ = fired(journey, ps["focus-situation"], ps["focus-situation"].due_at)
    kickoff, _ = fired(journey, ps["kickoff"], ps["kickoff"].due_at)
    plan, _ = fired(journey, ps["mtm-safe"], ps["mtm-safe"].due_at)
    now = plan.sent_at + timedelta(days=7)
    digest = build_digest(journey, BEN, [ReportView(enrollment(), [old.with_(status="expired"), kickoff, plan], [])],
                          now)
    assert digest is not None
    text = plain(digest.text)
    assert "0 of 11 of their steps done" in text  # a welcome she received is not a step she did
    assert "no response to “Plan a safe practice moment”" in text


def test_a_participant_in_a_later_zone_prepares_before_the_managers_card(journey):
    # Ned in New York, his manager Ben in London: his picture-of-success question comes at 10:00
    # New York (15:00 London), after Ben's 14:00 London card of the same day. The card moves to an
    # hour after it, in Ben's hours, still before the start: Ben sees what Ned could share.
    ned = EnrollmentState("e2", "active-listening", Person("ned", "Ned Park", "America/New_York"), BEN, START)
    ps = {p.step_id: p for p in engine.schedule_enrollment(journey, ned, london(3, 1, 9)).prompts}
    card, last_prep = ps["expectations"], max(ps[s].due_at for s in ("share-line-of-sight", "success-picture"))
    assert card.due_at > last_prep
    assert card.due_at == london(4, 7, 16) and card.due_at.date() < START
    # the same manager's card about Ana, in his own zone, would stay at 14:00; enrolled together,
    # both go at 16:00, so Ben still gets one card naming each
    ana = schedule(journey, london(3, 1, 9))
    assert ana["expectations"].due_at == london(4, 7, 14)
    both = before_phase.one_card_time(journey, [*ana.values(), *ps.values()])
    assert {p.due_at for p in both if p.step_id == "expectations"} == {london(4, 7, 16)}
    assert [p.due_at for p in both if p.step_id == "success-picture"] == [ana["success-picture"].due_at,
                                                                          ps["success-picture"].due_at]
