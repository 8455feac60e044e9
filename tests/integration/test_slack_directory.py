"""Slack: working hours, working days, holiday country and manager from the workspace's custom
profile fields (users.profile.get over real HTTP against the fake Web API) when configured;
otherwise the HR sync is the directory."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from adapters.slack.client import SlackChat, SlackFields
from bot.services.clock import SimulatedClock
from bot.services.people_sync import parse_people_csv, sync_people
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.uow import UnitOfWorkFactory
from tests.fakes.slack_api import FakeSlackApi
from tests.worlds import service_on

FIELDS = SlackFields(manager="Xf01MGR", working_hours="Xf02HRS", working_days="Xf03DAYS", country="Xf04CTRY")
NOW = datetime(2027, 3, 29, 8, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


def workspace(fake: FakeSlackApi) -> None:
    fake.add_user("UADMIN", "admin", email="admin@contoso.example")
    fake.add_user("USAM", "sam", email="sam@contoso.example", tz="Europe/London")
    fake.add_user("UMARIA", "maria", email="maria@contoso.example", tz="Europe/London",
                  fields={FIELDS.manager: "sam@contoso.example"})  # a text field holding an e-mail
    fake.add_user("UANA", "ana", email="ana@contoso.example", tz="America/New_York",
                  fields={FIELDS.manager: "UMARIA", FIELDS.working_hours: "13:00-21:00",
                          FIELDS.working_days: "mon tue wed thu", FIELDS.country: "us"})


async def test_profile_fields_give_the_calendar_and_the_manager_chain() -> None:
    async with FakeSlackApi() as fake:
        workspace(fake)
        chat = SlackChat("xoxb-test", api_url=fake.api_url, fields=FIELDS)
        ana, maria, sam = await chat.directory_entries("ana@contoso.example")
        assert (ana.manager_email, maria.manager_email, sam.manager_email) == (
            "maria@contoso.example", "sam@contoso.example", None)
        assert (ana.tz, ana.work_days, ana.work_start, ana.work_end, ana.country) == (
            "America/New_York", (0, 1, 2, 3), time(13), time(21), "US")
        assert sam.work_start is None  # no fields filled: nothing invented
        assert await chat.directory_entries("nobody@contoso.example") == []
        asked = len(fake.calls_to("users.profile.get"))
        unconfigured = SlackChat("xoxb-test", api_url=fake.api_url)
        assert await unconfigured.directory_entries("ana@contoso.example") == []
        assert len(fake.calls_to("users.profile.get")) == asked  # no fields configured: not even asked


async def test_manager_auto_in_slack_from_profile_fields(tmp_path) -> None:
    async with FakeSlackApi() as fake:
        workspace(fake)
        db = Database(f"sqlite:///{tmp_path}/bot.db")
        await db.create_all()
        svc = await service_on(db, load_library(default_library_path()),
                               {"slack": SlackChat("xoxb-test", api_url=fake.api_url, fields=FIELDS)},
                               SimulatedClock(NOW), admins={"UADMIN"})
        try:
            result = await svc.handle_command("slack", "UADMIN", "enroll active-listening ana@contoso.example "
                                              "manager auto start 2027-04-12", "k1")
            text = result.replies[0].text
            assert "Enrolled 1" in text and "maria" in text, text
            with sqlite3.connect(tmp_path / "bot.db") as c:
                rows = c.execute("select p.platform_user_id, m.platform_user_id, p.work_start, p.country from "
                                 "enrollments e join people p on p.id=e.person_id join people m on "
                                 "m.id=e.manager_id").fetchall()
                chain = c.execute("select s.platform_user_id from people m join people s on s.id=m.manager_id "
                                  "where m.platform_user_id='UMARIA'").fetchall()
                (due,) = c.execute("select due_at from prompts where step_id='kickoff'").fetchone()
            assert rows == [("UANA", "UMARIA", "13:00", "US")] and chain == [("USAM",)]
            assert datetime.fromisoformat(due).replace(tzinfo=UTC) == datetime(2027, 4, 12, 13, tzinfo=NY)
        finally:
            await svc.settle()
            await db.dispose()


async def test_without_profile_fields_the_hr_sync_is_the_directory(tmp_path) -> None:
    async with FakeSlackApi() as fake:
        workspace(fake)
        db = Database(f"sqlite:///{tmp_path}/bot.db")
        await db.create_all()
        await sync_people(UnitOfWorkFactory(db), parse_people_csv("email,manager_email\nana@contoso.example,sam@contoso.example\n"),
                          NOW)
        svc = await service_on(db, load_library(default_library_path()),
                               {"slack": SlackChat("xoxb-test", api_url=fake.api_url)}, SimulatedClock(NOW),
                               admins={"UADMIN"})
        try:
            result = await svc.handle_command("slack", "UADMIN", "enroll active-listening ana@contoso.example "
                                              "manager auto start 2027-04-12", "k1")
            assert "Enrolled 1" in result.replies[0].text and "sam" in result.replies[0].text
        finally:
            await svc.settle()
            await db.dispose()
