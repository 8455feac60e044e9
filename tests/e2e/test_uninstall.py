"""Uninstall and revocation over real HTTP (issue 22 item 7).

The app `bot.app.wiring.build_app` builds, with Slack (requests signed with the signing secret exactly
as Slack signs them; Web API calls to `FakeSlackApi`) and Teams (local mode; proactive sends to
`FakeConnector`) side by side, the real `BotService` on a SQLite file and a simulated clock.

- Slack's `tokens_revoked` and `app_uninstalled`, in either order and redelivered: nothing more
  reaches Slack, the outbox rows are parked, the L&D admin on Teams is told once, and 30 days later
  (not before) the Slack people's data is gone the way `forget` removes it.
- A Teams personal uninstall (`installationUpdate` remove) does the same for that one person; a
  reinstall before the purge releases their parked rows.
- With no admin left on another platform, the loss is logged and shown by `status`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.app.service import BotService
from bot.app.settings import Settings
from bot.app.wiring import build_app, build_service
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.models import AccessRevocationRow, AuditRow, EnrollmentRow, OutboxRow, PersonRow
from tests.fakes.slack_api import (
    BOT_USER_ID,
    TEAM_ID,
    FakeSlackApi,
    Fault,
    event_envelope,
    sign_request,
)
from tests.fakes.teams_connector import FakeConnector

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRET = "uninstall-signing-secret-0123456789"
TOKEN = "xoxb-uninstall-test"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT = {"id": "28:5b6c7d8e-2222-4b4b-8c8c-000000000abc", "name": "HPLJ Coach"}
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
START = date(2026, 12, 7)
LONDON = ZoneInfo("Europe/London")
FIRST_DUE = datetime(2026, 11, 27, 10, 1, tzinfo=LONDON).astimezone(UTC)  # why-it-matters: start-6 10:00
NEXT_DUE = datetime(2026, 11, 30, 10, 1, tzinfo=LONDON).astimezone(UTC)  # focus-situation: start-5 10:00
GRACE = timedelta(days=30)


@dataclass(frozen=True)
class TeamsUser:
    aad: str
    name: str

    @property
    def conv(self) -> str:
        return f"a:1xPersonalChatWith{self.name}" + "x" * 20

    @property
    def teams_id(self) -> str:
        return f"29:1{self.name}TeamsId" + "x" * 30


LEE = TeamsUser("0c1f2a3b-1111-4a4a-9b9b-000000000001", "Lee")  # the L&D lead, on Teams
TINA = TeamsUser("aaaaaaaa-0000-4000-8000-00000000a0a0", "Tina")
ANA, BEN = "UANA", "UBEN"  # on Slack


def settings(admins: str, slack_api_url: str = "") -> Settings:
    """Slack over HTTP and Teams in local mode, as a deployment sets them (the fakes as the platforms)."""
    return Settings.model_validate({
        "slack_signing_secret": SECRET, "slack_bot_token": TOKEN, "slack_app_token": "",
        "slack_api_url": slack_api_url, "microsoft_app_id": "", "microsoft_app_password": "",
        "microsoft_app_tenant_id": "", "microsoft_app_type": "MultiTenant", "teams_local_mode": True,
        "dashboard_secret": "", "public_url": "http://localhost", "min_group_size": 5, "default_timezone": "UTC",
        "tick_seconds": 30.0, "hplj_admins": admins, "uninstall_grace_days": GRACE.days})


def installation(user: TeamsUser, url: str, action: str) -> dict[str, Any]:
    return {"type": "installationUpdate", "action": action, "id": f"f:{action}-{user.name}-{datetime.now().timestamp()}",
            "timestamp": "2026-11-23T08:00:00.000Z", "channelId": "msteams", "serviceUrl": url,
            "from": {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad},
            "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": user.conv},
            "recipient": dict(BOT), "channelData": {"tenant": {"id": TENANT}}, "locale": "en-GB",
            "entities": [{"type": "clientInfo", "timezone": "Europe/London", "locale": "en-GB"}]}


def tokens_revoked(event_id: str) -> dict[str, Any]:
    return event_envelope({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [BOT_USER_ID]},
                           "event_ts": "1700000500.000100"}, event_id=event_id)


def app_uninstalled(event_id: str) -> dict[str, Any]:
    return event_envelope({"type": "app_uninstalled", "event_ts": "1700000501.000100"}, event_id=event_id)


@dataclass
class World:
    service: BotService
    clock: SimulatedClock
    slack: FakeSlackApi
    teams: FakeConnector
    http: aiohttp.ClientSession
    base: str
    runner: web.AppRunner
    db: Database
    ids: dict[str, str]

    async def slack_event(self, envelope: dict[str, Any]) -> int:
        body = json.dumps(envelope)
        headers = {"Content-Type": "application/json", **sign_request(body, SECRET)}
        async with self.http.post(self.base + "/slack/events", data=body, headers=headers) as r:
            status = r.status
        await self.settle()
        return status

    async def teams_activity(self, activity: dict[str, Any]) -> int:
        async with self.http.post(self.base + "/api/messages", json=activity) as r:
            status = r.status
        await self.settle()
        return status

    async def settle(self) -> None:
        for route in self.runner.app.router.routes():  # the Slack endpoint's work after its ack
            inbound = getattr(route.handler, "__self__", None)
            if inbound is not None and hasattr(inbound, "drain"):
                await inbound.drain()
        await self.service.settle()

    async def tick(self, at: datetime) -> None:
        now = self.clock.now()
        while now < at:
            now = min(at, now + timedelta(hours=6))
            self.clock.set(now)
            await self.service.tick(now)
            await self.service.settle()

    async def outbox_states(self, *people: str) -> dict[str, int]:
        async with self.db.read() as s:
            rows = (await s.execute(select(OutboxRow.state, func.count()).where(
                OutboxRow.recipient_id.in_([self.ids[p] for p in people])).group_by(OutboxRow.state))).all()
        return {state: n for state, n in rows}

    async def people(self, platform: str) -> set[str]:
        async with self.db.read() as s:
            return set((await s.execute(select(PersonRow.platform_user_id).where(
                PersonRow.platform == platform))).scalars().all())

    async def revocations(self) -> list[AccessRevocationRow]:
        async with self.db.read() as s:
            rows = list((await s.execute(select(AccessRevocationRow))).scalars().all())
            for r in rows:
                s.expunge(r)
            return rows

    def notices_to(self, user: TeamsUser) -> list[str]:
        return [json.dumps(c.body) for c in self.teams.sent_to(user.conv) if "uninstalled" in json.dumps(c.body)]


async def make_world(tmp: Path, *, admins: str) -> World:
    slack = await FakeSlackApi(TOKEN).start()
    teams = await FakeConnector().start()
    for uid in (ANA, BEN):
        slack.add_user(uid, uid.lower(), tz="Europe/London")
    cfg = settings(admins, slack.api_url)
    db = Database(f"sqlite:///{tmp / 'hplj.db'}")
    clock = SimulatedClock(T0)
    # built as `hplj serve` builds it, from the settings alone, on a database its migrations made
    service = await build_service(cfg, load_library(default_library_path()), clock=clock, db=db)
    app = build_app(service, cfg)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    w = World(service, clock, slack, teams, aiohttp.ClientSession(), f"http://127.0.0.1:{port}", runner, db, {})
    for user in (LEE, TINA):
        assert await w.teams_activity(installation(user, teams.url, "add")) == 200
    for uid in (ANA, BEN):
        w.ids[uid] = (await service.ensure_person("slack", uid, name=uid.lower(), tz="Europe/London")).id
    async with db.read() as s:
        for user in (LEE, TINA):
            w.ids[user.name] = (await s.execute(select(PersonRow.id).where(
                PersonRow.platform_user_id == user.aad))).scalar_one()
    await service.enroll("active-listening", [w.ids[ANA]], w.ids[BEN], START)
    await service.enroll("active-listening", [w.ids["Tina"]], None, START)
    return w


async def close_world(w: World) -> None:
    await w.settle()
    await w.http.close()
    await w.runner.cleanup()
    port = w.service.ports["slack"]
    client = getattr(port, "client", None)
    if client is not None and client.session is not None:
        await client.session.close()
    await w.slack.stop()
    await w.teams.stop()
    await w.db.dispose()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path, admins=LEE.aad)
    yield w
    await close_world(w)


async def slack_running(w: World) -> None:
    """The journey has begun on both platforms; one Slack send is waiting to be retried."""
    await w.tick(FIRST_DUE)
    assert w.slack.posted("D" + ANA) and w.teams.sent_to(TINA.conv)  # both platforms deliver
    await w.tick(NEXT_DUE - timedelta(minutes=5))
    w.slack.fail("chat.postMessage", Fault.http(503))  # refused: the row waits for its retry
    await w.tick(NEXT_DUE)
    assert (await w.outbox_states(ANA)).get("pending") == 1


@pytest.mark.parametrize("order", ["tokens_revoked first", "app_uninstalled first"])
async def test_slack_uninstall_stops_parks_tells_and_purges_after_the_grace_period(world: World, order: str) -> None:
    w = world
    await slack_running(w)
    events = [tokens_revoked("EvREV1"), app_uninstalled("EvUNI1")]
    if order.startswith("app_uninstalled"):
        events.reverse()
    revoked_at = w.clock.now()
    for envelope in (*events, events[0], app_uninstalled("EvUNI2")):  # both, a redelivery, a duplicate
        assert await w.slack_event(envelope) == 200
    calls_at_revocation = len(w.slack.calls)

    [rev] = await w.revocations()
    assert (rev.platform, rev.scope, rev.subject) == ("slack", "workspace", TEAM_ID)
    assert sorted(rev.reasons) == ["app_uninstalled", "tokens_revoked"] and rev.revoked_at == revoked_at
    assert rev.purge_at == revoked_at + GRACE and rev.told == 1
    assert rev.credential and TOKEN[5:] not in rev.credential  # which token died, never the token
    states = await w.outbox_states(ANA, BEN)
    assert states.get("parked", 0) >= 1 and not states.get("pending") and not states.get("sending")
    [notice] = w.notices_to(LEE)  # told once, on the platform still reachable
    assert f"Slack workspace {TEAM_ID}" in notice and "erased on Wed 30 Dec 2026" in notice, notice

    # Days of the journey pass: nothing reaches Slack any more (no call at all with the dead
    # token), while Teams goes on.
    tina_before = len(w.teams.sent_to(TINA.conv))
    await w.tick(revoked_at + GRACE - timedelta(hours=1))
    assert len(w.slack.calls) == calls_at_revocation
    assert len(w.teams.sent_to(TINA.conv)) > tina_before
    states = await w.outbox_states(ANA, BEN)
    assert set(states) <= {"sent", "parked", "expired", "cancelled"} and states["parked"] > 1  # new ones parked too
    assert await w.people("slack") == {ANA, BEN}  # not before the grace period ends

    await w.tick(revoked_at + GRACE + timedelta(hours=1))
    assert await w.people("slack") == set()  # purged, as `forget` does
    assert await w.people("teams") == {LEE.aad, TINA.aad}
    async with w.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.recipient_id.in_([w.ids[ANA], w.ids[BEN]])))).scalar_one() == 0
        statuses = (await s.execute(select(EnrollmentRow.status, EnrollmentRow.person_id))).all()
        actions = (await s.execute(select(AuditRow.action))).scalars().all()
    assert ("forgotten", "anon") in statuses  # Ana's journey facts remain as anonymous numbers
    assert actions.count("forget") == 2 and actions.count("access_purged") == 1  # forget's own code
    assert len(w.slack.calls) == calls_at_revocation
    [rev] = await w.revocations()
    assert rev.purged_at is not None


async def test_tokens_revoked_for_user_tokens_only_changes_nothing(world: World) -> None:
    w = world
    envelope = event_envelope({"type": "tokens_revoked", "tokens": {"oauth": ["UANA"], "bot": []}})
    assert await w.slack_event(envelope) == 200
    assert await w.revocations() == []
    await w.tick(FIRST_DUE)
    assert w.slack.posted("D" + ANA)


async def test_unsigned_uninstall_is_refused_and_changes_nothing(world: World) -> None:
    w = world
    body = json.dumps(app_uninstalled("EvFORGED"))
    async with w.http.post(w.base + "/slack/events", data=body,
                           headers={"Content-Type": "application/json", **sign_request(body, "wrong-secret")}) as r:
        assert r.status == 401
    await w.settle()
    assert await w.revocations() == []


async def test_teams_personal_uninstall_stops_that_person_only_and_a_reinstall_releases_them(world: World) -> None:
    w = world
    await w.tick(FIRST_DUE)
    sent_to_tina = len(w.teams.sent_to(TINA.conv))
    assert sent_to_tina >= 1
    assert await w.teams_activity(installation(TINA, w.teams.url, "remove")) == 200
    assert await w.teams_activity(installation(TINA, w.teams.url, "remove")) == 200  # redelivered
    [rev] = await w.revocations()
    assert (rev.platform, rev.scope, rev.subject, rev.told) == ("teams", "person", TINA.aad, 1)
    [notice] = w.notices_to(LEE)
    assert TINA.aad in notice

    await w.tick(NEXT_DUE)
    assert len(w.teams.sent_to(TINA.conv)) == sent_to_tina  # nothing more for her
    assert (await w.outbox_states("Tina")).get("parked", 0) >= 1
    assert w.slack.posted("D" + ANA)  # everyone else goes on

    assert await w.teams_activity(installation(TINA, w.teams.url, "add")) == 200  # back before the purge
    assert await w.revocations() == []
    assert "parked" not in await w.outbox_states("Tina")
    await w.tick(NEXT_DUE + GRACE + timedelta(days=1))
    assert TINA.aad in await w.people("teams")  # never purged


async def test_teams_uninstall_purges_that_person_after_the_grace_period(world: World) -> None:
    w = world
    await w.tick(FIRST_DUE)
    assert await w.teams_activity(installation(TINA, w.teams.url, "remove")) == 200
    at = w.clock.now()
    await w.tick(at + GRACE - timedelta(hours=1))
    assert TINA.aad in await w.people("teams")
    await w.tick(at + GRACE + timedelta(hours=1))
    assert await w.people("teams") == {LEE.aad}
    assert await w.people("slack") == {ANA, BEN}


async def test_with_no_admin_left_the_loss_is_logged_and_shown_by_status(tmp_path: Path, caplog: Any) -> None:
    w = await make_world(tmp_path, admins=BEN)  # the only admin is on Slack
    try:
        await w.tick(FIRST_DUE)
        with caplog.at_level(logging.WARNING, logger="hplj.access"):
            assert await w.slack_event(app_uninstalled("EvUNI1")) == 200
        assert "no admin reachable" in caplog.text and TOKEN not in caplog.text
        [rev] = await w.revocations()
        assert rev.told == 0 and w.notices_to(LEE) == []
        # `status` (from a console session, `hplj chat`, or any platform still reachable) shows it
        result = await w.service.handle_command("slack", BEN, "status", "k-status-1")
        text = result.replies[0].text
        assert f"Access lost: the Slack workspace {TEAM_ID}" in text and "no admin could be told" in text
    finally:
        await close_world(w)


async def test_a_slack_reinstall_with_a_new_token_lifts_the_revocation_at_start(world: World) -> None:
    w = world
    await slack_running(w)
    assert await w.slack_event(app_uninstalled("EvUNI1")) == 200
    assert (await w.outbox_states(ANA)).get("parked", 0) >= 1

    async def restart(token: str) -> None:
        """`hplj serve` starting again with this bot token (what it does at start: build_service)."""
        cfg = settings(LEE.aad, w.slack.api_url).model_copy(update={"slack_bot_token": token})
        restarted = await build_service(cfg, w.service.library, clock=w.clock, db=w.db, scheduler=False)
        await restarted.settle()

    await restart(TOKEN)  # the same, dead token: still revoked
    assert len(await w.revocations()) == 1
    await restart("xoxb-after-reinstall")  # a new token: reachable again
    assert await w.revocations() == []
    states = await w.outbox_states(ANA, BEN)
    assert "parked" not in states and states.get("pending", 0) >= 1  # released, sent when due
    async with w.db.read() as s:  # the audit trail keeps that it happened, without a secret
        detail = (await s.execute(select(AuditRow.detail).where(AuditRow.action == "access_restored"))).scalar_one()
    assert detail["platform"] == "slack" and TOKEN not in json.dumps(detail)


async def test_with_an_app_id_an_unsigned_teams_uninstall_is_refused(world: World) -> None:
    w = world
    cfg = settings(LEE.aad, w.slack.api_url).model_copy(update={
        "microsoft_app_id": "11111111-2222-3333-4444-555555555555", "microsoft_app_password": "secret",
        "teams_local_mode": False})
    runner = web.AppRunner(build_app(w.service, cfg), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/messages"  # type: ignore[union-attr]
    try:
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
            async with w.http.post(url, json=installation(TINA, w.teams.url, "remove"), headers=headers) as r:
                assert r.status == 401
        assert await w.revocations() == []
    finally:
        await runner.cleanup()
