"""Which digests are due (a manager's weekly digest, a senior leader's brief and digest), and the
scheduler's heartbeat."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.mappers import due_digest
from store.models import DigestRow, HeartbeatRow
from store.records import DigestKind, DueDigest
from store.sql import dialect_insert

_D = cast(Table, DigestRow.__table__)


class DigestsRepository:
    def __init__(self, session: AsyncSession, skip_locked: bool) -> None:
        self._s = session
        self._skip_locked = skip_locked

    async def due(self, now: datetime, limit: int = 200) -> list[DueDigest]:
        """Due digests, claimed for this transaction (`reschedule` or `drop` each to save)."""
        stmt = select(*_D.c).where(_D.c.next_at.is_not(None), _D.c.next_at <= now).limit(limit)
        if self._skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return [due_digest(r) for r in (await self._s.execute(stmt)).all()]

    async def ensure(self, recipient_id: str, journey_id: str, next_at: datetime | None,
                     kind: DigestKind = "manager") -> None:
        """A digest of this kind for this recipient and journey, unless there is a scheduled one (one
        left without a next time, after a final digest, is scheduled again)."""
        stmt = dialect_insert(self._s)(DigestRow).values(manager_id=recipient_id, journey_id=journey_id, kind=kind,
                                                        next_at=next_at, sent=0)
        await self._s.execute(stmt.on_conflict_do_update(index_elements=["manager_id", "journey_id", "kind"],
                                                         set_={"next_at": stmt.excluded.next_at},
                                                         where=DigestRow.next_at.is_(None)))

    async def reschedule(self, d: DueDigest, next_at: datetime | None, *, sent: int = 0) -> None:
        """Its next time (None: no more), and how many more it has sent."""
        await self._s.execute(update(_D).where(*self._key(d)).values(next_at=next_at, sent=_D.c.sent + sent))

    async def drop(self, d: DueDigest) -> None:
        await self._s.execute(delete(_D).where(*self._key(d)))

    @staticmethod
    def _key(d: DueDigest) -> tuple[ColumnElement[bool], ...]:
        return (_D.c.manager_id == d.recipient_id, _D.c.journey_id == d.journey_id, _D.c.kind == d.kind)


class HeartbeatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def beat(self, name: str, now: datetime, info: dict[str, object] | None = None) -> None:
        stmt = dialect_insert(self._s)(HeartbeatRow).values(name=name, at=now, info=info or {})
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"at": stmt.excluded.at,
                                                                          "info": stmt.excluded.info})
        await self._s.execute(stmt)

    async def last(self, name: str) -> datetime | None:
        """When `name` last beat."""
        return (await self._s.execute(select(HeartbeatRow.at).where(HeartbeatRow.name == name))).scalar()
