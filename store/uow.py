"""The unit of work: one transaction over the repositories, committed only when asked.

    async with UnitOfWork(db, urgent=True) as uow:
        person, _ = await uow.people.upsert(...)
        await uow.save(outcome, now)
        await uow.commit()

Leaving the block without `commit()` (or with an exception) rolls everything back. A read-only
unit (`read_only=True`) never writes and never queues behind writers. Only store/ speaks SQL:
services get frozen records (store/records.py, store/people.py) and engine state from here, never
rows. Services are typed against `AbstractUnitOfWork` / `UnitsOfWork`; `store/memory.py` holds an
in-memory implementation for service tests that need no database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from journeys.state import Outcome, PromptState
from store.access import AccessRepository
from store.audit import AdminsRepository, AuditRepository, InboundRepository
from store.cohort_roles import CohortRolesRepository, EndorsementsRepository
from store.cohort_texts import CohortTextsRepository
from store.db import Database
from store.digests import DigestsRepository, HeartbeatsRepository
from store.directory import DirectoryRepository
from store.enrollments import (
    EnrollmentsRepository,
    EventsRepository,
    MtmsRepository,
    PromptsRepository,
)
from store.forget import forget_person
from store.interview_slots import InterviewSlotsRepository
from store.outbox import OutboxRepository
from store.outcomes import OutcomesRepository, PreparedSave
from store.overlap import WriteMark, commit_while, mark, unchanged_since
from store.people import PeopleRepository, PersonRecord
from store.repositories import (
    AdminsStore,
    AuditStore,
    EnrollmentsStore,
    HeartbeatsStore,
    InboundStore,
    PeopleStore,
    PromptsStore,
)
from store.views import Views

T = TypeVar("T")


class AbstractUnitOfWork(ABC):
    """One transaction over the repositories (the cosmicpython pattern): `UnitOfWork` on a
    database, `store.memory.InMemoryUnitOfWork` in memory. The repositories typed as protocols
    (store/repositories.py) exist in both; the others only on a database so far."""

    people: PeopleStore
    admins: AdminsStore
    audit: AuditStore
    inbound: InboundStore
    heartbeats: HeartbeatsStore
    enrollments: EnrollmentsStore
    prompts: PromptsStore
    mtms: MtmsRepository
    events: EventsRepository
    outbox: OutboxRepository
    digests: DigestsRepository
    views: Views
    directory: DirectoryRepository
    access: AccessRepository
    interview_slots: InterviewSlotsRepository
    cohort_texts: CohortTextsRepository
    cohort_roles: CohortRolesRepository
    endorsements: EndorsementsRepository

    @abstractmethod
    async def __aenter__(self) -> Self: ...

    @abstractmethod
    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...

    @abstractmethod
    async def commit(self) -> None: ...

    @abstractmethod
    async def rollback(self) -> None: ...

    @abstractmethod
    async def flush(self) -> None: ...

    @abstractmethod
    async def save(self, outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState] | None = None,
                   prepared: PreparedSave | None = None) -> int:
        """Persist one engine decision; returns how many new outbox rows it queued. `loaded`: the
        prompts as read in this unit (the tick's claim); `prepared`: `prepare`'s result for them."""

    @abstractmethod
    async def queue(self, outcome: Outcome, now: datetime) -> int:
        """Queue only the decision's outgoing messages (and its card change)."""

    @abstractmethod
    async def forget(self, person: PersonRecord, now: datetime, actor_id: str | None) -> int:
        """Remove everything stored about `person` (journey facts stay as anonymous numbers);
        returns how many of their enrollments became anonymous."""

    # Overlapping a commit with the next batch's decisions (store/overlap.py). By default there is
    # nothing to overlap: no mark, and `commit_while` commits, then works.

    async def mark(self) -> WriteMark | None:
        """After this unit's last write: what `unchanged_since` compares with; None: no overlap."""
        return None

    async def unchanged_since(self, before: WriteMark) -> bool:
        """First thing in a unit: nothing was written since `before`'s unit committed."""
        return False

    async def commit_while(self, work: Callable[[], T]) -> T:
        """Commit, running `work` (pure: no database, no await) meanwhile; its result."""
        await self.commit()
        return work()

    def prepare(self, outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState]) -> PreparedSave | None:
        """`save(outcome, now, loaded)`'s writes worked out without the database, to pass to a
        later `save` (pure; None: `save` works them out itself)."""
        return None


class UnitsOfWork(Protocol):
    """What services are given instead of a database: a maker of units of work."""

    default_tz: str

    def __call__(self, *, urgent: bool = False) -> AbstractUnitOfWork: ...

    def read(self) -> AbstractUnitOfWork: ...

    async def compact(self) -> None: ...


