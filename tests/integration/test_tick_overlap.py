"""The tick decides the next batch while the previous one commits (store/overlap.py) and keeps
those decisions only when nobody wrote in between: it writes exactly what one batch after the
other writes, and a person's answer saved between two batches is never overwritten.

Batches of one prompt, so nearly every decision is one made during a commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from journeys.state import Outcome
from scheduler import tick
from scheduler.tick import process_due
from store.db import Database
from store.uow import AbstractUnitOfWork, UnitOfWork, UnitOfWorkFactory, WriteMark
from tests.integration.test_store_hotpath import INSTANTS, START, TABLES, rows_of


class Spied:
    """The units of work the tick is given, counting how each `unchanged_since` answered; `between`
    runs before a unit is opened (another process writing between two batches)."""

    def __init__(self, units: UnitOfWorkFactory, between: Callable[[int], None] = lambda n: None,
                 before_check: Callable[[int], Awaitable[None]] | None = None) -> None:
        self.units, self.between, self.before_check = units, between, before_check
        self.default_tz = units.default_tz
        self.opened = 0
        self.answers: list[bool] = []

    def __call__(self, *, urgent: bool = False) -> AbstractUnitOfWork:
        self.opened += 1
        self.between(self.opened)
        uow = self.units(urgent=urgent)
        check = uow.unchanged_since

        async def unchanged_since(before: WriteMark) -> bool:
            if self.before_check is not None:
                await self.before_check(len(self.answers))
            answer = await check(before)
            self.answers.append(answer)
            return answer

        uow.unchanged_since = unchanged_since  # type: ignore[method-assign]
        return uow

    def read(self) -> AbstractUnitOfWork:
        return self.units.read()

    async def compact(self) -> None:
        await self.units.compact()


async def copies_of_an_enrolled_world(make_world, tmp_path: Path, names: list[str]) -> list[Path]:
    w = await make_world(datetime(2027, 3, 29, 8, tzinfo=UTC),
                         [("ana", "Ana Silva"), ("chen", "Chen Wei"), ("dev", "Dev Patel"), ("ben", "Ben Okafor")])
    res = await w.service.enroll("active-listening", [w.ids["ana"], w.ids["chen"], w.ids["dev"]], w.ids["ben"], START)
    assert len(res.enrolled) == 3
    await w.service.settle()
    out = []
    for name in names:
        src, dst = sqlite3.connect(w.path), sqlite3.connect(tmp_path / name)
        src.backup(dst)
        src.close()
        dst.close()
        out.append(tmp_path / name)
    return out


async def test_overlapped_batches_write_what_one_batch_after_the_other_writes(make_world, library, tmp_path,
                                                                                monkeypatch):
    overlapped, sequential = await copies_of_an_enrolled_world(make_world, tmp_path, ["overlap.db", "seq.db"])

    async def run(path: Path) -> tuple[int, list[bool]]:
        db = Database(f"sqlite:///{path}")
        try:
            spied = Spied(UnitOfWorkFactory(db))
            queued = 0
            for at in INSTANTS:
                queued += (await process_due(spied, library, at, batch=1)).queued
            return queued, spied.answers
        finally:
            await db.dispose()

    queued, answers = await run(overlapped)
    with monkeypatch.context() as m:
        async def no_mark(self: UnitOfWork) -> None:
            return None

        m.setattr(UnitOfWork, "mark", no_mark)
        seq_queued, seq_answers = await run(sequential)

    assert answers.count(True) > 10 and False not in answers  # decisions made while committing were used
    assert seq_answers == []
    assert queued == seq_queued > 10
    for table in TABLES:
        assert rows_of(overlapped, table, "*") == rows_of(sequential, table, "*"), table


async def test_an_answer_saved_between_two_batches_is_not_overwritten(make_world, library, tmp_path):
    """Another process answers the very prompt the tick read (and decided) for its next batch,
    between the two transactions: the tick notices, claims again and leaves the answer alone."""
    (path,) = await copies_of_an_enrolled_world(make_world, tmp_path, ["world.db"])
    at = INSTANTS[0]
    con = sqlite3.connect(path)
    due_at = con.execute("select count(*) from prompts where next_at <= ?",
                         (at.replace(tzinfo=None).isoformat(" ", "microseconds"),)).fetchone()[0]
    assert due_at >= 3, "three participants' first before-phase prompt"
    answered: list[str] = []

    def another_process_answers(opened: int) -> None:
        if opened != 2:
            return
        # the tick's first batch has committed; its next batch (the earliest due prompt now) was
        # read and decided during that commit
        pid = con.execute("select id from prompts where next_at <= ? order by next_at limit 1",
                          (at.replace(tzinfo=None).isoformat(" ", "microseconds"),)).fetchone()[0]
        con.execute("update prompts set status = 'answered', next_at = NULL, answers = '{\"x\": 1}' where id = ?",
                    (pid,))
        con.commit()
        answered.append(pid)

    db = Database(f"sqlite:///{path}")
    try:
        spied = Spied(UnitOfWorkFactory(db), another_process_answers)
        result = await process_due(spied, library, at, batch=1)
    finally:
        await db.dispose()
    assert answered and spied.answers[0] is False  # the decision made during the commit was dropped
    assert result.fired == due_at - 1
    (pid,) = answered
    assert con.execute("select status, next_at, answers from prompts where id = ?", (pid,)).fetchone() == (
        "answered", None, '{"x": 1}')
    assert con.execute("select count(*) from outbox where key like ?", (f"{pid}:%",)).fetchone()[0] == 0
    con.close()


async def test_a_write_of_this_process_between_two_batches_is_noticed(make_world, library, tmp_path):
    """The same, written by another task of the tick's own process (an inbound action), through a
    pooled connection: possibly the very connection the previous batch committed on."""
    (path,) = await copies_of_an_enrolled_world(make_world, tmp_path, ["world.db"])
    at = INSTANTS[0]
    db = Database(f"sqlite:///{path}")
    units = UnitOfWorkFactory(db)
    answered: list[str] = []

    async def an_action_answers(checks: int) -> None:
        if checks:
            return
        async with units(urgent=True) as uow:
            (p,) = await uow.prompts.due(at, 1)
            await uow.save(Outcome(prompts=[p.with_(status="answered", next_at=None, answered_at=at)]), at)
            await uow.commit()
        answered.append(p.id)

    try:
        spied = Spied(units, before_check=an_action_answers)
        await process_due(spied, library, at, batch=1)
        async with units.read() as uow:
            got = await uow.prompts.get(answered[0])
    finally:
        await db.dispose()
    assert spied.answers[0] is False
    assert got is not None and (got.status, got.next_at, got.deliveries) == ("answered", None, 0)
    assert not [r for r in rows_of(path, "outbox", "key") if str(r[0]).startswith(f"{answered[0]}:")]


async def test_a_batch_stays_saved_when_deciding_the_next_one_fails(make_world, library, tmp_path, monkeypatch):
    """The next batch's decision fails (a bug, a bad journey) while the batch before commits: that
    batch's messages stay queued, the error reaches the caller, and the next pass starts over."""
    (path,) = await copies_of_an_enrolled_world(make_world, tmp_path, ["world.db"])
    at = INSTANTS[0]
    db = Database(f"sqlite:///{path}")
    units = UnitOfWorkFactory(db)
    decide = tick._decide
    calls: list[int] = []
    before = len(rows_of(path, "outbox", "key"))

    def failing_second(*args: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        decide(*args)  # type: ignore[arg-type]

    try:
        with monkeypatch.context() as m:
            m.setattr(tick, "_decide", failing_second)
            with pytest.raises(RuntimeError, match="boom"):
                await process_due(units, library, at, batch=1)
        assert len(rows_of(path, "outbox", "key")) == before + 1  # the first batch's message
        again = await process_due(units, library, at, batch=1)
    finally:
        await db.dispose()
    assert again.fired >= 2 and len(rows_of(path, "outbox", "key")) == before + 1 + again.queued
