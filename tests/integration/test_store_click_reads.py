"""A click's reads on SQLite's driver path (store/hotpath.py) return what SQLAlchemy's path returns.

Every button or form answer reads its person by platform id, its prompt, its enrollment and the
people on it, and (for a grouped manager card) the delivered card and the card's other prompts.
On an SQLite file those reads skip SQLAlchemy; PostgreSQL takes SQLAlchemy's path. A journey
lived for three weeks (cards delivered, answered, reminders, a manager's agreement) is read both
ways: every record must be equal, field by field (aware UTC datetimes, dates, JSON, booleans).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ports.chat import InboundAction
from store import hotpath
from store.uow import UnitOfWorkFactory
from tests.conftest import Someone

START = date(2027, 4, 12)


async def read_everything(units: UnitOfWorkFactory, platform: str, uids: list[str], keys: list[str]) -> dict[str, Any]:
    async with units.read() as uow:
        people = {uid: await uow.people.by_platform_id(platform, uid) for uid in uids}
        ids = [p.id for p in people.values() if p is not None]
        enrollment_ids = await uow.enrollments.ids_involving(ids[0])
        for pid in ids[1:]:
            enrollment_ids = sorted({*enrollment_ids, *await uow.enrollments.ids_involving(pid)})
        prompts = await uow.prompts.of_enrollments(enrollment_ids)
        return {
            "people": people,
            "by_ids": await uow.people.by_ids(ids),
            "records": {e: await uow.enrollments.record(e) for e in enrollment_ids},
            "prompts": {p.id: await uow.prompts.get(p.id) for p in prompts},
            "many": await uow.prompts.many(p.id for p in prompts),
            "outbox": await uow.outbox.by_keys(keys),
        }


async def test_a_clicks_reads_are_the_same_on_both_paths(make_world, monkeypatch: pytest.MonkeyPatch) -> None:
    people = [Someone("ana", "Ana Silva", "America/New_York", "ana@example.com"), Someone("chen", "Chen Wei"),
              Someone("ben", "Ben Okafor", "Asia/Tokyo")]
    w = await make_world(datetime(2027, 4, 5, 8, tzinfo=UTC), people)
    res = await w.service.enroll("active-listening", [w.ids["ana"], w.ids["chen"]], w.ids["ben"], START)
    assert len(res.enrolled) == 2
    answered: set[str] = set()
    for day in range(21):
        now = datetime(2027, 4, 5, 15, tzinfo=UTC) + timedelta(days=day)
        w.clock.set(now)
        await w.service.tick(now)
        await w.service.settle()
        for sent in list(w.chat.sent):  # each card's first button, once, as its addressee
            msg = sent.message
            if msg.prompt_id and msg.buttons and not msg.closed and sent.message_id not in answered:
                answered.add(sent.message_id)
                await w.service.handle_action(InboundAction(
                    platform="memory", user_id=sent.conversation_id.removeprefix("D-"), key=sent.message_id,
                    prompt_id=msg.prompt_id, button=msg.buttons[0].value,
                    values={"agreed": "Two one-to-ones a month"}))
    assert len(answered) >= 4
    con = sqlite3.connect(w.path)
    try:
        keys = [k for (k,) in con.execute("select key from outbox")]
    finally:
        con.close()
    units = UnitOfWorkFactory(w.service.db)
    uids = ["ana", "chen", "ben", "nobody"]
    fast = await read_everything(units, "memory", uids, keys)
    with monkeypatch.context() as m:
        m.setattr(hotpath, "fast", lambda session: False)
        slow = await read_everything(units, "memory", uids, keys)
    assert fast["people"]["nobody"] is None
    assert fast["people"]["ana"].email == "ana@example.com"
    assert fast["people"]["ana"].created_at.tzinfo is not None
    assert any(p.answered_at is not None and p.answers for p in fast["prompts"].values())
    assert len(fast["prompts"]) >= 10 and fast["many"] == fast["prompts"]
    assert len(fast["outbox"]) == len(keys) > 10
    assert any(item.message_id for item in fast["outbox"].values())
    for part in fast:
        assert fast[part] == slow[part], part
