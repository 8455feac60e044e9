"""Draining the outbox through the chat ports: once, in order, and honest about failures.

A row is leased (state `sending`, `lease_until`) before the request leaves, and settled after.
A lease that expires means the sender died mid-request: the outcome is unknown, so the row is
reconciled (Slack: look for its delivery id in the DM's history) or, where a platform has no
lookup, resent once and flagged `ambiguous`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from adapters.port import ChatPort, DeliveryError, SentRef
from journeys.messages import Message
from store.db import Database
from store.models import OutboxRow, PersonRow

log = logging.getLogger("hplj.delivery")

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    expired: int = 0
    ambiguous: int = 0
    sent_keys: list[str] = field(default_factory=list)


def backoff(attempt: int) -> float:
    """Exponential with full jitter, capped at 10 minutes."""
    return float(random.uniform(0, min(600.0, 2.0 ** attempt)))


class Dispatcher:
    def __init__(self, db: Database, ports: Mapping[str, ChatPort], *, owner: str | None = None) -> None:
        self.db = db
        self.ports = ports
        self.owner = owner or uuid.uuid4().hex[:12]

    async def claim(self, now: datetime, limit: int) -> list[OutboxRow]:
        async with self.db.write() as s:
            stmt = (
                select(OutboxRow)
                .where(
                    or_(
                        (OutboxRow.state == "pending") & (OutboxRow.next_attempt_at <= now),
                        (OutboxRow.state == "sending") & (OutboxRow.lease_until < now),
                    )
                )
                .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
                .limit(limit)
            )
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list((await s.execute(stmt)).scalars().all())
            for r in rows:
                if r.state == "sending":
                    r.in_doubt = True  # its previous sender vanished mid-request
                r.state = "sending"
                r.lease_until = now + LEASE
                r.lease_owner = self.owner
                r.attempts += 1
            await s.flush()
            s.expunge_all()
        return rows

    async def deliver(self, now: datetime, *, limit: int = 200) -> DeliveryResult:
        result = DeliveryResult()
        rows = await self.claim(now, limit)
        if not rows:
            return result
        async with self.db.read() as s:
            people = {p.id: p for p in (await s.execute(
                select(PersonRow).where(PersonRow.id.in_({r.recipient_id for r in rows})))).scalars().all()}
            originals = {o.key: o for o in (await s.execute(select(OutboxRow).where(
                OutboxRow.key.in_({r.replaces_key for r in rows if r.replaces_key})))).scalars().all()}
        for row in rows:
            await self._one(row, people.get(row.recipient_id), originals.get(row.replaces_key or ""), now, result)
        return result

    async def _one(self, row: OutboxRow, person: PersonRow | None, original: OutboxRow | None, now: datetime,
                   result: DeliveryResult) -> None:
        if person is None:
            await self._settle(row, state="failed", error="recipient no longer exists")
            result.failed += 1
            return
        if row.stale_at is not None and now >= row.stale_at and not row.in_doubt:
            await self._settle(row, state="expired", error="stale: the moment for this prompt has passed")
            result.expired += 1
            return
        port = self.ports.get(person.platform)
        if port is None:
            await self._settle(row, state="failed", error=f"no adapter for platform {person.platform!r}")
            result.failed += 1
            return
        message = Message.from_json(row.payload)
        try:
            conversation = person.dm_id or await port.open_dm(person.platform_user_id)
            if not person.dm_id:
                async with self.db.write() as s:
                    await s.execute(update(PersonRow).where(PersonRow.id == person.id).values(dm_id=conversation))
                person.dm_id = conversation
            if row.replaces_key:
                if original is None or original.message_id is None:
                    if original is not None and original.state in ("pending", "sending"):
                        await self._settle(row, state="pending", next_at=now + timedelta(seconds=5), error=None)
                        return
                    await self._settle(row, state="cancelled", error="original message was never delivered")
                    return
                if port.capabilities.update_in_place:
                    await port.update(SentRef(original.conversation_id or conversation, original.message_id), message)
                    await self._settle(row, state="sent", sent_at=now, conversation=original.conversation_id,
                                       message_id=original.message_id)
                else:
                    await self._settle(row, state="cancelled", error="platform cannot update messages")
                result.sent += 1
                return
            if row.in_doubt:
                if port.capabilities.reconcile:
                    found = await port.find_delivery(conversation, row.key)
                    if found is not None:
                        await self._settle(row, state="sent", sent_at=now, conversation=found.conversation_id,
                                           message_id=found.message_id)
                        result.sent += 1
                        result.sent_keys.append(row.key)
                        return
                else:
                    if row.ambiguous:
                        # Resent once already; another unknown outcome is given up, not repeated.
                        await self._settle(row, state="failed", error="outcome unknown after one resend")
                        result.failed += 1
                        return
                    row.ambiguous = True
                    result.ambiguous += 1
            ref = await port.send(conversation, message, row.key)
            await self._settle(row, state="sent", sent_at=now, conversation=ref.conversation_id,
                               message_id=ref.message_id)
            result.sent += 1
            result.sent_keys.append(row.key)
        except DeliveryError as exc:
            await self._failed(row, exc, now, result)
        except (asyncio.TimeoutError, ConnectionError, OSError) as exc:
            await self._failed(row, DeliveryError("in_doubt", type(exc).__name__), now, result)

    async def _failed(self, row: OutboxRow, exc: DeliveryError, now: datetime, result: DeliveryResult) -> None:
        if exc.kind == "permanent" or row.attempts >= MAX_ATTEMPTS:
            await self._settle(row, state="failed", error=exc.reason[:300])
            result.failed += 1
            log.warning("delivery %s failed permanently: %s", row.id, exc.reason)
            return
        if exc.kind == "rate_limited":
            delay = max(exc.retry_after or 1.0, 0.0)
        else:
            delay = backoff(row.attempts)
        await self._settle(row, state="pending", next_at=now + timedelta(seconds=delay), error=exc.reason[:300],
                           in_doubt=exc.kind == "in_doubt" or row.in_doubt)
        result.retried += 1

    async def _settle(self, row: OutboxRow, *, state: str, error: str | None = None,
                      next_at: datetime | None = None, sent_at: datetime | None = None,
                      conversation: str | None = None, message_id: str | None = None,
                      in_doubt: bool | None = None) -> None:
        values: dict[str, object] = {"state": state, "lease_until": None, "lease_owner": None, "error": error,
                                     "next_attempt_at": next_at, "ambiguous": row.ambiguous}
        if sent_at is not None:
            values.update(sent_at=sent_at, conversation_id=conversation, message_id=message_id, in_doubt=False)
        if in_doubt is not None:
            values["in_doubt"] = in_doubt
        async with self.db.write() as s:
            # Only the lease holder may settle: a row re-claimed after our lease expired is not ours.
            await s.execute(update(OutboxRow).where(OutboxRow.id == row.id, OutboxRow.lease_owner == self.owner)
                            .values(**values))