class UnitOfWork(AbstractUnitOfWork):
    """A unit of work on the database."""

    people: PeopleRepository
    admins: AdminsRepository
    audit: AuditRepository
    inbound: InboundRepository
    heartbeats: HeartbeatsRepository
    enrollments: EnrollmentsRepository
    prompts: PromptsRepository

    def __init__(self, db: Database, *, urgent: bool = False, read_only: bool = False,
                 default_tz: str = "UTC") -> None:
        self.db = db
        self._urgent = urgent
        self._read_only = read_only
        self.default_tz = default_tz
        self._cm: AbstractAsyncContextManager[AsyncSession] | None = None
        self._committed = False

    async def __aenter__(self) -> Self:
        self._cm = self.db.read() if self._read_only else self.db.write(urgent=self._urgent)
        s = self.session = await self._cm.__aenter__()
        self._committed = False
        self.people = PeopleRepository(s, self.default_tz)
        self.enrollments = EnrollmentsRepository(s, self.default_tz)
        self.prompts = PromptsRepository(s, skip_locked=not self.db.is_sqlite)
        self.mtms = MtmsRepository(s)
        self.events = EventsRepository(s)
        self.outbox = OutboxRepository(s, skip_locked=not self.db.is_sqlite)
        self.audit = AuditRepository(s)
        self.admins = AdminsRepository(s)
        self.inbound = InboundRepository(s)
        self.digests = DigestsRepository(s, skip_locked=not self.db.is_sqlite)
        self.heartbeats = HeartbeatsRepository(s)
        self.views = Views(s, self.default_tz)
        self.directory = DirectoryRepository(s)
        self._outcomes = OutcomesRepository(s)
        self.access = AccessRepository(s)
        self.interview_slots = InterviewSlotsRepository(s)
        self.cohort_texts = CohortTextsRepository(s)
        self.cohort_roles = CohortRolesRepository(s, skip_locked=not self.db.is_sqlite)
        self.endorsements = EndorsementsRepository(s)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._cm is not None
        cm, self._cm = self._cm, None
        if exc_type is None and not self._committed and not self._read_only:
            await self.session.rollback()  # (a read ends its transaction as it always did)
        await cm.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self.session.commit()
        self._committed = True

    async def rollback(self) -> None:
        await self.session.rollback()

    async def flush(self) -> None:
        await self.session.flush()

    async def save(self, outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState] | None = None,
                   prepared: PreparedSave | None = None) -> int:
        """Persist one engine decision; returns how many new outbox rows it queued."""
        return await self._outcomes.save(outcome, now, loaded=loaded, prepared=prepared)

    def prepare(self, outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState]) -> PreparedSave | None:
        return self._outcomes.prepare(outcome, now, loaded)

    async def queue(self, outcome: Outcome, now: datetime) -> int:
        """Queue only the decision's outgoing messages."""
        return await self._outcomes.queue(outcome, now)

    async def mark(self) -> WriteMark | None:
        return None if self._read_only else await mark(self.session)

    async def unchanged_since(self, before: WriteMark) -> bool:
        return not self._read_only and await unchanged_since(self.session, before)

    async def commit_while(self, work: Callable[[], T]) -> T:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        out = await commit_while(self.session, work)
        self._committed = True
        return out

    async def forget(self, person: PersonRecord, now: datetime, actor_id: str | None) -> int:
        return await forget_person(self.session, self.db.is_sqlite, self.audit, person, now, actor_id)


class UnitOfWorkFactory:
    """Makes units of work on one database (what services are given instead of the database)."""

    def __init__(self, db: Database, default_tz: str = "UTC") -> None:
        self.db = db
        self.default_tz = default_tz

    def __call__(self, *, urgent: bool = False) -> UnitOfWork:
        return UnitOfWork(self.db, urgent=urgent, default_tz=self.default_tz)

    def read(self) -> UnitOfWork:
        return UnitOfWork(self.db, read_only=True, default_tz=self.default_tz)

    @property
    def is_sqlite(self) -> bool:
        """One SQLite file: no SKIP LOCKED, so one delivering process at a time."""
        return self.db.is_sqlite

    async def compact(self) -> None:
        """Give deleted bytes back (SQLite keeps them in free pages): after `forget`."""
        await self.db.compact()


__all__ = ["AbstractUnitOfWork", "PreparedSave", "UnitOfWork", "UnitOfWorkFactory", "UnitsOfWork", "WriteMark"]


# A write that broke a uniqueness rule (a concurrent duplicate): callers treat it as "already done".
from sqlalchemy.exc import IntegrityError as Conflict

__all__ += ["Conflict"]
