"""The outbox's rows: claimed under a lease, settled by the lease holder only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from store import hotpath
from store.mappers import as_utc, outbox_item
from store.models import OUTBOX_LIVE, HeartbeatRow, OutboxRow
from store.records import OutboxItem, Settlement

_O = cast(Table, OutboxRow.__table__)
# built once: a grouped card's update reads its delivered card on every report's Done
_BY_KEYS = select(*_O.c).where(_O.c.key.in_(bindparam("keys", expanding=True)))
_ROW_READER = hotpath.RowReader(_O, [c.name for c in _O.columns])  # the same read on SQLite's driver


class OutboxRepository:
    def __init__(self, session: AsyncSession, skip_locked: bool) -> None:
        self._s = session
        self._skip_locked = skip_locked

    async def claim(self, now: datetime, limit: int, *, lease_until: datetime, owner: str) -> list[OutboxItem]:
        """Due rows (and rows whose sender's lease ran out, now in doubt), leased to `owner`, as claimed."""
        if hotpath.fast(self._s):
            return await _claim_on_driver(self._s, now, limit, lease_until, owner)
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
        if hotpath.fast(self._s):
            rows: Sequence[Any] = await _ROW_READER.by_ids(self._s, sorted(wanted), key="key")
        else:
            rows = (await self._s.execute(_BY_KEYS, {"keys": sorted(wanted)})).all()
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
        if hotpath.fast(self._s):
            # One settle per row sent (the busiest write of a burst or an outage): the same UPDATE
            # as below on the driver, without building and compiling a statement each time.
            await hotpath.run_sql(self._s, _settle_sql(tuple(values)),
                                 (*(_ENCODE[c](v) for c, v in values.items()), row_id, owner))
            return
        # PostgreSQL: a Core UPDATE kept per column set (no ORM bulk-update machinery, no statement
        # built per row; SQLAlchemy's compiled cache and asyncpg's prepared statement do the rest)
        await self._s.execute(_settle_statement(tuple(values)),
                              {**{f"v_{c}": v for c, v in values.items()}, "w_id": row_id, "w_owner": owner})

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


_OUTBOX = cast(Table, OutboxRow.__table__)
_ENCODE = {c.name: hotpath.encoder_of(_OUTBOX, c.name) for c in _OUTBOX.columns}
_SETTLE_SQL: dict[tuple[str, ...], str] = {}


_CLAIMED = hotpath.RowReader(_OUTBOX, [c.name for c in _OUTBOX.columns])
_CLAIM_WHERE = (f"{OUTBOX_LIVE} AND ((state = 'pending' AND next_attempt_at <= ?) "
                "OR (state = 'sending' AND lease_until < ?)) ORDER BY next_attempt_at, id LIMIT ?")
_CLAIM_SET = "UPDATE outbox SET state = 'sending', in_doubt = ?, lease_until = ?, lease_owner = ?, attempts = ? WHERE id = ?"


async def _claim_on_driver(session: AsyncSession, now: datetime, limit: int, lease_until: datetime,
                           owner: str) -> list[OutboxItem]:
    """`claim` on SQLite's driver: the same rows in the same order (one dispatcher at a time holds
    SQLite's claim, so no row lock is needed), the same changes, without ORM objects per row."""
    at = hotpath.sqlite_datetime(now)
    rows = await _CLAIMED.where(session, _CLAIM_WHERE, (at, at, limit))
    if not rows:
        return []
    claimed = [r._replace(in_doubt=r.in_doubt or r.state == "sending", state="sending", lease_until=lease_until,
                          lease_owner=owner, attempts=r.attempts + 1) for r in rows]
    until = hotpath.sqlite_datetime(lease_until)
    params = [(int(bool(r.in_doubt)), until, owner, r.attempts, r.id) for r in claimed]
    await hotpath.run_many(session, _CLAIM_SET, params)
    return [outbox_item(r) for r in claimed]


_SETTLE_STATEMENTS: dict[tuple[str, ...], Update] = {}


def _settle_statement(columns: tuple[str, ...]) -> Update:
    stmt = _SETTLE_STATEMENTS.get(columns)
    if stmt is None:
        stmt = _SETTLE_STATEMENTS[columns] = (
            update(_OUTBOX).where(_OUTBOX.c.id == bindparam("w_id"), _OUTBOX.c.lease_owner == bindparam("w_owner"))
            .values({c: bindparam(f"v_{c}") for c in columns}))
    return stmt


def _settle_sql(columns: tuple[str, ...]) -> str:
    """`settle`'s UPDATE for one set of columns (a handful of sets in all), kept for the process."""
    sql = _SETTLE_SQL.get(columns)
    if sql is None:
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        sql = _SETTLE_SQL[columns] = f"UPDATE outbox SET {sets} WHERE id = ? AND lease_owner = ?"
    return sql
