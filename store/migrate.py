"""`hplj db upgrade`: Alembic migrations, configured in code (no alembic.ini to keep in sync).

Every database the project creates is made here (the demo and `hplj chat` too), so any of them
can later be upgraded and served. A database the migrations cannot bring up to date raises
`MigrationError` with one sentence for the operator; the CLI prints it and exits 2.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


class MigrationError(Exception):
    """The database cannot be migrated; `str()` is one sentence saying which and why."""


def alembic_config(url: str = "") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous entry for the CLI; runs on the app's async engine under the hood."""
    asyncio.run(upgrade_async(Database(url), revision))


def _where(db: Database) -> str:
    url = make_url(db.url)
    if db.is_sqlite:
        return f"the SQLite file {url.database}" if url.database not in (None, "", ":memory:") else "the database"
    return f"the database {url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)}"


def _unreachable(exc: BaseException) -> str | None:
    """Why the server could not be reached at all (refused, unknown host, timed out), or None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "Connect call failed" in str(seen):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "unknown host"
        if isinstance(seen, TimeoutError):
            return "timed out"
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


async def upgrade_async(db: Database, revision: str = "head") -> None:
    def run(conn: Connection) -> None:
        tables = set(inspect(conn).get_table_names())
        if tables and "alembic_version" not in tables:
            raise MigrationError(
                f"{_where(db)} already holds {len(tables)} tables but no migration history (it was not made by "
                "`hplj db upgrade`), so it cannot be migrated: point DATABASE_URL at a new database or make "
                "this one again with the current `hplj`.")
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(run)
    except MigrationError:
        raise
    except CommandError as exc:
        raise MigrationError(f"{_where(db)} cannot be migrated to {revision!r}: {exc}.") from exc
    except (SQLAlchemyError, OSError) as exc:
        unreachable = _unreachable(exc)
        if unreachable is not None:
            raise MigrationError(f"cannot reach {_where(db)} ({unreachable}): check DATABASE_URL and that the "
                                 "server is running.") from exc
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise MigrationError(f"{_where(db)} cannot be migrated: {reason}.") from exc
    finally:
        if db.is_sqlite:
            await db.engine.dispose()
