"""Issue 20, item 5 at the engine: moments supported on the day. The morning nudge, "didn't
happen" offers the next one, the manager's lead time, and an expired request told to the manager.

Ana (participant) and Ben (manager) in London; start Mon 12 Apr 2027; mtm-safe is sent Wed 14 Apr
10:00 and planned an hour later.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from journeys import engine, support
from journeys.conversation import handle_text
from journeys.messages import Reply
from journeys.person_view import PersonView
from journeys.state import PromptState
from journeys.text import plain
from tests.unit.journeys.test_engine import (
    ANA,
    BEN,
    enrollment,
    fire_sent,
    london,
    open_plan,
    plan_values,
    planned,
    prompts_by_step,
)


def test_the_morning_of_the_moment_brings_the_plan_a_first_sentence_and_the_coaching_tip(journey):
    e = enrollment()
    out, _ = planned(journey, e, date(2027, 4, 16))  # Fri 16 Apr
    mtm = out.mtms[0]
    nudge = prompts_by_step(out)["mtm-safe~day-of"]
    assert nudge.recipient_id == "ana" and nudge.due_at == london(2027, 4, 16, 9)  # her morning, before it
    coached = replace(mtm, manager_response="coach")
    sent, res = fire_sent(journey, e, nudge, nudge.due_at, coached)
    (msg,) = res.outgoing
    text = plain(msg.message.text)
    assert msg.message.recipient_id == "ana" and msg.message.closed and sent.status == "done"
    assert "Today is your moment that matters: Weekly 1:1 with Sam" in text
    assert "*Your habit:* Paraphrase what you heard before you respond" in text
    assert "*A first sentence to try:* “So what I'm hearing is … Have I got that right?”" in text
    assert "*Ben's coaching tip:* Ask which habit they'll try" in text
    # without coaching (Ben approved) there is no tip; once the day has passed, nothing is sent
    approved = replace(mtm, manager_response="approved")
    assert "coaching tip" not in plain(engine.fire(journey, e, nudge, approved, nudge.due_at).outgoing[0].message.text)
    late = engine.fire(journey, e, nudge.with_(next_at=london(2027, 4, 19, 9)), mtm, london(2027, 4, 19, 9))
    assert late.outgoing == [] and late.prompts[0].status == "expired"


def test_a_moment_that_didnt_happen_offers_the_next_one(journey):
    e = enrollment()
    out, _ = planned(journey, e, date(2027, 4, 16))
    mtm = out.mtms[0]
    f, _ = fire_sent(journey, e, prompts_by_step(out)["reflect-safe"], prompts_by_step(out)["reflect-safe"].due_at, mtm)
    values = {"happened": "no", "rating": "2", "reflection": "The 1:1 was cancelled.", "share": "yes"}
    res = engine.answer(journey, e, f, mtm, Reply("ana", "k", f.id, values=values), f.due_at + timedelta(hours=1))
    reply = plain(res.replies[0].text)
    assert "“Plan a real moment that matters” comes Mon 26 Apr: type `plan now` to plan it today." in reply
    (to_ben,) = [o for o in res.outgoing if o.message.recipient_id == "ben"]
    assert "didn't come off this time" in plain(to_ben.message.text) and "Recognise the effort" not in \
        plain(to_ben.message.text)
    # `plan now` brings the next plan forward
    ps = [p.with_(status="answered") if p.step_id == "mtm-safe" else p
          for p in engine.schedule_enrollment(journey, e, london(2027, 3, 1, 9)).prompts]
    now = london(2027, 4, 19, 11)
    moved = handle_text(PersonView(ANA, {journey.id: journey}, [e], ps), Reply("ana", "k2", text="plan now"), now)
    assert [(p.step_id, p.due_at, p.next_at) for p in moved.prompts] == [("mtm-real", now, now)]


def test_a_plan_too_close_to_the_moment_says_the_manager_may_not_see_it_in_time(journey):
    e = enrollment()
    opened, now = open_plan(journey, e)  # Wed 14 Apr 10:00
    late = engine.answer(journey, e, opened, None, Reply("ana", "k", opened.id, values=plan_values(date(2027, 4, 15))),
                         now)
    assert "Ben may not see it in time" in plain(late.replies[0].text)
    ok = engine.answer(journey, e, opened, None, Reply("ana", "k", opened.id, values=plan_values(date(2027, 4, 16))),
                       now)
    assert "may not see it" not in plain(ok.replies[0].text)


def test_an_expired_request_tells_the_manager_once_in_his_hours(journey):
    e = enrollment()
    out, at = planned(journey, e, date(2027, 4, 16))
    mtm = out.mtms[0]
    req = prompts_by_step(out)["support-safe"]
    req, _ = fire_sent(journey, e, req, at, mtm)
    assert req.status == "open"
    ends = support.expires_at(journey, e, mtm)  # midnight before Fri 16 Apr, London
    res = engine.fire(journey, e, req.with_(next_at=ends), mtm, ends)
    notes = [o for o in res.outgoing if o.message.recipient_id == "ben" and o.message.prompt_id is None]
    (note,) = notes
    # held to his morning, which is the moment's day itself: it says "today", and goes that day or never
    assert plain(note.message.title) == "Ana's moment is today"
    assert "Ana's moment that matters is today, Fri 16 Apr, so the request to back it has closed" in \
        plain(note.message.text)
    assert note.not_before_iso == london(2027, 4, 16, 9).isoformat()  # in his hours, not at midnight
    assert note.stale_at_iso == london(2027, 4, 17, 0).isoformat()
    assert note.delivery_key.endswith(":expired-manager")
    assert isinstance(req, PromptState)
    (told,) = [o for o in res.outgoing if o.message.recipient_id == "ana"]
    assert plain(told.message.title) == "Your moment today"
    assert "Ben didn't get to your support request before your moment today." in plain(told.message.text)


def test_on_the_moments_morning_the_expired_request_and_the_nudge_are_one_message(journey):
    """Ana's request expires at midnight; her morning brings one message at 09:00 with her plan
    and the fallback, and the day-of nudge due then stands down."""
    e = enrollment()
    out, at = planned(journey, e, date(2027, 4, 16))
    mtm = out.mtms[0]
    req, _ = fire_sent(journey, e, prompts_by_step(out)["support-safe"], at, mtm)
    ends = support.expires_at(journey, e, mtm)
    res = engine.fire(journey, e, req.with_(next_at=ends), mtm, ends)
    (told,) = [o for o in res.outgoing if o.message.recipient_id == "ana"]
    text = plain(told.message.text)
    assert told.not_before_iso == london(2027, 4, 16, 9).isoformat()
    assert plain(told.message.title) == "Your moment today"
    assert text.index("Today is your moment that matters: Weekly 1:1 with Sam") < text.index(
        "Ben didn't get to your support request before your moment today. That's OK, and your plan still stands:")
    assert "*A first sentence to try:* “So what I'm hearing is … Have I got that right?”" in text
    assert "• Ask the L&D coach for a quick word" in text and text.endswith("I'll ask you how it went afterwards.")
    (noted,) = res.enrollments
    nudge = prompts_by_step(out)["mtm-safe~day-of"]
    assert nudge.due_at == london(2027, 4, 16, 9)
    later = engine.fire(journey, noted, nudge, mtm, nudge.due_at)
    assert later.outgoing == [] and later.prompts[0].status == "expired"
    # without that morning notice (the request was answered), the nudge goes as before
    assert len(engine.fire(journey, e, nudge, replace(mtm, manager_response="approved"), nudge.due_at).outgoing) == 1


def _one_morning_message(journey, first: str):
    """The worker was down from Thursday evening until Fri 16 Apr 10:30: Ana's request expiry (due
    at midnight) and her day-of nudge (due 09:00) are both due in one pass; `first` is taken first.
    Returns what reaches Ana in that pass and the next minute."""
    e = enrollment()
    out, at = planned(journey, e, date(2027, 4, 16))
    mtm = out.mtms[0]
    req, _ = fire_sent(journey, e, prompts_by_step(out)["support-safe"], at, mtm)
    req = req.with_(next_at=support.expires_at(journey, e, mtm))
    nudge = prompts_by_step(out)["mtm-safe~day-of"]
    late = london(2027, 4, 16, 10, 30)
    order = [req, nudge] if first == "expiry" else [nudge, req]
    sent, enrollments, after = [], [], {}
    for p in order:  # one batch: both decided from the same enrollment, as the tick does
        res = engine.fire(journey, e, p, mtm, late)
        sent += [o for o in res.outgoing if o.message.recipient_id == "ana"]
        enrollments += res.enrollments
        after.update({q.id: q for q in res.prompts})
    e2 = enrollments[-1] if enrollments else e
    waiting = after[nudge.id]
    if waiting.status == "scheduled" and waiting.next_at is not None:  # the next minute's pass
        res = engine.fire(journey, e2, waiting, mtm, waiting.next_at)
        sent += [o for o in res.outgoing if o.message.recipient_id == "ana"]
        after[nudge.id] = res.prompts[-1]
    return sent, after[nudge.id]


def test_after_a_night_down_the_expiry_and_the_nudge_are_one_message_in_either_order(journey):
    """Whichever of the two the late pass takes first, Ana gets one "Your moment today" that
    morning: her plan, then the news that Ben didn't get to the request, with the fallback."""
    for first in ("expiry", "nudge"):
        sent, nudge = _one_morning_message(journey, first)
        (told,) = sent
        text = plain(told.message.text)
        assert plain(told.message.title) == "Your moment today", first
        assert text.index("Today is your moment that matters: Weekly 1:1 with Sam") < text.index(
            "Ben didn't get to your support request before your moment today."), first
        assert nudge.status == "expired", first


