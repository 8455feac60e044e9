"""The journey engine, driven with explicit `now` through the bundled active-listening journey.

Times in comments are local; assertions compare UTC instants. London is GMT until 28 Mar 2027,
BST (UTC+1) after. Demo-like cohort: Ana (participant) and Ben (manager), both in London.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from journeys import engine, timekeeping
from journeys.messages import Reply
from journeys.state import EnrollmentState, MtmState, Outcome, Person, PromptState
from journeys.text import plain

LONDON = ZoneInfo("Europe/London")
START = date(2027, 4, 12)  # a Monday, after Easter (Good Friday 26 Mar, Easter Monday 29 Mar)

ANA = Person("ana", "Ana Silva", "Europe/London")
BEN = Person("ben", "Ben Okafor", "Europe/London")


def enrollment(start: date = START, person: Person = ANA, manager: Person | None = BEN,
               status: str = "active") -> EnrollmentState:
    return EnrollmentState("e1", "active-listening", person, manager, start, status=status)  # type: ignore[arg-type]


def london(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON).astimezone(UTC)


def prompts_by_step(out: Outcome) -> dict[str, PromptState]:
    return {p.step_id: p for p in out.prompts}


def scheduled(journey, e: EnrollmentState) -> dict[str, PromptState]:
    return prompts_by_step(engine.schedule_enrollment(journey, e, datetime(2027, 3, 1, tzinfo=UTC)))


def fire_sent(journey, e, p, now, mtm=None) -> tuple[PromptState, Outcome]:
    out = engine.fire(journey, e, p, mtm, now)
    (new,) = [q for q in out.prompts if q.id == p.id]
    return new, out


def plan_values(mtm_day: date, share: str = "yes") -> dict[str, str]:
    return {"situation": "Weekly 1:1 with Sam, who has been quiet", "date": mtm_day.isoformat(),
            "behaviour": "paraphrase", "practice": "safe", "share": share}


def open_plan(journey, e) -> tuple[PromptState, datetime]:
    """mtm-safe sent at its due time (Wed 14 Apr 10:00 London)."""
    p = scheduled(journey, e)["mtm-safe"]
    opened, _ = fire_sent(journey, e, p, p.due_at)
    return opened, p.due_at


def planned(journey, e, mtm_day: date, share: str = "yes"):
    opened, now = open_plan(journey, e)
    at = now + timedelta(hours=1)
    out = engine.answer(journey, e, opened, None, Reply("ana", "k1", opened.id, values=plan_values(mtm_day, share)), at)
    return out, at


# --- scheduling ---------------------------------------------------------------------------


def test_before_phase_prompts_land_on_local_working_mornings(journey):
    ps = scheduled(journey, enrollment())
    # the participant prepares first; the manager's task comes after their picture of success,
    # three working days before Mon 12 Apr: Wed 7 Apr 14:00 London (BST)
    exp = ps["expectations"]
    assert exp.recipient_id == "ben" and exp.status == "scheduled"
    assert exp.due_at == exp.next_at == london(2027, 4, 7, 14)
    assert ps["why-it-matters"].due_at == london(2027, 4, 2, 10)
    assert ps["why-it-matters"].recipient_id == "ana"
    assert ps["focus-situation"].due_at == london(2027, 4, 5, 10)
    assert ps["success-picture"].due_at == london(2027, 4, 7, 10)
    assert exp.due_at > ps["success-picture"].due_at > ps["share-line-of-sight"].due_at > ps["focus-situation"].due_at
    assert ps["kickoff"].due_at == london(2027, 4, 12, 9, 30)
    # MTM-driven steps wait for a plan
    assert not {"support-safe", "reflect-safe", "support-real", "reflect-real"} & ps.keys()


def test_before_phase_skips_easter_bank_holidays_and_weekend(journey):
    # Start Tue 30 Mar 2027: Mon 29 (Easter Monday) and Fri 26 (Good Friday) are not working days.
    ps = scheduled(journey, enrollment(start=date(2027, 3, 30)))
    assert ps["expectations"].due_at == london(2027, 3, 23, 14)  # 3 working days back: Tue 23 Mar
    assert ps["why-it-matters"].due_at == london(2027, 3, 18, 10)  # 6 back: Thu 18 Mar
    assert ps["share-line-of-sight"].due_at == london(2027, 3, 22, 11)
    assert ps["kickoff"].due_at == london(2027, 3, 30, 9, 30)
    for p in ps.values():
        assert p.due_at.astimezone(LONDON).date() not in (date(2027, 3, 26), date(2027, 3, 29))


def test_each_person_is_scheduled_in_their_own_zone(journey):
    eli = Person("eli", "Eli Haddad", "Asia/Kolkata")
    grace = Person("grace", "Grace Liu", "America/New_York")
    ps = scheduled(journey, enrollment(person=eli, manager=grace))
    assert ps["expectations"].due_at == datetime(2027, 4, 7, 14, tzinfo=ZoneInfo("America/New_York"))
    assert ps["focus-situation"].due_at == datetime(2027, 4, 5, 10, tzinfo=ZoneInfo("Asia/Kolkata"))


def test_without_manager_only_participant_steps_are_scheduled(journey):
    ps = scheduled(journey, enrollment(manager=None))
    assert "expectations" not in ps and "focus-situation" in ps


# --- firing -------------------------------------------------------------------------------


@pytest.mark.parametrize("now,expected", [
    (london(2027, 4, 5, 7, 0), london(2027, 4, 5, 9, 0)),  # before the working day
    (london(2027, 4, 5, 12, 15), london(2027, 4, 5, 13, 0)),  # quiet hours 12:00-13:00
    (london(2027, 4, 5, 17, 45), london(2027, 4, 6, 9, 0)),  # after hours
    (london(2027, 4, 10, 10, 0), london(2027, 4, 12, 9, 0)),  # Saturday
    (london(2027, 3, 29, 10, 0), london(2027, 3, 30, 9, 0)),  # Easter Monday
])
def test_fire_outside_working_hours_defers_and_sends_nothing(journey, now, expected):
    e = enrollment()
    # The prompt's time has come (the scheduler only fires due prompts) but the manager is off.
    p = scheduled(journey, e)["expectations"].with_(due_at=now, next_at=now)
    out = engine.fire(journey, e, p, None, now)
    assert out.outgoing == []
    (q,) = out.prompts
    assert q.status == "scheduled" and q.deliveries == 0
    assert q.next_at == expected


def test_fire_sends_once_then_waits_for_the_reminder_time(journey):
    e = enrollment()
    p = scheduled(journey, e)["expectations"]
    q, out = fire_sent(journey, e, p, p.due_at)
    (msg,) = out.outgoing
    assert msg.message.recipient_id == "ben"
    assert [b.value for b in msg.message.buttons] == ["done", "tomorrow", "guide"]
    assert "Active Listening" in msg.message.context and "Ana Silva" in msg.message.context
    assert q.status == "open" and q.sent_at == p.due_at
    assert q.next_at == london(2027, 4, 8, 14)  # reminders: after 1 working day


def test_second_fire_of_returned_state_at_same_instant_sends_nothing_new(journey):
    e = enrollment()
    p = scheduled(journey, e)["expectations"]
    q, _ = fire_sent(journey, e, p, p.due_at)
    again = engine.fire(journey, e, q, None, p.due_at)
    assert again.outgoing == []
    assert all(x.reminders_sent == 0 and x.deliveries == 1 for x in again.prompts)


def test_reminders_then_escalation_to_the_manager(journey):
    e = enrollment()
    p = scheduled(journey, e)["mtm-safe"]  # reminders after 2 working days, max 2, escalate_to manager
    q, out = fire_sent(journey, e, p, p.due_at)
    assert len(out.outgoing) == 1
    texts = []
    for n in (1, 2):
        assert q.next_at is not None
        at = q.next_at
        q, out = fire_sent(journey, e, q, at)
        (o,) = out.outgoing
        assert o.message.recipient_id == "ana" and o.message.text.startswith("Friendly reminder")
        assert q.reminders_sent == n and o.delivery_key == f"{p.id}:{n + 1}"
        texts.append(at)
    assert texts == [london(2027, 4, 16, 10), london(2027, 4, 20, 10)]
    # two working days after the last reminder, at the start of Ben's working day: where all of a
    # day's escalations to him go out together (journeys/escalation_groups.py)
    assert q.next_at == london(2027, 4, 22, 9)
    q, out = fire_sent(journey, e, q, q.next_at)
    (esc,) = out.outgoing
    assert esc.message.recipient_id == "ben" and "may be stuck" in esc.message.title
    assert "Ana Silva" in esc.message.text and "after 2 reminders." in esc.message.text
    assert q.escalated and q.next_at is None
    # nothing more after the escalation
    assert engine.fire(journey, e, q, None, q.due_at + timedelta(days=30)).outgoing == []


def test_escalation_waits_for_the_managers_working_hours(journey):
    eli = Person("eli", "Eli Haddad", "Asia/Kolkata")
    grace = Person("grace", "Grace Liu", "America/New_York")
    e = enrollment(person=eli, manager=grace)
    p = scheduled(journey, e)["mtm-safe"]
    q, _ = fire_sent(journey, e, p, p.due_at)
    q, _ = fire_sent(journey, e, q, q.next_at)
    q, _ = fire_sent(journey, e, q, q.next_at)
    # due 10:00 in Kolkata (00:30 in New York): it goes at the start of Grace's working day instead,
    # 18:30 in Kolkata, outside Eli's hours, which don't matter for a message to Grace
    ny, kolkata = ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")
    cal = timekeeping.calendar_for(journey, grace)
    assert q.next_at is not None and q.next_at.astimezone(ny).time() == cal.day_start
    assert q.next_at.astimezone(kolkata).hour == 18
    out = engine.fire(journey, e, q, None, q.next_at)
    (esc,) = [o for o in out.outgoing if o.message.recipient_id == "grace"]
    assert esc.not_before_iso is None and cal.is_open(q.next_at, ny)


def test_stale_message_expires_instead_of_arriving_late(journey):
    e = enrollment()
    p = scheduled(journey, e)["why-it-matters"]  # stale_after: 2, due Fri 2 Apr 10:00
    late_but_ok = engine.fire(journey, e, p, None, london(2027, 4, 6, 10))
    assert len(late_but_ok.outgoing) == 1
    assert late_but_ok.outgoing[0].stale_at_iso is not None
    too_late = engine.fire(journey, e, p, None, london(2027, 4, 7, 11))
    assert too_late.outgoing == []
    (q,) = too_late.prompts
    assert q.status == "expired" and q.next_at is None
    assert [ev.kind for ev in too_late.events] == ["expired"]


# --- answers ------------------------------------------------------------------------------


def test_manager_approves_request_and_participant_is_told(journey):
    e = enrollment()
    out, at = planned(journey, e, date(2027, 4, 19))
    mtm = out.mtms[0]
    req = prompts_by_step(out)["support-safe"]
    assert req.recipient_id == "ben" and req.next_at == at
    req, sent = fire_sent(journey, e, req, at, mtm)
    (card,) = sent.outgoing
    assert "Weekly 1:1 with Sam" in card.message.text  # shared plan is shown
    assert [b.value for b in card.message.buttons] == ["approve", "coach", "cant"]
    later = at + timedelta(hours=1)
    res = engine.answer(journey, e, req, mtm, Reply("ben", "k2", req.id, button="approve"), later)
    (answered,) = [p for p in res.prompts if p.id == req.id]
    assert answered.status == "answered" and answered.answers == {"choice": "approve"}
    assert res.mtms[0].manager_response == "approved"
    notice = [o for o in res.outgoing if o.message.recipient_id == "ana"]
    assert len(notice) == 1 and "Ben approved your plan" in plain(notice[0].message.text)
    update = [o for o in res.queued() if o.replaces_key == req.last_delivery_key]
    assert len(update) == 1 and update[0].message.closed and update[0].message.buttons == ()
    assert any(r.recipient_id == "ben" and "let Ana know" in plain(r.text) for r in res.replies)


def test_manager_notice_respects_the_participants_working_hours(journey):
    chen = Person("chen", "Chen Wei", "Asia/Singapore")
    e = enrollment(person=chen)
    p = scheduled(journey, e)["mtm-safe"]
    opened, _ = fire_sent(journey, e, p, p.due_at)
    plan = engine.answer(journey, e, opened, None,
                         Reply("chen", "k", opened.id, values=plan_values(date(2027, 4, 20))), p.due_at)
    req = prompts_by_step(plan)["support-safe"]
    at = london(2027, 4, 14, 15)  # 15:00 London = 22:00 Singapore
    req, _ = fire_sent(journey, e, req, at, plan.mtms[0])
    res = engine.answer(journey, e, req, plan.mtms[0], Reply("ben", "k2", req.id, button="approve"), at)
    cal = timekeeping.calendar_for(journey, chen)
    (notice,) = [o for o in res.outgoing if o.message.recipient_id == "chen" and o.replaces_key is None]
    assert notice.not_before_iso is not None  # 22:00 in Singapore: held until the morning
    when = datetime.fromisoformat(notice.not_before_iso)
    assert cal.is_open(when, ZoneInfo("Asia/Singapore")) and when.astimezone(ZoneInfo("Asia/Singapore")).hour == 9


def test_button_pressed_by_someone_else_is_refused(journey):
    e = enrollment()
    p = scheduled(journey, e)["expectations"]
    q, _ = fire_sent(journey, e, p, p.due_at)
    res = engine.answer(journey, e, q, None, Reply("ana", "k", q.id, button="done"), p.due_at)
    assert res.prompts == [] and res.outgoing == [] and res.mtms == [] and res.events == []
    assert "someone else" in res.replies[0].text and "Nothing was changed" in res.replies[0].text


def test_double_answer_says_already_answered_and_changes_nothing(journey):
    e = enrollment()
    p = scheduled(journey, e)["expectations"]
    q, _ = fire_sent(journey, e, p, p.due_at)
    first = engine.answer(journey, e, q, None, Reply("ben", "k1", q.id, button="done",
                                                     values={"agreed": "A safe moment first."}), p.due_at)
    (done,) = first.prompts
    assert done.status == "answered"
    second = engine.answer(journey, e, done, None, Reply("ben", "k2", q.id, button="done"),
                           p.due_at + timedelta(minutes=1))
    assert second.prompts == [] and second.outgoing == [] and second.events == []
    assert second.replies[0].text == ("You already answered this today, Wed 7 Apr, 14:00 (Europe/London). "
                                      "Nothing was changed.")


def test_already_answered_names_the_day_as_the_reader_lives_it_when_they_click_again(journey):
    e = enrollment()
    p = scheduled(journey, e)["expectations"]
    q, _ = fire_sent(journey, e, p, p.due_at)
    (done,) = engine.answer(journey, e, q, None, Reply("ben", "k1", q.id, button="done",
                                                       values={"agreed": "A safe moment first."}), p.due_at).prompts

    def again(at):
        return engine.answer(journey, e, done, None, Reply("ben", "k2", q.id, button="done"), at).replies[0].text

    assert "this yesterday, Wed 7 Apr, 14:00 (Europe/London)." in again(london(2027, 4, 8, 9))
    assert "this on Wed 7 Apr, 14:00 (Europe/London)." in again(london(2027, 4, 12, 9))


def test_remind_me_tomorrow_moves_the_task_to_the_next_working_morning(journey):
    e = enrollment()
    p = scheduled(journey, e)["expectations"]
    q, _ = fire_sent(journey, e, p, london(2027, 4, 9, 15))  # a Friday afternoon
    res = engine.answer(journey, e, q, None, Reply("ben", "k", q.id, button="tomorrow"), london(2027, 4, 9, 15))
    assert res.prompts[0].next_at == london(2027, 4, 12, 9)
    assert "Mon 12 Apr, 09:00" in res.replies[0].text


def test_mtm_plan_creates_the_mtm_followup_and_manager_request(journey):
    e = enrollment()
    out, at = planned(journey, e, date(2027, 4, 16))  # a Friday
    (mtm,) = out.mtms
    assert isinstance(mtm, MtmState)
    assert mtm.when == date(2027, 4, 16) and mtm.behaviour == "paraphrase" and mtm.share_plan
    ps = prompts_by_step(out)
    assert ps["mtm-safe"].status == "answered"
    follow = ps["reflect-safe"]
    # mtm+1 09:30: the next working morning after the MTM, in the participant's zone
    assert follow.due_at == london(2027, 4, 19, 9, 30) and follow.mtm_id == mtm.id
    assert follow.recipient_id == "ana" and follow.status == "scheduled"
    req = ps["support-safe"]
    assert req.recipient_id == "ben" and req.due_at == at and req.mtm_id == mtm.id
    assert "I've asked Ben for support" in plain(out.replies[0].text)
    assert {ev.kind for ev in out.events} >= {"answered", "mtm_planned"}


def test_mtm_followup_before_a_bank_holiday_skips_it(journey):
    e = enrollment()
    opened, _ = open_plan(journey, e)
    out = engine.answer(journey, e, opened, None,
                        Reply("ana", "k", opened.id, values=plan_values(date(2027, 4, 30))), london(2027, 4, 14, 11))
    # Fri 30 Apr -> Mon 3 May is the Early May bank holiday -> Tue 4 May
    assert prompts_by_step(out)["reflect-safe"].due_at == london(2027, 5, 4, 9, 30)


def test_typed_text_fills_the_plan_one_field_at_a_time(journey):
    e = enrollment()
    q, now = open_plan(journey, e)  # Wed 14 Apr
    replies = []
    # the PPP's four moments that matter come first; 5 is "Something else", described next
    for i, text in enumerate(["5", "Weekly 1:1 with Sam", "friday", "2", "safe", "yes"]):
        res = engine.answer(journey, e, q, None, Reply("ana", f"t{i}", q.id, text=text), now)
        replies.append(res.replies[0].text)
        if i < 5:
            (q,) = res.prompts
            assert q.status == "open"
    assert replies[0].startswith("Got it. Next: In your words: what situation, with whom? (or `skip`)")
    assert replies[1].startswith("Got it. Next: When will it happen?")
    assert replies[2].startswith("Got it. Next: Which behaviour will you try?")
    assert "1. Paraphrase" in replies[2]
    assert replies[3].startswith("Got it. Next: How real is it?")
    mtm = res.mtms[0]
    assert mtm.when == date(2027, 4, 16)  # 'friday' from Wed 14 Apr
    assert mtm.behaviour == "ask-open"  # '2' is the second behaviour
    assert mtm.situation == "Weekly 1:1 with Sam" and mtm.practice == "safe"
    assert "Your moment is planned" in replies[-1]


def test_typed_text_that_does_not_fit_saves_nothing(journey):
    e = enrollment()
    q, now = open_plan(journey, e)
    q = engine.answer(journey, e, q, None, Reply("ana", "tm", q.id, text="Something else"), now).prompts[0]
    q = engine.answer(journey, e, q, None, Reply("ana", "t0", q.id, text="A 1:1"), now).prompts[0]
    res = engine.answer(journey, e, q, None, Reply("ana", "t1", q.id, text="someday maybe"), now)
    assert res.prompts == [] and "Nothing was saved" in res.replies[0].text


def _followup_open(journey, e, share="yes"):
    out, _ = planned(journey, e, date(2027, 4, 16), share=share)
    mtm = out.mtms[0]
    f = prompts_by_step(out)["reflect-safe"]
    f, _ = fire_sent(journey, e, f, f.due_at, mtm)
    return f, mtm


def test_postponed_followup_is_rescheduled_after_the_new_date(journey):
    e = enrollment()
    f, mtm = _followup_open(journey, e)
    now = f.due_at + timedelta(hours=1)
    res = engine.answer(journey, e, f, mtm, Reply("ana", "k", f.id, values={"happened": "postponed",
                                                                           "new_date": "2027-04-22"}), now)
    (moved,) = res.mtms
    assert moved.when == date(2027, 4, 22) and moved.status == "postponed"
    (again,) = [p for p in res.prompts if p.id == f.id]
    assert again.status == "scheduled" and again.answers == {}
    assert again.due_at == again.next_at == london(2027, 4, 23, 9, 30)
    assert "Thu 22 Apr" in res.replies[0].text


@pytest.mark.parametrize("share,reaches_manager", [("yes", True), ("no", False)])
def test_reflection_reaches_the_manager_only_when_shared(journey, share, reaches_manager):
    e = enrollment()
    f, mtm = _followup_open(journey, e, share="no")
    now = f.due_at + timedelta(hours=1)
    values = {"happened": "yes", "rating": "4", "reflection": "Sam opened up about the workload.", "share": share}
    res = engine.answer(journey, e, f, mtm, Reply("ana", "k", f.id, values=values), now)
    to_ben = [o for o in res.outgoing if o.message.recipient_id == "ben"]
    assert bool(to_ben) is reaches_manager
    if reaches_manager:
        assert "Sam opened up about the workload." in to_ben[0].message.text
    assert all("Sam opened up" not in (o.message.text) for o in res.outgoing
               if o.message.recipient_id != "ana" and not reaches_manager)
    assert res.mtms[0].status == "happened" and res.mtms[0].share_reflection is reaches_manager


# --- pause / resume / stop ----------------------------------------------------------------


def test_pause_and_resume_shift_prompts_by_paused_working_days(journey):
    e = enrollment()
    ps = scheduled(journey, e)
    all_prompts = list(ps.values())
    paused_at = london(2027, 4, 13, 11)  # Tue
    p_out = engine.pause(e, all_prompts, paused_at)
    assert p_out.enrollments[0].status == "paused" and e.id in p_out.cancel_pending_for
    assert all(p.next_at is None for p in p_out.prompts)
    # a paused enrollment sends nothing
    assert engine.fire(journey, p_out.enrollments[0], ps["mtm-safe"], None, ps["mtm-safe"].due_at).outgoing == []
    resumed_at = london(2027, 4, 16, 11)  # Fri: 3 working days later
    r_out = engine.resume(journey, p_out.enrollments[0], p_out.prompts, resumed_at)
    assert r_out.enrollments[0].status == "active"
    after = prompts_by_step(r_out)
    assert after["mtm-safe"].due_at == london(2027, 4, 19, 10)  # Wed 14 -> Mon 19
    assert after["nudge-pause"].due_at == london(2027, 4, 27, 10)  # Thu 22 -> Tue 27
    assert after["success-case"].due_at == london(2027, 5, 24, 10)  # Wed 19 May -> Mon 24 May
    assert all(p.next_at == p.due_at and p.due_at >= resumed_at for p in after.values())
    assert r_out.events[-1].data == {"shift_days": 3}


def test_stop_cancels_everything(journey):
    e = enrollment()
    by_step = scheduled(journey, e)
    opened, _ = fire_sent(journey, e, by_step["expectations"], by_step["expectations"].due_at)
    ps = [opened, *(p for s, p in by_step.items() if s != "expectations")]
    out = engine.stop(e, ps, london(2027, 4, 6, 11))
    assert out.enrollments[0].status == "stopped"
    assert len(out.prompts) == len(ps)
    assert all(p.status == "cancelled" and p.next_at is None for p in out.prompts)
    assert e.id in out.cancel_pending_for
    stopped = out.enrollments[0]
    assert engine.fire(journey, stopped, ps[3], None, ps[3].due_at).outgoing == []
    res = engine.answer(journey, stopped, out.prompts[0], None, Reply("ben", "k", opened.id, button="done"),
                        london(2027, 4, 6, 12))
    assert res.prompts == [] and "closed" in res.replies[0].text


def test_digest_slot_is_the_managers_monday_morning(journey):
    assert timekeeping.next_digest_at(journey, BEN, london(2027, 4, 7, 12)) == london(2027, 4, 12, 9)
    # Easter Monday is not a working day: the digest moves to Tuesday's first open minute
    assert timekeeping.next_digest_at(journey, BEN, london(2027, 3, 24, 12)) == london(2027, 3, 30, 9)


def test_dst_change_does_not_shift_local_time(journey):
    # start Tue 30 Mar (London switched to BST on Sun 28 Mar): before-phase in GMT, start in BST
    ps = scheduled(journey, enrollment(start=date(2027, 3, 30)))
    assert ps["expectations"].due_at.astimezone(LONDON).time() == time(14)
    assert ps["kickoff"].due_at.astimezone(LONDON).time() == time(9, 30)


def test_a_real_moment_planned_in_the_safe_step_is_said_as_their_choice(journey):
    # Ana picks "a real, harder moment" in "Plan a safe practice moment": Ben's card, titled "Back a
    # safe practice moment", says it was her choice instead of contradicting its own title
    e = enrollment()
    opened, now = open_plan(journey, e)
    at = now + timedelta(hours=1)
    out = engine.answer(journey, e, opened, None,
                        Reply("ana", "k1", opened.id, values={**plan_values(date(2027, 4, 19)), "practice": "real"}), at)
    _, sent = fire_sent(journey, e, prompts_by_step(out)["support-safe"], at, out.mtms[0])
    text = plain(sent.outgoing[0].message.text)
    assert "Practice: a real, harder moment (their choice; this step suggested safe practice)" in text.replace("*", "")
    # as the step suggests: said plainly
    out, at = planned(journey, enrollment(), date(2027, 4, 19))
    _, sent = fire_sent(journey, e, prompts_by_step(out)["support-safe"], at, out.mtms[0])
    assert "Practice: safe practice\n" in plain(sent.outgoing[0].message.text).replace("*", "") + "\n"
