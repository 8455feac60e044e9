"""The tick's part for the cohort roles: the facilitator's brief and progress, and the leader's
endorsement in the welcome. journeys/facilitator.py and journeys/endorsement.py decide; this loads
and saves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from journeys import facilitator
from journeys.definition import Journey
from journeys.endorsement import welcome_step
from journeys.state import Endorsement, EnrollmentState, Outcome, PromptState
from store.uow import AbstractUnitOfWork, UnitsOfWork


async def with_endorsements(uow: AbstractUnitOfWork, library: Mapping[str, Journey], rows: Sequence[PromptState],
                            enrollments: dict[str, EnrollmentState]) -> dict[str, EnrollmentState]:
    """The enrollments whose welcome is due now, with their leader's endorsement if there is one
    (read at send time: a welcome sent after the endorsement quotes it, earlier ones stay)."""
    wanted: dict[str, tuple[str, str]] = {}
    for r in rows:
        e = enrollments.get(r.enrollment_id)
        journey = library.get(e.journey_id) if e else None
        if e is not None and journey is not None and e.leader is not None and r.step_id == welcome_step(journey):
            wanted[e.id] = (e.leader.id, e.journey_id)
    if not wanted:
        return enrollments
    found = await uow.endorsements.of_leaders(wanted.values())
    out = dict(enrollments)
    for eid, pair in wanted.items():
        got = found.get(pair)
        leader = enrollments[eid].leader
        if got is not None and leader is not None:
            out[eid] = replace(enrollments[eid], endorsement=Endorsement(leader.name, got.text))
    return out


async def process_facilitators(units: UnitsOfWork, library: Mapping[str, Journey], now: datetime, *,
                               min_group: int) -> int:
    """Queue the facilitators' briefs and progress messages that are due; returns how many."""
    sent = 0
    async with units() as uow:
        for role in await uow.cohort_roles.due(now):
            journey = library.get(role.journey_id)
            people = await uow.people.states([role.person_id])
            person = people.get(role.person_id)
            if journey is None or person is None:
                await uow.cohort_roles.reschedule(role, facilitator.DONE, None)
                continue
            ids = [r.id for r in await uow.enrollments.cohort_rows(role.cohort, without_unenrolled=True)
                   if r.journey_id == role.journey_id]
            states = list((await uow.enrollments.states(ids)).values())
            view = facilitator.CohortView(role.cohort, states, await uow.mtms.of_enrollments(ids),
                                          await uow.prompts.of_enrollments(ids) if ids else [])
            stage = facilitator.BRIEF if role.stage == facilitator.BRIEF else \
                facilitator.PROGRESS if role.stage == facilitator.PROGRESS else facilitator.DONE
            decision = facilitator.decide(journey, person, stage, view, now, min_group=min_group)
            if decision.outgoing is not None:
                sent += await uow.queue(Outcome(outgoing=[decision.outgoing]), now)
            await uow.cohort_roles.reschedule(role, decision.stage, decision.next_at)
        await uow.commit()
    return sent
