"""Units of work in memory: service tests without a database (the cosmicpython pattern).

`InMemoryUnitsOfWork()` stands where a `UnitOfWorkFactory` does. Each unit works on a copy of the
shared state and puts it back only on `commit()`, so a service that forgets to commit, or fails
half-way, leaves nothing behind here either. People, admins, the audit log, inbound claims,
heartbeats, enrollments and their prompts are kept; `save` applies an engine decision (enrollment
changes, prompts, moments that matter, events) and `save` / `queue` keep its outbox messages by
delivery key (a key seen before is not queued twice, like the outbox's unique key). The other
repositories exist only on a database (reaching them here raises AttributeError).
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

from journeys.messages import Outgoing
from journeys.state import EnrollmentState, JourneyEvent, MtmState, Outcome, PromptState
from store.mappers import enrollment_state
from store.outcomes import PreparedSave, _merged_notes
from store.people import EngineView, PersonRecord, person_changes
from store.records import AuditEntry, EnrollmentRecord
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
    enrollments: dict[str, EnrollmentRecord] = field(default_factory=dict)  # in creation order
    prompts: dict[str, PromptState] = field(default_factory=dict)
    mtms: dict[str, MtmState] = field(default_factory=dict)
    events: list[JourneyEvent] = field(default_factory=list)


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


_OPEN = ("active", "paused")


class MemoryEnrollments:
    """The SQL repository's reads over plain records (store/enrollments.py says what each means)."""

    def __init__(self, state: MemoryState, default_tz: str) -> None:
        self._m = state
        self._tz = default_tz

    def _all(self) -> list[EnrollmentRecord]:
        return list(self._m.enrollments.values())

    async def record(self, enrollment_id: str) -> EnrollmentRecord | None:
        return self._m.enrollments.get(enrollment_id)

    async def states(self, ids: Iterable[str]) -> dict[str, EnrollmentState]:
        people = self._m.people
        out: dict[str, EnrollmentState] = {}
        for eid in set(ids):
            r = self._m.enrollments.get(eid)
            if r is None or r.person_id not in people:
                continue
            manager = people.get(r.manager_id or "")
            leader_id = manager.manager_id if manager is not None else None
            leader = people.get(leader_id or "") if leader_id != r.manager_id else None
            if leader is not None and manager is not None and (leader.manager_id == manager.id or any(
                    e.person_id == leader.id and e.manager_id == manager.id and e.status in _OPEN
                    for e in self._all())):
                leader = None  # not above their manager: a bent chain gets no leader
            out[eid] = enrollment_state(r, people[r.person_id], manager, self._tz, leader)
        return out

    def state(self, record: EnrollmentRecord, person: PersonRecord, manager: PersonRecord | None) -> EnrollmentState:
        return enrollment_state(record, person, manager, self._tz)

    async def add(self, *, journey_id: str, version: int, person_id: str, manager_id: str | None, start: date,
                  events: dict[str, date], cohort: str, now: datetime) -> str:
        eid = f"e_{next(_ids)}"
        self._m.enrollments[eid] = EnrollmentRecord(eid, journey_id, person_id, manager_id, start, "active", cohort,
                                                    None, now, dict(events), journey_version=version)
        return eid

    async def flush(self) -> None:
        """Every change is visible in this unit at once."""

    async def open_in(self, journey_id: str, person_ids: Sequence[str]) -> dict[str, date]:
        return {r.person_id: r.start for r in self._all()
                if r.journey_id == journey_id and r.person_id in person_ids and r.status in _OPEN}

    async def open_without_step(self, step_id: str) -> list[str]:
        has = {p.enrollment_id for p in self._m.prompts.values() if p.step_id == step_id}
        return [r.id for r in self._all() if r.status in _OPEN and r.id not in has]

    async def ids_involving(self, person_id: str) -> list[str]:
        return [r.id for r in self._all()
                if person_id in (r.person_id, r.manager_id) and r.status != "unenrolled"]

    async def of_person(self, person_id: str, statuses: Sequence[str] | None = None,
                        journey_id: str | None = None) -> list[EnrollmentRecord]:
        return sorted((r for r in self._all() if r.person_id == person_id
                       and (statuses is None or r.status in statuses)
                       and (journey_id is None or r.journey_id == journey_id)), key=lambda r: r.created_at)

    async def managed_open(self, manager_id: str, journey_id: str) -> list[str]:
        return [r.id for r in self._all()
                if r.manager_id == manager_id and r.journey_id == journey_id and r.status in _OPEN]

    async def managers_of(self, person_id: str) -> set[str]:
        return {r.manager_id for r in self._all()
                if r.person_id == person_id and r.status != "unenrolled" and r.manager_id}

    async def participants_of(self, manager_id: str) -> set[str]:
        return {r.person_id for r in self._all() if r.manager_id == manager_id and r.status != "unenrolled"}

    async def under_managers(self, manager_ids: Iterable[str],
                             journey_id: str) -> list[tuple[str, str | None, str]]:
        ids = set(manager_ids)
        return [(r.id, r.manager_id, r.status) for r in self._all()
                if r.manager_id in ids and r.journey_id == journey_id and r.status != "unenrolled"]

    async def active_counts(self) -> dict[str, int]:
        return dict(Counter(r.journey_id for r in self._all() if r.status == "active"))

    async def cohort_rows(self, cohort: str, *, without_unenrolled: bool = False) -> list[EnrollmentRecord]:
        return [r for r in self._all() if r.cohort == cohort and not (without_unenrolled and r.status == "unenrolled")]

    async def cohorts(self, limit: int | None = None) -> list[str]:
        return sorted({r.cohort for r in self._all()})[:limit]

    async def cohorts_newest_first(self) -> list[str]:
        latest: dict[str, datetime] = {}
        for r in self._all():
            latest[r.cohort] = max(latest.get(r.cohort, r.created_at), r.created_at)
        return sorted(latest, key=lambda c: (latest[c], c), reverse=True)

    async def cohort_journey(self, cohort: str) -> tuple[list[str], str | None]:
        rows = [r for r in self._all() if r.cohort == cohort]
        return [r.id for r in rows], (rows[0].journey_id if rows else None)

    async def journey_cohort_versions(self, journey_id: str) -> dict[str, tuple[int | None, list[str]]]:
        versions: dict[str, set[int | None]] = {}
        ids: dict[str, list[str]] = {}
        for r in self._all():
            if r.journey_id == journey_id:
                versions.setdefault(r.cohort, set()).add(r.journey_version)
                ids.setdefault(r.cohort, []).append(r.id)
        return {c: (next(iter(v)) if len(v) == 1 else None, sorted(ids[c])) for c, v in versions.items()}

    async def people_of(self, ids: Sequence[str]) -> list[tuple[str, str, str | None]]:
        return [(r.id, r.person_id, r.manager_id) for i in ids if (r := self._m.enrollments.get(i)) is not None]


