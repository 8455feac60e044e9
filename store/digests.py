"""Which weekly digests are due, and the scheduler's heartbeat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import DigestRow, HeartbeatRow
from store.sql import dialect_insert


class DigestsRepository:
    def __init__(self, session: AsyncSession, skip_locked: bool) -> None:
        self._s = session
        self._skip_locked = skip_locked

    async def due(self, now: datetime, limit: int = 200) -> Sequence[DigestRow]:
        """Due digest rows, claimed for this transaction; change `next_at`/`sent` on them to save."""
        stmt = select(DigestRow).where(DigestRow.next_at.is_not(None), DigestRow.next_at <= now).limit(limit)
        if self._skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return list((await self._s.execute(stmt)).scalars().all())

    async def ensure(self, recipient_id: str, journey_id: str, next_at: datetime | None) -> None:
        """A digest row for this recipient and journey, unless there is a scheduled one (a row left
        without a next time, after a final digest, is scheduled again)."""
        stmt = dialect_insert(self._s)(DigestRow).values(manager_id=recipient_id, journey_id=journey_id,
                                                        next_at=next_at, sent=0)
        await self._s.execute(stmt.on_conflict_do_update(index_elements=["manager_id", "journey_id"],
                                                         set_={"next_at": stmt.excluded.next_at},
                                                         where=DigestRow.next_at.is_(None)))

    async def drop(self, row: DigestRow) -> None:
        await self._s.execute(delete(DigestRow).where(DigestRow.manager_id == row.manager_id,
                                                      DigestRow.journey_id == row.journey_id))


class HeartbeatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def beat(self, name: str, now: datetime, info: dict[str, object] | None = None) -> None:
        stmt = dialect_insert(self._s)(HeartbeatRow).values(name=name, at=now, info=info or {})
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"at": stmt.excluded.at,
                                                                          "info": stmt.excluded.info})
        await self._s.execute(stmt)

    async def get(self, name: str) -> HeartbeatRow | None:
        return await self._s.get(HeartbeatRow, name)
