"""A report enrolled later joins their manager's expectations card still waiting: one card.

Real service, SQLite file and scheduler tick. Ben manages from London. Ana, in New York, is enrolled
first: her card waits until after her own preparation there (an afternoon in London). Dina, in
London, is added to the same cohort the next day, in another `enroll`. Without the join Ben got
Dina's card in his morning and Ana's hours later: two cards for one conversation he holds with each.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.memory import RecordingChat
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from journeys.text import plain
from store.db import Database
from tests.worlds import service_on

START = date(2027, 4, 12)
T0 = datetime(2027, 3, 29, 8, tzinfo=UTC)


@pytest.fixture
async def world(tmp_path):
    chat = RecordingChat()
    db = Database(f"sqlite:///{tmp_path}/bot.db")
    await db.create_all()
    clock = SimulatedClock(T0)
    svc = await service_on(db, load_library(default_library_path()), {"memory": chat}, clock)
    ids = {}
    for uid, name, tz in (("ben", "Ben Okafor", "Europe/London"), ("ana", "Ana Silva", "America/New_York"),
                          ("dina", "Dina Lowe", "Europe/London")):
        chat.add_user(uid, name, tz=tz)
        ids[uid] = (await svc.ensure_person("memory", uid, name=name, tz=tz)).id
    yield svc, chat, clock, ids
    await db.dispose()


async def _run_until(svc, clock, until: datetime) -> None:
    for _ in range(2000):
        async with svc.uow.read() as uow:
            due = await uow.views.next_due_at()
        if due is None or due >= until:
            return
        clock.set(max(due, clock.now()))
        await svc.tick(clock.now())


async def test_a_report_enrolled_later_joins_the_managers_waiting_card(world):
    svc, chat, clock, ids = world
    await svc.enroll("active-listening", [ids["ana"]], ids["ben"], START, cohort="spring")
    clock.set(T0 + timedelta(days=1))
    await svc.enroll("active-listening", [ids["dina"]], ids["ben"], START, cohort="spring")
    await _run_until(svc, clock, datetime(2027, 4, 12, tzinfo=UTC))
    cards = [d for d in chat.to("ben") if ".expectations:1" in d.delivery_id]
    assert len(cards) == 1, [(d.delivery_id, plain(d.message.title)) for d in cards]
    text = plain(cards[0].message.text)
    assert "Ana" in text and "Dina" in text  # one card naming both
