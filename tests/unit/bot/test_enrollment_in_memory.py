"""Enrolling people (bot/services/enrollment.py) as a service on units of work in memory: who is
enrolled, who is already in or opted out, what gets scheduled, and that a failed enrollment
leaves nothing behind. (With a manager the service also plans digests, which live only on a
database: these enrollments have none.)"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.services.clock import SimulatedClock
from bot.services.enrollment import Enrollment
from journeys.ending import CLOSE_STEP
from journeys.loader import default_library_path, load_library
from store.memory import InMemoryUnitsOfWork

NOW = datetime(2027, 3, 29, 8, tzinfo=UTC)
START = date(2027, 4, 12)


async def world() -> tuple[Enrollment, InMemoryUnitsOfWork, dict[str, str]]:
    units = InMemoryUnitsOfWork()
    async with units() as uow:
        ids = {name: await uow.people.add("slack", f"U-{name}", NOW, name=name.title(), tz="Europe/London")
               for name in ("ana", "chen", "olu")}
        await uow.people.change(ids["olu"], opted_out_at=NOW)
        await uow.commit()
    return Enrollment(units, load_library(default_library_path()), SimulatedClock(NOW)), units, ids


async def test_enroll_schedules_the_journey_once_per_person_and_skips_who_opted_out() -> None:
    enrollment, units, ids = await world()
    result = await enrollment.enroll("active-listening", [ids["ana"], ids["chen"], ids["olu"]], None, START,
                                     cohort="spring", actor_id=ids["chen"])
    assert sorted(pid for pid, _ in result.enrolled) == sorted([ids["ana"], ids["chen"]])
    assert result.opted_out == [ids["olu"]] and result.already == [] and result.cohort == "spring"
    state = units.state
    assert {(e.person_id, e.status, e.cohort, e.start) for e in state.enrollments.values()} == {
        (ids["ana"], "active", "spring", START), (ids["chen"], "active", "spring", START)}
    sent = [p for p in state.prompts.values() if p.step_id != CLOSE_STEP]
    assert result.prompts == len(sent) > 0  # what people will get; each also has its closing prompt
    assert sorted(p.enrollment_id for p in state.prompts.values() if p.step_id == CLOSE_STEP) == sorted(
        eid for _, eid in result.enrolled)
    assert all(p.recipient_id in (ids["ana"], ids["chen"]) and p.due_at > NOW for p in sent)
    assert [(a.action, a.target_id) for a in state.audit] == [("enroll", pid) for pid, _ in result.enrolled]

    again = await enrollment.enroll("active-listening", [ids["ana"]], None, START)
    assert again.enrolled == [] and again.already == [(ids["ana"], START)] and again.prompts == 0
    assert len(state.enrollments) == 2  # nobody twice


async def test_an_unknown_journey_or_person_changes_nothing() -> None:
    enrollment, units, ids = await world()
    with pytest.raises(KeyError):
        await enrollment.enroll("no-such-journey", [ids["ana"]], None, START)
    with pytest.raises(KeyError):  # the second person does not exist: the first is not kept either
        await enrollment.enroll("active-listening", [ids["ana"], "p_missing"], None, START)
    assert units.state.enrollments == {} and units.state.prompts == {} and units.state.audit == []
