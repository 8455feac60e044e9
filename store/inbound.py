"""Inbound idempotency outside a plain message's own transaction: admin commands.

A slash command Slack redelivers, or a Teams activity sent twice, carries the same key; the first
claim inserts it into the same `inbound` table plain messages use, later claims find it there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from store.db import Database
from store.models import InboundRow
from store.repo import _insert


async def claim_inbound(db: Database, key: str, person_id: str | None, now: datetime) -> bool:
    """True the first time `key` is seen; False for a replay (nothing should run again)."""
    async with db.write(urgent=True) as s:
        inserted = await s.execute(
            _insert(s)(InboundRow).values(key=key, person_id=person_id, at=now)
            .on_conflict_do_nothing(index_elements=["key"]))
        return bool(inserted.rowcount)


async def release_inbound(db: Database, key: str) -> None:
    """Forget a claim whose command was refused: bad input changes nothing, not even this table."""
    async with db.write() as s:
        await s.execute(delete(InboundRow).where(InboundRow.key == key))


__all__ = ["claim_inbound", "release_inbound"]
