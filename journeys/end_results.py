"""When the end-of-journey results go out, and to whom: the scheduler's decisions after the weekly
digests stop (the style of `journeys/schedule.py`: `now` and what was loaded in, a decision out).

- A manager's digest row, once none of their people is still in the journey: their scorecard
  (`journeys/evaluation/scorecards.py`), when their latest cohort has ended, then no more.
- A senior leader's row, once everyone below them has completed: first the scorecards of the
  managers below them (in place of a last weekly digest), then the final digest
  (`journeys/evaluation/final_digest.py`) after the follow-up survey and the interviews, then
  no more.

Everything goes in the recipient's working hours (the scheduler asks `schedule.closed_until`
first); until it is time, the row looks again each working morning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from journeys import timekeeping
from journeys.definition import Journey
from journeys.evaluation.scorecards import (
    Scope,
    TeamFigures,
    choose_scope,
    leader_scorecard,
    manager_scorecard,
    team_figures,
)
from journeys.messages import Message, Outgoing
from journeys.schedule import DigestDecision
from journeys.state import JourneyEvent, Person

LIVE = ("active", "paused")


@dataclass(frozen=True)
class Team:
    """One manager's people in a journey: (enrollment id, cohort, start, status) each, and the
    statuses of everyone in those cohorts."""

    manager_id: str
    name: str
    rows: Sequence[tuple[str, str, str, str]]  # (enrollment id, cohort, start ISO date, status)
    cohorts: Mapping[str, Sequence[tuple[str, str]]] = field(default_factory=dict)  # cohort -> (id, status)

    @property
    def latest(self) -> str:
        """The cohort of their most recently started enrollment."""
        return max(self.rows, key=lambda r: (r[2], r[1]))[1] if self.rows else ""

    @property
    def by_cohort(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for eid, cohort, _, _ in self.rows:
            out.setdefault(cohort, []).append(eid)
        return out

    def scope(self, min_group: int) -> Scope:
        return choose_scope({c: len(ids) for c, ids in self.by_cohort.items()}, self.latest, min_group)

    def ended(self) -> bool:
        """Nobody of theirs is in the journey any more, and their latest cohort has ended."""
        return (bool(self.rows) and not any(status in LIVE for *_, status in self.rows)
                and not any(status in LIVE for _, status in self.cohorts.get(self.latest, ())))

    def ids(self, scope: Scope) -> tuple[list[str], list[str]]:
        """(their enrollments, everyone's) in the scope's cohorts."""
        mine = [eid for eid, cohort, _, _ in self.rows if cohort in scope.cohorts]
        everyone = [eid for c in scope.cohorts for eid, _ in self.cohorts.get(c, ())]
        return mine, everyone


def _figures(journey: Journey, person: Person, events: list[JourneyEvent], ids: Iterable[str],
             now: datetime) -> TeamFigures:
    return team_figures(journey, events, set(ids), as_of=now, calendar=timekeeping.calendar_for(journey, person),
                        tz=timekeeping.tz_of(journey, person))


def scorecard_key(recipient: Person, journey: Journey, cohort: str) -> str:
    return f"scorecard:{recipient.id}:{journey.id}:{cohort}"


def manager_end(journey: Journey, manager: Person, team: Team, events: Iterable[JourneyEvent], now: datetime, *,
                min_group: int) -> DigestDecision:
    """A manager's row with nobody of theirs left in the journey: the scorecard once the latest
    cohort has ended (else look again the next working morning); no people at all: drop."""
    if not team.rows:
        return DigestDecision(None, drop=True)
    if not team.ended():
        cal, tz = timekeeping.calendar_for(journey, manager), timekeeping.tz_of(journey, manager)
        return DigestDecision(cal.next_working_morning(now, tz))
    scope = team.scope(min_group)
    mine, everyone = team.ids(scope)
    events = list(events)
    card = manager_scorecard(journey, manager, _figures(journey, manager, events, mine, now),
                             _figures(journey, manager, events, everyone, now), scope, min_group)
    return DigestDecision(None, _outgoing(scorecard_key(manager, journey, team.latest), card, journey))


def _outgoing(key: str, message: Message, journey: Journey) -> Outgoing:
    return Outgoing(key, message, journey_id=journey.id)


def leader_scorecard_decision(journey: Journey, leader: Person, teams: Sequence[Team],
                              events: Iterable[JourneyEvent], now: datetime, *, min_group: int) -> DigestDecision:
    """The scorecards of the managers below a leader, once every one of their latest cohorts has
    ended; then the row looks again the next working morning (for the final digest)."""
    cal, tz = timekeeping.calendar_for(journey, leader), timekeeping.tz_of(journey, leader)
    morning = cal.next_working_morning(now, tz)
    teams = [t for t in teams if t.rows]
    if not teams or not all(t.ended() for t in teams):
        return DigestDecision(morning)
    events = list(events)
    cards: list[tuple[str, TeamFigures, Scope]] = []
    everyone: set[str] = set()
    for t in teams:
        scope = t.scope(min_group)
        mine, all_ids = t.ids(scope)
        everyone |= set(all_ids)
        cards.append((t.name, _figures(journey, leader, events, mine, now), scope))
    message = leader_scorecard(journey, leader, cards, _figures(journey, leader, events, everyone, now), min_group)
    return DigestDecision(morning, _outgoing(leader_scorecard_key(leader, journey, teams), message, journey))


def leader_scorecard_key(leader: Person, journey: Journey, teams: Sequence[Team]) -> str:
    return scorecard_key(leader, journey, "+".join(sorted({t.latest for t in teams if t.rows})))


def final_key(leader: Person, journey: Journey, teams: Sequence[Team]) -> str:
    return f"final-digest:{leader.id}:{journey.id}:" + "+".join(sorted({t.latest for t in teams if t.rows}))
