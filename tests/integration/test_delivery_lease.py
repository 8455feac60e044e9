"""A live dispatcher keeps its rows however slow its pass: no other dispatcher sends them too.

A pass slower than its lease (a CPU-starved machine, a platform taking its time) used to lose its
rows to another dispatcher while still sending them: the other found nothing in the history yet
and sent a second copy. The holder now renews its leases while it works; only a dead sender's
rows are taken over.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from adapters.memory import RecordingChat
from journeys.messages import Message
from ports.chat import Address, SentRef
from scheduler.delivery import Dispatcher
from store.db import Database
from store.models import OutboxRow, PersonRow
from store.uow import UnitOfWorkFactory

NOW = datetime(2027, 4, 6, 9, tzinfo=UTC)
LEASE = timedelta(seconds=1)


class StallingChat(RecordingChat):
    """The first send takes longer than the whole lease."""

    def __init__(self) -> None:
        super().__init__(platform="memory")
        self.add_user("U1", "Ana")
        self.stalled = False

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef:
        if not self.stalled:
            self.stalled = True
            await asyncio.sleep(LEASE.total_seconds() * 1.5)
        return await super().send(conversation_id, message, delivery_id, address=address)


async def ana_db(tmp_path: Path) -> Database:
    """A database with one person, Ana, reached on the recording platform."""
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    async with db.write() as s:
        s.add(PersonRow(id="p1", platform="memory", platform_user_id="U1", name="Ana", dm_id="D-U1",
                        created_at=NOW, greeted=True))
    return db


async def ana_with_two_rows(tmp_path: Path) -> Database:
    """Ana's database with two messages due for her, k0 then k1."""
    db = await ana_db(tmp_path)
    async with db.write() as s:
        for j in range(2):
            s.add(OutboxRow(key=f"k{j}", recipient_id="p1", payload=Message("p1", f"hello {j}").to_json(),
                            state="pending", attempts=0, next_attempt_at=NOW, created_at=NOW))
    return db


async def test_a_slow_dispatcher_keeps_its_rows_and_sends_each_once(tmp_path) -> None:
    db = await ana_with_two_rows(tmp_path)  # one conversation: sent in order
    chat = StallingChat()
    slow = Dispatcher(UnitOfWorkFactory(db), {"memory": chat}, lease=LEASE, owner="slow")
    other = Dispatcher(UnitOfWorkFactory(db), {"memory": chat}, lease=LEASE, owner="other")
    try:
        first = asyncio.create_task(slow.deliver(NOW))
        await asyncio.sleep(LEASE.total_seconds() * 1.2)
        # Longer than the lease has passed, but the slow dispatcher is alive and renewed its
        # leases: the other dispatcher finds nothing to take over.
        taken = await other.deliver(NOW + LEASE * 1.2)
        assert taken.sent == 0
        await first
        for _ in range(3):
            await other.deliver(NOW + LEASE * 5)
        async with db.read() as s:
            states = dict((await s.execute(select(OutboxRow.key, OutboxRow.state))).all())
    finally:
        await db.dispose()
    assert states == {"k0": "sent", "k1": "sent"}
    assert [d.delivery_id for d in chat.sent] == ["k0", "k1"]  # each once, in order


async def test_a_dead_dispatchers_rows_are_taken_over(tmp_path) -> None:
    """Renewal stops with the pass: rows left `sending` by a pass that died are reclaimed."""
    db = await ana_db(tmp_path)
    async with db.write() as s:
        s.add(OutboxRow(key="k0", recipient_id="p1", payload=Message("p1", "hello").to_json(),
                        state="sending", lease_owner="dead", lease_until=NOW + LEASE, attempts=1,
                        next_attempt_at=NOW, created_at=NOW))
    chat = StallingChat()
    chat.stalled = True
    try:
        result = await Dispatcher(UnitOfWorkFactory(db), {"memory": chat}, lease=LEASE).deliver(NOW + LEASE * 2)
    finally:
        await db.dispose()
    assert result.sent == 1 and [d.delivery_id for d in chat.sent] == ["k0"]


class StallSecond(StallingChat):
    """The second send (a later pass of the same drain) takes a while."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = True
        self.sends = 0

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef:
        self.sends += 1
        if self.sends == 2:
            await asyncio.sleep(LEASE.total_seconds() * 0.6)
        return await super().send(conversation_id, message, delivery_id, address=address)


async def test_a_long_drain_leases_from_the_time_it_is_now(tmp_path) -> None:
    """`drain` passes one `now` to all its passes; a pass late in a long drain must still lease its
    rows for a whole lease from the real time, or another worker takes them over at once."""
    db = await ana_with_two_rows(tmp_path)
    chat = StallSecond()
    drainer = Dispatcher(UnitOfWorkFactory(db), {"memory": chat}, lease=LEASE, owner="drainer")
    other = Dispatcher(UnitOfWorkFactory(db), {"memory": chat}, lease=LEASE, owner="other")
    try:
        await drainer.deliver(NOW, limit=1)  # the drain's first pass
        await asyncio.sleep(LEASE.total_seconds() * 1.2)  # the drain goes on for longer than a lease
        second = asyncio.create_task(drainer.deliver(NOW, limit=1))  # same `now`, as drain does
        await asyncio.sleep(LEASE.total_seconds() * 0.1)
        # Another worker whose clock says it is now (the drain's start plus the time gone by).
        taken = await other.deliver(NOW + LEASE * 1.3)
        await second
    finally:
        await db.dispose()
    assert taken.sent == 0
    assert [d.delivery_id for d in chat.sent] == ["k0", "k1"]
