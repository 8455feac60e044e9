"""Slack over Socket Mode, end to end (issue 22 item 9): the real `BotService` on a SQLite file, the
bot's Socket Mode connection (`adapters/slack/socket_mode.py`, bolt's AsyncSocketModeHandler on
slack_sdk's aiohttp client) to a fake Slack (tests/fakes/slack_socket.py) that hands out a loopback
WebSocket URL from `apps.connections.open` and delivers envelopes in Slack's format.

A slash command, a button click and a DM each get acked and done; a redelivered event envelope
(`retry_attempt`) is done once; after Slack asks for a new connection (`disconnect`) or drops the
socket, the bot reconnects and keeps working.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from adapters.slack.client import SlackChat
from adapters.slack.socket_mode import SocketMode
from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.models import InboundRow, PromptRow
from tests.fakes.slack_api import block_actions_payload, message_im_event, slash_command_form
from tests.fakes.slack_socket import FakeSocketModeSlack
from tests.worlds import service_on

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TOKEN = "xoxb-socket-test"
APP_TOKEN = "xapp-1-A0001-socket-test"
ADMIN, ANA, BEN = "UADMIN", "UANA", "UBEN"
START = date(2026, 12, 7)
T0 = datetime(2026, 11, 30, 8, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


@dataclass
class World:
    fake: FakeSocketModeSlack
    service: BotService
    socket: SocketMode
    db: Database

    async def settle(self) -> None:
        await self.socket.inbound.drain()
        await self.service.settle()

    async def count(self, model: Any) -> int:
        async with self.db.read() as s:
            return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeSocketModeSlack(TOKEN, APP_TOKEN) as fake:
        for uid, name in ((ADMIN, "lee"), (ANA, "ana"), (BEN, "ben")):
            fake.add_user(uid, name, tz="Europe/London", email=f"{name}@example.com")
        db = Database(f"sqlite:///{tmp_path / 'hplj.db'}")
        await db.create_all()
        service = await service_on(db, load_library(default_library_path()),
                                   {"slack": SlackChat(TOKEN, api_url=fake.api_url)}, SimulatedClock(T0),
                                   admins={ADMIN})
        socket = SocketMode(service, app_token=APP_TOKEN, token=TOKEN, api_url=fake.api_url, ping_interval=1)
        await socket.connect()
        try:
            await fake.wait_connected(1)
            yield World(fake, service, socket, db)
        finally:
            await socket.close()
            await service.settle()
            port = service.ports["slack"]
            assert isinstance(port, SlackChat)
            if port.client.session is not None:
                await port.client.session.close()
            await db.dispose()


async def first_question(w: World) -> tuple[str, dict[str, Any]]:
    """Enroll Ana (manager Ben), tick to her first question and return its prompt id and message."""
    ana = await w.service.ensure_person("slack", ANA, name="ana", tz="Europe/London")
    ben = await w.service.ensure_person("slack", BEN, name="ben", tz="Europe/London")
    await w.service.enroll("active-listening", [ana.id], ben.id, START)
    due = datetime(2026, 11, 30, 10, 1, tzinfo=LONDON).astimezone(UTC)  # focus-situation: start-5 10:00
    clock = w.service.clock
    assert isinstance(clock, SimulatedClock)
    clock.set(due)
    await w.service.tick(due)
    await w.service.settle()
    for msg in reversed(w.fake.posted("D" + ANA)):
        pid = ((msg.get("metadata") or {}).get("event_payload") or {}).get("prompt_id", "")
        if pid.endswith("focus-situation"):
            return pid, msg
    raise AssertionError("no focus-situation prompt was posted")


def choice_button(msg: dict[str, Any], value: str) -> dict[str, Any]:
    for block in msg["blocks"]:
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            if json.loads(el["value"]).get("v") == value:
                return el  # type: ignore[no-any-return]
    raise AssertionError(f"no {value} button")


async def test_the_connection_is_opened_with_the_app_token_only(world: World) -> None:
    opened = world.fake.calls_to("apps.connections.open")
    assert len(opened) == 1 and world.fake.opens == 1
    assert opened[0].headers["Authorization"] == f"Bearer {APP_TOKEN}"  # never the bot token


async def test_slash_command_is_acked_and_answered(world: World) -> None:
    form = slash_command_form(user_id=ADMIN, text="help", response_url=world.fake.response_url("cmd1"),
                              trigger_id="trig.cmd.1")
    env = await world.fake.deliver("slash_commands", dict(form))
    ack = await world.fake.wait_ack(env)
    assert ack["envelope_id"] == env
    await world.settle()
    [reply] = await world.fake.wait_for_response_url(1)
    assert reply["url_token"] == "cmd1" and reply["response_type"] == "ephemeral"
    assert "enroll" in json.dumps(reply)  # the admin's help


async def test_button_click_is_acked_and_answers_the_prompt_once(world: World) -> None:
    pid, msg = await first_question(world)
    button = choice_button(msg, "one-to-ones")
    payload = block_actions_payload(user_id=ANA, action_id=button["action_id"], value=button["value"],
                                    channel="D" + ANA, message_ts=msg["ts"], action_ts="1800000001.000001",
                                    response_url=world.fake.response_url("act1", message=("D" + ANA, msg["ts"])))
    env = await world.fake.deliver("interactive", payload)
    await world.fake.wait_ack(env)
    await world.settle()
    async with world.db.read() as s:
        prompt = await s.get(PromptRow, pid)
        assert prompt is not None and prompt.status != "open"
        assert prompt.answers == {"choice": "one-to-ones"} or "one-to-ones" in json.dumps(prompt.answers)
    # the same click delivered again (Slack resends an envelope it saw no ack for): done once
    again = await world.fake.deliver("interactive", payload)
    await world.fake.wait_ack(again)
    await world.settle()
    assert world.fake.updates_per_message().get(("D" + ANA, msg["ts"]), 0) == 1


async def test_dm_is_acked_and_a_redelivered_event_is_done_once(world: World) -> None:
    await world.service.ensure_person("slack", ANA, name="ana", tz="Europe/London")
    event = message_im_event(user_id=ANA, text="help", channel="D" + ANA, ts="1800000100.000100",
                             event_id="EvSOCK1")
    before = len(world.fake.calls_to("chat.postMessage"))
    env = await world.fake.deliver("events_api", event)
    await world.fake.wait_ack(env)
    await world.settle()
    replies = world.fake.calls_to("chat.postMessage")[before:]
    assert len(replies) == 1 and replies[0].params["channel"] == "D" + ANA
    inbound = await world.count(InboundRow)
    assert inbound >= 1
    retry = await world.fake.deliver("events_api", event, retry_attempt=1, retry_reason="timeout")
    await world.fake.wait_ack(retry)
    await world.settle()
    assert len(world.fake.calls_to("chat.postMessage")) == before + 1  # no second reply
    assert await world.count(InboundRow) == inbound


@pytest.mark.parametrize("how", ["refresh", "drop"])
async def test_reconnects_and_keeps_working(world: World, how: str) -> None:
    if how == "refresh":
        await world.fake.refresh()  # {"type": "disconnect", "reason": "refresh_requested"}
    else:
        await world.fake.drop()  # the socket closes without notice
    await world.fake.wait_connected(2, timeout=30)
    assert world.fake.opens == 2  # a fresh URL from apps.connections.open, not the old one again
    assert world.fake.sockets[0].closed or how == "refresh"
    form = slash_command_form(user_id=ADMIN, text="help", response_url=world.fake.response_url("after"),
                              trigger_id="trig.cmd.after")
    env = await world.fake.deliver("slash_commands", dict(form))
    await world.fake.wait_ack(env)
    await world.settle()
    [reply] = await world.fake.wait_for_response_url(1)
    assert reply["url_token"] == "after"
