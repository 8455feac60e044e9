"""`enroll ... manager auto` takes each participant's manager from the directory (here: the HR
sync), links the managers' own managers, and schedules each person in their own calendar."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.memory import RecordingChat
from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from bot.services.people_sync import parse_people_csv, sync_people
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.uow import UnitOfWorkFactory
from tests.worlds import service_on

NOW = datetime(2027, 3, 29, 8, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
HR = """email,manager_email,country,timezone,working_hours
ana@contoso.example,maria@contoso.example,US,America/New_York,13:00-21:00
bo@contoso.example,ken@contoso.example,,,
maria@contoso.example,sam@contoso.example,,,
"""


@pytest.fixture
async def world(tmp_path):
    path = tmp_path / "bot.db"
    db = Database(f"sqlite:///{path}")
    await db.create_all()
    chat = RecordingChat(platform="console")
    svc = await service_on(db, load_library(default_library_path()), {"console": chat}, SimulatedClock(NOW),
                           admins={"admin"})
    for uid in ("ana", "bo", "maria", "ken", "sam", "cy"):
        chat.add_user(uid, uid.title(), email=f"{uid}@contoso.example", tz="Europe/London")
    report = parse_people_csv(HR)
    await sync_people(UnitOfWorkFactory(db), report, NOW)
    yield svc, chat, path
    await svc.settle()
    await db.dispose()


def rows(path, query: str) -> list[tuple]:
    with sqlite3.connect(path) as c:
        return c.execute(query).fetchall()


async def command(svc: BotService, text: str) -> str:
    result = await svc.handle_command("console", "admin", text, text)
    (reply,) = result.replies
    return f"{reply.title}\n{reply.text}"


async def test_each_participant_gets_their_own_manager_and_calendar(world):
    svc, _, path = world
    text = await command(svc, "enroll active-listening ana@contoso.example bo@contoso.example manager auto "
                              "start 2027-04-12")
    assert "Manager: Maria" in text and "Manager: Ken" in text, text
    pairs = rows(path, "select p.email, m.email from enrollments e join people p on p.id=e.person_id "
                       "join people m on m.id=e.manager_id order by p.email")
    assert pairs == [("ana@contoso.example", "maria@contoso.example"), ("bo@contoso.example", "ken@contoso.example")]
    # Maria's own manager is known for the senior-leader digest
    assert rows(path, "select s.email from people m join people s on s.id=m.manager_id "
                      "where m.email='maria@contoso.example'") == [("sam@contoso.example",)]
    # Ana's kickoff is scheduled in her own hours and zone from the sync, not at the journey's 09:30
    (due,) = rows(path, "select due_at from prompts where step_id='kickoff' and recipient_id="
                        "(select id from people where email='ana@contoso.example')")
    assert datetime.fromisoformat(due[0]).replace(tzinfo=UTC) == datetime(2027, 4, 12, 13, tzinfo=NY)


async def test_a_participant_without_a_manager_in_the_directory_enrolls_nobody(world):
    svc, _, path = world
    text = await command(svc, "enroll active-listening ana@contoso.example cy@contoso.example manager auto")
    assert "the directory has no manager for cy@contoso.example" in text and "Nobody was enrolled" in text
    assert rows(path, "select count(*) from enrollments") == [(0,)]
