"""How a journey ends: the closing prompt's time (per-person holidays, DST), the closing message
that fits what happened, waiting for an open survey, and completion (no digest items after it).

Hand-built timelines through the bundled active-listening journey, `now` always passed in.
Ana and Ben are in London (England's bank holidays: Mon 3 May and Mon 31 May 2027); Dev works
from New York with his own holidays (US/NY: Lincoln's Birthday Fri 12 Feb, Presidents' Day Mon 15 Feb 2027; US DST starts
Sun 14 Mar 2027, the UK's on 28 Mar).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from journeys import engine, lifecycle
from journeys.digest import ReportView, build_digest
from journeys.ending import CLOSE_STEP
from journeys.state import EnrollmentState, MtmState, Person, PromptState
from journeys.text import plain

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
START = date(2027, 4, 12)  # a Monday
ANA = Person("ana", "Ana Silva", "Europe/London")
BEN = Person("ben", "Ben Okafor", "Europe/London")
DEV_US = Person("dev", "Dev Patel", "America/New_York", country="US", subdivision="NY")
DEV_NO_COUNTRY = Person("dev", "Dev Patel", "America/New_York")


def at(tz: ZoneInfo, y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=tz).astimezone(UTC)


def enrollment(person: Person = ANA, start: date = START) -> EnrollmentState:
    return EnrollmentState("e1", "active-listening", person, BEN, start)


def timeline(journey, e: EnrollmentState) -> dict[str, PromptState]:
    """Every prompt of the enrollment, as scheduled at enrollment, plus its closing prompt."""
    out = {p.step_id: p for p in engine.schedule_enrollment(journey, e, at(LONDON, 2027, 3, 1, 9)).prompts}
    closing = lifecycle.closing_prompt(journey, e)
    assert closing is not None
    out[CLOSE_STEP] = closing
    return out


def finished(prompts: dict[str, PromptState], *, survey: str = "answered") -> dict[str, PromptState]:
    """Everything behind the participant; the manager never did the expectations task."""
    done = {}
    for step_id, p in prompts.items():
        if step_id == CLOSE_STEP:
            done[step_id] = p
        elif step_id == "expectations":
            done[step_id] = p.with_(status="open", sent_at=p.due_at, next_at=None)
        elif step_id == "success-case":
            done[step_id] = p.with_(status=survey, sent_at=p.due_at, next_at=None)
        else:
            done[step_id] = p.with_(status="answered" if p.step_id != "why-it-matters" else "done",
                                    sent_at=p.due_at, next_at=None)
    return done


def mtm(status: str) -> MtmState:
    return MtmState("e1.mtm-safe", "e1", "mtm-safe", "safe", "1:1 with Sam", date(2027, 4, 20), "paraphrase",
                    True, status=status)  # type: ignore[arg-type]


def close(journey, e, prompts, mtms, now):
    return lifecycle.fire_close(journey, e, prompts[CLOSE_STEP], list(prompts.values()), mtms, now)


# --- when the journey closes ----------------------------------------------------------------


def test_the_closing_prompt_comes_the_working_day_after_the_survey_skipping_bank_holidays(journey):
    p = timeline(journey, enrollment())
    # start+26: Wed 19 May (Mon 3 May is a bank holiday); the closing prompt: Thu 20 May 10:00 BST
    assert p["success-case"].due_at == at(LONDON, 2027, 5, 19, 10)
    assert p[CLOSE_STEP].due_at == at(LONDON, 2027, 5, 20, 10) and p[CLOSE_STEP].recipient_id == "ana"
    assert lifecycle.last_day(journey, enrollment()) == date(2027, 5, 19)


def test_a_new_york_participant_gets_us_holidays_not_englands_and_dst_is_kept(journey):
    # Start Mon 8 Feb 2027. With his own holidays (US, New York), Lincoln's Birthday (Fri 12 Feb)
    # and Presidents' Day (Mon 15 Feb) are days off, and the closing prompt lands on Fri 19 Mar,
    # 10:00 in New York: after the US DST change (14 Mar), so 14:00 UTC, not 15:00.
    own = timeline(journey, enrollment(DEV_US, date(2027, 2, 8)))[CLOSE_STEP]
    assert own.due_at == at(NEW_YORK, 2027, 3, 19, 10) == datetime(2027, 3, 19, 14, tzinfo=UTC)
    # Without a country of his own, the journey's calendar (England) counts 15 Feb as a working day
    journeys_default = timeline(journey, enrollment(DEV_NO_COUNTRY, date(2027, 2, 8)))[CLOSE_STEP]
    assert journeys_default.due_at == at(NEW_YORK, 2027, 3, 17, 10)
    # England's bank holiday (Mon 3 May) is a normal working day for him, the US Memorial Day is not
    may = timeline(journey, enrollment(DEV_US))
    assert may["success-case"].due_at == at(NEW_YORK, 2027, 5, 18, 10)
    assert may[CLOSE_STEP].due_at == at(NEW_YORK, 2027, 5, 19, 10)


# --- the closing message fits what happened ---------------------------------------------------


def test_someone_who_practised_gets_the_practised_closing_and_the_journey_completes(journey):
    e = enrollment()
    prompts = finished(timeline(journey, e))
    now = at(LONDON, 2027, 5, 20, 10)
    out = close(journey, e, prompts, [mtm("happened")], now)
    (msg,) = out.outgoing
    assert msg.message.recipient_id == "ana" and "You used it in real moments" in plain(msg.message.text)
    assert "{" not in msg.message.text and "Ben" in plain(msg.message.text)
    assert [x.status for x in out.enrollments] == ["completed"]
    expired = {p.step_id for p in out.prompts if p.status == "expired"}
    assert expired == {"expectations"}  # Ben's forgotten task no longer waits for him
    closing = next(p for p in out.prompts if p.step_id == CLOSE_STEP)
    assert closing.status == "done" and closing.next_at is None
    assert "completed" in [ev.kind for ev in out.events] and out.cancel_pending_for == ["e1"]


def test_someone_who_did_not_practise_is_not_thanked_for_habits_they_did_not_build(journey):
    e = enrollment()
    prompts = finished(timeline(journey, e))
    out = close(journey, e, prompts, [mtm("not_happened")], at(LONDON, 2027, 5, 20, 10))
    text = plain(out.outgoing[0].message.text)
    assert "No real moment to practise came off" in text and "habits you've built" not in text
    assert [x.status for x in out.enrollments] == ["completed"]


def test_with_the_survey_still_open_the_closing_says_until_when_and_the_journey_waits(journey):
    e = enrollment()
    prompts = finished(timeline(journey, e), survey="open")
    first = close(journey, e, prompts, [mtm("happened")], at(LONDON, 2027, 5, 20, 10))
    (msg,) = first.outgoing
    # sent Wed 19 May + 10 working days (Mon 31 May is a bank holiday) = Thu 3 Jun
    assert "open until Thu 3 Jun" in plain(msg.message.text)
    assert first.enrollments == [] and not any(p.status == "expired" for p in first.prompts)
    (waiting,) = first.prompts
    assert waiting.next_at == at(LONDON, 2027, 5, 21, 9) and waiting.sent_at is not None  # next working morning
    # still unanswered the next morning: nothing is sent, it looks again on Monday
    prompts[CLOSE_STEP] = waiting
    again = close(journey, e, prompts, [mtm("happened")], waiting.next_at)
    assert again.outgoing == [] and again.enrollments == []
    assert again.prompts[0].next_at == at(LONDON, 2027, 5, 24, 9)
    # the last look is the deadline itself: the unanswered survey expires, the journey completes,
    # and no second message goes out
    prompts[CLOSE_STEP] = waiting.with_(next_at=at(LONDON, 2027, 6, 3, 9))
    last = close(journey, e, prompts, [mtm("happened")], at(LONDON, 2027, 6, 3, 9))
    assert last.prompts[0].next_at == at(LONDON, 2027, 6, 3, 10)
    prompts[CLOSE_STEP] = last.prompts[0]
    second = close(journey, e, prompts, [mtm("happened")], last.prompts[0].next_at)
    assert second.outgoing == []
    assert [x.status for x in second.enrollments] == ["completed"]
    assert {p.step_id for p in second.prompts if p.status == "expired"} == {"expectations", "success-case"}


def test_a_survey_answered_after_the_closing_message_completes_the_journey_the_next_morning(journey):
    e = enrollment()
    prompts = finished(timeline(journey, e), survey="open")
    first = close(journey, e, prompts, [], at(LONDON, 2027, 5, 20, 10))
    prompts[CLOSE_STEP] = first.prompts[0]
    prompts["success-case"] = prompts["success-case"].with_(status="answered")  # answered that afternoon
    out = close(journey, e, prompts, [], first.prompts[0].next_at)  # Fri 21 May 09:00
    assert out.outgoing == [] and [x.status for x in out.enrollments] == ["completed"]


def test_the_closing_waits_for_working_hours_and_nothing_closes_a_paused_journey(journey):
    e = enrollment()
    prompts = finished(timeline(journey, e))
    saturday = at(LONDON, 2027, 5, 22, 10)
    prompts[CLOSE_STEP] = prompts[CLOSE_STEP].with_(next_at=saturday)
    out = close(journey, e, prompts, [], saturday)
    assert out.outgoing == [] and out.prompts[0].next_at == at(LONDON, 2027, 5, 24, 9)
    paused = close(journey, replace(e, status="paused"), prompts, [], saturday)
    assert paused.outgoing == [] and paused.prompts[0].next_at is None and paused.enrollments == []


def test_the_engine_leaves_the_closing_prompt_to_the_lifecycle(journey):
    e = enrollment()
    closing = timeline(journey, e)[CLOSE_STEP]
    out = engine.fire(journey, e, closing, None, closing.due_at)
    assert out.prompts == [] and out.outgoing == []


# --- completed people leave the manager's digest ------------------------------------------


def test_a_completed_report_leaves_the_managers_digest(journey):
    e = enrollment()
    prompts = finished(timeline(journey, e))
    before = build_digest(journey, BEN, [ReportView(e, list(prompts.values()), [])], at(LONDON, 2027, 5, 17, 9))
    assert before is not None and "Ana Silva* — week 6 of 6" in plain(before.text)
    assert "Expectations conversation" not in plain(before.text)  # due before the start: lost its point
    out = close(journey, e, prompts, [], at(LONDON, 2027, 5, 20, 10))
    (done,) = out.enrollments
    after = {p.id: p for p in prompts.values()} | {p.id: p for p in out.prompts}
    digest = build_digest(journey, BEN, [ReportView(done, list(after.values()), [])], at(LONDON, 2027, 5, 24, 9))
    assert digest is None


def test_the_follow_up_survey_comes_after_the_end_to_the_completed_journey(journey):
    """Issue 14's follow-up survey (start+50) neither delays the end nor is expired by it: the
    journey completes after its six weeks, and the follow-up still goes out and can be answered."""
    from journeys.messages import Reply

    e = enrollment()
    prompts = finished(timeline(journey, e))
    follow = timeline(journey, e)["follow-up"]
    prompts["follow-up"] = follow
    assert lifecycle.closing_prompt(journey, e).due_at == at(LONDON, 2027, 5, 20, 10)  # not after start+50
    out = close(journey, e, prompts, [mtm("happened")], at(LONDON, 2027, 5, 20, 10))
    assert [x.status for x in out.enrollments] == ["completed"]
    assert "follow-up" not in {p.step_id for p in out.prompts}  # not expired with the rest
    done = replace(e, status="completed")
    sent = engine.fire(journey, done, follow, None, follow.due_at)
    assert [o.message.title for o in sent.outgoing] == ["Ten weeks on: still paying off?"]
    opened = next(p for p in sent.prompts if p.id == follow.id)
    other = prompts["listening-checkin"].with_(status="scheduled", sent_at=None, next_at=follow.due_at)
    assert not engine.fire(journey, done, other, None, follow.due_at).outgoing  # nothing else after the end
    answered = engine.answer(journey, done, opened, None, Reply("ana", "k", opened.id, values={"applied": "not_applied"}),
                             follow.due_at)
    assert "scm_follow_up" in [ev.kind for ev in answered.events]
