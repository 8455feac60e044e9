"""Issue 20, item 4 at the engine: typed input that treats people as people. The bot's own "1:"
advice is never saved as part of an answer, a bare number answers the latest prompt, a barrier is
heard and answered with options, and `stop` asks first (see test_conversation for the stop)."""

from __future__ import annotations

from journeys import timekeeping
from journeys.text import plain
from tests.unit.journeys.test_conversation import say, view_for
from tests.unit.journeys.test_message_flow import london


def test_the_suggested_number_prefix_is_stripped_with_one_question_open(journey):
    view = view_for(journey, fire=["success-picture"])
    out = say(view, "1: An angry caller left calm", london(4, 9, 15))
    (answered,) = [p for p in out.prompts if p.status == "answered"]
    assert answered.answers == {"answer": "An angry caller left calm"}
    # "1:1s" is words, not the bot's prefix
    out = say(view, "1:1s that surface problems early", london(4, 9, 15))
    (answered,) = [p for p in out.prompts if p.status == "answered"]
    assert answered.answers == {"answer": "1:1s that surface problems early"}


def test_a_bare_number_answers_the_latest_prompt(journey):
    view = view_for(journey, fire=["focus-situation", "share-line-of-sight"])
    out = say(view, "1", london(4, 9, 15))
    (answered,) = [p for p in out.prompts if p.status == "answered"]
    assert answered.step_id == "share-line-of-sight" and answered.answers == {"answer": "yes"}


def test_a_barrier_is_recorded_and_answered_with_options_not_an_error(journey):
    view = view_for(journey, fire=["focus-situation", "share-line-of-sight", "success-picture"])
    out = say(view, "I don't really have time for this, my team is swamped", london(4, 9, 15))
    assert out.prompts == [] and out.outgoing == []
    assert [(ev.kind, ev.data) for ev in out.events] == [("barrier", {"kind": "no_time", "by": "participant"})]
    text = plain(out.replies[0].text)
    assert "You have 3 open questions" not in text and "didn't save" not in text
    assert "`snooze week`" in text and "`talk to my manager`" in text and "Ben" in text and "carry on" in text
    assert "swamped" not in str([ev.data for ev in out.events])  # the words typed are not kept
    assert say(view, "this is not relevant to my role", london(4, 9, 15)).events[0].data["kind"] == "not_relevant"


def test_a_barrier_typed_as_the_answer_to_a_text_question_is_the_answer(journey):
    view = view_for(journey, fire=["success-picture"])
    out = say(view, "Honestly: less time swamped by repeat calls", london(4, 9, 15))
    assert [p.answers for p in out.prompts if p.status == "answered"] == [
        {"answer": "Honestly: less time swamped by repeat calls"}]


def test_talk_to_my_manager_tells_the_manager_in_their_hours_without_the_words(journey):
    view = view_for(journey, fire=["focus-situation"])
    evening = london(4, 9, 19)  # Friday 19:00: Ben hears on Monday morning
    out = say(view, "talk to my manager", evening)
    (note,) = out.outgoing
    assert note.message.recipient_id == "ben" and plain(note.message.title) == "Ana would like a word"
    assert note.not_before_iso == london(4, 12, 9).isoformat()
    assert "Ben" in out.replies[0].text and "Nothing you typed was shared" in out.replies[0].text


def test_snooze_week_holds_open_questions_five_working_days(journey):
    view = view_for(journey, fire=["focus-situation"])
    now = london(4, 7, 15)
    out = say(view, "snooze week", now)
    (held,) = out.prompts
    cal = timekeeping.calendar_for(journey, view.person)
    tz = timekeeping.tz_of(journey, view.person)
    assert held.status == "scheduled" and held.due_at.astimezone(tz).strftime("%a %d %H:%M") == "Wed 14 09:00"
    assert cal.working_days_between(timekeeping.local_date(now, tz), timekeeping.local_date(held.due_at, tz)) == 5


def test_a_bare_number_is_no_answer_to_a_free_text_question(journey):
    view = view_for(journey, fire=["focus-situation", "success-picture"])
    out = say(view, "1", london(4, 9, 15))
    assert out.prompts == [] and "Which one is it for?" in out.replies[0].text
