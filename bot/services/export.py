"""Export: everything stored about one person, for the `export` command, its signed download link
(`GET /dashboard/export`) and `hplj export`. Every export is audited (ids only)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from store.uow import UnitsOfWork


async def export_person(units: UnitsOfWork, pid: str, now: datetime) -> dict[str, Any] | None:
    """Everything stored about person `pid` as JSON-ready data, read from the database now; None
    when nobody has that id (never existed, or forgotten)."""
    async with units.read() as uow:
        return await uow.views.export(pid, now)


def export_json(data: dict[str, Any]) -> str:
    """The export file's text (UTF-8 JSON)."""
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def export_filename(pid: str) -> str:
    """`export-<person id>.json`, safe in a Content-Disposition header and on any file system."""
    return "export-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in pid) + ".json"


async def record_export(units: UnitsOfWork, actor_id: str | None, pid: str, now: datetime,
                        action: str = "export", **detail: Any) -> None:
    """An audit row for an export: who and whom by id only, never the content."""
    async with units() as uow:
        uow.audit.record(now, actor_id, action, pid, dict(detail))
        await uow.commit()

