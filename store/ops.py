"""What operations endpoints read: the outbox's depth and age (`/metrics`), and whether the
database is reachable and at the newest migration (`/readyz`). Cluster-wide figures, read from
the database, so every process reports the same outbox whichever of them delivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Table, func, or_, select
from sqlalchemy.engine import Connection

from store.db import Database
from store.migrate import alembic_config
from store.models import OutboxRow, PersonRow

_O = cast(Table, OutboxRow.__table__)
_PEOPLE = cast(Table, PersonRow.__table__)


@dataclass(frozen=True)
class OutboxFigures:
    waiting: dict[str, int] = field(default_factory=dict)  # state (pending, sending) -> rows
    oldest_due_seconds: float = 0.0  # how long the oldest row that is due now has waited since queued
    by_platform: dict[tuple[str, str], int] = field(default_factory=dict)  # (platform, state) -> rows


async def outbox_figures(db: Database, now: datetime) -> OutboxFigures:
    async with db.read() as s:
        waiting = {str(state): int(n) for state, n in (await s.execute(
            select(_O.c.state, func.count()).where(_O.c.state.in_(("pending", "sending")))
            .group_by(_O.c.state))).all()}
        oldest = (await s.execute(select(func.min(_O.c.created_at)).where(
            _O.c.state.in_(("pending", "sending")),
            or_(_O.c.next_attempt_at.is_(None), _O.c.next_attempt_at <= now)))).scalar_one()
        by_platform = {(str(p or "unknown"), str(state)): int(n) for p, state, n in (await s.execute(
            select(_PEOPLE.c.platform, _O.c.state, func.count())
            .select_from(_O.outerjoin(_PEOPLE, _PEOPLE.c.id == _O.c.recipient_id))
            .group_by(_PEOPLE.c.platform, _O.c.state))).all()}
    age = 0.0
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        age = max(0.0, (now - oldest).total_seconds())
    return OutboxFigures(waiting, age, by_platform)


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # the database's migration revision (None: never migrated)
    head: str  # the newest revision this hplj ships

    @property
    def ready(self) -> bool:
        return self.current == self.head


async def schema_state(db: Database) -> SchemaState:
    """Raises the driver's error when the database cannot be reached."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head() or ""

    def current(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with db.engine.connect() as conn:
        now = await conn.run_sync(current)
    return SchemaState(now, head)


__all__ = ["OutboxFigures", "SchemaState", "outbox_figures", "schema_state"]
