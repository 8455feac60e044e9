"""Fixtures shared across the suite: the bundled journey library, and a bot on a real SQLite file
with a recording chat port at a simulated time (the "world" most integration and e2e tests start from)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from adapters.memory import RecordingChat
from bot.app.service import BotService
from bot.app.settings import Settings
from bot.services.clock import SimulatedClock
from journeys.definition import Journey
from journeys.loader import default_library_path, load_library
from store.db import Database
from tests.worlds import service_on


@pytest.fixture(scope="session")
def library() -> dict[str, Journey]:
    return load_library(default_library_path())


@pytest.fixture(scope="session")
def journey(library: dict[str, Journey]) -> Journey:
    """The bundled sample journey, `active-listening`."""
    return library["active-listening"]


@dataclass(frozen=True)
class Someone:
    uid: str  # the platform user id
    name: str
    tz: str = "Europe/London"
    email: str | None = None


@dataclass
class BotWorld:
    service: BotService
    chat: RecordingChat
    clock: SimulatedClock
    path: Path  # the SQLite file
    ids: dict[str, str] = field(default_factory=dict)  # platform user id -> person id

    @property
    def db(self) -> Database:
        return self.service.db


MakeWorld = Callable[..., Awaitable[BotWorld]]


@pytest.fixture
async def make_world(tmp_path: Path, library: dict[str, Journey]) -> AsyncIterator[MakeWorld]:
    """`await make_world(now, people, platform=..., admins=..., settings=...)`: a `BotService` on an
    SQLite file in `tmp_path` whose one port is a `RecordingChat` knowing `people` (each stored as
    a person too). Every world made is settled and closed after the test."""
    made: list[BotWorld] = []

    async def make(now: datetime, people: Iterable[Someone | tuple[str, str]] = (), *, platform: str = "memory",
                   admins: Iterable[str] = (), settings: Settings | None = None, name: str = "bot.db") -> BotWorld:
        path = tmp_path / name
        db = Database(f"sqlite:///{path}")
        await db.create_all()
        chat = RecordingChat(platform=platform)
        clock = SimulatedClock(now)
        # built by the composition root from the settings; only the chat port is the test's
        svc = await service_on(db, library, {platform: chat}, clock, admins=admins, settings=settings)
        world = BotWorld(svc, chat, clock, path)
        made.append(world)
        for p in people:
            who = p if isinstance(p, Someone) else Someone(*p)
            chat.add_user(who.uid, who.name, email=who.email, tz=who.tz)
            world.ids[who.uid] = (await svc.ensure_person(platform, who.uid, name=who.name, tz=who.tz,
                                                          email=who.email)).id
        return world

    yield make
    for world in made:
        await world.service.settle()
        await world.service.db.dispose()
