"""The end-of-journey results, loaded for the engine's decisions (journeys/end_results.py,
journeys/evaluation/final_digest.py, journeys/evaluation/scorecards.py): a manager's scorecard, a
senior leader's scorecards of their managers and final digest, and the line of each participant's
closing message about what the cohort achieved. Claims nothing itself: `scheduler/tick.py` hands
over the due digest row or closing prompts and saves what is decided."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from journeys import timekeeping
from journeys.definition import Journey, is_follow_up_survey
from journeys.end_results import (
    Team,
    final_key,
    leader_scorecard_decision,
    leader_scorecard_key,
    manager_end,
)
from journeys.evaluation.accountability import request_steps
from journeys.evaluation.final_digest import (
    Progress,
    final_digest,
    final_digest_due,
    follow_up_waiting,
    interview_progress,
    interviews_settled_at,
    settled_at,
)
from journeys.evaluation.followup import follow_up
from journeys.evaluation.interviews import verdicts
from journeys.evaluation.scorecards import TeamFigures, cohort_achievement, team_figures
from journeys.evaluation.stories import storied, story_lines
from journeys.evaluation.success_case import evaluate
from journeys.evaluation.value import business_figures
from journeys.messages import Outgoing
from journeys.schedule import DigestDecision, LeaderView
from journeys.state import EnrollmentState, JourneyEvent, Outcome, Person, PromptState
from scheduler.cohort_reads import recommendation_lines, stored_recommendations
from store.uow import AbstractUnitOfWork

LIVE = ("active", "paused")


async def _teams(uow: AbstractUnitOfWork, journey: Journey, managers: dict[str, str]) -> list[Team]:
    """Each manager's people in the journey, with their cohorts' statuses (`managers`: id -> name)."""
    rows = await uow.enrollments.under_managers(managers, journey.id)
    states = await uow.enrollments.states([eid for eid, _, _ in rows])
    cohorts: dict[str, list[tuple[str, str]]] = {}
    for c in sorted({s.cohort for s in states.values()}):
        cohorts[c] = [(r.id, r.status) for r in await uow.enrollments.cohort_rows(c, without_unenrolled=True)]
    teams = []
    for mid, name in managers.items():
        mine = [(eid, states[eid].cohort, states[eid].start.isoformat(), status)
                for eid, m, status in rows if m == mid and eid in states]
        teams.append(Team(mid, name, mine, {c: cohorts[c] for c in {r[1] for r in mine}}))
    return teams


async def manager_after_end(uow: AbstractUnitOfWork, journey: Journey, manager: Person, now: datetime,
                            min_group: int) -> DigestDecision:
    """A manager's row when none of their people is left in the journey: their scorecard."""
    (team,) = await _teams(uow, journey, {manager.id: manager.name})
    events: list[JourneyEvent] = []
    if team.ended():
        _, everyone = team.ids(team.scope(min_group))
        events = await uow.events.of_enrollments(everyone)
    return manager_end(journey, manager, team, events, now, min_group=min_group)


async def leader_after_end(uow: AbstractUnitOfWork, journey: Journey, leader: Person, view: LeaderView,
                           now: datetime, min_group: int,
                           weekly: Callable[[list[JourneyEvent]], DigestDecision]) -> DigestDecision:
    """A senior leader's row once everyone below them completed: the last weekly digest (`weekly`
    decides it from the organisation's events; one a week while other cohorts still run) and their
    managers' scorecards, then the final digest after the follow-up survey and the interviews, then
    none."""
    teams = await _teams(uow, journey, {m: view.names.get(m, "a manager") for m in view.org})
    teams = [t for t in teams if t.rows]
    if not teams:
        return DigestDecision(None, drop=True)
    card_key, last_key = leader_scorecard_key(leader, journey, teams), final_key(leader, journey, teams)
    sent = await uow.outbox.by_keys([card_key, last_key])
    if last_key in sent:
        return DigestDecision(None)
    if card_key not in sent:
        last = weekly(await uow.events.of_enrollments([eid for eid, _, _ in view.rows])).outgoing
        if last is not None:  # saved now: the row's own decision below carries the scorecard
            await uow.queue(Outcome(outgoing=[last]), now)
        scoped = {eid for t in teams for eid in t.ids(t.scope(min_group))[1]} if all(t.ended() for t in teams) else set()
        events = await uow.events.of_enrollments(sorted(scoped))
        return leader_scorecard_decision(journey, leader, teams, events, now, min_group=min_group)
    return await _final(uow, journey, leader, teams, now, min_group, last_key)


