"""The people directory and the export audit, as services on units of work in memory: what they
promise about people, admins and the audit log, checked without any database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services.clock import SimulatedClock
from bot.services.export import record_export
from bot.services.people import PeopleDirectory
from ports.chat import Profile
from scheduler.tick import heartbeat
from store.memory import InMemoryUnitsOfWork

NOW = datetime(2027, 4, 5, 9, tzinfo=UTC)


def directory(admins: frozenset[str] = frozenset()) -> tuple[PeopleDirectory, InMemoryUnitsOfWork, SimulatedClock]:
    units = InMemoryUnitsOfWork()
    clock = SimulatedClock(NOW)
    return PeopleDirectory(units, clock, admins), units, clock


async def test_a_user_is_remembered_and_greeted_once_with_their_address() -> None:
    people, units, _ = directory()
    profile = Profile("U1", name="Ana Lima", email="ana@example.com", tz="Europe/Lisbon")
    assert await people.remember("slack", profile, {"channel": "D1"}) is True
    assert await people.remember("slack", profile, {"channel": "D1"}) is False  # greeted once
    (ana,) = units.state.people.values()
    assert (ana.name, ana.tz, ana.greeted) == ("Ana Lima", "Europe/Lisbon", True)
    assert await people.address_of("slack", "U1") == {"channel": "D1", "tz": "Europe/Lisbon",
                                                      "email": "ana@example.com", "user_name": "Ana Lima"}
    assert await people.address_of("teams", "U1") is None  # another platform's user


async def test_ensure_writes_only_what_changed_and_rechecks_a_zone_after_a_while() -> None:
    people, units, clock = directory()
    first = await people.ensure("slack", "U1", name="Ana", tz="Europe/Lisbon")
    assert await people.ensure("slack", "U1", name="Ana", tz="Europe/Lisbon") == first  # nothing new
    clock.set(NOW + timedelta(days=1))
    later = await people.ensure("slack", "U1", name="Ana", tz="Europe/Lisbon")
    assert later.tz_checked_at == NOW + timedelta(days=1)  # the zone was seen again, a day on
    renamed = await people.ensure("slack", "U1", name="Ana Lima")
    assert renamed.id == first.id and renamed.name == "Ana Lima" and len(units.state.people) == 1


async def test_admins_are_the_bootstrap_list_by_id_or_e_mail_and_those_granted() -> None:
    people, units, _ = directory(frozenset({"U-boot", "boss@example.com"}))
    await people.ensure("slack", "U2", email="boss@example.com")
    granted = await people.ensure("slack", "U3")
    await people.ensure("slack", "U4")
    async with units() as uow:
        uow.admins.grant(granted.id, None, NOW)
        await uow.commit()
    assert await people.is_admin("slack", "U-boot")  # not even stored yet
    assert await people.is_admin("slack", "U2")
    assert await people.is_admin("slack", "U3")
    assert not await people.is_admin("slack", "U4")
    assert not await people.is_admin("slack", "nobody")


async def test_a_unit_of_work_left_without_commit_changes_nothing() -> None:
    _, units, _ = directory()
    async with units() as uow:
        await uow.people.add("slack", "U9", NOW, name="Gone")
    assert units.state.people == {}


async def test_an_export_is_audited_by_ids_only() -> None:
    people, units, _ = directory()
    ana = await people.ensure("slack", "U1", name="Ana", email="ana@example.com")
    await record_export(units, "admin-1", ana.id, NOW, "export_link")
    (entry,) = units.state.audit
    assert (entry.actor_id, entry.action, entry.target_id) == ("admin-1", "export_link", ana.id)
    assert "Ana" not in repr(entry) and "ana@example.com" not in repr(entry)


async def test_the_scheduler_heartbeat_is_kept() -> None:
    units = InMemoryUnitsOfWork()
    await heartbeat(units, "scheduler", NOW)
    async with units.read() as uow:
        assert await uow.heartbeats.last("scheduler") == NOW
