"""A person's own week stored on their people row decides when the real tick delivers to them
(SQLite file, BotService, scheduler pass at explicit instants)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.memory import RecordingChat
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from store.db import Database
from tests.worlds import service_on

NY = ZoneInfo("America/New_York")
START = date(2027, 4, 12)


def ny(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2027, m, d, hh, mm, tzinfo=NY).astimezone(UTC)


@pytest.fixture
async def world(tmp_path):
    chat = RecordingChat()
    db = Database(f"sqlite:///{tmp_path}/bot.db")
    await db.create_all()
    svc = await service_on(db, load_library(default_library_path()), {"memory": chat},
                           SimulatedClock(datetime(2027, 3, 29, 8, tzinfo=UTC)))
    ids = {}
    for uid in ("ana", "ben"):
        chat.add_user(uid, uid.title(), tz="America/New_York")
        ids[uid] = (await svc.ensure_person("memory", uid, name=uid.title(), tz="America/New_York")).id
    yield svc, chat, tmp_path / "bot.db", ids
    await db.dispose()


def set_week(path, person_id: str, days: str | None, start: str | None, end: str | None) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute("update people set work_days=?, work_start=?, work_end=? where id=?", (days, start, end, person_id))
    con.close()


def kickoffs(chat: RecordingChat, uid: str) -> list:
    return [d for d in chat.to(uid) if ".kickoff:" in d.delivery_id]


async def test_participant_is_reached_in_her_own_hours_not_the_journeys(world):
    svc, chat, path, ids = world
    set_week(path, ids["ana"], "mon tue wed thu fri", "13:00", "21:00")
    await svc.enroll("active-listening", [ids["ana"]], ids["ben"], START)
    await svc.tick(ny(4, 12, 9, 30))  # the journey's kickoff time: Ana's day has not begun
    assert kickoffs(chat, "ana") == []
    await svc.tick(ny(4, 12, 12, 59))
    assert kickoffs(chat, "ana") == []
    await svc.tick(ny(4, 12, 13, 0))
    assert len(kickoffs(chat, "ana")) == 1


async def test_hours_changed_after_enrollment_still_decide_delivery(world):
    svc, chat, path, ids = world
    await svc.enroll("active-listening", [ids["ana"]], ids["ben"], START)
    set_week(path, ids["ana"], "tue wed thu fri", "10:00", "16:00")  # she no longer works Mondays
    await svc.tick(ny(4, 12, 9, 30))
    await svc.tick(ny(4, 12, 15, 0))
    assert kickoffs(chat, "ana") == []
    await svc.tick(ny(4, 13, 10, 0))
    assert len(kickoffs(chat, "ana")) == 1


async def test_an_unreadable_stored_week_falls_back_to_the_journeys(world):
    svc, chat, path, ids = world
    set_week(path, ids["ana"], "funday", "25:00", "nope")
    await svc.enroll("active-listening", [ids["ana"]], ids["ben"], START)
    await svc.tick(ny(4, 12, 9, 30))
    assert len(kickoffs(chat, "ana")) == 1
