"""The issue's done-when, over real HTTP: against the fake tenant (Microsoft Graph and the Bot
Framework connector), an admin enrolls ana@contoso.example in Teams with `manager auto`. Ana never
opened the bot: the app is installed for her through Graph, and her first prompt arrives inside her
own working hours from her mailbox settings, with her manager and her manager's manager found
through Graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.teams.directory import ChatTarget, GraphDirectory, graph_from_settings
from adapters.teams.graph import GraphClient, GraphConfig
from ports.chat import Profile
from store.models import DirectoryRow, EnrollmentRow, OutboxRow, PersonRow
from tests.e2e.test_teams_scenario import (
    ADMIN,
    BOT,
    T0,
    World,
    close_world,
    install,
    make_world,
    message,
)
from tests.fakes.graph_api import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LA = ZoneInfo("America/Los_Angeles")
WORKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]


@pytest.fixture
async def tenant(tmp_path: Path) -> AsyncIterator[tuple[World, FakeGraph]]:
    w = await make_world(tmp_path)
    async with FakeGraph() as graph:
        graph.add_user(ADMIN.aad, ADMIN.name, "lena@contoso.example", mailbox=None)
        graph.add_user("aad-sam", "Sam Senior", "sam@contoso.example", usage_location="GB",
                       mailbox=FakeGraph.mailbox("GMT Standard Time", WORKDAYS, "08:00", "16:00", "en-GB"))
        graph.add_user("aad-maria", "Maria Manager", "maria@contoso.example", manager="aad-sam", usage_location="GB",
                       mailbox=FakeGraph.mailbox("GMT Standard Time", WORKDAYS, "08:00", "16:00", "en-GB"))
        # Ana works afternoons in California, Monday to Thursday
        graph.add_user("aad-ana", "Ana Silva", "ana@contoso.example", manager="aad-maria", usage_location="US",
                       mailbox=FakeGraph.mailbox("Pacific Standard Time", WORKDAYS[:4], "13:00", "18:30"))
        client = GraphClient(GraphConfig(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                         graph_url=graph.graph_url, authority=graph.authority,
                                         ca_file=str(graph.ca_file)))
        teams = w.service.ports["teams"]
        teams.graph = GraphDirectory(client, ChatTarget(w.fake.url, TENANT, CLIENT_ID))  # type: ignore[attr-defined]

        async def on_address(user_id: str, profile: Profile, address: dict) -> None:
            await w.service.remember_user("teams", profile, address)

        teams._on_address = on_address  # type: ignore[attr-defined]
        yield w, graph
        await client.close()
    await close_world(w)


async def test_admin_enrolls_someone_who_never_opened_the_bot_with_manager_auto(tenant) -> None:
    w, graph = tenant
    assert (await w.post(install(ADMIN, w.fake.url)))[0] == 200
    start = "2026-12-07"  # a Monday, two weeks after T0
    text = f"<at>HPLJ Coach</at> journey enroll active-listening ana@contoso.example manager auto start {start}"
    before = len(w.texts_to(ADMIN))
    status, _ = await w.post(message(ADMIN, w.fake.url, text,
                                     [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)}]))
    reply = "\n".join(w.texts_to(ADMIN)[before:])
    assert status == 200 and "Enrolled 1" in reply and "Maria Manager" in reply, reply

    async with w.db.read() as s:
        people = {p.email: p for p in (await s.execute(select(PersonRow))).scalars().all()}
        enrollment = (await s.execute(select(EnrollmentRow))).scalar_one()
        cached = (await s.execute(select(DirectoryRow).where(DirectoryRow.source == "graph"))).scalars().all()
    ana, maria, sam = people["ana@contoso.example"], people["maria@contoso.example"], people["sam@contoso.example"]
    assert (ana.platform_user_id, enrollment.person_id, enrollment.manager_id) == ("aad-ana", ana.id, maria.id)
    assert maria.manager_id == sam.id  # the manager's manager, for the senior-leader digest
    assert (ana.tz, ana.work_days, ana.work_start, ana.work_end) == ("America/Los_Angeles", "mon tue wed thu",
                                                                     "13:00", "18:30")
    assert all(r.expires_at is not None and r.expires_at > T0 for r in cached)  # cached, with an expiry
    assert ana.address is None and not graph.has_app("aad-ana")  # not reached yet: nothing is due

    # Time passes; the scheduler delivers. Ana's first prompt waits for her own afternoon.
    await w.tick(datetime(2026, 12, 4, 0, tzinfo=UTC))
    async with w.db.read() as s:
        sent = (await s.execute(select(OutboxRow).where(OutboxRow.recipient_id == ana.id, OutboxRow.state == "sent")
                                .order_by(OutboxRow.sent_at))).scalars().all()
    assert sent, "Ana got nothing"
    first = sent[0].sent_at.astimezone(LA)
    # 'start-6 10:00' (why it matters) counts her own working days (Mon-Thu: not Friday, and not
    # Thanksgiving on Thu 26 Nov) back from Mon 7 Dec to Tue 24 Nov; her day starts at 13:00 in LA
    assert first == datetime(2026, 11, 24, 13, 0, tzinfo=LA), first
    assert all(r.sent_at.astimezone(LA).weekday() < 4 and 13 <= r.sent_at.astimezone(LA).hour < 19 for r in sent)
    assert graph.has_app("aad-ana")  # installed for her through Graph
    chat = f"19:aad-ana_{CLIENT_ID}@unq.gbl.spaces"
    assert w.fake.sent_to(chat), "nothing reached Ana's 1:1 chat with the bot"
    async with w.db.read() as s:
        stored = (await s.execute(select(PersonRow).where(PersonRow.id == ana.id))).scalar_one()
    assert stored.address and stored.address["conversation_id"] == chat  # reachable after a restart too


async def test_a_second_enrollment_uses_the_cache_not_graph(tenant) -> None:
    w, graph = tenant
    assert (await w.post(install(ADMIN, w.fake.url)))[0] == 200
    for journey_text in ("enroll active-listening ana@contoso.example manager auto start 2026-12-07",
                         "enroll active-listening ana@contoso.example manager auto start 2026-12-07"):
        await w.post(message(ADMIN, w.fake.url, f"<at>HPLJ Coach</at> journey {journey_text}",
                             [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)}]))
    managers = graph.graph_calls("/manager")
    assert len(managers) == 3  # ana -> maria -> sam -> (none): asked once, then read from the cache


def test_graph_is_configured_from_the_settings() -> None:
    from types import SimpleNamespace

    base = {"microsoft_app_id": CLIENT_ID, "microsoft_app_password": "s", "microsoft_app_tenant_id": TENANT,
            "microsoft_graph_url": "https://graph.example/v1.0/", "microsoft_graph_authority": "https://login.example",
            "microsoft_graph_ca_bundle": "", "teams_graph": True, "teams_service_url": "https://smba.example/teams/",
            "teams_app_catalog_id": ""}
    directory = graph_from_settings(SimpleNamespace(**base))
    assert directory is not None and directory.client.base == "https://graph.example/v1.0/"
    assert directory.client.scope == "https://graph.example/.default"
    assert directory.client.config.authority == "https://login.example"
    assert graph_from_settings(SimpleNamespace(**{**base, "microsoft_app_password": ""})) is None
    assert graph_from_settings(SimpleNamespace(**{**base, "teams_graph": False})) is None
