"""Export: everything stored about one person, for the `export` command, its signed download link
(`GET /dashboard/export`) and `hplj export`. Every export is audited (ids only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from store.db import Database
from store.uow import UnitOfWork


async def export_person(db: Database, pid: str, now: datetime) -> dict[str, Any] | None:
    """Everything stored about person `pid` as JSON-ready data, read from the database now; None
    when nobody has that id (never existed, or forgotten)."""
    async with UnitOfWork(db, read_only=True) as uow:
        return await uow.views.export(pid, now)


def export_json(data: dict[str, Any]) -> str:
    """The export file's text (UTF-8 JSON)."""
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def export_filename(pid: str) -> str:
    """`export-<person id>.json`, safe in a Content-Disposition header and on any file system."""
    return "export-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in pid) + ".json"


async def record_export(db: Database, actor_id: str | None, pid: str, now: datetime, action: str = "export",
                        **detail: Any) -> None:
    """An audit row for an export: who and whom by id only, never the content."""
    async with UnitOfWork(db) as uow:
        uow.audit.record(now, actor_id, action, pid, dict(detail))
        await uow.commit()


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings(v)
