"""Migrations and models never drift: `hplj db upgrade` builds exactly the schema the code uses."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from store.db import Database
from store.migrate import upgrade_async
from store.models import Base


def test_upgrade_matches_models(tmp_path: Path) -> None:
    async def run() -> list[object]:
        db = Database(f"sqlite:///{tmp_path}/m.db")
        await upgrade_async(db)
        await upgrade_async(db)  # idempotent

        def diff(conn: object) -> list[object]:
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})  # type: ignore[arg-type]
            tables = set(inspect(conn).get_table_names())  # type: ignore[arg-type]
            assert {"prompts", "outbox", "people", "enrollments", "alembic_version"} <= tables
            return list(compare_metadata(ctx, Base.metadata))

        async with db.engine.connect() as conn:
            result = await conn.run_sync(diff)
        await db.dispose()
        return result

    assert asyncio.run(run()) == []


def test_leader_digest_rows_keep_their_kind_across_the_digest_kind_migration(tmp_path: Path) -> None:
    """Rows made before `digests.kind` (a "leader:" prefix in journey_id) come out as leader rows
    of the bare journey id; managers' rows as manager rows; nothing is lost or merged."""
    from sqlalchemy import text

    async def run() -> list[tuple[str, str, str, int]]:
        db = Database(f"sqlite:///{tmp_path}/k.db")
        await upgrade_async(db, "0006_a_enrollment_notes")
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO people (id, platform, platform_user_id, name, greeted, created_at) "
                                    "VALUES ('p1', 'slack', 'U1', 'Sara', false, '2027-01-01 00:00:00')"))
            await conn.execute(text("INSERT INTO digests (manager_id, journey_id, next_at, sent) VALUES "
                                    "('p1', 'active-listening', NULL, 2), ('p1', 'leader:active-listening', NULL, 1)"))
        await upgrade_async(db)
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT manager_id, journey_id, kind, sent FROM digests "
                                            "ORDER BY kind"))).all()
        await db.dispose()
        return [tuple(r) for r in rows]

    assert asyncio.run(run()) == [("p1", "active-listening", "leader", 1), ("p1", "active-listening", "manager", 2)]
