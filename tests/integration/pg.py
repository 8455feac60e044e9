"""A fresh database on the throwaway PostgreSQL cluster, migrated to head, for one test."""

from __future__ import annotations

import uuid

import asyncpg

from store.db import Database
from store.migrate import upgrade_async


async def fresh_database(postgres_url: str, prefix: str) -> Database:
    """A new database `<prefix>_<random>` on the cluster, through every Alembic migration."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    db = Database(postgres_url.rsplit("/", 1)[0] + "/" + name)
    await upgrade_async(db)
    return db


def libpq_url(db: Database) -> str:
    """The database's URL as asyncpg and psql take it (the store's carries SQLAlchemy's driver)."""
    return db.url.replace("postgresql+asyncpg://", "postgresql://", 1)
