"""Planning a moment that matters: the PPP's moments as choices, and dates that must be working
days of the person's own calendar inside the journey's window. Pure, with `now` passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from journeys import engine
from journeys.forms import fields_for
from journeys.messages import Reply
from journeys.state import EnrollmentState, Person, PromptState

LONDON = ZoneInfo("Europe/London")
START = date(2027, 4, 12)  # Mon; the journey's last step (the survey) is Wed 19 May
ANA = Person("ana", "Ana Silva", "Europe/London")
DEV = Person("ana", "Dev Patel", "America/New_York", country="US")  # same id: Ana's prompts, Dev's calendar
BEN = Person("ben", "Ben Okafor", "Europe/London")


def plan(journey, person: Person = ANA) -> tuple[EnrollmentState, PromptState, datetime]:
    e = EnrollmentState("e1", journey.id, person, BEN, START)
    p = next(p for p in engine.schedule_enrollment(journey, e, datetime(2027, 3, 1, tzinfo=UTC)).prompts
             if p.step_id == "mtm-real")
    opened = next(q for q in engine.fire(journey, e, p, None, p.due_at).prompts if q.id == p.id)
    return e, opened, p.due_at  # Mon 26 Apr, 10:00 London


def submit(journey, e, p, now, **values: str):
    base = {"moment": "m1", "date": "2027-04-29", "behaviour": "paraphrase", "practice": "real", "share": "yes"}
    return engine.answer(journey, e, p, None, Reply(e.person.id, "k", p.id, values={**base, **values}), now)


def test_the_ppps_moments_are_offered_first_plus_something_else(journey):
    fields = fields_for(journey, journey.step("mtm-real"))
    assert [f.id for f in fields][:2] == ["moment", "situation"]
    labels = [o.label for o in fields[0].options]
    assert labels == [*journey.ppp.moments_that_matter, "Something else"]


def test_a_picked_moment_is_the_plan_and_own_words_are_added_to_it(journey):
    e, p, now = plan(journey)
    res = submit(journey, e, p, now, moment="m2")
    assert res.mtms[0].situation == journey.ppp.moments_that_matter[1]
    res = submit(journey, e, p, now, moment="m2", situation="Thursday's 1:1 with Sam")
    assert res.mtms[0].situation == f"{journey.ppp.moments_that_matter[1]}: Thursday's 1:1 with Sam"


def test_something_else_needs_own_words(journey):
    e, p, now = plan(journey)
    res = submit(journey, e, p, now, moment="other")
    assert res.prompts == [] and res.mtms == []
    assert "describe yours. Nothing was saved yet." in res.replies[0].text
    res = submit(journey, e, p, now, moment="other", situation="The Jones account call")
    assert res.mtms[0].situation == "The Jones account call"


def test_a_saturday_is_refused_with_the_next_working_day(journey):
    e, p, now = plan(journey)
    res = submit(journey, e, p, now, date="2027-05-01")
    assert res.mtms == [] and res.outgoing == []
    # the good fields are kept; only the date is asked for again, and typing it completes the plan
    (kept,) = res.prompts
    assert "date" not in kept.answers and kept.answers["behaviour"] == "paraphrase" and kept.status == "open"
    text = res.replies[0].text
    assert text.startswith("I kept the rest of your answers. Only 'When will it happen?' needs another go")
    assert ("Sat 1 May is not one of your working days, so it can't hold a moment at work; "
            "the next one is Tue 4 May.") in text
    done = engine.answer(journey, e, kept, None, Reply("ana", "k2", p.id, text="2027-05-04"), now)
    assert done.mtms[0].when == date(2027, 5, 4) and done.mtms[0].behaviour == "paraphrase"


def test_a_bank_holiday_is_refused_in_london_but_fine_for_someone_with_us_holidays(journey):
    e, p, now = plan(journey)
    res = submit(journey, e, p, now, date="2027-05-03")  # England's Early May bank holiday
    assert "Mon 3 May is not one of your working days" in res.replies[0].text and res.mtms == []
    e, p, now = plan(journey, DEV)
    res = submit(journey, e, p, now, date="2027-05-03")
    assert res.mtms[0].when == date(2027, 5, 3)


def test_a_date_after_the_journey_ends_is_refused(journey):
    e, p, now = plan(journey)
    res = submit(journey, e, p, now, date="2027-07-01")
    assert res.mtms == []
    assert "Thu 1 Jul is after your journey ends. Pick a day on or before Wed 19 May" in res.replies[0].text
    assert submit(journey, e, p, now, date="2027-05-19").mtms[0].when == date(2027, 5, 19)


def test_a_typed_date_on_a_weekend_is_not_stored(journey):
    e, p, now = plan(journey)
    for i, text in enumerate(["1", "skip"]):
        p = engine.answer(journey, e, p, None, Reply("ana", f"t{i}", p.id, text=text), now).prompts[0]
    res = engine.answer(journey, e, p, None, Reply("ana", "t9", p.id, text="saturday"), now)
    assert res.prompts == [] and "Sat 1 May is not one of your working days" in res.replies[0].text
    res = engine.answer(journey, e, p, None, Reply("ana", "t10", p.id, text="thursday"), now)
    assert res.prompts[0].answers["date"] == "2027-04-29"


def test_postponing_to_a_weekend_is_refused(journey):
    e, p, now = plan(journey)
    res = submit(journey, e, p, now)
    mtm = res.mtms[0]
    follow = next(q for q in res.prompts if q.step_id == "reflect-real")
    sent = next(q for q in engine.fire(journey, e, follow, mtm, follow.due_at).prompts if q.id == follow.id)
    later = engine.answer(journey, e, sent, mtm, Reply("ana", "f", sent.id,
                                                       values={"happened": "postponed", "new_date": "2027-05-08"}),
                          follow.due_at)
    assert later.mtms == [] and "Sat 8 May is not one of your working days" in later.replies[0].text
