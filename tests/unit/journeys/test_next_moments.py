"""`ending.next_moments`: the optional "plan your next moment" loop after the end. The sample
journey with one loop cycle, driven through a hand-built timeline with `now` passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from journeys import engine, lifecycle
from journeys.ending import CLOSE_STEP
from journeys.loader import JourneyFileError, default_library_path, load_journey_text
from journeys.messages import Reply
from journeys.progress import journey_weeks
from journeys.state import EnrollmentState, Person, PromptState

LONDON = ZoneInfo("Europe/London")
START = date(2027, 4, 12)
ANA = Person("ana", "Ana Silva", "Europe/London")
BEN = Person("ben", "Ben Okafor", "Europe/London")
SAMPLE = (default_library_path() / "active-listening.yml").read_text()


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture(scope="module")
def looping():
    return load_journey_text(SAMPLE.replace("  next_moments: 0 ", "  next_moments: 1 "), "loop.yml")


def test_the_loop_adds_a_plan_and_its_follow_up_a_week_after_the_last_step(looping, journey):
    assert [s.id for s in looping.steps][-2:] == ["next-moment-1", "next-reflect-1"]
    assert len(looping.steps) == len(journey.steps) + 2 and journey.ending.next_moments == 0
    assert journey_weeks(looping) == journey_weeks(journey) == 6
    e = EnrollmentState("e1", looping.id, ANA, BEN, START)
    prompts = {p.step_id: p for p in engine.schedule_enrollment(looping, e, at(2027, 3, 1, 9)).prompts}
    # the survey (start+26) is Wed 19 May; the loop's plan a week later, Wed 26 May (31 May is later)
    assert prompts["next-moment-1"].due_at == at(2027, 5, 26, 10)
    assert lifecycle.closing_prompt(looping, e).due_at == at(2027, 5, 20, 10)  # the end itself is unchanged


def test_the_journey_waits_for_the_loop_then_completes(looping):
    e = EnrollmentState("e1", looping.id, ANA, BEN, START)
    scheduled = {p.step_id: p for p in engine.schedule_enrollment(looping, e, at(2027, 3, 1, 9)).prompts}
    prompts: dict[str, PromptState] = {}
    for step_id, p in scheduled.items():
        kind = looping.step(step_id).kind
        prompts[step_id] = p if step_id == "next-moment-1" else p.with_(
            status="done" if kind == "message" else "answered", sent_at=p.due_at, next_at=None)
    prompts[CLOSE_STEP] = lifecycle.closing_prompt(looping, e)

    def close(now):
        return lifecycle.fire_close(looping, e, prompts[CLOSE_STEP], list(prompts.values()), [], now)

    first = close(at(2027, 5, 20, 10))
    assert "No real moment" in first.outgoing[0].message.text and first.enrollments == []  # still waiting
    prompts[CLOSE_STEP] = first.prompts[0]
    # the loop's plan goes out and is answered with a moment after the journey's last day
    plan = scheduled["next-moment-1"]
    sent = next(q for q in engine.fire(looping, e, plan, None, plan.due_at).prompts if q.id == plan.id)
    answer = engine.answer(looping, e, sent, None, Reply("ana", "k", sent.id, values={
        "moment": "m1", "date": "2027-06-02", "behaviour": "paraphrase", "practice": "real", "share": "no"}),
        plan.due_at)
    (mtm,) = answer.mtms
    assert mtm.when == date(2027, 6, 2)
    for p in answer.prompts:
        prompts[p.step_id] = p
    assert prompts["next-reflect-1"].status == "scheduled"
    waiting = close(at(2027, 5, 27, 9))
    assert waiting.enrollments == [] and waiting.outgoing == []  # the follow-up is still to come
    prompts["next-reflect-1"] = prompts["next-reflect-1"].with_(status="answered", sent_at=at(2027, 6, 3, 9, 30))
    prompts[CLOSE_STEP] = waiting.prompts[0]
    done = close(at(2027, 6, 4, 9))
    assert [x.status for x in done.enrollments] == ["completed"] and done.outgoing == []


@pytest.mark.parametrize(("value", "fragment"), [("4", "less than or equal to 3"), ("-1", "greater than or equal to 0"),
                                                 ("two", "a whole number")])
def test_bad_next_moments_are_reported_at_the_value(value: str, fragment: str) -> None:
    text = SAMPLE.replace("  next_moments: 0 ", f"  next_moments: {value} ")
    line = next(i for i, x in enumerate(text.splitlines(), 1) if x.startswith(f"  next_moments: {value} "))
    with pytest.raises(JourneyFileError) as info:
        load_journey_text(text, "j.yml")
    ((e_line, col, key, message),) = [(e.line, e.column, e.key, e.message) for e in info.value.errors]
    assert (e_line, col, key) == (line, 17, "ending.next_moments") and fragment in message
