"""What an operator sees of `hplj serve`: a scripted cohort delivered over the fake Slack (two
429s on the way), then `/metrics` scraped and parsed with Prometheus's own text parser, the JSON
log read line by line and searched for secrets and typed text, and `/readyz` before and after
migrations. The process is real (`python -m bot.app.cli serve`); so are its HTTP and the database."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app.metrics import Metrics
from bot.app.settings import Settings
from bot.app.wiring import build_app, build_service
from journeys.loader import load_library
from store.migrate import upgrade_async
from tests.fakes.slack_api import FakeSlackApi, Fault, message_im_event, sign_request
from tests.fault.conftest import ROOT, _free_port, stop_processes, worker_env
from tests.integration.test_sqlite_web_and_worker import PEOPLE, open_all_hours, seed

TOKEN = "xoxb-ops-4242-abcdefghijkl"
SECRET = "ops-signing-secret-0123456789abcdef"
DASHBOARD = "ops-dashboard-secret-0123456789abcdef"
METRICS_TOKEN = "ops-metrics-token-0123456789"
TYPED = "Zebra-reflection: my manager never listens to me"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from Prometheus text format."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_and_json_logs_after_a_scripted_cohort(tmp_path: Path) -> None:
    db_path = tmp_path / "hplj.db"
    folder = open_all_hours(tmp_path / "journeys")
    library = load_library(folder)
    port = _free_port()
    async with FakeSlackApi(TOKEN) as fake:
        due_ids = await seed(db_path, library, fake, datetime.now(UTC) - timedelta(seconds=30))
        fake.fail("chat.postMessage", Fault.rate_limited(1), Fault.rate_limited(1))
        env = worker_env()
        for k in [k for k in env if k.startswith(("SLACK_", "MICROSOFT_", "HPLJ_", "LOG_"))]:
            del env[k]
        env.update(DATABASE_URL=f"sqlite:///{db_path}", SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                   SLACK_API_URL=fake.api_url, HPLJ_TICK_SECONDS="1", HPLJ_JOURNEYS=str(folder),
                   HPLJ_DASHBOARD_SECRET=DASHBOARD, HPLJ_PUBLIC_URL="https://hplj.example.com",
                   HPLJ_METRICS_TOKEN=METRICS_TOKEN, LOG_LEVEL="debug", HPLJ_LOG_FORMAT="json")
        log_path = tmp_path / "serve.log"
        log = log_path.open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.app.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
            cwd=str(ROOT), env=env, stdout=log, stderr=asyncio.subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 90
                while len(fake.posts_by_delivery_id()) < PEOPLE:
                    assert loop.time() < deadline, (fake.posts_by_delivery_id(), log_path.read_text()[-3000:])
                    assert proc.returncode is None, log_path.read_text()[-3000:]
                    await asyncio.sleep(0.2)
                while True:  # the last settle commits just after the post the fake saw
                    async with http.get(base + "/metrics",
                                        headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as r:
                        assert r.status == 200
                        assert r.headers["Content-Type"].startswith("text/plain")
                        scraped = await r.text()
                    found = samples(scraped)
                    if value(found, "hplj_outbox_depth", state="pending") == 0 and value(
                            found, "hplj_outbox_depth", state="sending") == 0:
                        break
                    assert loop.time() < deadline, scraped
                    await asyncio.sleep(0.2)
                for _ in range(3):
                    async with http.get(base + "/healthz") as r:
                        assert r.status == 200
                async with http.get(base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as r:
                    scraped = await r.text()
                found = samples(scraped)
                accepted = [c for c in fake.calls_to("chat.postMessage") if c.status == 200]
                refused = [c for c in fake.calls_to("chat.postMessage") if c.status == 429]
                async with http.get(base + "/metrics") as r:
                    assert r.status == 401
                async with http.get(base + "/metrics", headers={"Authorization": "Bearer wrong"}) as r:
                    assert r.status == 401
                # Someone types in their DM; the request id the proxy gave is on its log lines.
                body = json.dumps(message_im_event(user_id="U0000", text=TYPED, channel="DU0000",
                                                   event_id="EvTyped1"))
                async with http.post(base + "/slack/events", data=body, headers={
                        "Content-Type": "application/json", "X-Request-Id": "req-ops-1",
                        **sign_request(body, SECRET)}) as r:
                    assert r.status == 200
                    assert r.headers["X-Request-Id"] == "req-ops-1"
                await asyncio.sleep(1.0)  # its work runs after the ack; logs are read after stop
            assert proc.returncode is None
        finally:
            await stop_processes([proc], [log])

    # /metrics: what the fake Slack saw is what the process counted.
    assert len(refused) == 2
    delivered = {key for key in fake.posts_by_delivery_id() if key.split(":")[0] in due_ids}
    assert len(delivered) == PEOPLE
    assert value(found, "hplj_deliveries_total", platform="slack", outcome="sent") == len(accepted) == PEOPLE
    assert value(found, "hplj_rate_limited_total", platform="slack") == len(refused)
    assert value(found, "hplj_deliveries_total", platform="slack", outcome="retried") == len(refused)
    assert value(found, "hplj_deliveries_total", platform="slack", outcome="failed") == 0
    assert value(found, "hplj_outbox_rows", platform="slack", state="sent") == PEOPLE
    assert value(found, "hplj_outbox_oldest_due_age_seconds") == 0
    assert value(found, "hplj_tick_duration_seconds_count") >= 1
    assert value(found, "hplj_tick_failures_total") == 0
    # inbound latency: the three /healthz requests, under their route
    assert value(found, "hplj_http_request_duration_seconds_count", method="GET", route="/healthz",
                 status="200") == 3
    assert value(found, "hplj_http_request_duration_seconds_bucket", method="GET", route="/healthz",
                 status="200", le="+Inf") == 3
    assert not any("Bearer" in name or "ops-metrics" in str(labels) for name, labels in found)

    # JSON logs: one object per line, ids where they belong, no secret and no typed word.
    text = log_path.read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert entries and all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    for secret in (TOKEN, SECRET, DASHBOARD, METRICS_TOKEN, "Zebra", "never listens"):
        assert secret not in text, secret
    assert {e["delivery_id"] for e in entries if "delivery_id" in e} >= delivered
    assert any(e.get("request_id") == "req-ops-1" and "/slack/events" in e["message"] for e in entries)
    start = [e for e in entries if e["message"].startswith("hplj serve on")]
    assert len(start) == 1
    assert "platforms slack (/slack/events)" in start[0]["message"]
    assert "public URL https://hplj.example.com" in start[0]["message"]
    assert "this process runs the scheduler" in start[0]["message"]
    # a correct configuration: no third-party warnings, no Alembic INFO lines
    assert [e for e in entries if e["level"] == "WARNING" and "SQLite file" not in e["message"]] == []
    assert not [e for e in entries if e["logger"].startswith(("alembic", "slack_bolt", "py.warnings"))]


async def test_readyz_before_and_after_migrations(tmp_path: Path, library: dict) -> None:
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")
    service = await build_service(settings, library, create=False, scheduler=False)
    app = build_app(service, settings, Metrics())
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/readyz")
        body = await r.json()
        assert r.status == 503 and body["status"] == "migrations pending" and body["migration"] is None
        await upgrade_async(service.db)
        r = await client.get("/readyz")
        body = await r.json()
        assert r.status == 200 and body["status"] == "ready" and body["migration"] == body["head"]
        r = await client.get("/healthz")
        assert r.status == 200
    await service.db.dispose()


async def test_readyz_says_unavailable_when_the_database_cannot_be_reached(library: dict) -> None:
    settings = Settings(DATABASE_URL=f"postgresql://hplj@127.0.0.1:{_free_port()}/hplj?connect_timeout=2")
    service = await build_service(settings, library, create=False, scheduler=False)
    app = build_app(service, settings, Metrics())
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/readyz")
        assert r.status == 503 and (await r.json())["status"] == "unavailable"
    await service.db.dispose()
