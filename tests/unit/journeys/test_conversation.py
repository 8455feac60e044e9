"""Typed conversation: help, status, snooze, pause/resume/stop, free text and routing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from journeys import engine
from journeys.conversation import HELP, handle_text
from journeys.messages import Reply
from journeys.person_view import PersonView
from journeys.state import EnrollmentState, Person

LONDON = ZoneInfo("Europe/London")
START = date(2027, 4, 12)
ANA = Person("ana", "Ana Silva", "America/New_York")
BEN = Person("ben", "Ben Okafor", "Europe/London")


def london(m, d, hh, mm=0):
    return datetime(2027, m, d, hh, mm, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture(scope="module")
def second(journey):
    return journey.model_copy(update={"id": "feedback-basics", "title": "Feedback Basics"})


def view_for(journey, person=ANA, *, fire=(), extra=(), now=None):
    """Ana's view with the named steps already sent (open)."""
    e = EnrollmentState("e1", journey.id, ANA, BEN, START)
    prompts = {p.step_id: p for p in engine.schedule_enrollment(journey, e, london(3, 1, 9)).prompts}
    for step in fire:
        p = prompts[step]
        prompts[step] = next(q for q in engine.fire(journey, e, p, None, p.due_at).prompts if q.id == p.id)
    return PersonView(person, {journey.id: journey, **{j.id: j for j in extra}}, [e], list(prompts.values()))


def say(view, text, now):
    return handle_text(view, Reply(view.person.id, "k", text=text), now)


def test_help_lists_the_commands(journey):
    out = say(view_for(journey), "help", london(4, 14, 15))
    assert out.replies[0].text == HELP
    assert out.prompts == [] and out.outgoing == []


def test_status_shows_progress_and_next_step_in_local_time(journey):
    view = view_for(journey, fire=["why-it-matters", "focus-situation"])
    text = say(view, "status", london(4, 7, 15)).replies[0].text
    assert "Active Listening" in text and "0 of" in text  # a message merely received is not progress
    assert "waiting for you: Your focus" in text
    # next: the consent question, Tue 6 Apr 11:00 in New York (Ana's zone), not London
    assert "next: Share with your manager? — Tue 6 Apr, 11:00 (America/New_York)" in text


def test_snooze_holds_open_prompts_until_the_next_working_morning(journey):
    view = view_for(journey, fire=["focus-situation"])
    now = datetime(2027, 4, 9, 16, tzinfo=ZoneInfo("America/New_York"))  # Friday afternoon
    out = say(view, "snooze", now)
    (p,) = out.prompts
    monday = datetime(2027, 4, 12, 9, tzinfo=ZoneInfo("America/New_York"))
    assert p.status == "scheduled" and p.next_at == monday
    assert "Mon 12 Apr, 09:00 (America/New_York)" in out.replies[0].text


def test_snooze_until_a_named_day(journey):
    view = view_for(journey, fire=["focus-situation"])
    now = datetime(2027, 4, 7, 11, tzinfo=ZoneInfo("America/New_York"))  # Wednesday
    out = say(view, "snooze friday", now)
    assert out.prompts[0].next_at == datetime(2027, 4, 9, 9, tzinfo=ZoneInfo("America/New_York"))
    bad = say(view, "snooze someday", now)
    assert bad.prompts == [] and "couldn't read" in bad.replies[0].text


def test_snooze_with_nothing_open(journey):
    out = say(view_for(journey), "snooze", london(4, 7, 15))
    assert out.prompts == [] and "nothing to snooze" in out.replies[0].text


def test_pause_resume_and_stop(journey):
    view = view_for(journey)
    paused = say(view, "pause", london(4, 7, 15))
    assert paused.enrollments[0].status == "paused" and "Paused: Active Listening" in paused.replies[0].text
    view.enrollments = [paused.enrollments[0]]
    view.prompts = [*{p.id: p for p in [*view.prompts, *paused.prompts]}.values()]
    assert "no active journey to pause" in say(view, "pause", london(4, 7, 16)).replies[0].text
    resumed = say(view, "resume", london(4, 9, 15))
    assert resumed.enrollments[0].status == "active" and "Resumed: Active Listening" in resumed.replies[0].text
    asked = say(view, "stop", london(4, 9, 16))  # asks first, changes nothing
    assert asked.enrollments == [] and asked.prompts == [] and "`stop yes`" in asked.replies[0].text
    stopped = say(view, "stop yes too much on this quarter", london(4, 9, 16))
    assert stopped.enrollments[0].status == "stopped"
    assert stopped.enrollments[0].notes["stopped"]["reason"] == "too much on this quarter"
    assert [ev.data for ev in stopped.events if ev.kind == "stopped"] == [{"by": "participant", "reason_given": True}]
    assert all(p.status == "cancelled" for p in stopped.prompts)
    assert "won't send anything more" in stopped.replies[0].text and "Thank you for telling us why" in \
        stopped.replies[0].text


