"""PostgreSQL for the benchmarks: a throwaway server like the tests', and a population copied into it.

`start_cluster()` starts a server of its own in a temp dir with the installed binaries through the
fault tests' own helpers (tests/fault/conftest.py: `new_cluster` + `launch`, stopped and deleted at
exit). `copy_population(sqlite_path, url)` migrates a new PostgreSQL database with the project's
Alembic chain and copies every row of a bench/population.py SQLite database into it with COPY (the
rows `BotService.enroll` writes, see population.verify), then moves the id sequences past the
copied ids and ANALYZEs, so the server plans as it would after the same rows arrived one by one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_cluster() -> str:
    """URL of the `hplj` database on a new throwaway server (stopped and deleted at exit)."""
    from tests.fault.conftest import launch, new_cluster

    return launch(new_cluster("hplj-bench-pg-")).url


def _text(v: Any) -> str:
    """One value in COPY's text format (SQLite stores datetimes as UTC text, booleans as 0/1, JSON as text)."""
    if v is None:
        return "\\N"
    s = str(v)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


async def create_database(url: str, name: str) -> str:
    """A new database `name` on the server of `url`, migrated to head; returns its URL."""
    import asyncpg

    from store.db import Database
    from store.migrate import upgrade_async

    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    new = url.rsplit("/", 1)[0] + "/" + name
    db = Database(new)
    try:
        await upgrade_async(db)
    finally:
        await db.dispose()
    return new


async def copy_population(sqlite_path: Path, url: str, name: str, *, chunk: int = 200_000) -> str:
    """A new database `name` holding every row of the SQLite database at `sqlite_path`."""
    import asyncpg

    t0 = time.perf_counter()
    new = await create_database(url, name)
    src = sqlite3.connect(sqlite_path)
    con = await asyncpg.connect(new)
    try:
        await con.execute("SET TIME ZONE 'UTC'")  # SQLite's datetimes are naive UTC text
        tables = [r[0] for r in src.execute("select name from sqlite_master where type='table' "
                                            "and name not like 'sqlite_%' and name != 'alembic_version'")]
        for table in tables:
            cols = [r[1] for r in src.execute(f"pragma table_info({table})")]
            quoted = ", ".join('"' + c + '"' for c in cols)
            cur = src.execute(f"select {quoted} from {table}")
            while rows := cur.fetchmany(chunk):
                body = "".join("\t".join(_text(v) for v in row) + "\n" for row in rows).encode()
                await con.copy_to_table(table, source=_once(body), columns=cols, format="text")
            if "id" in cols:
                seq = await con.fetchval("select pg_get_serial_sequence($1, 'id')", table)
                if seq:
                    await con.execute(f"select setval('{seq}', coalesce((select max(id) from {table}), 0) + 1, false)")
        await con.execute("VACUUM ANALYZE")
    finally:
        await con.close()
        src.close()
    print(f"copied {sqlite_path.name} into PostgreSQL database {name} in {time.perf_counter() - t0:.0f} s")
    return new


def database_size(url: str) -> int:
    async def size() -> int:
        import asyncpg

        con = await asyncpg.connect(url)
        try:
            return int(await con.fetchval("select pg_database_size(current_database())"))
        finally:
            await con.close()

    return asyncio.run(size())


async def _once(data: bytes):  # type: ignore[no-untyped-def]
    """An async iterable of one chunk: what asyncpg's copy_to_table streams."""
    yield data


def copy(sqlite_path: Path, url: str, name: str) -> str:
    return asyncio.run(copy_population(sqlite_path, url, name))
