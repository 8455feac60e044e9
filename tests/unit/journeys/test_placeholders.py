"""Placeholders: what `hplj validate` accepts is exactly what the engine fills in."""

from __future__ import annotations

from datetime import date

import pytest

from journeys.definition import Journey
from journeys.loader import JourneyFileError, load_journey_text
from journeys.placeholders import BASE, MOMENT, PLACEHOLDER
from journeys.rendering import fill
from journeys.state import EnrollmentState, MtmState, Person


def test_the_engine_fills_every_placeholder_validate_accepts(journey: Journey) -> None:
    ana, ben = Person("p1", "Ana Silva", "Europe/London"), Person("p2", "Ben Okafor", "Europe/London")
    enrollment = EnrollmentState("e1", journey.id, ana, ben, date(2026, 12, 7))
    mtm = MtmState("e1.mtm-safe", "e1", "mtm-safe", "safe", "A 1:1 with Sam", date(2026, 12, 10),
                   journey.ppp.behaviours[0].id, True)
    events = [f"event_{e.id.replace('-', '_')}" for e in journey.events]
    text = " ".join("{" + name + "}" for name in (*BASE, *MOMENT, *events))
    filled = fill(text, journey, enrollment, mtm, ben, date(2026, 12, 2))  # a step's text: sent on a day
    assert not PLACEHOLDER.search(filled), filled
    assert "Ana" in filled and "Thu 10 Dec" in filled
    guide = text.replace("{starts}", "")  # a guide or coach_guide is filled for no day: no {starts}
    assert not PLACEHOLDER.search(fill(guide, journey, enrollment, mtm, ben))


# A one-behaviour journey up to its steps list: 10 lines, so a test's first step starts on line 11.
TINY_HEAD = """id: tiny
title: Tiny
version: 1
ppp:
  business_goal: Better 1:1s
  outcomes: [People feel heard]
  behaviours:
    - {id: paraphrase, text: Paraphrase first}
calendar: {timezone: Europe/London}
steps:
"""


def test_starts_is_for_step_texts_only() -> None:
    text = TINY_HEAD + """  - id: talk
    kind: manager_task
    when: "start-2 09:30"
    text: "{name} {starts}."
    guide: "Remember: {name} {starts}."
"""
    with pytest.raises(JourneyFileError) as exc:
        load_journey_text(text, "tiny.yml")
    assert [e.line for e in exc.value.errors] == [15]
    assert "unknown placeholder {starts}" in exc.value.errors[0].message


@pytest.mark.parametrize(("written", "message"), [
    ("{nmae}", "unknown placeholder {nmae}; did you mean {name}?"),
    ("{Name}", "unknown placeholder {Name}; did you mean {name}?"),
    ("{mtm-date}", "unknown placeholder {mtm-date} (only steps about a moment, with for_mtm, can use {mtm_date})"),
    ("{mtm_date}", "unknown placeholder {mtm_date} (only steps about a moment, with for_mtm, can use {mtm_date})"),
])
def test_a_placeholder_its_text_cannot_fill_is_an_error_at_its_column(written: str, message: str) -> None:
    text = TINY_HEAD + f"""  - id: hello
    kind: message
    when: "start 09:30"
    text: Hello {written}, welcome.
"""
    with pytest.raises(JourneyFileError) as exc:
        load_journey_text(text, "tiny.yml")
    assert [str(e) for e in exc.value.errors] == [f"tiny.yml:14:17: {message}"]


def test_placeholders_in_a_title_are_never_filled() -> None:
    text = TINY_HEAD + """  - id: hello
    kind: message
    title: "Hi {name}"
    when: "start 09:30"
    text: Hello {name}.
"""
    with pytest.raises(JourneyFileError) as exc:
        load_journey_text(text, "tiny.yml")
    assert [str(e) for e in exc.value.errors] == [
        ("tiny.yml:13:16: unknown placeholder {name}; placeholders are filled only in a step's text, guide and "
         "coach_guide and the closing messages")]
