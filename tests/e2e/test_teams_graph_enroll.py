"""The issue's done-when, over real HTTP and as a deployment runs it: `hplj serve` and `hplj tick`
as processes, configured only by their documented settings, against the fake tenant (Microsoft
Graph, the Bot Framework connector and the Bot Framework token service). An admin enrolls
ana@contoso.example in Teams with `manager auto`. Ana never opened the bot: the app is installed
for her through Graph, and her first prompt arrives inside her own working hours from her mailbox
settings, with her manager and her manager's manager found through Graph.

Every request to `/api/messages` carries a JWT the fake token service signed, which the bot checks
with botbuilder's own validation (keys from the fake's OpenID metadata); every call the bot makes
to the connector carries a token it got from the fake with the app's id and password."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

import aiohttp
import holidays
import pytest
from sqlalchemy import select

from adapters.teams.cloud import BotCloud, cloud_from_settings
from adapters.teams.directory import graph_from_settings
from store.db import Database
from store.models import DirectoryRow, EnrollmentRow, OutboxRow, PersonRow
from tests.e2e.test_serve import ROOT, _free_port
from tests.e2e.test_teams_scenario import ADMIN, BOT, install, message
from tests.fakes.botframework_auth import ISSUER, FakeBotFrameworkAuth
from tests.fakes.graph_api import APP_CATALOG_ID, CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph
from tests.fakes.teams_connector import FakeConnector

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LA = ZoneInfo("America/Los_Angeles")
WORKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]
GIVE_UP = 90.0  # seconds a process may take to start or to finish a pass on a loaded machine
MENTION_BOT = [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)}]


def start_and_first_day(today: date) -> tuple[date, date]:
    """A Monday at least five weeks ahead with no US public holiday in the fortnight before it, and
    the day Ana's first prompt is due: 'start-6' counted in her own working days (Mon-Thu)."""
    us = holidays.country_holidays("US")
    start = today + timedelta(days=35 + (7 - (today + timedelta(days=35)).weekday()) % 7)
    while any(start - timedelta(days=d) in us for d in range(1, 15)):
        start += timedelta(days=7)
    day, counted = start, 0
    while counted < 6:
        day -= timedelta(days=1)
        counted += day.weekday() < 4
    return start, day


@dataclass
class Tenant:
    graph: FakeGraph
    connector: FakeConnector
    auth: FakeBotFrameworkAuth
    env: dict[str, str]
    tmp: Path

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.tmp / 'hplj.db'}"

    async def run(self, *args: str) -> tuple[int, str]:
        """`hplj <args>` to its end, while this loop keeps serving the fakes."""
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.app.cli", *args, cwd=self.tmp,
                                                    env=self.env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), GIVE_UP)
        return proc.returncode or 0, out.decode()

    async def people(self) -> dict[str, PersonRow]:
        db = Database(self.db_url)
        try:
            async with db.read() as s:
                return {str(p.email): p for p in (await s.execute(select(PersonRow))).scalars().all()}
        finally:
            await db.dispose()


def in_tenant(activity: dict[str, Any]) -> dict[str, Any]:
    """The scenario's activity, from the tenant the bot's app registration belongs to."""
    act = copy.deepcopy(activity)
    act["conversation"]["tenantId"] = TENANT
    act["channelData"] = {"tenant": {"id": TENANT}}
    return act