def test_free_text_without_an_open_prompt_gets_a_helpful_answer(journey):
    out = say(view_for(journey), "I loved the workshop!", london(4, 7, 15))
    assert out.prompts == [] and "no open question" in out.replies[0].text and "status" in out.replies[0].text
    stranger = PersonView(Person("zoe", "Zoe", "UTC"), {journey.id: journey}, [], [])
    assert "not in a learning journey" in say(stranger, "hello there", london(4, 7, 15)).replies[0].text


def test_typed_text_with_two_open_prompts_asks_which_and_saves_nothing(journey):
    view = view_for(journey, fire=["focus-situation", "success-picture"])
    out = say(view, "My 1:1s surface problems a week earlier", london(4, 9, 15))
    assert out.prompts == [] and out.events == []
    (ask,) = out.replies
    assert ask.title == "Which question is that for?"
    assert "didn't save that" in ask.text
    assert "1. Your focus" in ask.text and "2. Your picture of success" in ask.text


def test_a_numbered_answer_goes_to_that_prompt_and_says_what_was_saved(journey):
    view = view_for(journey, fire=["focus-situation", "success-picture"])
    out = say(view, "2: My 1:1s surface problems a week earlier", london(4, 9, 15))
    (answered,) = [p for p in out.prompts if p.status == "answered"]
    assert answered.step_id == "success-picture"
    assert answered.answers == {"answer": "My 1:1s surface problems a week earlier"}
    assert out.replies[0].text == "Saved your picture of success."
    out = say(view, "1: 2", london(4, 9, 15))
    (answered,) = [p for p in out.prompts if p.status == "answered"]
    assert answered.step_id == "focus-situation" and answered.answers == {"answer": "one-to-ones"}
    assert out.replies[0].text == "Saved your focus."


def test_a_reply_to_a_prompt_goes_only_to_that_prompt(journey):
    view = view_for(journey, fire=["focus-situation", "success-picture"])
    focus = next(p for p in view.prompts if p.step_id == "focus-situation")
    out = handle_text(view, Reply("ana", "k", focus.id, text="1:1s with people in my team"), london(4, 9, 15))
    (answered,) = [p for p in out.prompts if p.status == "answered"]
    assert answered.step_id == "focus-situation" and answered.answers == {"answer": "one-to-ones"}
    assert out.replies[0].text == "Saved your focus."


def test_typed_choice_number_answers_a_choice_question(journey):
    view = view_for(journey, fire=["focus-situation"])
    out = say(view, "2", london(4, 7, 15))
    assert out.prompts[0].answers == {"answer": "one-to-ones"}


def test_person_in_two_journeys_is_told_which_journey_got_the_answer(journey, second):
    e1 = EnrollmentState("e1", journey.id, ANA, BEN, START)
    e2 = EnrollmentState("e2", second.id, ANA, BEN, START)
    prompts = []
    for j, e in ((journey, e1), (second, e2)):
        p = next(p for p in engine.schedule_enrollment(j, e, london(3, 1, 9)).prompts if p.step_id == "focus-situation")
        fired = engine.fire(j, e, p, None, p.due_at + (timedelta(hours=1) if j is second else timedelta())).prompts[0]
        prompts.append(fired)
    view = PersonView(ANA, {journey.id: journey, second.id: second}, [e1, e2], prompts)
    ask = say(view, "Upset customers", london(4, 7, 18)).replies[0].text
    assert "1. Your focus (Active Listening)" in ask and "2. Your focus (Feedback Basics)" in ask
    bare = say(view, "1", london(4, 7, 18))  # a bare number answers the latest prompt, as its buttons are numbered
    (latest,) = [p for p in bare.prompts if p.status == "answered"]
    assert latest.enrollment_id == "e2" and bare.replies[0].text == "(Feedback Basics) Saved your focus."
    out = say(view, "2: 1", london(4, 7, 18))
    (answered,) = [p for p in out.prompts if p.status == "answered"]
    assert answered.enrollment_id == "e2"
    assert out.replies[0].text == "(Feedback Basics) Saved your focus."
    status = say(view, "status", london(4, 7, 18)).replies[0].text
    assert "Active Listening" in status and "Feedback Basics" in status
