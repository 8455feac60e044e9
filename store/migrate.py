"""`hplj db upgrade`: Alembic migrations, configured in code (no alembic.ini to keep in sync)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str = "") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous entry for the CLI; runs on the app's async engine under the hood."""
    asyncio.run(upgrade_async(Database(url), revision))


async def upgrade_async(db: Database, revision: str = "head") -> None:
    def run(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        if db.is_sqlite:
            await db.engine.dispose()
