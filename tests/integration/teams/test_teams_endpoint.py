"""`POST /api/messages` over real HTTP, with a local fake Bot Connector as the serviceUrl."""

from __future__ import annotations

import asyncio
import copy
import http.client
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.teams.app import TeamsAuthConfigError, check_production_auth, mount_teams
from journeys.messages import Button, Message
from ports.chat import HandlerResult, InboundAction, Profile
from tests.fakes.teams_connector import FakeConnector
from tests.unit.adapters.teams.teams_card_schema import assert_valid_card

FIXTURES = Path(__file__).resolve().parents[2] / "unit" / "adapters" / "teams" / "fixtures"
ANA = "aaaaaaaa-0000-4000-8000-00000000a0a0"
ADMIN = "0c1f2a3b-1111-4a4a-9b9b-000000000001"
MARIA = "cccccccc-0000-4000-8000-00000000c0c0"


def fixture(name: str, service_url: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data["serviceUrl"] = service_url
    return data


SUPPORT = Message(recipient_id=MARIA, text="Ana asks for your support before her MTM.", title="Support request",
                  journey_title="Active listening", prompt_id="enr-ana:support-request",
                  buttons=(Button("Approve", "approve", "primary"), Button("Coach", "coach")))


@dataclass
class Recorded:
    actions: list[InboundAction]
    commands: list[tuple[str, str, str, str]]
    remembered: list[tuple[str, Profile, dict[str, Any]]]


class RecordingHandler:
    """A BotHandler double: records calls, answers like the bot would."""

    def __init__(self) -> None:
        self.rec = Recorded([], [], [])
        self.known: set[str] = set()

    async def handle_action(self, action: InboundAction) -> HandlerResult:
        self.rec.actions.append(action)
        if action.prompt_id == SUPPORT.prompt_id:
            if action.user_id != MARIA:
                return HandlerResult(replies=(Message(recipient_id=action.user_id,
                                                      text="This request was sent to someone else."),))
            return HandlerResult(updated=replace(SUPPORT, closed=True, text="You approved Ana's request."))
        if action.prompt_id:
            return HandlerResult()
        return HandlerResult(replies=(Message(recipient_id=action.user_id, text=f"Noted: {action.text}"),))

    async def handle_command(self, platform: str, user_id: str, text: str, key: str) -> HandlerResult:
        self.rec.commands.append((platform, user_id, text, key))
        if user_id != ADMIN:
            return HandlerResult(replies=(Message(recipient_id=user_id, text="Only admins can do that."),))
        return HandlerResult(replies=(Message(recipient_id=user_id, text="Commands", title="journey help",
                                              facts=(("enroll", "enroll <journey> <user>..."),)),))

    async def remember_user(self, platform: str, profile: Profile, address: dict[str, Any]) -> bool:
        self.rec.remembered.append((platform, profile, address))
        first = profile.user_id not in self.known
        self.known.add(profile.user_id)
        return first

    async def prompt_message(self, prompt_id: str, *, platform: str | None = None,
                             user_id: str | None = None) -> Message | None:
        return replace(SUPPORT, closed=True, text="Already answered.") if prompt_id == SUPPORT.prompt_id else None


@dataclass
class Env:
    url: str
    fake: FakeConnector
    handler: RecordingHandler
    session: aiohttp.ClientSession

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        async with self.session.post(self.url, data=data, headers={"Content-Type": "application/json",
                                                                   **(headers or {})}) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text) if text else None
            except ValueError:
                return resp.status, text


async def _env(app_id: str = "") -> tuple[TestServer, Env]:
    fake = await FakeConnector().start()
    handler = RecordingHandler()
    app = web.Application()
    mount_teams(app, handler, app_id=app_id, app_password="secret" if app_id else "", tenant_id="",
                app_type="MultiTenant")
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    return server, Env(str(server.make_url("/api/messages")), fake, handler, session)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    server, e = await _env()
    yield e
    await e.session.close()
    await server.close()
    await e.fake.stop()


