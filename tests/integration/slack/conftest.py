"""Fixtures: the fake Slack Web API, a recording BotHandler double and the aiohttp app with
`mount_slack`, served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from adapters.slack.app import SlackInbound, mount_slack
from journeys.messages import Message
from ports.chat import HandlerResult, InboundAction, Profile
from tests.fakes.slack_api import FakeSlackApi, sign_request

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # test_slack_http.py repeats these two
TOKEN = "xoxb-test"


class RecordingHandler:
    """A BotHandler test double: records calls, answers what the test set up."""

    def __init__(self) -> None:
        self.actions: list[InboundAction] = []
        self.commands: list[tuple[str, str, str, str]] = []
        self.prompts: dict[str, Message] = {}
        self.action_result: HandlerResult = HandlerResult()
        self.command_result: HandlerResult = HandlerResult()
        self.delay = 0.0
        self.done = asyncio.Event()
        self.home: list[Message] | None = None
        self.homes: list[str] = []  # who opened their home tab

    async def handle_action(self, action: InboundAction) -> HandlerResult:
        self.actions.append(action)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.done.set()
        return self.action_result

    async def handle_command(
        self, platform: str, user_id: str, text: str, key: str
    ) -> HandlerResult:
        self.commands.append((platform, user_id, text, key))
        if self.delay:
            await asyncio.sleep(self.delay)
        self.done.set()
        return self.command_result

    async def remember_user(self, platform: str, profile: Profile, address: dict[str, Any]) -> bool:
        return True

    async def prompt_message(
        self, prompt_id: str, *, platform: str | None = None, user_id: str | None = None
    ) -> Message | None:
        return self.prompts.get(prompt_id)

    async def home_view(self, platform: str, user_id: str) -> list[Message] | None:
        self.homes.append(user_id)
        return self.home


class SlackHarness:
    def __init__(
        self, fake: FakeSlackApi, handler: RecordingHandler, inbound: SlackInbound, url: str
    ):
        self.fake = fake
        self.handler = handler
        self.inbound = inbound
        self.url = url
        self.session = aiohttp.ClientSession()

    async def post_raw(
        self,
        body: str | bytes,
        *,
        content_type: str,
        sign: bool = True,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        h = {"Content-Type": content_type}
        if sign:
            h.update(sign_request(body, SECRET, timestamp))
        h.update(headers or {})
        async with self.session.post(self.url, data=body, headers=h) as resp:
            await resp.read()
            return resp

    async def post_form(self, form: dict[str, str], **kw: Any) -> aiohttp.ClientResponse:
        return await self.post_raw(
            urlencode(form), content_type="application/x-www-form-urlencoded", **kw
        )

    async def post_payload(self, payload: dict[str, Any], **kw: Any) -> aiohttp.ClientResponse:
        return await self.post_form({"payload": json.dumps(payload)}, **kw)

    async def post_event(self, envelope: dict[str, Any], **kw: Any) -> aiohttp.ClientResponse:
        return await self.post_raw(json.dumps(envelope), content_type="application/json", **kw)


@pytest.fixture
async def fake():
    async with FakeSlackApi(TOKEN) as api:
        api.add_user("U1", "ana", tz="Europe/Berlin", tz_offset=3600, email="ana@example.com")
        api.add_user("UMGR", "mo", tz="America/New_York", email="mo@example.com")
        api.add_user("UADMIN", "lee", email="lee@example.com")
        yield api


@pytest.fixture
async def slack(fake):
    handler = RecordingHandler()
    app = web.Application()
    inbound = mount_slack(app, handler, signing_secret=SECRET, token=TOKEN, api_url=fake.api_url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    harness = SlackHarness(fake, handler, inbound, f"http://127.0.0.1:{port}/slack/events")
    yield harness
    await harness.session.close()
    await inbound.drain()
    await runner.cleanup()
    if inbound.client.session is not None:
        await inbound.client.session.close()
