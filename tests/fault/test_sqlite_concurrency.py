"""Fault test 6 (issue 3): the web process and the scheduler writing one SQLite file at once, for a
sustained run: 0 "database is locked", 0 HTTP 500s.

The Procfile's shape on the embedded default: `hplj serve` (with its own scheduler) and `hplj
worker`, two OS processes on one SQLite file. Both drain a backlog of 3,000 due Slack prompts to
the fake Slack (every settle is a write transaction) and tick every 0.3 s, while a driver posts a
steady stream of signed Slack requests to the web process: button clicks on real prompt ids (some
twice, as double clicks), DM messages (`status`, `help`) and `/journey status` from an admin,
each of them a write transaction plus a reply through the outbox. Afterwards: every request was
answered 200, neither log mentions a locked database (or any OperationalError), the backlog was
delivered exactly once, and /healthz is ok.

HPLJ_SQLITE_SECONDS sets the driving time (default 30).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import func, insert, select

from adapters.slack.render import BUTTON_ACTION_PREFIX, button_value
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from journeys.messages import Message
from store.db import Database
from store.migrate import upgrade_async
from store.models import InboundRow, OutboxRow, PersonRow, PromptRow
from tests.fakes.slack_api import (
    FakeSlackApi,
    block_actions_payload,
    message_im_event,
    sign_request,
    slash_command_form,
)
from tests.fault.conftest import ROOT, _free_port, accepted_posts, stop_processes, worker_env
from tests.worlds import service_on

SECONDS = float(os.environ.get("HPLJ_SQLITE_SECONDS", "30"))
SECRET = "fault-signing-secret-0123456789"
TOKEN = "xoxb-fault"
PEOPLE = 200
BACKLOG = 3000
RATE = 12.0  # driver requests per second (open loop)

pytestmark = pytest.mark.slow


async def seed(path: Path, fake: FakeSlackApi) -> list[str]:
    """PEOPLE Slack participants enrolled in active-listening, plus BACKLOG due outbox rows."""
    db = Database(f"sqlite:///{path}")
    await upgrade_async(db)
    db = Database(f"sqlite:///{path}")
    now = datetime.now(UTC)
    people = []
    for i in range(PEOPLE):
        uid = f"U{i:05d}"
        fake.add_user(uid)
        fake.channels["D" + uid] = uid
        people.append({"id": f"p{i}", "platform": "slack", "platform_user_id": uid, "name": uid, "dm_id": "D" + uid,
                           "tz": "Europe/London", "created_at": now, "greeted": True})
    fake.add_user("UADMIN")
    fake.channels["DUADMIN"] = "UADMIN"
    rows = [{"key": f"backlog{j}", "recipient_id": f"p{j % PEOPLE}",
                 "payload": Message(f"p{j % PEOPLE}", f"hello {j}").to_json(), "state": "pending", "attempts": 0,
                 "next_attempt_at": now - timedelta(minutes=1), "created_at": now} for j in range(BACKLOG)]
    async with db.write() as s:
        await s.execute(insert(PersonRow), people)
        await s.execute(insert(OutboxRow), rows)
    svc = await service_on(db, load_library(default_library_path()), {}, SimulatedClock(now))
    start = (now + timedelta(days=21)).date()
    await svc.enroll("active-listening", [f"p{i}" for i in range(PEOPLE)], None, start)
    async with db.read() as s:
        prompt_ids = list((await s.execute(select(PromptRow.id))).scalars().all())
    await db.dispose()
    return prompt_ids


def server_env(db_path: Path, fake: FakeSlackApi, port: int) -> dict[str, str]:
    env = worker_env()
    for k in [k for k in env if k.startswith(("SLACK_", "MICROSOFT_", "HPLJ_"))]:
        del env[k]
    env.update(DATABASE_URL=f"sqlite:///{db_path}", SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=fake.api_url, HPLJ_TICK_SECONDS="0.3", HPLJ_ADMINS="UADMIN", PORT=str(port),
               HPLJ_SLACK_WORKSPACE_PER_MINUTE="2400", HPLJ_DASHBOARD_SECRET="x" * 32,
               HPLJ_PUBLIC_URL="https://hplj.example.com")
    return env


async def test_web_and_scheduler_write_sqlite_together_without_locks(tmp_path):
    db_path = tmp_path / "hplj.db"
    port = _free_port()
    async with FakeSlackApi(TOKEN) as fake:
        prompt_ids = await seed(db_path, fake)
        env = server_env(db_path, fake, port)
        logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("serve", "worker")}
        procs = {
            "serve": await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.app.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
                cwd=str(ROOT), env=env, stdout=logs["serve"], stderr=asyncio.subprocess.STDOUT),
            "worker": await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.app.cli", "worker", cwd=str(ROOT), env=env, stdout=logs["worker"],
                stderr=asyncio.subprocess.STDOUT),
        }
        statuses: dict[int, int] = {}
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
                base = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 60
                while True:  # wait for the web process
                    try:
                        async with http.get(base + "/healthz") as r:
                            if r.status in (200, 503):
                                break
                    except aiohttp.ClientError:
                        pass
                    assert time.monotonic() < deadline, "hplj serve never came up"
                    assert all(p.returncode is None for p in procs.values())
                    await asyncio.sleep(0.2)
                statuses = await drive(http, base + "/slack/events", prompt_ids, fake)
                # let the schedulers finish the backlog, then look at health
                deadline = time.monotonic() + 120
                while sum(1 for k in accepted_posts(fake) if k.startswith("backlog")) < BACKLOG:
                    assert time.monotonic() < deadline, "backlog not delivered"
                    await asyncio.sleep(0.5)
                async with http.get(base + "/healthz") as r:
                    health = await r.json()
            assert all(p.returncode is None for p in procs.values())  # nobody crashed
        finally:
            await stop_processes(procs.values(), logs.values())
    texts = {name: (tmp_path / f"{name}.log").read_text(errors="replace") for name in logs}
    for name, text in texts.items():
        assert "database is locked" not in text, (name, text[-4000:])
        assert "OperationalError" not in text, (name, text[-4000:])
        assert "Traceback" not in text, (name, text[-4000:])
    assert set(statuses) == {200}, statuses  # 0 HTTP 500s (nor anything else)
    assert sum(statuses.values()) >= RATE * SECONDS * 0.9
    posted = accepted_posts(fake)
    backlog = {k: c for k, c in posted.items() if k.startswith("backlog")}
    assert len(backlog) == BACKLOG and set(backlog.values()) == {1}  # the schedulers delivered it once
    assert health["status"] == "ok", health
    assert health["outbox"]["failed"] == 0, health
    db = Database(f"sqlite:///{db_path}")
    try:
        async with db.read() as s:
            inbound = (await s.execute(select(func.count()).select_from(InboundRow))).scalar_one()
    finally:
        await db.dispose()
    # the web process really wrote: one idempotency row per distinct click/message (commands aside)
    assert inbound >= 0.6 * RATE * SECONDS, inbound
    print(f"sqlite concurrency: {statuses}, {inbound} inbound rows, {len(posted)} posts, health {health}")


async def drive(http: aiohttp.ClientSession, url: str, prompt_ids: list[str], fake: FakeSlackApi) -> dict[int, int]:
    """RATE signed requests per second for SECONDS (open loop); returns status -> count."""
    rng = random.Random(17)
    statuses: dict[int, int] = {}
    n = int(RATE * SECONDS)
    clicks: list[dict[str, object]] = []

    async def post(body: str, content_type: str) -> None:
        headers = {"Content-Type": content_type, **sign_request(body, SECRET)}
        try:
            async with http.post(url, data=body, headers=headers) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
        except (aiohttp.ClientError, TimeoutError):
            statuses[0] = statuses.get(0, 0) + 1

    async def one(i: int) -> None:
        kind = rng.random()
        who = rng.randrange(PEOPLE)
        uid = f"U{who:05d}"
        if kind < 0.5 or not clicks:
            if kind < 0.1 and clicks:
                payload = rng.choice(clicks)  # a double click: the same action again
            else:
                pid = rng.choice(prompt_ids)
                payload = block_actions_payload(
                    user_id=uid, action_id=BUTTON_ACTION_PREFIX + "yes", value=button_value(pid, "yes"),
                    channel="D" + uid, message_ts=f"{1800000000 + i}.000002", action_ts=f"{1800000000 + i}.000001",
                    trigger_id=f"trig.{i}", response_url=fake.response_url(f"act{i}"))
                clicks.append(payload)
            await post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
        elif kind < 0.85:
            event = message_im_event(user_id=uid, text=rng.choice(("status", "help")), channel="D" + uid,
                                     ts=f"{1800000000 + i}.000100", event_id=f"EvF{i:06d}")
            await post(json.dumps(event), "application/json")
        else:
            form = slash_command_form(user_id="UADMIN", text="status", response_url=fake.response_url(f"cmd{i}"),
                                      trigger_id=f"trig.cmd.{i}", channel_id="DUADMIN")
            await post(urlencode(form), "application/x-www-form-urlencoded")

    t0 = time.monotonic()
    tasks = []
    for i in range(n):
        delay = t0 + i / RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return statuses
