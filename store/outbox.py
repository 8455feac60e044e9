"""The outbox's rows: claimed under a lease, settled by the lease holder only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.mappers import as_utc, outbox_item
from store.models import OUTBOX_LIVE, HeartbeatRow, OutboxRow
from store.records import OutboxItem, Settlement


class OutboxRepository:
    def __init__(self, session: AsyncSession, skip_locked: bool) -> None:
        self._s = session
        self._skip_locked = skip_locked

    async def claim(self, now: datetime, limit: int, *, lease_until: datetime, owner: str) -> list[OutboxItem]:
        """Due rows (and rows whose sender's lease ran out, now in doubt), leased to `owner`, as claimed."""
        stmt = (
            select(OutboxRow)
            .where(text(OUTBOX_LIVE),  # the partial index ix_outbox_live
                   or_((OutboxRow.state == "pending") & (OutboxRow.next_attempt_at <= now),
                       (OutboxRow.state == "sending") & (OutboxRow.lease_until < now)))
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        if self._skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list((await self._s.execute(stmt)).scalars().all())
        for r in rows:
            if r.state == "sending":
                r.in_doubt = True  # its previous sender vanished mid-request
            r.state = "sending"
            r.lease_until = lease_until
            r.lease_owner = owner
            r.attempts += 1
        await self._s.flush()
        self._s.expunge_all()
        return [outbox_item(r) for r in rows]

    async def by_keys(self, keys: Iterable[str]) -> dict[str, OutboxItem]:
        wanted = {k for k in keys if k}
        if not wanted:
            return {}
        rows = (await self._s.execute(select(*OutboxRow.__table__.c).where(OutboxRow.key.in_(wanted)))).all()
        return {r.key: outbox_item(r) for r in rows}

    async def prompt_replied_to(self, recipient_id: str, message_id: str) -> str | None:
        """The prompt a delivered message to `recipient_id` carries, found by its platform message
        id (what a thread reply or a Teams Reply points at); None for any other message."""
        rows = (await self._s.execute(
            select(OutboxRow.payload).where(OutboxRow.recipient_id == recipient_id,
                                            OutboxRow.message_id == message_id[:128])
            .order_by(OutboxRow.id.desc()).limit(1))).scalars().all()
        pid = (rows[0] or {}).get("prompt_id") if rows else None
        return pid if isinstance(pid, str) and pid else None

    async def settle(self, row_id: int, owner: str, how: Settlement) -> None:
        """Only the lease holder may settle: a row re-claimed after our lease expired is not ours."""
        values: dict[str, Any] = {"state": how.state, "lease_until": None, "lease_owner": None, "error": how.error,
                                  "next_attempt_at": how.next_attempt_at, "ambiguous": how.ambiguous}
        if how.attempts is not None:
            values["attempts"] = max(0, how.attempts)
        if how.sent_at is not None:
            values.update(sent_at=how.sent_at, conversation_id=how.conversation_id, message_id=how.message_id,
                          in_doubt=False)
        if how.in_doubt is not None:
            values["in_doubt"] = how.in_doubt
        await self._s.execute(update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.lease_owner == owner)
                              .values(**values))

    async def mark_ambiguous(self, row_id: int, owner: str) -> None:
        """Record, before it leaves, that the one resend of a row in doubt is being spent."""
        await self._s.execute(update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.lease_owner == owner)
                              .values(ambiguous=True))

    async def renew(self, ids: Iterable[int], owner: str, lease_until: datetime) -> None:
        """Extend the leases `owner` still holds on these rows (a live sender keeps its rows)."""
        await self._s.execute(update(OutboxRow)
                              .where(OutboxRow.id.in_(list(ids)), OutboxRow.state == "sending",
                                     OutboxRow.lease_owner == owner)
                              .values(lease_until=lease_until))

    async def latest_waiting(self, recipients: Iterable[str]) -> dict[str, datetime]:
        """Per recipient, the latest time a row of theirs is waiting for: a backlog held for working
        hours is queued after it, so it goes out in order and spaced, not in one burst."""
        ids = list(set(recipients))
        if not ids:
            return {}
        rows = (await self._s.execute(
            select(OutboxRow.recipient_id, func.max(OutboxRow.next_attempt_at))
            .where(OutboxRow.recipient_id.in_(ids), OutboxRow.state == "pending")
            .group_by(OutboxRow.recipient_id))).all()
        return {r: as_utc(v) for r, v in rows if v is not None}

    async def due_count(self, now: datetime) -> int:
        """Rows a dispatcher would send at `now` (what `hplj tick` could not deliver, when it could not)."""
        return int((await self._s.execute(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.state == "pending", OutboxRow.next_attempt_at <= now))).scalar_one())

    async def counts(self) -> tuple[int, int]:
        """(backlog: pending or sending, failed)."""
        backlog = (await self._s.execute(select(func.count()).select_from(OutboxRow)
                                         .where(OutboxRow.state.in_(("pending", "sending"))))).scalar_one()
        failed = (await self._s.execute(select(func.count()).select_from(OutboxRow)
                                        .where(OutboxRow.state == "failed"))).scalar_one()
        return int(backlog), int(failed)

    async def hold_lock(self, name: str, owner: str, wall: datetime, ttl: timedelta) -> str | None:
        """Take or renew a process lock row; returns the live holder's name when someone else has it."""
        row = await self._s.get(HeartbeatRow, name)
        holder = (row.info or {}).get("owner") if row is not None else None
        if row is not None and holder not in (None, owner) and row.at > wall:
            return str(holder)
        until = wall + ttl
        if row is None:
            self._s.add(HeartbeatRow(name=name, at=until, info={"owner": owner}))
        else:
            row.at, row.info = until, {"owner": owner}
        return None

    async def release_lock(self, name: str, owner: str) -> None:
        row = await self._s.get(HeartbeatRow, name)
        if row is not None and (row.info or {}).get("owner") == owner:
            await self._s.delete(row)
