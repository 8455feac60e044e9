"""Lost access (an uninstall, a revoked token): the revocations, who they cut off, parked outbox rows."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AccessRevocationRow, AdminRow, OutboxRow, PersonRow
from store.people import PersonRecord
from store.people import record as person_record

PARKED = "parked"  # an outbox state: kept, never claimed, until access returns or the purge deletes it
WORKSPACE, PERSON = "workspace", "person"


@dataclass(frozen=True)
class Revocation:
    key: str
    platform: str
    scope: str  # WORKSPACE: every person of the platform (one installation serves one workspace)
    subject: str
    reasons: tuple[str, ...]
    revoked_at: datetime
    purge_at: datetime
    purged_at: datetime | None
    told: int
    credential: str | None = None

    def covers(self, person: PersonRecord) -> bool:
        if person.platform != self.platform:
            return False
        return self.scope == WORKSPACE or person.platform_user_id == self.subject


def revocation_key(platform: str, scope: str, subject: str) -> str:
    return f"{platform}:{scope}:{subject}"


def _revocation(row: AccessRevocationRow) -> Revocation:
    return Revocation(row.key, row.platform, row.scope, row.subject, tuple(row.reasons or ()), row.revoked_at,
                      row.purge_at, row.purged_at, row.told, row.credential)


class AccessRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(self, platform: str, scope: str, subject: str, reason: str, now: datetime,
                     purge_at: datetime, credential: str | None = None) -> tuple[Revocation, bool]:
        """Note that access is gone; (the revocation, True) the first time, (it, False) when it was
        already noted (the other event of a pair, a redelivery): only a new reason is added."""
        key = revocation_key(platform, scope, subject)
        row = await self._s.get(AccessRevocationRow, key, with_for_update=True)
        if row is not None and row.purged_at is None:
            if reason not in (row.reasons or []):
                row.reasons = [*(row.reasons or []), reason]
            await self._s.flush()
            return _revocation(row), False
        if row is None:
            row = AccessRevocationRow(key=key, platform=platform, scope=scope, subject=subject)
            self._s.add(row)
        row.reasons, row.revoked_at, row.purge_at, row.purged_at, row.told = [reason], now, purge_at, None, 0
        row.credential = credential
        await self._s.flush()
        return _revocation(row), True

    async def lift(self, platform: str, scope: str, subject: str) -> bool:
        """Access is back (a reinstall before the purge): True when a revocation was lifted."""
        return await self.lift_key(revocation_key(platform, scope, subject))

    async def lift_key(self, key: str) -> bool:
        row = await self._s.get(AccessRevocationRow, key)
        if row is None or row.purged_at is not None:
            return False
        await self._s.delete(row)
        return True

    async def told(self, key: str, count: int) -> None:
        await self._s.execute(update(AccessRevocationRow).where(AccessRevocationRow.key == key).values(told=count))

    async def active(self) -> list[Revocation]:
        """Revocations not purged yet (few: usually none)."""
        rows = (await self._s.execute(select(AccessRevocationRow).where(
            AccessRevocationRow.purged_at.is_(None)))).scalars().all()
        return [_revocation(r) for r in rows]

    async def all(self) -> list[Revocation]:
        rows = (await self._s.execute(select(AccessRevocationRow).order_by(
            AccessRevocationRow.revoked_at))).scalars().all()
        return [_revocation(r) for r in rows]

    async def due(self, now: datetime) -> list[Revocation]:
        rows = (await self._s.execute(select(AccessRevocationRow).where(
            AccessRevocationRow.purged_at.is_(None), AccessRevocationRow.purge_at <= now))).scalars().all()
        return [_revocation(r) for r in rows]

    async def purged(self, key: str, now: datetime) -> None:
        await self._s.execute(update(AccessRevocationRow).where(AccessRevocationRow.key == key)
                              .values(purged_at=now))

    async def people(self, revocation: Revocation) -> list[PersonRecord]:
        """Everyone the revocation cuts off."""
        people = cast(Table, PersonRow.__table__)
        stmt = select(people).where(people.c.platform == revocation.platform)
        if revocation.scope != WORKSPACE:
            stmt = stmt.where(people.c.platform_user_id == revocation.subject)
        return [person_record(r) for r in (await self._s.execute(stmt)).all()]

    async def park(self, person_ids: Collection[str], reason: str) -> int:
        """Their pending (and leased) outbox rows are parked: not retried against a dead token."""
        if not person_ids:
            return 0
        result = await self._s.execute(
            update(OutboxRow).where(OutboxRow.recipient_id.in_(list(person_ids)),
                                    OutboxRow.state.in_(("pending", "sending")))
            .values(state=PARKED, lease_until=None, lease_owner=None, error=f"access revoked: {reason}"[:300]))
        return int(getattr(result, "rowcount", 0) or 0)

    async def unpark(self, person_ids: Collection[str], now: datetime) -> int:
        if not person_ids:
            return 0
        result = await self._s.execute(
            update(OutboxRow).where(OutboxRow.recipient_id.in_(list(person_ids)), OutboxRow.state == PARKED)
            .values(state="pending", next_attempt_at=now, error=None))
        return int(getattr(result, "rowcount", 0) or 0)

    async def admins(self, bootstrap: Iterable[str]) -> list[PersonRecord]:
        """Every admin the bot knows: granted ones and the bootstrap list (ids or e-mails)."""
        people = cast(Table, PersonRow.__table__)
        names = [b for b in bootstrap if b]
        cond: Any = people.c.id.in_(select(AdminRow.person_id))
        if names:
            cond = or_(cond, people.c.platform_user_id.in_(names), people.c.email.in_(names))
        return [person_record(r) for r in (await self._s.execute(select(people).where(cond))).all()]


def cut_off(revocations: Iterable[Revocation], people: Mapping[str, PersonRecord]) -> dict[str, str]:
    """person id -> the reason the bot may not reach them now (for the persons given)."""
    revs = list(revocations)
    if not revs:
        return {}
    out: dict[str, str] = {}
    for pid, person in people.items():
        for r in revs:
            if r.covers(person):
                out[pid] = ", ".join(r.reasons) or "access revoked"
                break
    return out