class Serve:
    """`hplj serve` as a process on a free port."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/messages"
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Self:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.app.cli", "serve", "--no-scheduler", "--port", str(self.port),
            "--host", "127.0.0.1", cwd=self.tenant.tmp, env=self.tenant.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        async with aiohttp.ClientSession() as session:
            for _ in range(int(GIVE_UP / 0.3)):
                assert self.proc.returncode is None, await self.output()
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as resp:
                        if resp.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.3)
        raise AssertionError(f"hplj serve never answered: {await self.output()}")

    async def output(self) -> str:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(self.proc.communicate(), GIVE_UP)
        return out.decode()

    async def __aexit__(self, *exc: object) -> None:
        out = await self.output()
        assert self.proc is not None and self.proc.returncode == 0, out
        assert "Traceback" not in out, out

    async def post(self, activity: dict[str, Any], authorization: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        async with aiohttp.ClientSession() as session, session.post(self.url, data=json.dumps(activity),
                                                                    headers=headers) as resp:
            await resp.read()
            return resp.status

    async def send(self, activity: dict[str, Any]) -> int:
        """As the channel sends it: signed by the token service whose keys the bot trusts."""
        return await self.post(activity, self.tenant.auth.sign(activity["serviceUrl"]))


@pytest.fixture
async def tenant(tmp_path: Path) -> AsyncIterator[Tenant]:
    async with FakeGraph() as graph, FakeConnector() as connector, FakeBotFrameworkAuth() as auth:
        graph.add_user(ADMIN.aad, ADMIN.name, "lena@contoso.example", mailbox=None)
        graph.add_user("aad-sam", "Sam Senior", "sam@contoso.example", usage_location="GB",
                       mailbox=FakeGraph.mailbox("GMT Standard Time", WORKDAYS, "08:00", "16:00", "en-GB"))
        graph.add_user("aad-maria", "Maria Manager", "maria@contoso.example", manager="aad-sam", usage_location="GB",
                       mailbox=FakeGraph.mailbox("GMT Standard Time", WORKDAYS, "08:00", "16:00", "en-GB"))
        # Ana works afternoons in California, Monday to Thursday
        graph.add_user("aad-ana", "Ana Silva", "ana@contoso.example", manager="aad-maria", usage_location="US",
                       mailbox=FakeGraph.mailbox("Pacific Standard Time", WORKDAYS[:4], "13:00", "18:30"))
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("MICROSOFT_", "SLACK_", "HPLJ_"))}
        env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'hplj.db'}",
                    "MICROSOFT_APP_ID": CLIENT_ID, "MICROSOFT_APP_PASSWORD": CLIENT_SECRET,
                    "MICROSOFT_APP_TENANT_ID": TENANT, "MICROSOFT_GRAPH_URL": graph.graph_url,
                    "MICROSOFT_GRAPH_AUTHORITY": graph.authority, "MICROSOFT_GRAPH_CA_BUNDLE": str(graph.ca_file),
                    "HPLJ_TEAMS_SERVICE_URL": connector.url, "HPLJ_TEAMS_APP_CATALOG_ID": APP_CATALOG_ID,
                    "HPLJ_ADMINS": ADMIN.aad, "HPLJ_DASHBOARD_SECRET": "s" * 40,
                    "HPLJ_PUBLIC_URL": "https://hplj.contoso.example", **auth.settings()})
        yield Tenant(graph, connector, auth, env, tmp_path)


async def test_admin_enrolls_someone_who_never_opened_the_bot_with_manager_auto(tenant: Tenant) -> None:
    graph, connector, auth = tenant.graph, tenant.connector, tenant.auth
    start, first_day = start_and_first_day(datetime.now(UTC).date())
    text = f"<at>HPLJ Coach</at> journey enroll active-listening ana@contoso.example manager auto start {start}"
    enroll = in_tenant(message(ADMIN, connector.url, text, MENTION_BOT))

    async with Serve(tenant) as serve:
        # a request the channel did not sign, or signed with a key it does not publish: refused
        assert await serve.post(enroll, None) == 401
        assert await serve.post(enroll, auth.sign(connector.url, stranger=True)) == 401
        assert await serve.post(enroll, auth.sign(connector.url, audience="another-bot")) == 401
        assert connector.calls == [] and graph.graph_calls("/users") == []
        assert auth.metadata_reads >= 1  # the keys came from the configured OpenID metadata

        assert await serve.send(in_tenant(install(ADMIN, connector.url))) == 200
        before = len(connector.sent_to(ADMIN.conv))
        assert await serve.send(enroll) == 200
        reply = "\n".join(c.text or json.dumps(c.card) for c in connector.sent_to(ADMIN.conv)[before:])
        assert "Enrolled 1" in reply and "Maria Manager" in reply, reply
        # the same command again: the directory answers come from the cache, not from Graph
        assert await serve.send(enroll) == 200
    assert len(graph.graph_calls("/manager")) == 3  # ana -> maria -> sam -> (none), asked once

    db = Database(tenant.db_url)
    try:
        async with db.read() as s:
            enrollment = (await s.execute(select(EnrollmentRow))).scalar_one()
            cached = (await s.execute(select(DirectoryRow).where(DirectoryRow.source == "graph"))).scalars().all()
    finally:
        await db.dispose()
    people = await tenant.people()
    ana, maria, sam = people["ana@contoso.example"], people["maria@contoso.example"], people["sam@contoso.example"]
    assert (ana.platform_user_id, enrollment.person_id, enrollment.manager_id) == ("aad-ana", ana.id, maria.id)
    assert maria.manager_id == sam.id  # the manager's manager, for the senior-leader digest
    assert (ana.tz, ana.work_days, ana.work_start, ana.work_end) == ("America/Los_Angeles", "mon tue wed thu",
                                                                     "13:00", "18:30")
    assert cached and all(r.expires_at is not None for r in cached)  # cached, with an expiry
    assert ana.address is None and not graph.has_app("aad-ana")  # not reached yet: nothing is due

    # The scheduler's pass, as `hplj tick` runs it, at two moments of the day Ana's first prompt
    # is due: it waits for her own afternoon, then reaches her through a chat opened via Graph.
    chat = f"19:aad-ana_{CLIENT_ID}@unq.gbl.spaces"
    one_pm = datetime(first_day.year, first_day.month, first_day.day, 13, 0, tzinfo=LA)
    code, out = await tenant.run("tick", "--at", (one_pm - timedelta(minutes=5)).astimezone(UTC).isoformat())
    assert code == 0, out
    assert connector.sent_to(chat) == [] and not graph.has_app("aad-ana"), out
    code, out = await tenant.run("tick", "--at", one_pm.astimezone(UTC).isoformat())
    assert code == 0 and "Traceback" not in out, out
    assert graph.has_app("aad-ana")  # installed for her through Graph
    assert connector.sent_to(chat), f"nothing reached Ana's 1:1 chat with the bot: {out}"
    stored = (await tenant.people())["ana@contoso.example"]
    assert stored.address and stored.address["conversation_id"] == chat  # reachable after a restart too
    db = Database(tenant.db_url)
    try:
        async with db.read() as s:
            sent = (await s.execute(select(OutboxRow).where(OutboxRow.recipient_id == ana.id,
                                                            OutboxRow.state == "sent"))).scalars().all()
    finally:
        await db.dispose()
    assert sent, "no delivery to Ana was recorded as sent"

    # every call to the connector carried a token the bot got from the token service
    assert connector.calls and all(auth.issued(c.headers.get("Authorization")) for c in connector.calls)
    assert set(auth.scopes) == {"https://api.botframework.com/.default"}


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


def test_the_bot_framework_cloud_is_configured_from_the_settings(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.app.settings import ConfigError, Settings, load_settings

    base = {"MICROSOFT_APP_ID": CLIENT_ID, "MICROSOFT_APP_PASSWORD": "s", "HPLJ_DASHBOARD_SECRET": "s" * 40,
            "HPLJ_PUBLIC_URL": "https://hplj.example", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    cloud = {"MICROSOFT_BOT_OPENID_METADATA_URL": "https://keys.example/v1/.well-known/openidconfiguration",
             "MICROSOFT_BOT_TOKEN_ISSUER": ISSUER, "MICROSOFT_BOT_LOGIN_URL": "https://login.example/botframework.com"}
    assert cloud_from_settings(Settings.model_validate(base)) is None  # the public cloud
    assert cloud_from_settings(Settings.model_validate({**base, **cloud})) == BotCloud(
        cloud["MICROSOFT_BOT_OPENID_METADATA_URL"], ISSUER, cloud["MICROSOFT_BOT_LOGIN_URL"],
        "https://api.botframework.com")
    # half a cloud: every inbound token would be refused, so no command starts with it
    monkeypatch.chdir(tmp_path)  # (no .env here)
    for name, value in {**base, "MICROSOFT_BOT_LOGIN_URL": cloud["MICROSOFT_BOT_LOGIN_URL"]}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="MICROSOFT_BOT_OPENID_METADATA_URL, MICROSOFT_BOT_TOKEN_ISSUER not set"):
        load_settings()
    with pytest.raises(ValueError, match="MICROSOFT_BOT_OPENID_METADATA_URL"):  # the adapter's own guard
        cloud_from_settings(Settings.model_validate({**base, "MICROSOFT_BOT_LOGIN_URL": "https://login.example/x"}))
    for name, value in cloud.items():
        monkeypatch.setenv(name, value)
    assert cloud_from_settings(load_settings()) is not None
