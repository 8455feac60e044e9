"""Fault test 5 (issue 3): the database restarted mid-dispatch; the scheduler resumes by itself.

A real `hplj worker` process (APScheduler TickLoop, settings from the environment) delivers 1,500
due Slack prompts from a real PostgreSQL server to the fake Slack. When a quarter has arrived, the
server is stopped with `pg_ctl -m immediate` (every connection cut, as in a crash) and started
again. Without any help, the worker logs the failed ticks, backs off, reconnects and finishes:
every prompt delivered exactly once (rows whose settle was lost are reconciled through the
message metadata), and the process never exits.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from journeys.messages import Message
from store.db import Database
from store.migrate import upgrade_async
from store.models import OutboxRow, PersonRow
from tests.fakes.slack_api import FakeSlackApi
from tests.fault.conftest import ROOT, PgCluster, accepted_posts, worker_env

N = 1500

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def seed(url: str, fake: FakeSlackApi, n: int) -> None:
    db = Database(url)
    await upgrade_async(db)
    now = datetime.now(UTC) - timedelta(minutes=1)
    people, rows = [], []
    for i in range(n):
        uid = f"U{i:05d}"
        fake.add_user(uid)
        fake.channels["D" + uid] = uid
        people.append({"id": f"p{i}", "platform": "slack", "platform_user_id": uid, "name": uid, "dm_id": "D" + uid,
                           "created_at": now, "greeted": True})
        rows.append({"key": f"k{i}", "recipient_id": f"p{i}", "payload": Message(f"p{i}", f"hello {i}").to_json(),
                         "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now})
    async with db.write() as s:
        await s.execute(insert(PersonRow), people)
        await s.execute(insert(OutboxRow), rows)
    await db.dispose()


async def sent_count(url: str) -> int | None:
    db = Database(url)
    try:
        async with db.read() as s:
            return int((await s.execute(select(func.count()).select_from(OutboxRow)
                                        .where(OutboxRow.state == "sent"))).scalar_one())
    except Exception:  # noqa: BLE001 - the server may be restarting
        return None
    finally:
        await db.dispose()


async def test_worker_resumes_by_itself_after_postgres_restart(postgres_cluster: PgCluster, tmp_path):
    url = postgres_cluster.create_database("hplj_restart")
    async with FakeSlackApi() as fake:
        await seed(url, fake, N)
        env = worker_env()
        for k in [k for k in env if k.startswith(("SLACK_", "MICROSOFT_", "HPLJ_"))]:
            del env[k]
        env.update(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.api_url,
                   HPLJ_TICK_SECONDS="1", HPLJ_SLACK_WORKSPACE_PER_MINUTE="6000",
                   HPLJ_DELIVERY_LEASE_SECONDS="10", HPLJ_DASHBOARD_SECRET="x" * 32,
                   HPLJ_PUBLIC_URL="https://hplj.example.com")
        log = (tmp_path / "worker.log").open("wb")
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.app.cli", "worker", cwd=str(ROOT),
                                                    env=env, stdout=log, stderr=asyncio.subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while len(accepted_posts(fake)) < N // 4:
                assert proc.returncode is None, (tmp_path / "worker.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the worker never got going"
                await asyncio.sleep(0.05)
            before = len(accepted_posts(fake))
            await asyncio.to_thread(postgres_cluster.restart, "immediate")
            restarted = time.monotonic()
            deadline = restarted + 150
            while (await sent_count(url)) != N:
                assert proc.returncode is None, (tmp_path / "worker.log").read_text()[-3000:]
                assert time.monotonic() < deadline, f"not resumed: {await sent_count(url)} of {N} sent"
                await asyncio.sleep(0.5)
            assert proc.returncode is None  # it kept running through the outage
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
            log.close()
    text = (tmp_path / "worker.log").read_text()
    assert before < N, "the restart came after the dispatch had finished"
    assert "tick failed" in text, text[-3000:]  # it saw the outage, logged it and backed off
    posted = accepted_posts(fake)
    assert len(posted) == N  # 0 lost
    assert set(posted.values()) == {1}, [k for k, c in posted.items() if c > 1][:10]  # 0 doubled
    assert os.path.exists(tmp_path / "worker.log")
