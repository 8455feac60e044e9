"""Making someone a cohort's workshop facilitator (the `enroll … facilitator` command and the CSV
import's `facilitator_email` column): when their brief is first due, saved with an audit entry.
What they receive is decided in journeys/facilitator.py, sent by scheduler/roles.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from journeys import facilitator, timekeeping
from journeys.definition import Journey
from store.cohort_roles import CohortRole
from store.people import PersonRecord
from store.uow import AbstractUnitOfWork, UnitsOfWork


@dataclass(frozen=True)
class Assigned:
    cohort: str
    people: int  # the cohort's live enrollments in the journey
    stage: str
    next_at: datetime | None
    workshop: date | None
    replaced: str | None  # the facilitator they replaced (a person id), if any
    tz: ZoneInfo


async def assign(units: UnitsOfWork, journey: Journey, cohort: str, person_id: str, now: datetime,
                 actor_id: str | None) -> Assigned | None:
    """`person_id` facilitates `cohort` of `journey` from now on; None when the cohort has nobody
    in that journey (nothing is saved)."""
    async with units() as uow:
        ids = [r.id for r in await uow.enrollments.cohort_rows(cohort, without_unenrolled=True)
               if r.journey_id == journey.id]
        states = list((await uow.enrollments.states(ids)).values())
        person = (await uow.people.states([person_id])).get(person_id)
        if not states or person is None:
            return None
        day = facilitator.workshop_day(journey, states)
        first, next_at = facilitator.first_due(journey, person, day, now)
        before = await uow.cohort_roles.assign(journey.id, cohort, person_id, first, next_at, now)
        stage: str = first
        if before is not None and before.person_id == person_id:  # the same person again: unchanged
            stage, next_at = before.stage, before.next_at
        uow.audit.record(now, actor_id, "facilitator", person_id, {"journey": journey.id, "cohort": cohort})
        await uow.commit()
    live = sum(1 for e in states if e.status in facilitator.LIVE)
    return Assigned(cohort, live, stage, next_at, day,
                    before.person_id if before is not None and before.person_id != person_id else None,
                    timekeeping.tz_of(journey, person))


def assigned_line(journey: Journey, name: str, a: Assigned) -> str:
    """What the admin is told: who, when their brief goes, and what they will (not) see."""
    when = timekeeping.format_local(a.next_at, a.tz) if a.next_at else ""
    if a.stage == facilitator.BRIEF:
        plan = (f"their brief goes out {when}, before the workshop on "
                f"{timekeeping.format_day(a.workshop)}" if a.workshop else f"their brief goes out {when}")
        plan += "; the cohort's progress follows a week after it"
    elif a.stage == facilitator.PROGRESS:
        plan = f"the workshop has passed, so they get the cohort's progress {when}"
    else:
        plan = "nothing is left to send them"
    return (f"Facilitator of `{a.cohort}` ({a.people} {'person' if a.people == 1 else 'people'} in {journey.title}): "
            f"{name}; {plan}. They see counts and themes only, never names or what people wrote.")


_STAGES: dict[str, str] = {facilitator.BRIEF: "brief", facilitator.PROGRESS: "progress"}


async def status_lines(uow: AbstractUnitOfWork, library: dict[str, Journey], cohort: str) -> list[str]:
    """`status <cohort>`: who facilitates it and what of theirs is still to go, in their time."""
    roles: list[CohortRole] = await uow.cohort_roles.in_cohort(cohort)
    people: dict[str, PersonRecord] = await uow.people.by_ids([r.person_id for r in roles])
    lines = []
    for r in roles:
        who = people.get(r.person_id)
        journey = library.get(r.journey_id)
        if who is None or journey is None:
            continue
        state = uow.people.state(who)
        step = _STAGES.get(r.stage)
        when = (f"their {step} is due {timekeeping.format_local(r.next_at, timekeeping.tz_of(journey, state))}"
                if step and r.next_at else "brief and progress sent")
        lines.append(f"Facilitator: {who.name or who.platform_user_id} ({journey.title}); {when}.")
    return lines
