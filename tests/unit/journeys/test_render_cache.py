"""The tick's shortcuts give the very messages and prompt states of the plain path.

`fill` splits a text once and works out only the placeholders it has; `PromptState.with_` copies
fields instead of re-running the frozen `__init__`. Each is checked against the straightforward
version it replaced (kept here as the reference), over generated people, texts and prompts.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys import expectations, rendering
from journeys.definition import Journey
from journeys.relative import starts_phrase
from journeys.rendering import fill, render_prompt
from journeys.state import EnrollmentState, MtmState, Person, PromptState
from journeys.text import typed
from journeys.timekeeping import calendar_for, event_date, first_name, format_day

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


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
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


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
