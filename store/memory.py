"""Units of work in memory: service tests without a database (the cosmicpython pattern).

`InMemoryUnitsOfWork()` stands where a `UnitOfWorkFactory` does. Each unit works on a copy of the
shared state and puts it back only on `commit()`, so a service that forgets to commit, or fails
half-way, leaves nothing behind here either. People, admins, the audit log, inbound claims and
heartbeats are kept; `save` / `queue` keep each decision's outbox messages by delivery key (a key
seen before is not queued twice, like the outbox's unique key). The other repositories exist only
on a database (reaching them here raises AttributeError).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from journeys.messages import Outgoing
from journeys.state import Outcome, PromptState
from store.people import EngineView, PersonRecord, person_changes
from store.records import AuditEntry
from store.uow import AbstractUnitOfWork

_ids = itertools.count(1)


@dataclass
class MemoryState:
    """Everything stored, as plain values."""

    people: dict[str, PersonRecord] = field(default_factory=dict)
    admins: dict[str, tuple[str | None, datetime]] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    inbound: dict[str, str] = field(default_factory=dict)
    heartbeats: dict[str, datetime] = field(default_factory=dict)
    outbox: dict[str, Outgoing] = field(default_factory=dict)  # delivery key -> message, in queue order


class MemoryPeople(EngineView):
    def __init__(self, state: MemoryState, default_tz: str) -> None:
        super().__init__(default_tz)
        self._m = state

    async def by_platform_id(self, platform: str, user_id: str, *, alias: bool = False) -> PersonRecord | None:
        for p in self._m.people.values():
            if p.platform == platform and (p.platform_user_id == user_id or (
                    alias and (p.address or {}).get("user_id") == user_id)):
                return p
        return None

    async def get(self, person_id: str) -> PersonRecord | None:
        return self._m.people.get(person_id)

    async def by_ids(self, ids: Iterable[str]) -> dict[str, PersonRecord]:
        return {i: self._m.people[i] for i in ids if i in self._m.people}

    async def by_email(self, email: str) -> list[PersonRecord]:
        return await self.by_emails([email])

    async def by_emails(self, emails: Iterable[str]) -> list[PersonRecord]:
        wanted = {e.lower() for e in emails}
        return [p for p in self._m.people.values() if (p.email or "").lower() in wanted]

    async def by_id_or_user_id(self, ref: str) -> list[PersonRecord]:
        return [p for p in self._m.people.values() if ref in (p.id, p.platform_user_id)]

    async def upsert(self, platform: str, user_id: str, now: datetime, *, name: str | None = None,
                     email: str | None = None, tz: str | None = None, address: dict[str, Any] | None = None,
                     dm_id: str | None = None) -> tuple[PersonRecord, bool]:
        found = await self.by_platform_id(platform, user_id)
        if found is None:
            pid = await self.add(platform, user_id, now, name=name, email=email, tz=tz, address=address, dm_id=dm_id)
            return self._m.people[pid], True
        changes = person_changes(found, now, name=name, email=email, tz=tz, address=address, dm_id=dm_id)
        if changes:
            await self.change(found.id, **changes)
        return self._m.people[found.id], bool(changes)

    async def add(self, platform: str, user_id: str, now: datetime, *, name: str | None = None,
                  email: str | None = None, tz: str | None = None, address: dict[str, Any] | None = None,
                  dm_id: str | None = None) -> str:
        found = await self.by_platform_id(platform, user_id)
        if found is not None:
            return found.id
        pid = f"p_{next(_ids)}"
        self._m.people[pid] = PersonRecord(pid, platform, user_id, name or user_id, email, tz, now if tz else None,
                                           address=address, dm_id=dm_id, created_at=now)
        return pid

    async def add_many(self, platform: str, people: Iterable[tuple[str, str, str, str | None]],
                       now: datetime) -> dict[str, str]:
        return {email: await self.add(platform, uid, now, name=name, email=email, tz=tz)
                for uid, name, email, tz in people}

    async def change(self, person_id: str, **values: Any) -> None:
        if person_id in self._m.people:
            self._m.people[person_id] = replace(self._m.people[person_id], **values)

    async def mark_greeted(self, person_id: str) -> bool:
        person = self._m.people.get(person_id)
        if person is None or person.greeted:
            return False
        await self.change(person_id, greeted=True)
        return True

    async def reporting_to(self, person_id: str) -> set[str]:
        return {p.id for p in self._m.people.values() if p.manager_id == person_id}


class MemoryAdmins:
    def __init__(self, state: MemoryState) -> None:
        self._m = state

    async def contains(self, person_id: str) -> bool:
        return person_id in self._m.admins

    def grant(self, person_id: str, granted_by: str | None, now: datetime) -> None:
        self._m.admins.setdefault(person_id, (granted_by, now))

    async def revoke(self, person_id: str) -> None:
        self._m.admins.pop(person_id, None)

    async def count(self) -> int:
        return len(self._m.admins)

    async def listing(self) -> list[tuple[PersonRecord, datetime]]:
        return sorted(((self._m.people[pid], at) for pid, (_, at) in self._m.admins.items() if pid in self._m.people),
                      key=lambda pa: pa[1])


class MemoryAudit:
    def __init__(self, state: MemoryState) -> None:
        self._m = state

    def record(self, now: datetime, actor_id: str | None, action: str, target_id: str | None,
               detail: dict[str, Any] | None = None) -> None:
        self._m.audit.append(AuditEntry(now, actor_id, action, target_id, dict(detail or {})))

    async def latest(self, limit: int) -> list[AuditEntry]:
        return list(reversed(self._m.audit))[:limit]


class MemoryInbound:
    def __init__(self, state: MemoryState) -> None:
        self._m = state

    async def claim(self, key: str, person_id: str, now: datetime) -> bool:
        if key in self._m.inbound:
            return False
        self._m.inbound[key] = person_id
        return True

    async def release(self, key: str) -> None:
        self._m.inbound.pop(key, None)


class MemoryHeartbeats:
    def __init__(self, state: MemoryState) -> None:
        self._m = state

    async def beat(self, name: str, now: datetime, info: dict[str, object] | None = None) -> None:
        self._m.heartbeats[name] = now

    async def last(self, name: str) -> datetime | None:
        return self._m.heartbeats.get(name)


class InMemoryUnitOfWork(AbstractUnitOfWork):
    people: MemoryPeople
    admins: MemoryAdmins
    audit: MemoryAudit
    inbound: MemoryInbound
    heartbeats: MemoryHeartbeats

    def __init__(self, shared: MemoryState, default_tz: str = "UTC", *, read_only: bool = False) -> None:
        self._shared = shared
        self._tz = default_tz
        self._read_only = read_only
        self._work = MemoryState()

    async def __aenter__(self) -> Self:
        self._work = copy.deepcopy(self._shared)
        self.people = MemoryPeople(self._work, self._tz)
        self.admins = MemoryAdmins(self._work)
        self.audit = MemoryAudit(self._work)
        self.inbound = MemoryInbound(self._work)
        self.heartbeats = MemoryHeartbeats(self._work)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        """Nothing to undo: uncommitted work was only ever on the copy."""

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._shared.__dict__.update(copy.deepcopy(self._work).__dict__)

    async def rollback(self) -> None:
        await self.__aenter__()

    async def flush(self) -> None:
        """Every change is visible in this unit at once."""

    async def save(self, outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState] | None = None) -> int:
        return await self.queue(outcome, now)

    async def forget(self, person: PersonRecord, now: datetime, actor_id: str | None) -> int:
        self._work.people.pop(person.id, None)
        self._work.admins.pop(person.id, None)
        self.audit.record(now, actor_id, "forget", None, {"enrollments": 0})
        return 0

    async def queue(self, outcome: Outcome, now: datetime) -> int:
        new = [o for o in outcome.queued() if o.delivery_key not in self._work.outbox]
        self._work.outbox.update((o.delivery_key, o) for o in new)
        return len(new)


class InMemoryUnitsOfWork:
    """A `UnitsOfWork` over one shared in-memory state (`state`, for assertions)."""

    def __init__(self, default_tz: str = "UTC") -> None:
        self.default_tz = default_tz
        self.state = MemoryState()

    def __call__(self, *, urgent: bool = False) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.state, self.default_tz)

    def read(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.state, self.default_tz, read_only=True)

    async def compact(self) -> None:
        """Nothing is kept after it is deleted."""
