"""Store + scheduler tick on a real SQLite file: each prompt delivered exactly once.

BotService with a RecordingChat, enrollment of two participants with one manager, and ticks at
explicit instants (no wall clock). Concurrency is two ticks gathered on one loop, in one service
and in two services (two workers) on the same file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.memory import RecordingChat
from bot.services.clock import SimulatedClock
from ports.chat import DeliveryError
from store.db import Database
from store.models import OutboxRow
from tests.worlds import service_on

START = date(2027, 4, 12)
LONDON = ZoneInfo("Europe/London")
BEFORE = {"expectations", "why-it-matters", "focus-situation", "success-picture"}


def london(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2027, m, d, hh, mm, tzinfo=LONDON).astimezone(UTC)


# instants covering the before phase: due times, a repeat, off-hours and a weekend
# (the participants prepare from Fri 2 Apr; Ben's card comes after, on Wed 7 Apr at 14:00)
CARD_AT = london(4, 7, 14)
INSTANTS = [london(4, 2, 10, 0), london(4, 2, 10, 0), london(4, 2, 23, 0), london(4, 5, 10, 0),
            london(4, 6, 10, 0), london(4, 7, 10, 0), CARD_AT, CARD_AT, london(4, 7, 14, 5),
            london(4, 9, 14, 0), london(4, 10, 11, 0)]


async def make_service(path, library, chat):
    """Another worker on the same file (a second process, as far as the database can tell)."""
    db = Database(f"sqlite:///{path}")
    await db.create_all()
    return await service_on(db, library, {"memory": chat}, SimulatedClock(datetime(2027, 3, 29, 8, tzinfo=UTC)))


@pytest.fixture
async def world(make_world):
    w = await make_world(datetime(2027, 3, 29, 8, tzinfo=UTC),
                         [("ana", "Ana Silva"), ("chen", "Chen Wei"), ("ben", "Ben Okafor")])
    res = await w.service.enroll("active-listening", [w.ids["ana"], w.ids["chen"]], w.ids["ben"], START)
    assert len(res.enrolled) == 2
    return w.service, w.chat, w.path


def before_phase(chat: RecordingChat) -> Counter:
    return Counter((d.conversation_id, d.delivery_id) for d in chat.sent
                   if d.delivery_id.endswith(":1") and d.delivery_id.split(".", 1)[-1].split(":")[0] in BEFORE)


def outbox(path, like: str = "%.expectations:1") -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("select key, state, attempts, next_attempt_at, error from outbox where key like ? "
                           "order by id", (like,)).fetchall()
    finally:
        con.close()


def tasks(chat: RecordingChat) -> list:
    return [d for d in chat.sent if d.delivery_id.endswith(".expectations:1")]


def expected_before(chat_users=("ana", "chen")) -> int:
    # each participant: 3 participant steps; the manager: one expectations card for both reports
    return len(chat_users) * 3 + 1


async def test_each_before_phase_prompt_is_delivered_once_even_when_ticks_repeat(world):
    svc, chat, _ = world
    for at in INSTANTS:
        await svc.tick(at)
        await svc.tick(at)  # the same instant twice: nothing new
    counts = before_phase(chat)
    assert len(counts) == expected_before()
    assert set(counts.values()) == {1}
    assert len({d.delivery_id for d in chat.sent}) == len(chat.sent)
    # Ben got one expectations card naming both reports; nobody got anything at night or on Saturday
    (card,) = [d for d in chat.to("ben") if ".expectations:1" in d.delivery_id]
    assert len([b for b in card.message.buttons if b.value == "done"]) == 2


async def test_nothing_is_sent_before_it_is_due(world):
    svc, chat, _ = world
    await svc.tick(london(4, 2, 9, 59))
    assert chat.sent == []
    await svc.tick(CARD_AT - timedelta(minutes=1))
    assert tasks(chat) == []  # the participants prepare first
    n = len(chat.sent)
    await svc.tick(CARD_AT)
    assert [d.conversation_id for d in chat.sent[n:]] == ["D-ben"] and len(tasks(chat)) == 1  # one card for both


async def test_concurrent_ticks_deliver_once(world):
    svc, chat, _ = world
    for at in INSTANTS:
        await asyncio.gather(svc.tick(at), svc.tick(at))
    counts = before_phase(chat)
    assert len(counts) == expected_before() and set(counts.values()) == {1}


async def test_two_workers_on_the_same_file_deliver_once(world, library):
    svc, chat, path = world
    other = await make_service(path, library, chat)
    try:
        for at in INSTANTS:
            await asyncio.gather(svc.tick(at), other.tick(at))
    finally:
        await other.db.dispose()
    counts = before_phase(chat)
    assert len(counts) == expected_before() and set(counts.values()) == {1}


async def test_rate_limited_send_is_retried_no_sooner_than_retry_after(world):
    svc, chat, path = world
    t0 = CARD_AT
    await svc.tick(t0 - timedelta(minutes=1))  # the participants' preparation goes out first
    chat.fail_next = [DeliveryError("rate_limited", "ratelimited", retry_after=30)]
    _, first = await svc.tick(t0)
    assert first.retried == 1
    (limited,) = [r for r in outbox(path) if r[1] == "pending"]
    assert limited[2] == 1 and limited[4] == "ratelimited"
    assert len(tasks(chat)) == 0  # Ben's one expectations card (both reports) waits
    _, early = await svc.tick(t0 + timedelta(seconds=29))
    assert early.sent == 0 and len(tasks(chat)) == 0
    _, later = await svc.tick(t0 + timedelta(seconds=30))
    assert later.sent == 1 and len(tasks(chat)) == 1
    assert {r[1] for r in outbox(path)} == {"sent"}
    assert len({d.delivery_id for d in chat.sent}) == len(chat.sent)


async def test_permanent_failure_is_marked_failed_with_the_reason(world):
    svc, chat, path = world
    await svc.tick(CARD_AT - timedelta(minutes=1))
    chat.fail_next = [DeliveryError("permanent", "account_inactive")]
    _, res = await svc.tick(CARD_AT)
    assert res.failed == 1
    failed = [r for r in outbox(path, "%") if r[1] == "failed"]
    assert len(failed) == 1 and failed[0][4] == "account_inactive"
    n = len(chat.sent)
    _, again = await svc.tick(CARD_AT + timedelta(hours=1))
    assert again.sent == 0 and again.failed == 0  # not retried
    assert len(chat.sent) == n
    assert failed[0][0] not in {d.delivery_id for d in chat.sent}


async def test_restart_on_the_same_file_loses_nothing(world, library):
    svc, chat, path = world
    for at in INSTANTS[:7]:
        await svc.tick(at)
    sent_before = len(tasks(chat))
    await svc.dispatcher.release()  # a process that stops gives up its SQLite delivery lock
    await svc.db.dispose()
    restarted = await make_service(path, library, chat)
    try:
        for at in INSTANTS:
            await restarted.tick(at)
        async with restarted.db.read() as s:
            rows = (await s.execute(select(OutboxRow))).scalars().all()
    finally:
        await restarted.db.dispose()
    assert sent_before == 1  # one expectations card for both reports
    counts = before_phase(chat)
    assert len(counts) == expected_before() and set(counts.values()) == {1}
    assert all(r.state == "sent" for r in rows)
    assert len({d.delivery_id for d in chat.sent}) == len(chat.sent) == len(rows)
