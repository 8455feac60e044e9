"""The tick's driver path on SQLite (store/hotpath.py) writes exactly what SQLAlchemy's path writes.

One enrolled world, copied; the same ticks run on both copies, one through the driver path (the
default on an SQLite file), one with it turned off (the path PostgreSQL takes). Every row of the
tables a tick writes must be identical, byte for byte: the outbox payload's JSON, the datetime
text the due-work indexes compare, the booleans.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from journeys import engine
from scheduler.tick import process_due
from store import hotpath
from store.db import Database
from store.uow import UnitOfWorkFactory

LONDON = ZoneInfo("Europe/London")
START = date(2027, 4, 12)


def london(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2027, m, d, hh, mm, tzinfo=LONDON).astimezone(UTC)


# the before phase, the start, a reminder, a weekend and an escalation
INSTANTS = [london(4, 2, 10), london(4, 2, 23), london(4, 5, 10), london(4, 7, 14), london(4, 9, 14),
            london(4, 12, 9), london(4, 13, 11), london(4, 15, 10), london(4, 19, 10), london(4, 23, 16)]
TABLES = ("prompts", "outbox", "journey_events", "enrollments", "mtms")


def rows(path: Path, table: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"select * from {table} order by rowid").fetchall()
    finally:
        con.close()


async def ticks(path: Path, library: dict) -> int:
    db = Database(f"sqlite:///{path}")
    queued = 0
    try:
        for at in INSTANTS:
            queued += (await process_due(UnitOfWorkFactory(db), library, at)).queued
    finally:
        await db.dispose()
    return queued


async def test_driver_path_writes_what_sqlalchemy_writes(make_world, library, tmp_path, monkeypatch):
    w = await make_world(datetime(2027, 3, 29, 8, tzinfo=UTC),
                         [("ana", "Ana Silva"), ("chen", "Chen Wei"), ("ben", "Ben Okafor")])
    res = await w.service.enroll("active-listening", [w.ids["ana"], w.ids["chen"]], w.ids["ben"], START)
    assert len(res.enrolled) == 2
    await w.service.settle()
    copies = []
    for name in ("driver.db", "sqlalchemy.db"):
        src, dst = sqlite3.connect(w.path), sqlite3.connect(tmp_path / name)
        src.backup(dst)
        src.close()
        dst.close()
        copies.append(tmp_path / name)

    fast_queued = await ticks(copies[0], library)
    with monkeypatch.context() as m:
        m.setattr(hotpath, "fast", lambda session: False)
        slow_queued = await ticks(copies[1], library)

    assert fast_queued == slow_queued > 6  # the before phase, the kickoff, reminders were queued
    for table in TABLES:
        assert rows(copies[0], table) == rows(copies[1], table), table
    # a reminder queued while its card still waited replaced it, on both paths alike
    assert any(r[-1] == "replaced by a newer one" for r in rows_of(copies[0], "outbox", "state, error")
               if r[0] == "cancelled")


def rows_of(path: Path, table: str, columns: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"select {columns} from {table} order by rowid").fetchall()
    finally:
        con.close()


async def test_an_outbox_key_queued_twice_counts_once(make_world, library):
    """The driver's row count stands in for RETURNING: a decision made twice queues nothing new."""
    w = await make_world(datetime(2027, 3, 29, 8, tzinfo=UTC), [("ana", "Ana Silva"), ("ben", "Ben Okafor")])
    await w.service.enroll("active-listening", [w.ids["ana"]], w.ids["ben"], START)
    units = UnitOfWorkFactory(w.service.db)
    async with units() as uow:
        due = await uow.prompts.due(INSTANTS[0], 10)
        assert due, "the first before-phase prompt is due"
    first = await process_due(units, library, INSTANTS[0])
    assert first.queued == len(due)
    # the same prompts claimed again as they were (a second worker's stale decision)
    async with units() as uow:
        states = await uow.enrollments.states({p.enrollment_id for p in due})
        out = engine.fire(library["active-listening"], states[due[0].enrollment_id], due[0], None, INSTANTS[0])
        assert out.outgoing
        assert await uow.save(out, INSTANTS[0]) == 0
        await uow.commit()


@pytest.mark.parametrize("text", ["plain", "naïve — “quoted” \\ \"x\" \n\t emoji 🎉", ""])
def test_message_json_is_asdict_json(text):
    import json

    from journeys.messages import Button, FormField, Link, Message, Option

    fields = (FormField("a", text, "choice", (Option("1", text), Option("2", "two")), hint=text,
                        show_if_values=("x", text)),
              FormField("b", "B", "rating", scale=5, required=False, show_if_field="a"))
    for m in (Message("p_1", text),
              Message("p_1", text, title=text, prompt_id=None, buttons=(Button(text, "v", "primary", "e.x"),),
                      fields=fields, links=(Link(text, "https://x.example/?a=1&b=2"),),
                      facts=((text, "1"), ("b", text)), closed=True, audience="manager")):
        assert hotpath.sqlite_json(m) == json.dumps(m.to_json())
        assert hotpath.sqlite_json(m) == json.dumps(m.to_json())  # the cached tuples too
