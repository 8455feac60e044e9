"""Enrolling people in a journey: their rows, the engine's first schedule, the manager's digest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.services.clock import Clock
from journeys import before_phase, engine, lifecycle, timekeeping
from journeys.definition import Journey
from journeys.kickoff import brief_at
from journeys.state import EnrollmentState, Outcome, PromptState
from store.people import PersonRecord
from store.uow import AbstractUnitOfWork, UnitsOfWork


def cohort_name(journey_id: str, start: date, cohort: str | None) -> str:
    """The cohort's name: the one given, else the journey and its start date."""
    return cohort or f"{journey_id}-{start.isoformat()}"


@dataclass
class EnrollResult:
    enrolled: list[tuple[str, str]] = field(default_factory=list)  # (person id, enrollment id)
    already: list[tuple[str, date]] = field(default_factory=list)  # (person id, since)
    opted_out: list[str] = field(default_factory=list)
    prompts: int = 0
    cohort: str = ""
    compressed: list[str] = field(default_factory=list)  # before-phase steps whose time had passed


class Enrollment:
    def __init__(self, uow: UnitsOfWork, library: dict[str, Journey], clock: Clock,
                 default_tz: str = "UTC") -> None:
        self.uow = uow
        self.library = library
        self.clock = clock
        self.default_tz = default_tz

    async def enroll(self, journey_id: str, participant_ids: list[str], manager_id: str | None, start: date,
                     *, events: dict[str, date] | None = None, cohort: str | None = None,
                     actor_id: str | None = None) -> EnrollResult:
        """Everyone not already in the journey (and not opted out), in one transaction."""
        journey = self.library[journey_id]
        now = self.clock.now()
        cohort_name_ = cohort_name(journey_id, start, cohort)
        result = EnrollResult(cohort=cohort_name_)
        async with self.uow() as uow:
            people = await uow.people.by_ids([*participant_ids, *([manager_id] if manager_id else [])])
            existing = await uow.enrollments.open_in(journey_id, participant_ids)
            manager_row = people.get(manager_id or "")
            combined = Outcome()
            closings: list[PromptState] = []
            for pid in participant_ids:
                person = people[pid]
                if pid in existing:
                    result.already.append((pid, existing[pid]))
                    continue
                if person.opted_out_at is not None:
                    result.opted_out.append(pid)
                    continue
                eid = await uow.enrollments.add(journey_id=journey_id, version=journey.version, person_id=pid,
                                                manager_id=manager_id, start=start, events=dict(events or {}),
                                                cohort=cohort_name_, now=now)
                state = EnrollmentState(eid, journey_id, uow.people.state(person),
                                        uow.people.state(manager_row) if manager_row else None,
                                        start, dict(events or {}), "active", cohort_name_)
                result.compressed = result.compressed or before_phase.compressed_titles(journey, state, now)
                out = engine.schedule_enrollment(journey, state, now)
                out.enrollments.clear()  # the row was just added
                closing = lifecycle.closing_prompt(journey, state)
                combined.extend(out)
                closings.extend([closing] if closing is not None else [])
                result.enrolled.append((pid, eid))
                uow.audit.record(now, actor_id, "enroll", pid,
                                 {"enrollment": eid, "journey": journey_id, "cohort": cohort_name_})
            await uow.flush()
            result.prompts = len(combined.prompts)  # what people will get (the closing prompts are not sent)
            pending = await self._pending_cards(uow, journey_id, manager_id, cohort_name_,
                                                {eid for _, eid in result.enrolled}) if result.enrolled else []
            combined.prompts = before_phase.join_pending_card(journey, combined.prompts, pending, now)  # one card
            combined.prompts.extend(closings)
            await uow.save(combined, now)
            if manager_row is not None and journey.manager_digest is not None and result.enrolled:
                nxt = timekeeping.next_digest_at(journey, uow.people.state(manager_row), now)
                await uow.digests.ensure(manager_row.id, journey_id, nxt)
                await self._brief_leader(uow, journey, manager_row, start)
            await uow.commit()
        return result

    @staticmethod
    async def _pending_cards(uow: AbstractUnitOfWork, journey_id: str, manager_id: str | None, cohort: str,
                             new: set[str]) -> list[PromptState]:
        """The manager's own prompts for the reports already in this cohort (their expectations card
        may still be waiting: a report enrolled later joins it)."""
        if manager_id is None:
            return []
        ids = [i for i in await uow.enrollments.managed_open(manager_id, journey_id) if i not in new]
        same = [i for i, e in (await uow.enrollments.states(ids)).items() if e.cohort == cohort]
        return await uow.prompts.of_enrollments(same, recipient_id=manager_id) if same else []

    async def _brief_leader(self, uow: AbstractUnitOfWork, journey: Journey, manager_row: PersonRecord, start: date) -> None:
        """The manager's own manager gets their kickoff brief before the start (scheduler/tick.py)."""
        leaders = await uow.people.by_ids([manager_row.manager_id] if manager_row.manager_id else [])
        for lid, lrow in leaders.items():
            if lid == manager_row.id:
                continue
            due = brief_at(journey, uow.people.state(lrow), start)
            if due is not None:
                await uow.digests.ensure(lid, journey.id, max(due, self.clock.now()), kind="leader")