def test_a_manager_in_a_zone_behind_hears_the_moment_is_tomorrow(journey):
    """Ana in Tokyo, Ben in New York: her moment's day begins at 11:00 on his Thursday."""
    ana, ben = replace(ANA, tz="Asia/Tokyo"), replace(BEN, tz="America/New_York")
    e = enrollment(person=ana, manager=ben)
    out, _ = planned(journey, e, date(2027, 4, 16))
    mtm = out.mtms[0]
    new_york = ZoneInfo("America/New_York")
    req, _ = fire_sent(journey, e, prompts_by_step(out)["support-safe"],
                       datetime(2027, 4, 14, 10, tzinfo=new_york).astimezone(UTC), mtm)
    assert req.status == "open"
    ends = support.expires_at(journey, e, mtm)
    res = engine.fire(journey, e, req.with_(next_at=ends), mtm, ends)
    (note,) = [o for o in res.outgoing if o.message.recipient_id == "ben" and o.message.prompt_id is None]
    assert plain(note.message.title) == "Ana's moment is tomorrow"
    assert "Ana's moment that matters is tomorrow, Fri 16 Apr, so the request" in plain(note.message.text)
    assert note.not_before_iso is None  # 11:00 on his Thursday: in his hours, at once
    assert note.stale_at_iso == datetime(2027, 4, 16, tzinfo=new_york).astimezone(UTC).isoformat()


