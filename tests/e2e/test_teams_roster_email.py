"""Without Graph permissions, people are still found by e-mail in Teams: when they install the app
or write to the bot, their e-mail comes from the conversation's member record (over real HTTP, from
the fake connector), so `enroll ... manager maria@contoso.example` works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from store.models import EnrollmentRow, PersonRow
from tests.e2e.test_teams_scenario import (
    ADMIN,
    ANA,
    BEN,
    BOT,
    START,
    TENANT,
    World,
    close_world,
    install,
    make_world,
    members_added,
    mention,
    message,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    for user, email in ((ADMIN, "lena@contoso.example"), (ANA, "ana@contoso.example"),
                        (BEN, "Maria.Manager@Contoso.example")):
        w.fake.add_member(user.teams_id, user.aad, user.name, email, tenant=TENANT)
    yield w
    await close_world(w)


async def admin_says(w: World, text: str, mentions: list[dict] = ()) -> str:  # type: ignore[assignment]
    before = len(w.texts_to(ADMIN))
    status, _ = await w.post(message(ADMIN, w.fake.url, f"<at>HPLJ Coach</at> journey {text}",
                                     [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)},
                                      *mentions]))
    assert status == 200
    return "\n".join(w.texts_to(ADMIN)[before:])


async def test_manager_found_by_the_email_of_the_roster(world: World) -> None:
    w = world
    for act in (install(ADMIN, w.fake.url), install(ANA, w.fake.url), members_added(BEN, w.fake.url)):
        assert (await w.post(act))[0] == 200
    ben = await w.person(BEN)
    assert ben is not None and ben.email == "maria.manager@contoso.example"
    assert (BEN.conv, BEN.teams_id) in w.fake.member_calls
    reply = await admin_says(w, f"enroll active-listening <at>{ANA.name}</at> manager maria.manager@contoso.example "
                                f"start {START}", [mention(ANA)])
    assert "Enrolled 1" in reply and "no teams user" not in reply, reply
    async with w.db.read() as s:
        manager_id = (await s.execute(select(EnrollmentRow.manager_id))).scalar_one()
        assert (await s.get(PersonRow, manager_id)).platform_user_id == BEN.aad  # type: ignore[union-attr]


async def test_the_first_message_reads_the_roster_once(world: World) -> None:
    w = world
    for _ in range(3):
        assert (await w.post(message(ANA, w.fake.url, "help")))[0] == 200
    ana = await w.person(ANA)
    assert ana is not None and ana.email == "ana@contoso.example"
    assert len([c for c in w.fake.member_calls if c[0] == ANA.conv]) == 1


async def test_without_a_roster_record_the_person_is_still_remembered(world: World) -> None:
    w = world
    w.fake.members.clear()
    w.fake.fail_next(503, method="GET")
    assert (await w.post(install(ANA, w.fake.url)))[0] == 200
    ana = await w.person(ANA)
    assert ana is not None and ana.email is None and ana.address
    assert any("Welcome" in t or "Hi Ana" in t for t in w.texts_to(ANA))
