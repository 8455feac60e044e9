"""Issue 13, items 1-4 at engine level: hand-built timelines, `now` injected.

Dev (New York) plans moments; Grace (New York) is his manager and stays silent; Hana (Tokyo) is
Grace's manager, the senior leader. The sample journey: escalate_after 2 working days.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from journeys import engine, escalation, expectations, kickoff, support
from journeys.evaluation.success_case import manager_cant_reasons
from journeys.messages import Reply
from journeys.state import EnrollmentState, MtmState, Outcome, Person, PromptState
from journeys.text import TYPED_CLOSE, TYPED_OPEN, plain

NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
LONDON = ZoneInfo("Europe/London")
START = date(2027, 4, 12)
DEV = Person("dev", "Dev Patel", "America/New_York")
GRACE = Person("grace", "Grace Liu", "America/New_York")
HANA = Person("hana", "Hana Kobayashi", "Asia/Tokyo")


def at(tz: ZoneInfo, y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=tz).astimezone(UTC)


def enrollment(leader: Person | None = HANA, notes: dict | None = None, start: date = START) -> EnrollmentState:
    return EnrollmentState("e1", "active-listening", DEV, GRACE, start, leader=leader, notes=notes or {})


def moment(day: date, planned: datetime) -> MtmState:
    return MtmState("e1.mtm-safe", "e1", "mtm-safe", "safe", "Call with the outage customer", day, "paraphrase",
                    share_plan=True, planned_at=planned)


def request(sent: datetime | None = None) -> PromptState:
    return PromptState("e1.support-safe", "e1", "support-safe", "grace", "scheduled", sent or at(NY, 2027, 4, 14, 11),
                       sent or at(NY, 2027, 4, 14, 11), mtm_id="e1.mtm-safe")


def run(journey, e: EnrollmentState, p: PromptState, mtm: MtmState | None, until: datetime,
        answer_at: datetime | None = None) -> tuple[PromptState, list, Outcome]:
    """Fire `p` at every `next_at` up to `until`; returns the prompt, every outgoing and the last outcome."""
    sent = []
    out = Outcome()
    for _ in range(50):
        if p.next_at is None or p.next_at > until:
            break
        out = engine.fire(journey, e, p, mtm, p.next_at)
        sent.extend((p.next_at, o) for o in out.queued())
        (p,) = [q for q in out.prompts if q.id == p.id]
    return p, sent, out


def to_leader(sent) -> list:
    return [(t, o) for t, o in sent if o.message.recipient_id == "hana"]


# --- 1. escalation chain ---------------------------------------------------------------------


def test_silent_manager_is_escalated_once_to_her_manager_by_name_in_the_leaders_hours(journey):
    e = enrollment()
    planned_at = at(NY, 2027, 4, 14, 10, 30)
    mtm = moment(date(2027, 4, 20), planned_at)  # Tue 20 Apr
    p, sent, _ = run(journey, e, request(planned_at), mtm, at(NY, 2027, 4, 19, 23))
    (esc,) = to_leader(sent)
    fired, o = esc
    # sent Wed 14 Apr 10:30 NY, two working days later: Fri 16 Apr, after midnight in Tokyo; the
    # escalation waits for Hana's next working morning, where a day's escalations go out together
    assert fired.astimezone(TOKYO) == datetime(2027, 4, 19, 9, 0, tzinfo=TOKYO)  # Monday 09:00 Tokyo
    text = plain(o.message.text)
    # Monday in Tokyo: the moment is Hana's tomorrow, and said so
    assert "Grace hasn't answered Dev's request to back a moment that matters tomorrow, Tue 20 Apr" in text
    assert "Call with the outage customer" not in text  # nothing the participant typed
    assert o.enrollment_id == "e1"  # so `forget` and `stop` find it in the outbox
    assert o.not_before_iso is None  # decided in Hana's working hours
    assert p.escalated
    reminders = [o for _, o in sent if o.message.recipient_id == "grace" and "reminder" in o.message.text]
    assert len(reminders) == 2


def test_escalation_counts_the_managers_working_days_across_dst_and_a_holiday(journey):
    """A manager task with no reminders: it waits for the escalation itself. Ben works in London;
    the clocks go forward on Sun 28 Mar 2027, Good Friday and Easter Monday are bank holidays."""
    ben = Person("ben", "Ben Okafor", "Europe/London")
    e = EnrollmentState("e1", "active-listening", DEV, ben, date(2027, 4, 12), leader=HANA)
    step = journey.step("expectations").model_copy(update={"reminders": None, "stale_after": None})
    j = journey.model_copy(update={"steps": [step if s.id == "expectations" else s for s in journey.steps]})
    sent_at = at(LONDON, 2027, 3, 25, 16, 0)  # Thu 25 Mar 16:00 GMT
    p = PromptState("e1.expectations", "e1", "expectations", "ben", "scheduled", sent_at, sent_at)
    p, sent, _ = run(j, e, p, None, at(LONDON, 2027, 4, 9, 0))
    (fired, o), = to_leader(sent)
    # two working days: Fri 26 (Good Friday) and Mon 29 (Easter Monday) don't count -> Wed 31 Mar,
    # 16:00 London summer time (15:00 UTC, not 16:00 UTC: the DST change is not a shift), then
    # Hana's next working morning: Thu 1 Apr 09:00 Tokyo
    assert escalation.escalate_at(j, e, p.with_(escalated=False)) == at(LONDON, 2027, 3, 31, 16, 0) == datetime(2027, 3, 31, 15, 0, tzinfo=UTC)
    assert fired == datetime(2027, 4, 1, 9, 0, tzinfo=TOKYO) and o.not_before_iso is None
    assert "Ben hasn't marked “Expectations conversation” with Dev as done" in plain(o.message.text)
    # once: all that is still due is the card closing at the start, Mon 12 Apr 09:00 London
    assert p.escalated and p.next_at == at(LONDON, 2027, 4, 12, 9, 0)


def test_no_escalation_when_answered_or_without_a_leader(journey):
    planned_at = at(NY, 2027, 4, 14, 10, 30)
    mtm = moment(date(2027, 4, 20), planned_at)
    e = enrollment()
    p, _, _ = run(journey, e, request(planned_at), mtm, planned_at)  # sent
    res = engine.answer(journey, e, p, mtm, Reply("grace", "k", p.id, button="approve"), planned_at + timedelta(hours=1))
    (answered,) = [q for q in res.prompts if q.id == p.id]
    assert answered.next_at is None  # nothing left to fire: no escalation can follow
    _, sent, _ = run(journey, enrollment(leader=None), request(planned_at), mtm, at(NY, 2027, 4, 19, 23))
    assert not to_leader(sent) and sent


def test_leader_escalation_is_off_with_escalate_after_zero(journey):
    ms = journey.manager_support.model_copy(update={"escalate_after": 0})
    j = journey.model_copy(update={"manager_support": ms})
    planned_at = at(NY, 2027, 4, 14, 10, 30)
    _, sent, _ = run(j, enrollment(), request(planned_at), moment(date(2027, 4, 20), planned_at),
                     at(NY, 2027, 4, 19, 23))
    assert not to_leader(sent)


# --- 2. requests expire at the moment's date ----------------------------------------------------


def test_request_expires_at_the_moments_date_with_no_reminder_after_and_the_fallback(journey):
    planned_at = at(NY, 2027, 4, 15, 10, 0)  # Thu
    mtm = moment(date(2027, 4, 18), planned_at)  # Sun 18 Apr
    p, sent, out = run(journey, enrollment(), request(planned_at), mtm, at(NY, 2027, 4, 30, 12))
    assert p.status == "expired" and p.next_at is None
    to_grace = [(t, o) for t, o in sent if o.message.recipient_id == "grace" and o.replaces_key is None]
    assert to_grace and all(t.astimezone(NY).date() < date(2027, 4, 18) for t, _ in to_grace)
    ((told_at, notice),) = [(t, o) for t, o in sent if o.message.recipient_id == "dev"]
    # a Sunday moment: Dev hears in his last working hours before it, not on Monday
    assert told_at == at(NY, 2027, 4, 16, 16, 30) and notice.not_before_iso is None
    text = plain(notice.message.text)
    assert "Grace didn't get to your support request before your moment on Sun 18 Apr" in text
    assert "colleague you trust" in text and "Sam Reyes" in text and "go ahead on your own" in text
    # the manager's card closes in place, without buttons
    (closed,) = [o for _, o in sent if o.replaces_key is not None]
    assert closed.message.closed and not closed.message.buttons
    assert any(ev.kind == "expired" and ev.data.get("why") == "moment_date" for ev in out.events)


def test_request_for_a_moment_planned_on_its_own_day_still_goes_out(journey):
    planned_at = at(NY, 2027, 4, 15, 10, 0)
    mtm = moment(date(2027, 4, 15), planned_at)
    out = engine.fire(journey, enrollment(), request(planned_at), mtm, planned_at)
    assert [o.message.recipient_id for o in out.outgoing] == ["grace"]
    assert support.expires_at(journey, enrollment(), mtm) == at(NY, 2027, 4, 16, 0)


def test_cant_this_time_asks_a_reason_then_records_it_as_a_barrier_event(journey):
    planned_at = at(NY, 2027, 4, 14, 10, 30)
    mtm = moment(date(2027, 4, 20), planned_at)
    e = enrollment()
    p, _, _ = run(journey, e, request(planned_at), mtm, planned_at)
    now = planned_at + timedelta(hours=2)
    first = engine.answer(journey, e, p, mtm, Reply("grace", "k1", p.id, button="cant"), now)
    (waiting,) = first.prompts
    assert waiting.status == "open" and not first.events
    (ask,) = first.replies
    # the performance system's barriers (journeys/evaluation/barriers.py), as a manager meets them
    assert [b.value for b in ask.buttons] == ["cant:no_time", "cant:away", "cant:not_right_moment",
                                              "cant:unclear_how", "cant:no_incentive", "cant:tools_process",
                                              "cant:other"]
    # typed, on a text-only channel: "2" is the second reason
    done = engine.answer(journey, e, waiting, mtm, Reply("grace", "k2", p.id, text="2"), now)
    (answered,) = [q for q in done.prompts if q.id == p.id]
    assert answered.status == "answered" and answered.answers == {"choice": "cant", "reason": "away"}
    (cant,) = [ev for ev in done.events if ev.kind == "manager_cant"]
    assert cant.data["reason"] == "away"
    assert manager_cant_reasons(done.events + done.events) == [("away", 1)]  # once per request
    (told,) = [o for o in done.outgoing if o.message.recipient_id == "dev"]
    assert "Grace can't back your moment on Tue 20 Apr this time" in plain(told.message.text)
    assert "go ahead on your own" in plain(told.message.text)


def test_cant_this_time_with_the_reason_in_one_go(journey):
    planned_at = at(NY, 2027, 4, 14, 10, 30)
    mtm = moment(date(2027, 4, 20), planned_at)
    e = enrollment()
    p, _, _ = run(journey, e, request(planned_at), mtm, planned_at)
    res = engine.answer(journey, e, p, mtm, Reply("grace", "k", p.id, button="cant:no_time"), planned_at)
    assert [q.status for q in res.prompts] == ["answered"]
    assert [ev.kind for ev in res.events] == ["answered", "manager_cant"]


# --- 3. before phase joined up ---------------------------------------------------------------


def _expectations_card(journey, e: EnrollmentState) -> str:
    p = PromptState("e1.expectations", "e1", "expectations", "grace", "scheduled",
                    at(NY, 2027, 4, 5, 9, 30), at(NY, 2027, 4, 5, 9, 30))
    out = engine.fire(journey, e, p, None, p.next_at)
    return out.outgoing[0].message.text


def _answer_question(journey, e: EnrollmentState, step_id: str, value: str, now: datetime) -> Outcome:
    p = PromptState(f"e1.{step_id}", "e1", step_id, "dev", "open", now, None, sent_at=now)
    return engine.answer(journey, e, p, None, Reply("dev", "k", p.id, values={"answer": value}), now)


@pytest.mark.parametrize("consent", ["yes", "no"])
def test_consent_decides_what_the_manager_sees(journey, consent):
    now = at(NY, 2027, 4, 8, 10, 30)  # after Grace's card (Wed 7 Apr 14:00): new shares come as a note
    e = replace(enrollment(), notes={"card_sent": True})
    out = _answer_question(journey, e, "focus-situation", "upset-customers", now)
    (e,) = out.enrollments
    assert not out.outgoing or all(o.message.recipient_id == "dev" for o in out.outgoing)  # not shared yet
    out = _answer_question(journey, e, "success-picture", "An angry caller left calm <b>", now)
    (e,) = out.enrollments
    out = _answer_question(journey, e, "share-line-of-sight", consent, now)
    (e,) = out.enrollments
    card = _expectations_card(journey, e)
    notes_to_grace = [o for o in out.outgoing if o.message.recipient_id == "grace"]
    if consent == "yes":
        assert "Upset or escalating customers" in card
        assert f"“{TYPED_OPEN}An angry caller left calm <b>{TYPED_CLOSE}”" in card  # inert typed text
        (note,) = notes_to_grace
        assert "An angry caller left calm" in plain(note.message.text)
    else:
        assert "Upset or escalating" not in card and "angry caller" not in card
        assert "chose to keep their line-of-sight answers private" in plain(card)
        assert not notes_to_grace


def test_shares_before_the_card_ride_on_the_card_not_a_separate_note(journey):
    now = at(NY, 2027, 4, 6, 10, 30)  # the card comes Wed 7 Apr 14:00
    e = enrollment()
    for step_id, value in (("focus-situation", "upset-customers"), ("share-line-of-sight", "yes")):
        out = _answer_question(journey, e, step_id, value, now)
        (e,) = out.enrollments
        assert not [o for o in out.outgoing if o.message.recipient_id == "grace"]
    assert "Upset or escalating customers" in _expectations_card(journey, e)


def test_manager_records_the_agreement_and_later_prompts_remind_the_participant(journey):
    e = enrollment()
    p = PromptState("e1.expectations", "e1", "expectations", "grace", "open", at(NY, 2027, 4, 5, 9, 30), None,
                    sent_at=at(NY, 2027, 4, 5, 9, 30))
    now = at(NY, 2027, 4, 6, 11)
    ask = engine.answer(journey, e, p, None, Reply("grace", "k1", p.id, button="done"), now)
    (waiting,) = ask.prompts
    assert waiting.status == "open" and "what did you and Dev agree" in plain(ask.replies[0].text)
    res = engine.answer(journey, e, waiting, None,
                        Reply("grace", "k2", p.id, text="One upset caller a week, paraphrased first"), now)
    (done,) = [q for q in res.prompts if q.id == p.id]
    assert done.status == "answered"
    assert {ev.kind for ev in res.events} >= {"manager_task_done", "expectation_agreed"}
    assert all("paraphrased" not in str(ev.data) for ev in res.events)  # events hold no typed text
    (e2,) = res.enrollments
    plan = PromptState("e1.mtm-safe", "e1", "mtm-safe", "dev", "scheduled", at(NY, 2027, 4, 14, 10),
                       at(NY, 2027, 4, 14, 10))
    msg = engine.fire(journey, e2, plan, None, plan.next_at).outgoing[0].message
    assert "You and Grace agreed: “One upset caller a week, paraphrased first”." in plain(msg.text)
    assert expectations.agreed_text(e) == ""  # nothing before it is recorded


# --- 4. kickoff brief ------------------------------------------------------------------------


def test_kickoff_brief_goes_before_the_start_in_the_leaders_calendar(journey):
    due = kickoff.brief_at(journey, HANA, START)
    assert due == datetime(2027, 4, 2, 9, 0, tzinfo=TOKYO)  # six working days before Mon 12 Apr (Tokyo)
    msg = kickoff.build_leader_brief(journey, HANA, ["Grace Liu", "Ben Okafor"], 5, START)
    text = plain(msg.text)
    assert journey.ppp.business_goal in text
    assert all(str(o) in text for o in journey.ppp.outcomes)
    assert "Ben Okafor and Grace Liu will be asked to do* (5 people in the journey)" in text
    assert "Expectations conversation, before the start" in text
    assert "Approve, Coach, or say they can't" in text
    assert "2 working days" in text
    assert "Two lines you could send them" in text and "starts Mon 12 Apr" in text
    assert "0 of" not in text  # not a digest of zeros


def test_no_escalation_the_leader_could_only_read_after_the_moment(journey):
    """Due Fri 16 Apr 10:30 NY (23:30 in Tokyo): Hana's next working hours (Mon) come after Sunday's moment."""
    planned_at = at(NY, 2027, 4, 14, 10, 30)
    mtm = moment(date(2027, 4, 18), planned_at)  # Sun 18 Apr
    p, sent, _ = run(journey, enrollment(), request(planned_at), mtm, at(NY, 2027, 4, 17, 12))
    # the leader's next working morning comes after the moment: the request expires first, nothing is sent
    assert p.status == "expired" and not to_leader(sent)
    # every card and reminder to Grace is stale (never delivered) from the moment's date on
    to_grace = [o for _, o in sent if o.message.recipient_id == "grace" and o.replaces_key is None
                and o.message.prompt_id is not None]
    assert len(to_grace) == 3
    # and, once, the notice that the request closed with the moment (in Grace's hours)
    (closed,) = [o for _, o in sent if o.message.recipient_id == "grace" and o.message.prompt_id is None]
    assert "the request to back it has closed" in plain(closed.message.text)
    assert all(datetime.fromisoformat(o.stale_at_iso) <= at(NY, 2027, 4, 18, 0) for o in to_grace)


# --- the leader's digest names whom to follow up with ------------------------------------------


def test_leader_digest_names_managers_with_waiting_items_and_counts_expectations():
    from journeys.calendar import WorkCalendar
    from journeys.definition import Calendar
    from journeys.evaluation.accountability import follow_up_lines, manager_follow_up
    from journeys.state import JourneyEvent as Ev

    cal = WorkCalendar.from_definition(Calendar(timezone="Europe/London"), None, None)
    t0 = at(LONDON, 2027, 4, 5, 10)
    org = {"grace": [f"g{i}" for i in range(3)], "ben": [f"b{i}" for i in range(3)]}
    events = []
    for eid in [*org["grace"], *org["ben"]]:
        events.append(Ev("sent", eid, t0, f"{eid}.expectations", {"step": "expectations"}))
    for eid in org["ben"]:
        events.append(Ev("manager_task_done", eid, t0 + timedelta(hours=3), f"{eid}.expectations",
                         {"step": "expectations", "before_start": True}))
    events.append(Ev("sent", "b0", at(LONDON, 2027, 4, 8, 16), "b0.support-safe", {"step": "support-safe"}))
    now = at(LONDON, 2027, 4, 9, 10)
    f = manager_follow_up(events, org, steps=["expectations", "support-safe"], expectation_steps=["expectations"],
                          min_group=5, as_of=now, calendar=cal, tz=LONDON, requests=["support-safe"])
    assert f.overdue == {"grace": 3} and f.open == {"ben": 1}
    assert (f.expectations_held, f.expectations_total) == (3, 6)
    lines = [plain(x) for x in follow_up_lines(f, {"grace": "Grace Liu", "ben": "Ben Okafor"}, 5)]
    assert lines[0] == "Expectations conversations held before the start: 3 of 6."
    # what waits is named: the leader reads expectations conversations, not "support requests"
    assert lines[1].startswith("Waiting more than a working day for: Grace Liu (3 expectations conversations).")
    assert lines[2] == "Newly waiting (under a working day): Ben Okafor (1 support request)."
    small = manager_follow_up(events, {"ben": org["ben"]}, steps=["expectations"], expectation_steps=["expectations"],
                              min_group=5, as_of=now, calendar=cal, tz=LONDON)
    assert small.expectations_held is None  # 3 people: too small a group to show
    assert "too small a group" in follow_up_lines(small, {}, 5)[0]


def test_a_manager_who_changes_their_mind_while_asked_why_can_still_approve(journey):
    planned_at = at(NY, 2027, 4, 14, 10, 30)
    mtm = moment(date(2027, 4, 20), planned_at)
    e = enrollment()
    p, _, _ = run(journey, e, request(planned_at), mtm, planned_at)
    (waiting,) = engine.answer(journey, e, p, mtm, Reply("grace", "k1", p.id, text="can't this time"),
                               planned_at).prompts
    assert waiting.answers == {"awaiting": "reason"}
    res = engine.answer(journey, e, waiting, mtm, Reply("grace", "k2", p.id, text="approve"), planned_at)
    assert [ev.kind for ev in res.events] == ["answered", "manager_approved"]


def test_the_expectations_card_offers_its_form_to_record_the_agreement(journey):
    p = PromptState("e1.expectations", "e1", "expectations", "grace", "scheduled",
                    at(NY, 2027, 4, 5, 9, 30), at(NY, 2027, 4, 5, 9, 30))
    msg = engine.fire(journey, enrollment(), p, None, p.next_at).outgoing[0].message
    assert [f.id for f in msg.fields] == ["agreed"] and msg.form_label == "Record what we agreed"
    assert [b.value for b in msg.buttons] == ["done", "tomorrow", "guide"]


def test_a_request_escalation_goes_as_soon_as_due_when_the_leaders_next_morning_is_too_late(journey):
    """Escalations wait for the leader's working morning (one message a day), but not past the
    moment: Hana (London) starts her Friday before Grace (New York) starts hers, and her Monday
    morning is the moment's day, so she hears on Friday afternoon, as soon as it is due."""
    hana = Person("hana", "Hana Kobayashi", "Europe/London")
    e = enrollment(leader=hana)
    planned_at = at(NY, 2027, 4, 14, 10, 30)
    mtm = moment(date(2027, 4, 19), planned_at)  # Mon 19 Apr
    p, sent, _ = run(journey, e, request(planned_at), mtm, at(NY, 2027, 4, 18, 12))
    ((fired, o),) = to_leader(sent)
    assert fired == at(NY, 2027, 4, 16, 10, 30)  # two of Grace's working days, 15:30 in London
    assert o.not_before_iso is None and p.escalated
    assert "Grace hasn't answered Dev's request to back a moment that matters on Mon 19 Apr" in plain(o.message.text)
