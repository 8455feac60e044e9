"""A card action's extra reply ("Thanks, saved …") waits for the web process's pace, over real HTTP.

The refreshed card is the invoke's own answer; the reply after it is posted to the Bot Connector
in the background. In `hplj serve` that post first waits for a turn of the event loop with no
request waiting (`step_aside`), so during a burst of clicks the answers go first. Here the pace is
a gate the test opens: the answer must come while the gate is shut, the reply only once it opens.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.teams.app import mount_teams
from journeys.messages import Button, Message
from ports.chat import HandlerResult, InboundAction, Profile
from tests.fakes.teams_connector import FakeConnector

FIXTURES = Path(__file__).resolve().parents[2] / "unit" / "adapters" / "teams" / "fixtures"
MARIA = "cccccccc-0000-4000-8000-00000000c0c0"
CARD = Message(recipient_id=MARIA, text="Ana's expectations before her course.", title="Expectations",
               prompt_id="enr-ana:support-request", buttons=(Button("Done", "approve", "primary"),))
THANKS = "Thanks, saved what you and Ana agreed."


class AgreementHandler:
    """Answers a click like the bot answers a manager's agreement: the card, then a reply."""

    def __init__(self) -> None:
        self.actions: list[InboundAction] = []

    async def handle_action(self, action: InboundAction) -> HandlerResult:
        self.actions.append(action)
        return HandlerResult(updated=replace(CARD, closed=True, text="Agreed: two one-to-ones a month."),
                             replies=(Message(recipient_id=MARIA, text=THANKS),))

    async def handle_command(self, platform: str, user_id: str, text: str, key: str) -> HandlerResult:
        return HandlerResult()

    async def remember_user(self, platform: str, profile: Profile, address: dict[str, Any]) -> bool:
        return False

    async def prompt_message(self, prompt_id: str, *, platform: str | None = None,
                             user_id: str | None = None) -> Message | None:
        return None


async def test_the_reply_after_a_refreshed_card_waits_for_the_pace() -> None:
    gate = asyncio.Event()
    paced = 0

    async def pace() -> None:
        nonlocal paced
        paced += 1
        await gate.wait()

    fake = await FakeConnector().start()
    handler = AgreementHandler()
    app = web.Application()
    endpoint = mount_teams(app, handler, app_id="", pace=pace)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    body = json.loads((FIXTURES / "invoke_button.json").read_text(encoding="utf-8"))
    body["serviceUrl"] = fake.url
    try:
        async with aiohttp.ClientSession() as session, \
                session.post(server.make_url("/api/messages"), json=body) as resp:
            assert resp.status == 200
            answer = await resp.json()
        # the answer (the refreshed card) came while the reply was held back
        assert answer["type"] == "application/vnd.microsoft.card.adaptive"
        assert "Agreed: two one-to-ones a month." in json.dumps(answer["value"])
        for _ in range(50):
            await asyncio.sleep(0.01)
            if paced:
                break
        assert paced == 1
        assert not [c for c in fake.sent if THANKS in (c.text or "")]
        gate.set()
        await endpoint.bot.drain(10)
        [thanks] = [c for c in fake.sent if THANKS in (c.text or "")]
        assert thanks.kind == "reply"
        assert len(handler.actions) == 1
    finally:
        await server.close()
        await fake.stop()