class MemoryPrompts:
    """The SQL repository's reads over engine state (store/enrollments.py says what each means)."""

    def __init__(self, state: MemoryState) -> None:
        self._m = state

    async def get(self, prompt_id: str) -> PromptState | None:
        return self._m.prompts.get(prompt_id)

    async def many(self, ids: Iterable[str]) -> dict[str, PromptState]:
        return {i: self._m.prompts[i] for i in set(ids) if i in self._m.prompts}

    async def exists(self, prompt_id: str) -> bool:
        return prompt_id in self._m.prompts

    async def of_enrollments(self, ids: Sequence[str], *, recipient_id: str | None = None) -> list[PromptState]:
        return [p for p in self._m.prompts.values()
                if p.enrollment_id in ids or (recipient_id is not None and p.recipient_id == recipient_id)]

    async def answered(self, ids: Sequence[str], step_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        steps = set(step_ids)
        return {p.enrollment_id: dict(p.answers) for p in self._m.prompts.values()
                if p.enrollment_id in ids and p.step_id in steps and p.status == "answered"}

    async def due(self, now: datetime, limit: int) -> list[PromptState]:
        due = [p for p in self._m.prompts.values() if p.next_at is not None and p.next_at <= now]
        return sorted(due, key=lambda p: p.next_at or now)[:limit]

    async def park(self, ids: Sequence[str]) -> None:
        for i in ids:
            if i in self._m.prompts:
                self._m.prompts[i] = replace(self._m.prompts[i], next_at=None)


class InMemoryUnitOfWork(AbstractUnitOfWork):
    people: MemoryPeople
    admins: MemoryAdmins
    audit: MemoryAudit
    inbound: MemoryInbound
    heartbeats: MemoryHeartbeats
    enrollments: MemoryEnrollments
    prompts: MemoryPrompts

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
        self.enrollments = MemoryEnrollments(self._work, self._tz)
        self.prompts = MemoryPrompts(self._work)
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

    async def save(self, outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState] | None = None,
                   prepared: PreparedSave | None = None) -> int:
        """As the database's (nothing is ever prepared here): the enrollments' changes (notes merged into what is stored), the
        prompts and moments that matter as they now are, the events, then the outbox messages."""
        for e in outcome.enrollments:
            r = self._work.enrollments.get(e.id)
            if r is not None:
                self._work.enrollments[e.id] = replace(r, status=e.status, paused_at=e.paused_at, start=e.start,
                                                       events=dict(e.events),
                                                       notes=_merged_notes(r.notes, e.notes) if e.notes else {})
        self._work.prompts.update((p.id, p) for p in outcome.prompts)
        self._work.mtms.update((m.id, m) for m in outcome.mtms)
        self._work.events.extend(outcome.events)
        return await self.queue(outcome, now)

    async def forget(self, person: PersonRecord, now: datetime, actor_id: str | None) -> int:
        """The person and their admin grant only (the database's forget also anonymises their
        enrollments; no service test here forgets someone enrolled)."""
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
