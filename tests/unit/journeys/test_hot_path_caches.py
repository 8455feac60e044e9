"""The tick's shortcuts give the very messages, prompt states, steps and calendars of the plain path.

`fill` splits a text once and works out only the placeholders it has; `PromptState.with_` copies
fields instead of re-running the frozen `__init__`; a journey's steps are indexed by id; a person's
calendar is kept for that person; a calendar's hash is worked out once. Each is checked against the
straightforward version it replaced (kept here as the reference), over generated inputs.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys import expectations, rendering
from journeys.calendar import WorkCalendar
from journeys.definition import Journey, step_recipient
from journeys.forms import buttons_for, fields_for
from journeys.messages import Link
from journeys.relative import day_words, starts_phrase
from journeys.rendering import fill, render_prompt
from journeys.state import EnrollmentState, MtmState, Person, PromptState
from journeys.text import typed
from journeys.timekeeping import calendar_for, event_date, first_name, format_day

_DATED = re.compile(r"( on )?\{([a-z_]+)\}")


def reference_fill(text: str, journey: Journey, enrollment: EnrollmentState, mtm: MtmState | None,
                   reader: Person | None = None, today: date | None = None) -> str:
    """`fill` as it was: every value worked out, then one regex substitution."""
    values: dict[str, str] = {
        "name": first_name(enrollment.person),
        "manager": first_name(enrollment.manager),
        "journey": journey.title,
        "start": format_day(enrollment.start),
        "agreed": expectations.agreed_text(enrollment),
    }
    if today is not None:
        values["starts"] = starts_phrase(enrollment.start, today, calendar_for(journey, reader or enrollment.person))
    for ev in journey.events:
        d = event_date(journey, enrollment, ev.id)
        if d is not None:
            values[f"event_{ev.id.replace('-', '_')}"] = format_day(d)
    if mtm is not None:
        values["mtm_date"] = format_day(mtm.when)
        values["behaviour"] = journey.behaviour_text(mtm.behaviour)
        values["practice"] = "safe practice" if mtm.practice == "safe" else "a real moment"
        private = reader is not None and reader.id != enrollment.person.id and not mtm.share_plan
        values["situation"] = "(details kept private)" if private else typed(mtm.situation)
    dates = {n for n in values if n == "mtm_date" or n.startswith("event_")}

    def one(m: re.Match[str]) -> str:
        on, name = m.group(1) or "", m.group(2)
        if name in dates and today is not None:  # the reader's today or tomorrow says so, its "on" dropped
            near = {format_day(d): d for d in (today, today + timedelta(days=1))}
            if values[name] in near:
                return (" " if on else "") + day_words(near[values[name]], today)
        return on + values.get(name, "{" + name + "}")

    return _DATED.sub(one, text)


NAMES = st.sampled_from(["Ana Silva", "Ben", "  ", "<@U123> *bold*", "Zoë O'Neil", "x y z"])
ZONES = st.sampled_from(["Europe/London", "America/New_York", "Asia/Tokyo", "Not/AZone"])
KNOWN = ["name", "manager", "journey", "start", "starts", "agreed", "mtm_date", "behaviour", "practice",
         "situation", "event_kickoff", "event_nope"]
PIECES = st.one_of(
    st.sampled_from(KNOWN).map(lambda n: "{" + n + "}"),
    st.sampled_from(["{unknown}", "{Name}", "{", "}", "{}", "{{name}}", "{mtm-date}", "\n", " "]),
    st.text(alphabet="ab {}_\n", max_size=6),
)


@st.composite
def situations(draw: st.DrawFn, journey: Journey) -> tuple[EnrollmentState, MtmState | None, Person | None,
                                                         date | None]:
    person = Person("p1", draw(NAMES), draw(ZONES), country=draw(st.sampled_from([None, "GB", "US"])))
    manager = draw(st.one_of(st.none(), st.builds(Person, st.just("p2"), NAMES, ZONES)))
    start = date(2026, 12, 7) + timedelta(days=draw(st.integers(-20, 20)))
    events = {e.id: start + timedelta(days=3) for e in journey.events if draw(st.booleans())}
    notes = {expectations.AGREED: draw(st.sampled_from(["two 1:1s a month", "*mark*"]))} if draw(st.booleans()) else {}
    enrollment = EnrollmentState("e1", journey.id, person, manager, start, events=events, notes=notes)
    mtm = None
    if draw(st.booleans()):
        mtm = MtmState("e1.m", "e1", "mtm-safe", draw(st.sampled_from(["safe", "real"])), "A 1:1 with <Sam>",
                       start + timedelta(days=10), draw(st.sampled_from([journey.ppp.behaviours[0].id, "other"])),
                       draw(st.booleans()))
    reader = draw(st.sampled_from([None, person, manager]))
    today = draw(st.one_of(st.none(), st.integers(-15, 15).map(lambda n: start + timedelta(days=n))))
    return enrollment, mtm, reader, today


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), pieces=st.lists(PIECES, max_size=12))
def test_fill_gives_what_the_plain_substitution_gave(journey: Journey, data: st.DataObject,
                                                    pieces: list[str]) -> None:
    enrollment, mtm, reader, today = data.draw(situations(journey))
    text = "".join(pieces)
    assert fill(text, journey, enrollment, mtm, reader, today) == reference_fill(
        text, journey, enrollment, mtm, reader, today)
    # the split text is kept: asked again, the same answer
    assert fill(text, journey, enrollment, mtm, reader, today) == reference_fill(
        text, journey, enrollment, mtm, reader, today)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), reminder=st.booleans())
def test_every_card_of_the_sample_journey_is_the_same_message(journey: Journey, data: st.DataObject,
                                                              reminder: bool, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    enrollment, mtm, _, today = data.draw(situations(journey))
    now = datetime.combine(today or enrollment.start, datetime.min.time(), UTC) + timedelta(hours=10)
    for step in journey.steps:
        if step.kind == "manager_task" and enrollment.manager is None:
            continue
        prompt = PromptState(f"e1.{step.id}", "e1", step.id, "p1", "scheduled", now, now)
        fast = render_prompt(journey, enrollment, prompt, mtm, reminder=reminder, now=now)
        with monkeypatch.context() as m:
            m.setattr(rendering, "fill", reference_fill)
            plain = render_prompt(journey, enrollment, prompt, mtm, reminder=reminder, now=now)
        assert fast == plain, step.id


FIELDS = ["status", "next_at", "sent_at", "deliveries", "last_delivery_key", "reminders_sent", "escalated",
          "answers"]
VALUES = {
    "status": st.sampled_from(["scheduled", "open", "done", "expired"]),
    "next_at": st.one_of(st.none(), st.just(datetime(2026, 12, 7, 9, 30, tzinfo=UTC))),
    "sent_at": st.one_of(st.none(), st.just(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))),
    "deliveries": st.integers(0, 5),
    "last_delivery_key": st.one_of(st.none(), st.just("e1.s:2")),
    "reminders_sent": st.integers(0, 3),
    "escalated": st.booleans(),
    "answers": st.dictionaries(st.sampled_from(["a", "b"]), st.integers()),
}


@given(st.sets(st.sampled_from(FIELDS)).flatmap(
    lambda names: st.fixed_dictionaries({n: VALUES[n] for n in names})))
def test_prompt_copies_equal_dataclasses_replace(changes: dict[str, object]) -> None:
    prompt = PromptState("e1.s", "e1", "s", "p1", "scheduled", datetime(2026, 12, 7, 9, tzinfo=UTC),
                         datetime(2026, 12, 7, 9, tzinfo=UTC), answers={"a": 1})
    copy, plain = prompt.with_(**changes), replace(prompt, **changes)  # type: ignore[arg-type]
    assert copy == plain and hash(copy.id) == hash(plain.id) and type(copy) is PromptState
    assert vars(copy) == vars(plain) and list(vars(copy)) == list(vars(plain))
    assert prompt == PromptState("e1.s", "e1", "s", "p1", "scheduled", datetime(2026, 12, 7, 9, tzinfo=UTC),
                                 datetime(2026, 12, 7, 9, tzinfo=UTC), answers={"a": 1})  # the original untouched
    with pytest.raises(AttributeError):
        copy.status = "open"  # type: ignore[misc]  # still frozen


def test_a_copy_with_an_unknown_field_is_refused_as_before() -> None:
    prompt = PromptState("e1.s", "e1", "s", "p1", "scheduled", datetime(2026, 12, 7, 9, tzinfo=UTC), None)
    with pytest.raises(TypeError):
        prompt.with_(statuss="open")


def test_a_step_looked_up_is_the_first_of_its_id(journey: Journey) -> None:
    for step in journey.steps:
        assert journey.step(step.id) is next(s for s in journey.steps if s.id == step.id)
        assert journey.has_step(step.id)
    for unknown in ("", "nope", "focus-situation~coach-check"):
        assert not journey.has_step(unknown)
        with pytest.raises(KeyError):
            journey.step(unknown)
    other = journey.model_copy(update={"steps": journey.steps[:1]})  # another journey: its own steps
    assert other.has_step(journey.steps[0].id) and not other.has_step(journey.steps[1].id)
    assert journey.has_step(journey.steps[1].id)


DAYS = st.one_of(st.none(), st.sets(st.integers(0, 6), min_size=1).map(lambda d: tuple(sorted(d))))
HOURS = st.sampled_from([(None, None), (time(8), time(16)), (time(10), time(18, 30))])


@given(people=st.lists(st.tuples(st.sampled_from([None, "GB", "US", "FR"]), DAYS, HOURS), min_size=1, max_size=8))
def test_a_persons_calendar_asked_again_is_the_one_built_for_them(journey: Journey,
                                                                  people: list[tuple[Any, ...]]) -> None:
    built = [Person(f"p{i}", "A", "Europe/London", country, None, days, start, end)
             for i, (country, days, (start, end)) in enumerate(people)]
    for _ in range(2):
        for p in built:
            fresh = WorkCalendar.from_definition(journey.calendar, p.country, p.subdivision, days=p.work_days,
                                                 start=p.work_start, end=p.work_end)
            assert calendar_for(journey, p) == fresh
            assert hash(calendar_for(journey, p)) == hash(fresh)
    other = journey.model_copy(update={"calendar": journey.calendar.model_copy(update={"working_days": ["mon"]})})
    p = built[0]
    if p.work_days is None:  # the journey's week applies: another journey's calendar gives another week
        assert calendar_for(other, p).working_days == frozenset({0})


@given(days=st.sets(st.integers(0, 6), min_size=1), start=st.integers(6, 11), end=st.integers(12, 20))
def test_a_calendars_hash_is_its_fields_hash(days: set[int], start: int, end: int) -> None:
    a = WorkCalendar(frozenset(days), time(start), time(end))
    b = WorkCalendar(frozenset(sorted(days)), time(start), time(end))
    assert a == b and hash(a) == hash(b)
    assert hash(a) == hash((a.working_days, a.day_start, a.day_end, a.quiet, a.holiday_country,
                            a.holiday_subdivision))
    assert list(dataclasses.asdict(a)) == ["working_days", "day_start", "day_end", "quiet", "holiday_country",
                                           "holiday_subdivision"]
    assert replace(a, day_start=time(start, 30)) != a


@pytest.mark.parametrize("status", ["scheduled", "open", "answered", "expired"])
def test_a_cards_fixed_parts_are_what_the_step_gives(journey: Journey, status: str) -> None:
    """A step's title, audience, form, buttons, form label and links, kept per step, are what
    the step's own definitions give, each time, open or closed."""
    ana, ben = Person("p1", "Ana Silva", "Europe/London"), Person("p2", "Ben Okafor", "Asia/Tokyo")
    enrollment = EnrollmentState("e1", journey.id, ana, ben, date(2026, 12, 7))
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    for step in journey.steps:
        prompt = PromptState(f"e1.{step.id}", "e1", step.id, "p1", status, now, now)  # type: ignore[arg-type]
        for _ in range(2):
            m = render_prompt(journey, enrollment, prompt, None, now=now)
            fields = fields_for(journey, step)
            buttons = buttons_for(step, fields)
            closed = status in ("answered", "expired")
            assert m.title == (step.title or rendering.KIND_TITLES[step.kind])
            assert m.audience == step_recipient(step)
            assert m.recipient_id == (ben.id if step_recipient(step) == "manager" else ana.id)
            assert m.fields == (() if closed else fields) and m.buttons == (() if closed else buttons)
            assert m.form_label == ("" if closed or not fields or (buttons and step.kind != "manager_task")
                                    else rendering._form_label(step))
            assert m.links == tuple(Link(link.label, link.url) for link in step.links)
            assert m.closed is closed
