"""Engine state read from rows without the dataclasses' `__init__` (store/mappers.py `_trusted`)
is the very state the constructors build: equal, same fields in the same order, still frozen."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeys.state import EnrollmentState, Person, PromptState
from store.mappers import enrollment_state, prompt_state
from store.person_calendar import work_pattern

INSTANTS = st.one_of(st.none(), st.just(datetime(2027, 6, 1, 9, 5, tzinfo=UTC)),
                     st.just(datetime(2027, 6, 8, 10, tzinfo=UTC)))
TEXT = st.sampled_from(["", "a", "Ana Silva", "Europe/London"])


def same(fast: Any, built: Any) -> None:
    assert type(fast) is type(built)
    assert fast == built
    assert list(vars(fast).items()) == list(vars(built).items())  # every field, in the constructor's order
    assert [f.name for f in dataclasses.fields(fast)] == list(vars(fast))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.id = "other"


@given(status=st.sampled_from(["scheduled", "open", "done"]), next_at=INSTANTS, sent_at=INSTANTS,
       answers=st.one_of(st.none(), st.dictionaries(st.sampled_from(["a", "b"]), st.integers())),
       deliveries=st.integers(0, 3), escalated=st.booleans(), mtm=st.one_of(st.none(), st.just("e.m")))
def test_a_prompt_read_from_a_row_is_the_constructed_prompt(status: str, next_at: datetime | None,
                                                           sent_at: datetime | None, answers: dict[str, int] | None,
                                                           deliveries: int, escalated: bool, mtm: str | None) -> None:
    due = datetime(2027, 6, 8, 9, tzinfo=UTC)
    row = SimpleNamespace(id="e.s", enrollment_id="e", step_id="s", recipient_id="p", status=status, due_at=due,
                          next_at=next_at, mtm_id=mtm, reminders_sent=1, escalated=escalated, answers=answers,
                          sent_at=sent_at, answered_at=None, deliveries=deliveries, last_delivery_key="e.s:1")
    fast = prompt_state(row)
    same(fast, PromptState("e.s", "e", "s", "p", status, due, next_at, mtm, 1, escalated,  # type: ignore[arg-type]
                           dict(answers or {}), sent_at, None, deliveries, "e.s:1"))
    if answers is not None:
        assert fast.answers is not answers  # a copy: the row's dict is not shared


def person_row(pid: str, name: str, tz: str | None, days: str | None) -> SimpleNamespace:
    return SimpleNamespace(id=pid, name=name, platform_user_id="U" + pid, tz=tz, country="GB", subdivision=None,
                           work_days=days, work_start="08:00" if days else None, work_end="16:00" if days else None)


@given(name=TEXT, tz=st.one_of(st.none(), TEXT), days=st.sampled_from([None, "mon tue wed", "nonsense"]),
       manager=st.booleans(), leader=st.booleans(), notes=st.sampled_from([None, {}, {"consent": "yes"}]),
       events=st.sampled_from([{}, {"kickoff": "2027-06-15"}]))
def test_an_enrollment_read_from_rows_is_the_constructed_enrollment(name: str, tz: str | None, days: str | None,
                                                                    manager: bool, leader: bool,
                                                                    notes: dict[str, str] | None,
                                                                    events: dict[str, str]) -> None:
    person = person_row("p1", name, tz, days)
    boss = person_row("p2", "Ben Okafor", "Asia/Tokyo", None) if manager else None
    top = person_row("p3", "Dee", None, "mon") if leader else None
    row = SimpleNamespace(id="e1", journey_id="j", start=date(2027, 6, 14), events=events, status="active",
                          cohort="c", paused_at=None, notes=notes)
    shared: dict[str, Person] = {}
    for people in (None, shared, shared):  # built alone, then twice through one read's people
        fast = enrollment_state(row, person, boss, "Europe/Paris", top, people)
        built = EnrollmentState("e1", "j", Person(*plain(person, "Europe/Paris")),
                                Person(*plain(boss, "Europe/Paris")) if boss else None, date(2027, 6, 14),
                                {k: date.fromisoformat(v) for k, v in events.items()}, "active", "c", None,
                                Person(*plain(top, "Europe/Paris")) if top else None, dict(notes or {}))
        same(fast, built)
        same(fast.person, built.person)
    assert set(shared) == {"p1"} | ({"p2"} if manager else set()) | ({"p3"} if leader else set())
    again = enrollment_state(row, person, boss, "Europe/Paris", top, shared)
    assert again.person is shared["p1"]  # one read builds each person once


def plain(row: SimpleNamespace, default_tz: str) -> tuple[Any, ...]:
    """A person's fields as the constructor would be given them."""
    days, start, end = work_pattern(row)
    return (row.id, row.name or row.platform_user_id, row.tz or default_tz, row.country, row.subdivision, days,
            start, end)
