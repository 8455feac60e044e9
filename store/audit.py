"""Who may administer, who did what (audit, by id only), and which inbound actions were seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.mappers import audit_entry
from store.models import AdminRow, AuditRow, InboundRow, PersonRow
from store.people import PersonRecord, record
from store.records import AuditEntry
from store.sql import dialect_insert

_CLAIM: dict[Any, Any] = {}  # the inbound claim statement, built once per dialect
_ADMIN_BY_PERSON = select(AdminRow.person_id).where(AdminRow.person_id == bindparam("id"))


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def record(self, now: datetime, actor_id: str | None, action: str, target_id: str | None,
               detail: dict[str, Any] | None = None) -> None:
        """One audit row, written with the unit of work: ids only, never names or content."""
        self._s.add(AuditRow(at=now, actor_id=actor_id, action=action, target_id=target_id, detail=detail or {}))

    async def latest(self, limit: int) -> list[AuditEntry]:
        return [audit_entry(r) for r in (await self._s.execute(select(AuditRow).order_by(AuditRow.id.desc())
                                                                .limit(limit))).scalars().all()]


class AdminsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def contains(self, person_id: str) -> bool:
        return (await self._s.execute(_ADMIN_BY_PERSON, {"id": person_id})).first() is not None

    def grant(self, person_id: str, granted_by: str | None, now: datetime) -> None:
        self._s.add(AdminRow(person_id=person_id, granted_by=granted_by, granted_at=now))

    async def revoke(self, person_id: str) -> None:
        await self._s.execute(delete(AdminRow).where(AdminRow.person_id == person_id))

    async def count(self) -> int:
        return int((await self._s.execute(select(func.count()).select_from(AdminRow))).scalar_one())

    async def listing(self) -> list[tuple[PersonRecord, datetime]]:
        """Every admin with when they became one, earliest first."""
        people = cast(Table, PersonRow.__table__)
        rows = (await self._s.execute(select(people, AdminRow.granted_at.label("hplj_granted_at"))
                                      .join(AdminRow, AdminRow.person_id == people.c.id)
                                      .order_by(AdminRow.granted_at))).all()
        return [(record(r), r.hplj_granted_at) for r in rows]


class InboundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def claim(self, key: str, person_id: str, now: datetime) -> bool:
        """Record an inbound action; False when it was seen before (a retried request)."""
        insert = dialect_insert(self._s)
        stmt = _CLAIM.get(insert)
        if stmt is None:
            stmt = _CLAIM[insert] = insert(InboundRow).on_conflict_do_nothing(index_elements=["key"])
        result = await (await self._s.connection()).execute(stmt, {"key": key, "person_id": person_id,
                                                                         "at": now})
        return bool(result.rowcount)

    async def release(self, key: str) -> None:
        """Forget a claim whose command was refused: bad input changes nothing, not even this table."""
        await self._s.execute(delete(InboundRow).where(InboundRow.key == key))
