"""A burst of signed clicks on the real bot over HTTP: every request is answered, and each click —
however often Slack resends it — is recorded once, its prompt answered and its card updated once,
although the clicks' work is done after their answers (adapters/ackfirst.py)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select

from store.models import InboundRow
from tests.e2e.test_slack_scenario import (
    ANA,
    CHEN,
    START,
    World,
    actions_of,
    at_local,
    enroll,
    prompt_of_button,
    world,  # noqa: F401 - the fixture
)
from tests.fakes.slack_api import block_actions_payload, sign_request

SECRET = "e2e-signing-secret-0123456789abcdef"  # test_slack_scenario's


async def test_a_burst_of_clicks_and_their_retries_records_each_click_once(world: World) -> None:  # noqa: F811
    w = world
    await enroll(w)
    await w.tick(at_local(START - timedelta(days=3), "10:31", CHEN.tz))  # both have their prompt now
    bodies, prompts = [], []
    for n, user in enumerate((ANA, CHEN)):
        pid, msg = w.prompt_message(user, "focus-situation")
        button = next(el for el in actions_of(msg["blocks"]) if prompt_of_button(el)[1] == "one-to-ones")
        payload = block_actions_payload(user_id=user.id, action_id=button["action_id"], value=button["value"],
                                        channel=user.dm, message_ts=msg["ts"], action_ts=f"{1900000000 + n}.000001")
        bodies.append(urlencode({"payload": json.dumps(payload)}))
        prompts.append((user, pid, msg))
    before = await w.scalar(select(func.count()).select_from(InboundRow))

    async def post(body: str, retry: int) -> int:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign_request(body, SECRET)}
        if retry:  # Slack resends what it thinks went unanswered
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        async with w.session.post(w.url, data=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    statuses = await asyncio.gather(*(post(body, retry) for retry in range(5) for body in bodies))
    assert list(statuses) == [200] * 10
    await w.settle()
    assert await w.scalar(select(func.count()).select_from(InboundRow)) - before == 2
    for user, pid, msg in prompts:
        assert (await w.prompt(pid)).status != "open"
        assert w.updates_of(user, msg) == 1
