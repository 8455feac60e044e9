"""A cohort's facilitator (when their brief and the cohort's progress are due) and senior leaders'
endorsements of a journey: the two rows the facilitator and sponsor roles add."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import CohortRoleRow, EndorsementRow
from store.sql import dialect_insert

FACILITATOR = "facilitator"


@dataclass(frozen=True)
class CohortRole:
    journey_id: str
    cohort: str
    role: str
    person_id: str
    stage: str  # brief | progress | done
    next_at: datetime | None


@dataclass(frozen=True)
class EndorsementRecord:
    leader_id: str
    journey_id: str
    text: str | None
    at: datetime


def _role(r: CohortRoleRow) -> CohortRole:
    return CohortRole(r.journey_id, r.cohort, r.role, r.person_id, r.stage, r.next_at)


class CohortRolesRepository:
    def __init__(self, session: AsyncSession, skip_locked: bool) -> None:
        self._s = session
        self._skip_locked = skip_locked

    async def assign(self, journey_id: str, cohort: str, person_id: str, stage: str, next_at: datetime | None,
                     now: datetime, role: str = FACILITATOR) -> CohortRole | None:
        """Make `person_id` the cohort's one holder of `role` (replacing any other); returns the
        holder it replaced, if any (the same person again keeps their schedule)."""
        before = await self.of_cohort(journey_id, cohort, role)
        if before is not None and before.person_id == person_id:
            return before
        stmt = dialect_insert(self._s)(CohortRoleRow).values(
            journey_id=journey_id, cohort=cohort, role=role, person_id=person_id, assigned_at=now,
            stage=stage, next_at=next_at)
        await self._s.execute(stmt.on_conflict_do_update(
            index_elements=["journey_id", "cohort", "role"],
            set_={"person_id": person_id, "assigned_at": now, "stage": stage, "next_at": next_at}))
        return before

    async def of_cohort(self, journey_id: str, cohort: str, role: str = FACILITATOR) -> CohortRole | None:
        row = (await self._s.execute(select(CohortRoleRow).where(
            CohortRoleRow.journey_id == journey_id, CohortRoleRow.cohort == cohort,
            CohortRoleRow.role == role))).scalars().first()
        return _role(row) if row is not None else None

    async def in_cohort(self, cohort: str) -> list[CohortRole]:
        """Every role in a cohort (of whichever journey: `status <cohort>`)."""
        return [_role(r) for r in (await self._s.execute(select(CohortRoleRow).where(
            CohortRoleRow.cohort == cohort).order_by(CohortRoleRow.journey_id, CohortRoleRow.role))).scalars().all()]

    async def due(self, now: datetime, limit: int = 200) -> list[CohortRole]:
        """Roles whose next message is due, claimed for this transaction (`reschedule` each)."""
        stmt = select(CohortRoleRow).where(CohortRoleRow.next_at.is_not(None), CohortRoleRow.next_at <= now
                                           ).limit(limit)
        if self._skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return [_role(r) for r in (await self._s.execute(stmt)).scalars().all()]

    async def reschedule(self, role: CohortRole, stage: str, next_at: datetime | None) -> None:
        await self._s.execute(update(CohortRoleRow).where(
            CohortRoleRow.journey_id == role.journey_id, CohortRoleRow.cohort == role.cohort,
            CohortRoleRow.role == role.role).values(stage=stage, next_at=next_at))


class EndorsementsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(self, leader_id: str, journey_id: str, text: str | None, now: datetime) -> None:
        """The leader's endorsement (a second one replaces the first: welcomes from now on quote it)."""
        stmt = dialect_insert(self._s)(EndorsementRow).values(leader_id=leader_id, journey_id=journey_id,
                                                              text=text, at=now)
        await self._s.execute(stmt.on_conflict_do_update(index_elements=["leader_id", "journey_id"],
                                                         set_={"text": text, "at": now}))

    async def of_leaders(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], EndorsementRecord]:
        """(leader id, journey id) -> their endorsement, for those who gave one."""
        wanted = set(pairs)
        leaders = {lid for lid, _ in wanted}
        if not leaders:
            return {}
        rows = (await self._s.execute(select(EndorsementRow).where(EndorsementRow.leader_id.in_(leaders)))
                ).scalars().all()
        return {(r.leader_id, r.journey_id): EndorsementRecord(r.leader_id, r.journey_id, r.text, r.at)
                for r in rows if (r.leader_id, r.journey_id) in wanted}
