"""On SQLite one process delivers (issue 3): a second dispatcher on the same file never sends while
the first lives, takes over when the first shuts down cleanly or goes silent, and nothing is sent twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from adapters.memory import RecordingChat
from journeys.messages import Message
from scheduler.delivery import SQLITE_LOCK, Dispatcher
from store.db import Database
from store.models import HeartbeatRow, OutboxRow, PersonRow
from store.uow import UnitOfWorkFactory

T0 = datetime(2027, 4, 6, 9, tzinfo=UTC)


async def seed(db: Database, n: int) -> None:
    async with db.write() as s:
        for i in range(n):
            s.add(PersonRow(id=f"p{i}", platform="memory", platform_user_id=f"U{i}", name=f"U{i}",
                            dm_id=f"D-U{i}", created_at=T0, greeted=True))
            s.add(OutboxRow(key=f"k{i}", recipient_id=f"p{i}", payload=Message(f"p{i}", f"hello {i}").to_json(),
                            state="pending", attempts=0, next_attempt_at=T0, created_at=T0))


async def add_row(db: Database, i: int) -> None:
    async with db.write() as s:
        s.add(OutboxRow(key=f"late{i}", recipient_id="p0", payload=Message("p0", f"late {i}").to_json(),
                        state="pending", attempts=0, next_attempt_at=T0, created_at=T0))


def texts(chat: RecordingChat) -> list[str]:
    return [d.message.text for d in chat.sent]


async def test_a_second_dispatcher_never_delivers_while_the_first_lives(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    await seed(db, 3)
    one_chat, two_chat = RecordingChat(), RecordingChat()
    one = Dispatcher(UnitOfWorkFactory(db), {"memory": one_chat}, owner="serve", single=True)
    two = Dispatcher(UnitOfWorkFactory(db), {"memory": two_chat}, owner="worker", single=True)
    try:
        assert (await one.deliver(T0)).sent == 3
        await add_row(db, 1)
        assert (await two.deliver(T0 + timedelta(minutes=1))).sent == 0  # the first still holds the file
        assert texts(two_chat) == []
        assert (await one.deliver(T0 + timedelta(minutes=1))).sent == 1   # and keeps delivering

        await one.release()  # a clean shutdown hands over at once
        await add_row(db, 2)
        assert (await two.deliver(T0 + timedelta(minutes=2))).sent == 1
        assert texts(two_chat) == ["late 2"]
        assert (await one.deliver(T0 + timedelta(minutes=3))).sent == 0  # now the second holds it

        # The holder goes silent (killed): once its lock's time is up, the other takes over.
        async with db.write() as s:
            await s.execute(update(HeartbeatRow).where(HeartbeatRow.name == SQLITE_LOCK)
                            .values(at=datetime.now(UTC) - timedelta(seconds=1)))
        await add_row(db, 3)
        assert (await one.deliver(T0 + timedelta(minutes=4))).sent == 1
        sent = texts(one_chat) + texts(two_chat)
        assert sorted(sent) == sorted(["hello 0", "hello 1", "hello 2", "late 1", "late 2", "late 3"])
        async with db.read() as s:
            states = {r.key: r.state for r in (await s.execute(select(OutboxRow))).scalars()}
        assert set(states.values()) == {"sent"}
    finally:
        await db.dispose()


async def test_without_the_flag_or_on_postgres_rules_dispatchers_share_the_outbox(tmp_path):
    """Tests and tools that build a Dispatcher directly are not elected: the lease alone keeps a row
    from being sent twice."""
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    await seed(db, 2)
    a, b = RecordingChat(), RecordingChat()
    try:
        assert (await Dispatcher(UnitOfWorkFactory(db), {"memory": a}).deliver(T0)).sent == 2
        await add_row(db, 1)
        assert (await Dispatcher(UnitOfWorkFactory(db), {"memory": b}).deliver(T0)).sent == 1
        async with db.read() as s:
            assert (await s.get(HeartbeatRow, SQLITE_LOCK)) is None
    finally:
        await db.dispose()
