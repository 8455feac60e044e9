"""The web process's outbox sends wait for its pace (the requests it is answering come first), and
every row is still sent once when the pace lets them go."""

from __future__ import annotations

import asyncio

from adapters.memory import RecordingChat
from scheduler.delivery import Dispatcher
from store.uow import UnitOfWorkFactory
from tests.integration.test_delivery_lease import NOW, ana_with_two_rows


async def test_sends_wait_for_the_pace_then_each_row_goes_once(tmp_path) -> None:
    db = await ana_with_two_rows(tmp_path)
    chat = RecordingChat(platform="memory")
    chat.add_user("U1", "Ana")
    answering = asyncio.Event()  # set when the process has no request waiting for an answer
    paced = 0

    async def pace() -> None:
        nonlocal paced
        paced += 1
        await answering.wait()

    dispatcher = Dispatcher(UnitOfWorkFactory(db), {"memory": chat}, pace=pace)
    try:
        passing = asyncio.create_task(dispatcher.deliver(NOW))
        while not paced:
            await asyncio.sleep(0.01)
        assert chat.sent == []  # held back while the process is busy answering
        answering.set()
        result = await passing
        assert result.sent == 2
        assert [d.message.text for d in chat.sent] == ["hello 0", "hello 1"]
        assert paced == 2  # once before each send
    finally:
        await db.dispose()
