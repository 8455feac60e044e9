"""The unit of work: one transaction over the repositories, committed only when asked.

    async with UnitOfWork(db, urgent=True) as uow:
        person, _ = await uow.people.upsert(...)
        await uow.save(outcome, now)
        await uow.commit()

Leaving the block without `commit()` (or with an exception) rolls everything back. A read-only
unit (`read_only=True`) never writes and never queues behind writers. Only store/ speaks SQL:
services get rows, records and engine state from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from journeys.state import Outcome, PromptState
from store.access import AccessRepository
from store.audit import AdminsRepository, AuditRepository, InboundRepository
from store.db import Database
from store.digests import DigestsRepository, HeartbeatsRepository
from store.directory import DirectoryRepository
from store.enrollments import (
    EnrollmentsRepository,
    EventsRepository,
    MtmsRepository,
    PromptsRepository,
)
from store.interview_slots import InterviewSlotsRepository
from store.outbox import OutboxRepository
from store.people import PeopleRepository
from store.repo import queue_outgoing, save_outcome
from store.views import Views


class UnitOfWork:
    people: PeopleRepository
    enrollments: EnrollmentsRepository
    prompts: PromptsRepository
    mtms: MtmsRepository
    events: EventsRepository
    outbox: OutboxRepository
    audit: AuditRepository
    admins: AdminsRepository
    inbound: InboundRepository
    digests: DigestsRepository
    heartbeats: HeartbeatsRepository
    views: Views
    directory: DirectoryRepository
    access: AccessRepository

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
        self.people = PeopleRepository(s)
        self.enrollments = EnrollmentsRepository(s, self.default_tz)
        self.prompts = PromptsRepository(s)
        self.mtms = MtmsRepository(s)
        self.events = EventsRepository(s)
        self.outbox = OutboxRepository(s, skip_locked=not self.db.is_sqlite)
        self.audit = AuditRepository(s)
        self.admins = AdminsRepository(s)
        self.inbound = InboundRepository(s)
        self.digests = DigestsRepository(s, skip_locked=not self.db.is_sqlite)
        self.heartbeats = HeartbeatsRepository(s)
        self.views = Views(s)
        self.directory = DirectoryRepository(s)
        self.access = AccessRepository(s)
        self.interview_slots = InterviewSlotsRepository(s)
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

    async def save(self, outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState] | None = None) -> int:
        """Persist one engine decision; returns how many new outbox rows it queued."""
        return await save_outcome(self.session, outcome, now, loaded=loaded)

    async def queue(self, outcome: Outcome, now: datetime) -> int:
        """Queue only the decision's outgoing messages."""
        return await queue_outgoing(self.session, outcome, now)


class UnitOfWorkFactory:
    """Makes units of work on one database (what services are given instead of the database)."""

    def __init__(self, db: Database, default_tz: str = "UTC") -> None:
        self.db = db
        self.default_tz = default_tz

    def __call__(self, *, urgent: bool = False) -> UnitOfWork:
        return UnitOfWork(self.db, urgent=urgent, default_tz=self.default_tz)

    def read(self) -> UnitOfWork:
        return UnitOfWork(self.db, read_only=True, default_tz=self.default_tz)


__all__ = ["UnitOfWork", "UnitOfWorkFactory"]


# A write that broke a uniqueness rule (a concurrent duplicate): callers treat it as "already done".
from sqlalchemy.exc import IntegrityError as Conflict

__all__ += ["Conflict"]