async def _final(uow: AbstractUnitOfWork, journey: Journey, leader: Person, teams: list[Team], now: datetime,
                 min_group: int, key: str) -> DigestDecision:
    cohorts = sorted({t.latest for t in teams})
    ids = sorted({eid for t in teams for eid, _ in t.cohorts.get(t.latest, ())})
    follow_steps = [s.id for s in journey.steps if is_follow_up_survey(s)]
    cal, tz = timekeeping.calendar_for(journey, leader), timekeeping.tz_of(journey, leader)
    prompts = [(p.status, p.sent_at) for p in await uow.prompts.of_enrollments(ids) if p.step_id in follow_steps]
    waiting, lapsed = follow_up_waiting(prompts, now, cal, tz, journey.ending.survey_open_days)
    events = await uow.events.of_enrollments(ids)
    invited, pending = interview_progress(events, now)
    statuses = [status for t in teams for _, status in t.cohorts.get(t.latest, ())]
    settled = max((t for t in (settled_at(events, follow_steps), lapsed) if t is not None), default=None)
    reviewed = all([await stored_recommendations(uow, c) is not None for c in cohorts])
    progress = Progress(not any(s in LIVE for s in statuses), waiting, settled, invited, pending, reviewed,
                        interviews_settled_at(events))
    due = final_digest_due(progress, now, cal, tz)
    if due is not None:
        return DigestDecision(due)
    ev = evaluate(events, enrollment_ids=ids, target=journey.target_impact_rate,
                  baseline=journey.baseline_impact_rate, min_group=min_group, request_steps=request_steps(journey),
                  as_of=now)
    verified, value = business_figures(journey, ev, events, ids)
    found = verdicts(events, ids)
    told = [v.enrollment_id for v in storied(found)]
    states = await uow.enrollments.states(told)
    people = await uow.enrollments.people_of(told)
    names = await uow.views.names(sorted({p for _, a, b in people for p in (a, b) if p}))
    who = {eid: [names.get(p or "", "") for p in (pid, mid)] for eid, pid, mid in people}
    stories, _ = story_lines(journey, found, {eid: s.notes for eid, s in states.items()}, who)
    message = final_digest(journey, leader, ev=ev, verified=verified, value=value,
                           later=follow_up(events, min_group, ids), stories=stories,
                           recommendations=await recommendation_lines(uow, journey, cohorts, ev, now), progress=progress,
                           cohorts=cohorts)
    return DigestDecision(None, Outgoing(key, message, journey_id=journey.id))


async def closing_lines(uow: AbstractUnitOfWork, library: dict[str, Journey], enrollments: Iterable[EnrollmentState],
                        close_rows: Sequence[PromptState], now: datetime, min_group: int) -> dict[str, str]:
    """enrollment id -> the line about what their cohort achieved, for closing prompts about to
    send their closing message (first firing only); none where the cohort is under the minimum."""
    first = {r.enrollment_id for r in close_rows if r.sent_at is None}
    chosen = [e for e in enrollments if e.id in first and e.cohort]
    out: dict[str, str] = {}
    for cohort in sorted({e.cohort for e in chosen}):
        ids = [r.id for r in await uow.enrollments.cohort_rows(cohort, without_unenrolled=True)]
        events = await uow.events.of_enrollments(ids)
        # The figures depend on the cohort and the reader's calendar and zone only: computed once
        # per calendar and zone, not once per member (a closing wave of a 1,000-person cohort
        # otherwise walked the cohort's events 1,000 times).
        figures_for: dict[tuple[str, int, object], TeamFigures] = {}
        for e in (x for x in chosen if x.cohort == cohort):
            journey = library.get(e.journey_id)
            if journey is None:
                continue
            cal, tz = timekeeping.calendar_for(journey, e.person), timekeeping.tz_of(journey, e.person)
            seen = (journey.id, id(cal), tz)
            figures = figures_for.get(seen)
            if figures is None:
                figures = figures_for[seen] = team_figures(journey, events, ids, as_of=now, calendar=cal, tz=tz)
            line = cohort_achievement(figures, min_group)
            if line:
                out[e.id] = line
    return out
