"""The web process's tick lets waiting requests in between its batches, and still queues each
due prompt exactly once, on a real SQLite file.

`hplj serve` runs the scheduler on the same event loop as its answers. A Monday-morning wave is
processed in batches of 500; between two batches the tick awaits the process's pace, so requests
that arrived meanwhile are answered first. Those requests write (an answer, a new person): the
batch the tick had decided ahead of time is then read again instead of saved as decided. Here the
pace itself writes (a person signs in) before every batch after the first, and the result is
compared with the same wave processed without a pace on a copy of the database.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.tick import process_due
from store.db import Database
from store.uow import UnitOfWorkFactory

START = date(2027, 4, 12)
KICKOFF = datetime(2027, 4, 12, 9, 30, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)


def outbox(path: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(path)
    try:
        return sorted(con.execute("select key, recipient_id from outbox"))
    finally:
        con.close()


async def test_a_paced_tick_queues_each_due_prompt_once(make_world, library, tmp_path: Path) -> None:
    people = [(f"p{i}", f"Person {i}") for i in range(36)] + [("boss", "Bea Boss")]
    w = await make_world(datetime(2027, 4, 12, 8, tzinfo=UTC), people)
    res = await w.service.enroll("active-listening", [w.ids[f"p{i}"] for i in range(36)], w.ids["boss"], START)
    assert len(res.enrolled) == 36
    copy = tmp_path / "unpaced.db"
    src, dst = sqlite3.connect(w.path), sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()

    paced: list[int] = []

    async def pace() -> None:  # a request answered between two batches: it writes
        paced.append(len(paced))
        await w.service.ensure_person("memory", f"newcomer-{len(paced)}", name=f"Newcomer {len(paced)}")

    result = await process_due(UnitOfWorkFactory(w.service.db), library, KICKOFF, batch=10, pace=pace)
    db = Database(f"sqlite:///{copy}")
    try:
        plain = await process_due(UnitOfWorkFactory(db), library, KICKOFF, batch=10)
    finally:
        await db.dispose()

    assert plain.fired >= 36  # the wave: at least each participant's kickoff
    batches = -(-plain.fired // 10)
    assert len(paced) == batches - 1 >= 3  # between every two batches, not before the first
    assert (result.fired, result.queued) == (plain.fired, plain.queued)
    assert outbox(w.path) == outbox(copy)  # the same rows, none twice, none lost