def test_a_postponed_moment_moves_its_morning_nudge_to_the_new_day(journey):
    e = enrollment()
    out, _ = planned(journey, e, date(2027, 4, 16))  # Fri 16 Apr
    mtm = replace(out.mtms[0], manager_response="approved")  # Ben backed it
    first = prompts_by_step(out)["mtm-safe~day-of"]
    first, _ = fire_sent(journey, e, first, first.due_at, mtm)  # the nudge on Fri 16 Apr went out
    reflect = prompts_by_step(out)["reflect-safe"]
    f, _ = fire_sent(journey, e, reflect, reflect.due_at, mtm)
    values = {"happened": "postponed", "new_date": "2027-04-21"}  # Wed 21 Apr
    res = engine.answer(journey, e, f, mtm, Reply("ana", "k", f.id, values=values), f.due_at + timedelta(hours=1))
    assert plain(res.replies[0].text) == "No problem. I'll check in again after Wed 21 Apr."
    (moved,) = res.mtms
    (nudge,) = [p for p in res.prompts if p.step_id.endswith("~day-of")]
    assert nudge.due_at == london(2027, 4, 21, 9) and nudge.status == "scheduled"  # her morning on the new day
    sent, fired = fire_sent(journey, e, nudge, nudge.due_at, moved)
    (msg,) = fired.outgoing
    assert msg.delivery_key != f"{first.id}:1" and sent.status == "done"  # a delivery of its own
    assert "Today is your moment that matters" in plain(msg.message.text)
    # a nudge still waiting for the old day does not go out on it
    stale = first.with_(status="scheduled", next_at=first.due_at)
    old_day = engine.fire(journey, e, stale, moved, first.due_at)
    assert old_day.outgoing == [] and old_day.prompts[0].status == "expired"


def test_a_cant_that_reaches_her_on_the_moments_morning_is_that_mornings_one_message(journey):
    """Ben, in New York, says he can't at 14:00 his Thursday (19:00 in London, after Ana's day):
    she hears at 09:00 on Friday, the moment's day, in the morning message itself."""
    ben = replace(BEN, tz="America/New_York")
    e = enrollment(manager=ben)
    out, at = planned(journey, e, date(2027, 4, 16))
    mtm = out.mtms[0]
    req, _ = fire_sent(journey, e, prompts_by_step(out)["support-safe"], at, mtm)
    res = engine.answer(journey, e, req, mtm, Reply("ben", "k-cant", req.id, button="cant:no_time"),
                        london(2027, 4, 15, 19))
    (told,) = [o for o in res.outgoing if o.message.recipient_id == "ana"]
    assert told.not_before_iso == london(2027, 4, 16, 9).isoformat()
    text = plain(told.message.text)
    assert plain(told.message.title) == "Your moment today"
    assert text.startswith("Today is your moment that matters: Weekly 1:1 with Sam")
    assert "Ben can't back your moment today this time. That's OK, and your plan still stands:" in text
    (noted,) = res.enrollments
    nudge = prompts_by_step(out)["mtm-safe~day-of"]
    assert engine.fire(journey, noted, nudge, mtm, nudge.due_at).outgoing == []
    # said on Wednesday, it reaches her that day: a note of its own, and the morning nudge still comes
    early = engine.answer(journey, e, req, mtm, Reply("ben", "k-cant2", req.id, button="cant:no_time"),
                          london(2027, 4, 14, 15))
    assert "can't back your moment on Fri 16 Apr this time" in plain(
        next(o for o in early.outgoing if o.message.recipient_id == "ana").message.text)
    (heard,) = early.enrollments  # she heard how the request ended, in a note of its own
    assert len(engine.fire(journey, heard, nudge, mtm, nudge.due_at).outgoing) == 1
