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
