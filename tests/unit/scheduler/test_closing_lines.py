"""The closing message's cohort line (scheduler/results.py `closing_lines`): every member gets the
line their own calendar and zone give, and a cohort's figures are worked out once per calendar and
zone, not once per member (a 1,000-person closing wave walked the cohort's events 1,000 times)."""

from __future__ import annotations

from datetime import date
from typing import Any

from journeys import timekeeping
from journeys.definition import Journey
from journeys.evaluation.scorecards import cohort_achievement, team_figures
from journeys.evaluation.success_case import MIN_GROUP
from journeys.state import EnrollmentState, Person, PromptState
from scheduler import results
from tests.unit.journeys.test_scorecards import NOW, Log, supported_team

ZONES = ["Europe/London", "Asia/Tokyo", "America/New_York"]
IDS = [f"e{i}" for i in range(9)]


class _Rows:
    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    async def cohort_rows(self, cohort: str, *, without_unenrolled: bool = False) -> list[Any]:
        return [type("Row", (), {"id": i})() for i in self.ids] if cohort == "spring" else []


class _Events:
    def __init__(self, log: Log) -> None:
        self.log = log

    async def of_enrollments(self, ids: list[str]) -> list[Any]:
        return [e for e in self.log.events if e.enrollment_id in set(ids)]


class _Uow:
    def __init__(self, log: Log) -> None:
        self.enrollments = _Rows(IDS)
        self.events = _Events(log)


async def test_each_member_gets_their_zones_line_and_the_figures_are_computed_once_per_zone(
        journey: Journey, monkeypatch: Any) -> None:
    log = Log()
    supported_team(log, IDS, [True, False, True, True, False, True, False, True, True])
    people = {eid: Person(f"p{eid}", f"Person {eid}", tz=ZONES[i % len(ZONES)]) for i, eid in enumerate(IDS)}
    enrollments = [EnrollmentState(eid, journey.id, people[eid], None, date(2027, 4, 12), cohort="spring")
                   for eid in IDS]
    closing = [PromptState(f"{eid}.close", eid, "close", people[eid].id, "scheduled", NOW, NOW) for eid in IDS]
    calls: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(kwargs["tz"]))
        return team_figures(*args, **kwargs)

    monkeypatch.setattr(results, "team_figures", counted)
    lines = await results.closing_lines(_Uow(log), {journey.id: journey}, enrollments, closing,  # type: ignore[arg-type]
                                        NOW, MIN_GROUP)

    for eid in IDS:
        person = people[eid]
        expected = cohort_achievement(team_figures(journey, log.events, IDS, as_of=NOW,
                                                   calendar=timekeeping.calendar_for(journey, person),
                                                   tz=timekeeping.tz_of(journey, person)), MIN_GROUP)
        assert expected is not None
        assert lines[eid] == expected
    assert "cohort of 9 practised 6 moments that matter" in lines["e0"]
    assert sorted(calls) == sorted(ZONES)  # once per zone (one calendar here), not nine times
