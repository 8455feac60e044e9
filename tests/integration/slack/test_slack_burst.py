"""A burst of signed clicks over real HTTP: each is answered, each reaches the handler once, the
queue's bound holds answers back instead of dropping work, and a form button clicked in the middle
of the burst still opens its modal while the clicks' work is waiting (Slack's trigger_id lasts 3 s)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from adapters.slack.app import mount_slack
from adapters.slack.render import button_value
from journeys.messages import Button, FormField, Message
from tests.fakes.slack_api import block_actions_payload, sign_request

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the same as conftest's (conftest is not importable)
TOKEN = "xoxb-test"

PROMPT = Message(
    recipient_id="p-ana",
    text="Which moment that matters is coming up?",
    title="Plan an MTM",
    prompt_id="pr-form",
    buttons=(Button("Skip", "skip"),),
    fields=(FormField("what", "What is the moment?", "text"),),
    form_label="Plan MTM",
)


def click(n: int) -> dict[str, object]:
    return block_actions_payload(
        user_id="U1", action_id="hplj:btn:done", value=button_value(f"pr-{n}", "done"),
        channel="DU1", message_ts=f"1700000000.{n:06d}", action_ts=f"{1800000000 + n}.000001",
    )


async def post_all(session: aiohttp.ClientSession, url: str, payloads: list[dict[str, object]]) -> list[int]:
    async def one(payload: dict[str, object]) -> int:
        body = urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign_request(body, SECRET)}
        async with session.post(url, data=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    return list(await asyncio.gather(*(one(p) for p in payloads)))


async def test_a_burst_of_clicks_is_answered_and_each_click_reaches_the_handler_once(slack):
    slack.handler.delay = 0.01
    statuses = await post_all(slack.session, slack.url, [click(n) for n in range(80)])
    assert statuses == [200] * 80
    await slack.inbound.drain(timeout=30)
    seen = Counter(a.key for a in slack.handler.actions)
    assert len(seen) == 80 and set(seen.values()) == {1}
    assert {a.prompt_id for a in slack.handler.actions} == {f"pr-{n}" for n in range(80)}


async def test_a_full_backlog_holds_the_answers_back_and_loses_no_click(fake, slack):
    app = web.Application()
    inbound = mount_slack(app, slack.handler, signing_secret=SECRET, token=TOKEN, api_url=fake.api_url,
                          backlog=2)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        slack.handler.delay = 0.02
        statuses = await post_all(slack.session, f"http://127.0.0.1:{port}/slack/events",
                                  [click(n) for n in range(30)])
        assert statuses == [200] * 30
        await inbound.drain(timeout=30)
        assert sorted(a.prompt_id for a in slack.handler.actions) == sorted(f"pr-{n}" for n in range(30))
    finally:
        await inbound.close()
        await runner.cleanup()


async def test_a_form_button_in_a_burst_opens_its_modal_before_the_queued_clicks_are_done(slack):
    slack.handler.prompts["pr-form"] = PROMPT
    slack.handler.delay = 0.2  # 40 clicks, 4 at a time: the queue needs 2 s or more
    assert await post_all(slack.session, slack.url, [click(n) for n in range(40)]) == [200] * 40
    form = block_actions_payload(user_id="U1", action_id="hplj:form", value=button_value("pr-form", ""),
                                 channel="DU1", message_ts="1700000001.000001", trigger_id="trig-burst")
    assert await post_all(slack.session, slack.url, [form]) == [200]
    [opened] = await slack.fake.wait_for("views.open", timeout=10)
    assert opened.params["trigger_id"] == "trig-burst"
    assert len(slack.handler.actions) < 40  # opened ahead of the clicks queued before it
    await slack.inbound.drain(timeout=30)
    assert len(slack.handler.actions) == 40