async def test_message_reaches_the_handler_and_reply_is_posted(env: Env) -> None:
    status, _ = await env.post(fixture("message_plain_reply", env.fake.url))
    assert status == 200
    [action] = env.handler.rec.actions
    assert action.platform == "teams" and action.user_id == ANA and action.key.endswith(":1764604931000")
    assert action.text == "I'll try paraphrasing in Friday s 1:1 & see"
    assert action.profile is not None and action.profile.tz == "America/New_York"
    replies = [c for c in env.fake.sent if c.kind == "reply"]
    assert replies[-1].text == "Noted: I'll try paraphrasing in Friday s 1:1 & see"
    assert replies[-1].activity_id == "1764604931000"  # a reply to the user's message


async def test_admin_command(env: Env) -> None:
    status, _ = await env.post(fixture("message_admin_command", env.fake.url))
    assert status == 200
    [(platform, user, text, key)] = env.handler.rec.commands
    assert (platform, user) == ("teams", ADMIN) and key.endswith(":1764494102123")  # id within its conversation
    assert text.startswith("enroll active-listening <user:aaaaaaaa-0000-4000-8000-00000000a0a0|Ana Diaz>")
    card = env.fake.sent[-1].card
    assert card is not None
    assert_valid_card(card)


async def test_non_admin_command_gets_the_refusal(env: Env) -> None:
    act = fixture("message_plain_reply", env.fake.url)
    act["text"] = "journey forget <at>Ben</at>"
    status, _ = await env.post(act)
    assert status == 200
    assert env.fake.sent[-1].text == "Only admins can do that."


async def test_card_action_returns_the_refreshed_card(env: Env) -> None:
    status, body = await env.post(fixture("invoke_button", env.fake.url))
    assert status == 200
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert_valid_card(body["value"])
    assert "actions" not in body["value"]  # stale buttons are gone
    assert "You approved" in json.dumps(body["value"])
    [action] = env.handler.rec.actions
    assert (action.user_id, action.button, action.prompt_id) == (MARIA, "approve", "enr-ana:support-request")


async def test_strangers_card_action_is_refused(env: Env) -> None:
    act = fixture("invoke_button", env.fake.url)
    act["from"]["aadObjectId"] = ANA
    status, body = await env.post(act)
    assert status == 200
    assert body == {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                    "value": "This request was sent to someone else."}


async def test_form_submit_and_unknown_prompt_keep_a_valid_card(env: Env) -> None:
    status, body = await env.post(fixture("invoke_submit", env.fake.url))
    assert status == 200 and body["statusCode"] == 200
    [action] = env.handler.rec.actions
    assert action.values["date"] == "2026-12-10" and action.values["tags"] == ["x", "y"]
    act = fixture("invoke_button", env.fake.url)
    act["value"]["action"]["verb"] = "somethingElse"
    status, body = await env.post(act)
    assert status == 200 and body["statusCode"] == 400
    assert len(env.handler.rec.actions) == 1


async def test_installation_update_remembers_and_greets_once(env: Env) -> None:
    for _ in range(2):
        status, _ = await env.post(fixture("installation_update_add", env.fake.url))
        assert status == 200
    assert len(env.handler.rec.remembered) == 2
    platform, profile, address = env.handler.rec.remembered[0]
    assert platform == "teams" and profile.user_id == ANA and profile.tz == "Europe/Madrid"
    assert address["service_url"] == env.fake.url
    assert address["conversation_id"].startswith("a:1xPersonalChatWithAna")
    assert address["tenant_id"] == "72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert address["bot_id"].startswith("28:")
    greetings = [c for c in env.fake.sent if c.card and "Welcome" in json.dumps(c.card)]
    assert len(greetings) == 1
    assert_valid_card(greetings[0].card or {})


async def test_conversation_update_remembers(env: Env) -> None:
    status, _ = await env.post(fixture("conversation_update_members_added", env.fake.url))
    assert status == 200
    assert [p.name for _, p, _ in env.handler.rec.remembered] == ["Ben Okafor"]
    status, _ = await env.post(fixture("conversation_update_channel", env.fake.url))
    assert status == 200 and len(env.handler.rec.remembered) == 1


