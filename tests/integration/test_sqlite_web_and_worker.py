"""On SQLite the scheduler process delivers (issue 16): `hplj serve --no-scheduler` answers clicks
while `hplj worker` runs on the same file, and the worker delivers every due prompt within one tick
interval. (Before, each click made the web process take the delivery lock for 20 s, and the
worker's passes declined to deliver until the next click.)

Two real OS processes, the fake Slack over HTTP, signed clicks. The journey's calendar is opened to
every hour of every day so the test does not depend on when it runs; the hours have their own tests.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import select, update

from adapters.slack.render import BUTTON_ACTION_PREFIX, button_value
from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.migrate import upgrade_async
from store.models import PersonRow, PromptRow
from tests.fakes.slack_api import FakeSlackApi, block_actions_payload, sign_request
from tests.fault.conftest import ROOT, _free_port, stop_processes, worker_env

SECRET = "web-worker-signing-secret-0123456789"
TOKEN = "xoxb-web-worker"
PEOPLE = 8
TICK = 1.0  # HPLJ_TICK_SECONDS of the worker
GRACE = 1.0  # process start-up jitter and the pass's own time
CLICK_EVERY = 5.0  # sparse clicks: each one used to lock the worker out for 20 s


def open_all_hours(folder: Path) -> Path:
    text = (default_library_path() / "active-listening.yml").read_text()
    text = text.replace("working_days: [mon, tue, wed, thu, fri]",
                        "working_days: [mon, tue, wed, thu, fri, sat, sun]")
    text = text.replace('working_hours: {start: "09:00", end: "17:30"}', 'working_hours: {start: "00:00", end: "23:59"}')
    text = text.replace('quiet_hours: ["12:00-13:00"]', "quiet_hours: []")
    text = text.replace("holidays: {country: GB, subdivision: ENG}", "holidays: {}")
    folder.mkdir()
    (folder / "active-listening.yml").write_text(text)
    return folder


async def seed(path: Path, library: dict, fake: FakeSlackApi, first_due: datetime) -> list[str]:
    """PEOPLE Slack participants; each has one prompt due at first_due + i * 1.5 s (real time), the
    rest of their journey far away. Returns the due prompt ids in due order."""
    db = Database(f"sqlite:///{path}")
    await upgrade_async(db)
    svc = BotService(db, library, {}, SimulatedClock(datetime.now(UTC)))
    ids = []
    for i in range(PEOPLE):
        uid = f"U{i:04d}"
        fake.add_user(uid)
        fake.channels["D" + uid] = uid
        row = await svc.ensure_person("slack", uid, name=f"Person {i}", tz="Europe/London", dm_id="D" + uid)
        ids.append(row.id)
    await svc.enroll("active-listening", ids, None, (datetime.now(UTC) + timedelta(days=60)).date())
    due_ids = []
    async with db.write() as s:
        await s.execute(update(PersonRow).values(greeted=True))
        await s.execute(update(PromptRow).values(next_at=None))
        for i, pid in enumerate(ids):
            prompt = (await s.execute(select(PromptRow).where(PromptRow.recipient_id == pid,
                                                              PromptRow.step_id == "focus-situation"))).scalar_one()
            at = first_due + timedelta(seconds=1.5 * i)
            prompt.next_at = prompt.due_at = at
            due_ids.append(prompt.id)
    await db.dispose()
    return due_ids


async def test_web_only_process_leaves_delivery_to_the_worker_which_delivers_within_one_tick(tmp_path):
    db_path = tmp_path / "hplj.db"
    folder = open_all_hours(tmp_path / "journeys")
    library = load_library(folder)
    port = _free_port()
    async with FakeSlackApi(TOKEN) as fake:
        first_due = datetime.now(UTC) + timedelta(seconds=25)  # after both processes are up
        due_ids = await seed(db_path, library, fake, first_due)
        env = worker_env()
        for k in [k for k in env if k.startswith(("SLACK_", "MICROSOFT_", "HPLJ_"))]:
            del env[k]
        env.update(DATABASE_URL=f"sqlite:///{db_path}", SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                   SLACK_API_URL=fake.api_url, HPLJ_TICK_SECONDS=str(TICK), HPLJ_JOURNEYS=str(folder),
                   PORT=str(port), HPLJ_DASHBOARD_SECRET="x" * 32, HPLJ_PUBLIC_URL="https://hplj.example.com")
        logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("serve", "worker")}
        procs = {
            "serve": await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.app.cli", "serve", "--no-scheduler", "--port", str(port),
                "--host", "127.0.0.1", cwd=str(ROOT), env=env, stdout=logs["serve"],
                stderr=asyncio.subprocess.STDOUT),
        }
        seen: dict[str, float] = {}  # delivery id -> when the fake Slack first had it (monotonic)
        statuses: list[int] = []
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
                base = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 60
                while True:
                    try:
                        async with http.get(base + "/healthz") as r:
                            if r.status in (200, 503):
                                break
                    except aiohttp.ClientError:
                        pass
                    assert time.monotonic() < deadline, "hplj serve never came up"
                    await asyncio.sleep(0.2)

                async def click(n: int) -> None:
                    uid = f"U{n % PEOPLE:04d}"
                    payload = block_actions_payload(
                        user_id=uid, action_id=BUTTON_ACTION_PREFIX + "yes",
                        value=button_value(due_ids[n % PEOPLE].replace("focus-situation", "why-it-matters"), "yes"),
                        channel="D" + uid, message_ts=f"{1800000000 + n}.000002",
                        action_ts=f"{1800000000 + n}.000001", trigger_id=f"trig.{n}",
                        response_url=fake.response_url(f"act{n}"))
                    body = urlencode({"payload": json.dumps(payload)})
                    async with http.post(base + "/slack/events", data=body, headers={
                            "Content-Type": "application/x-www-form-urlencoded", **sign_request(body, SECRET)}) as r:
                        statuses.append(r.status)

                await click(0)  # people click before the worker is (re)started
                await asyncio.sleep(1)
                procs["worker"] = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.app.cli", "worker", cwd=str(ROOT), env=env, stdout=logs["worker"],
                    stderr=asyncio.subprocess.STDOUT)
                last_due = first_due + timedelta(seconds=1.5 * (PEOPLE - 1))
                end = time.monotonic() + (last_due - datetime.now(UTC)).total_seconds() + TICK + GRACE + 2
                next_click, n = time.monotonic(), 0
                while time.monotonic() < end:
                    if time.monotonic() >= next_click:  # a click answered by the web process
                        n += 1
                        await click(n)
                        next_click += CLICK_EVERY
                    now = time.monotonic()
                    for key in fake.posts_by_delivery_id():
                        seen.setdefault(key, now)
                    await asyncio.sleep(0.05)
            assert all(p.returncode is None for p in procs.values())
        finally:
            await stop_processes(procs.values(), logs.values())
    texts = {name: (tmp_path / f"{name}.log").read_text(errors="replace") for name in logs}
    assert statuses and set(statuses) == {200}, statuses
    assert "holds this SQLite database's delivery lock" not in texts["worker"], texts["worker"][-3000:]
    # Each due prompt reached Slack within one tick interval of its due time (plus a little grace).
    t_ref = time.monotonic() - (datetime.now(UTC) - first_due).total_seconds()
    late = {}
    for i, pid in enumerate(due_ids):
        key = f"{pid}:1"
        assert key in seen, (key, sorted(seen), texts["worker"][-3000:])
        due = t_ref + 1.5 * i
        late[key] = round(seen[key] - due, 2)
    assert max(late.values()) <= TICK + GRACE, late