async def test_redelivered_activity_passes_the_same_key(env: Env) -> None:
    act = fixture("invoke_button", env.fake.url)
    await env.post(act)
    await env.post(act)
    keys = [a.key for a in env.handler.rec.actions]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0].endswith(":f:6b5a4c3d-aaaa-bbbb-cccc-1234567890ab")
    # the same activity id in another conversation is another activity (Teams ids are per conversation)
    other = dict(act, conversation={**act["conversation"], "id": act["conversation"]["id"] + "-other"})
    await env.post(other)
    assert env.handler.rec.actions[-1].key not in keys


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b"null", b"42", b'{"type": 5}', b'{"type": ""}', b'{"text": "hi"}',
     b'{"type": "message"}',
     (b'{"type": "message", "serviceUrl": "ftp://x", "conversation": {"id": "c"},'
      b' "from": {"id": "u"}}'), b'{"type": "message", "timestamp": "not a date"}',
     b"{\"type\": \"message\", \"text\": \"\\ud800\"}", b"\xff\xfe"],
)
async def test_malformed_bodies_get_400(env: Env, body: bytes) -> None:
    status, _ = await env.post(body)
    assert status == 400
    assert not env.handler.rec.actions and not env.handler.rec.commands


async def test_unknown_invoke_is_not_implemented(env: Env) -> None:
    act = fixture("invoke_button", env.fake.url)
    act["name"] = "task/fetch"
    status, _ = await env.post(act)
    assert status == 501 and not env.handler.rec.actions


async def test_local_mode_is_logged_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        mount_teams(web.Application(), RecordingHandler(), app_id="")
    assert "Teams endpoint is UNAUTHENTICATED (local mode)" in caplog.text


async def test_with_an_app_id_unauthenticated_requests_get_401() -> None:
    server, e = await _env(app_id="11111111-2222-3333-4444-555555555555")
    try:
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"},
                        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."}):
            for name in ("message_admin_command", "invoke_button", "installation_update_add"):
                status, _ = await e.post(fixture(name, e.fake.url), headers)
                assert status == 401, (name, headers)
        assert not e.handler.rec.actions and not e.handler.rec.commands and not e.handler.rec.remembered
        assert e.fake.calls == []
    finally:
        await e.session.close()
        await server.close()
        await e.fake.stop()


def test_check_production_auth() -> None:
    with pytest.raises(TeamsAuthConfigError, match="MICROSOFT_APP_ID is empty"):
        check_production_auth("", allow_local=False)
    check_production_auth("", allow_local=True)
    check_production_auth("11111111-2222-3333-4444-555555555555", allow_local=False)
    with pytest.raises(TeamsAuthConfigError, match="PASSWORD"):
        check_production_auth("11111111-2222-3333-4444-555555555555", allow_local=False, app_password="")


# ---- fuzzing: a server in a background thread, so hypothesis can drive it synchronously ----

class _ThreadedEnv:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server, self.env = asyncio.run_coroutine_threadsafe(_env(), self.loop).result(30)
        assert self.server.port is not None
        self.port: int = self.server.port
        self.fake_url = self.env.fake.url

    def post(self, body: bytes) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", "/api/messages", body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()

    def close(self) -> None:
        async def stop() -> None:
            await self.env.session.close()
            await self.server.close()
            await self.env.fake.stop()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def threaded() -> Iterator[_ThreadedEnv]:
    t = _ThreadedEnv()
    yield t
    t.close()


json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
FIXTURE_NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
KEYS = ["type", "name", "text", "from", "recipient", "conversation", "entities", "value", "id", "action",
        "membersAdded", "channelData", "localTimezone", "timestamp", "attachments", "serviceUrl", "replyToId"]


@st.composite
def mangled_activity(draw: st.DrawFn, service_url: str) -> bytes:
    act = copy.deepcopy(fixture(draw(st.sampled_from(FIXTURE_NAMES)), service_url))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(KEYS))
        how = draw(st.sampled_from(["junk", "delete", "nested"]))
        if how == "delete":
            act.pop(key, None)
        elif how == "nested" and isinstance(act.get(key), dict) and act[key]:
            inner = draw(st.sampled_from(sorted(act[key])))
            act[key][inner] = draw(json_values)
        else:
            act[key] = draw(json_values)
    return json.dumps(act).encode()


raw_bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_activities_never_get_a_500(threaded: _ThreadedEnv, data: st.DataObject) -> None:
    body = data.draw(st.one_of(mangled_activity(threaded.fake_url), raw_bodies))
    status = threaded.post(body)
    assert status < 500 or status == 501, (status, body[:500])
