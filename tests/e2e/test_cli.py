"""The `hplj` command line as a user runs it: a real process, a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "journeys" / "broken"
SAMPLE = ROOT / "journeys" / "library" / "active-listening.yml"


def hplj(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], check=False, capture_output=True, text=True,
                          env=full_env, cwd=cwd or ROOT, timeout=120)


def test_validate_accepts_the_sample_journey() -> None:
    r = hplj("validate", str(SAMPLE))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK — active-listening v1" in r.stdout


def test_validate_reports_every_error_with_file_line_and_column() -> None:
    bad = BROKEN / "multi_error.yml"
    r = hplj("validate", str(bad), str(SAMPLE))
    assert r.returncode == 1
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith(str(bad))]
    assert len(lines) >= 3, r.stdout  # all errors at once, not just the first
    for ln in lines:
        _, line, col, rest = ln[len(str(bad)):].split(":", 3)
        assert int(line) > 0 and int(col) > 0 and rest.strip()
    assert "OK — active-listening" in r.stdout  # the good file is still checked


def test_validate_names_a_missing_file() -> None:
    r = hplj("validate", "no/such/file.yml")
    assert r.returncode == 1 and "no/such/file.yml: cannot read" in r.stdout


def test_schema_validates_the_sample_and_rejects_unknown_keys() -> None:
    r = hplj("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    data = yaml.safe_load(SAMPLE.read_text())
    # YAML 1.1 reads bare times as numbers; the loader keeps them as text, so do the same here.
    jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)
    data["colour"] = "blue"
    try:
        jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)
    except jsonschema.ValidationError as exc:
        assert "colour" in str(exc)
    else:
        raise AssertionError("unknown key accepted by the schema")


def test_tick_rejects_a_time_without_zone(tmp_path: Path) -> None:
    r = hplj("tick", "--at", "2026-12-01T09:00", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert r.returncode == 2 and "--at" in r.stderr and "time zone" in r.stderr


def test_db_upgrade_then_tick_on_a_fresh_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/hplj.db"}
    up = hplj("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    r = hplj("tick", "--at", "2026-12-01T09:00:00Z", env=env)
    assert r.returncode == 0, r.stderr
    assert "0 due prompts" in r.stdout


def test_tick_refuses_a_broken_journey_folder(tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    folder.mkdir()
    (folder / "bad.yml").write_text((BROKEN / "unknown_event.yml").read_text())
    r = hplj("tick", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "HPLJ_JOURNEYS": str(folder)})
    assert r.returncode == 2
    assert "bad.yml:" in r.stderr and "unknown event" in r.stderr


def test_chat_session_answers_and_time_travels() -> None:
    import asyncio
    from datetime import UTC, datetime

    from bot.devtools.chat import run_chat

    out: list[str] = []
    monday = datetime(2026, 11, 30, 8, tzinfo=UTC)  # a week before the start: the whole before phase fits
    session = asyncio.run(run_chat("ben", None, lines=[":advance 1w", "1", "One safe 1:1 first, then a customer call",
                                                       ":as ana", "status", ":as nobody"], write=out.append,
                                   now=monday))
    text = "\n".join(out)
    assert "Expectations conversation" in text  # Ben's before-phase task arrived during :advance
    assert "Almost done: what did you and Ana agree?" in text  # pressing button 1 (Done) asks
    assert "Thanks, saved what you and Ana agreed." in text  # the typed line answered it
    assert "Your learning journeys" in text and "Active Listening" in text
    assert ":as expects one of" in text
    assert session.me == "ana"


def test_tick_says_why_it_delivered_nothing_and_exits_non_zero(tmp_path: Path) -> None:
    """Another process holds the SQLite delivery lock while a message is due: `hplj tick` must not
    report success silently (issue 16)."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from journeys.messages import Message
    from scheduler.delivery import SQLITE_LOCK
    from store.db import Database
    from store.migrate import upgrade_async
    from store.models import HeartbeatRow, OutboxRow, PersonRow

    url = f"sqlite:///{tmp_path}/hplj.db"
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)

    async def seed(lock_until: datetime) -> None:
        db = Database(url)
        await upgrade_async(db)
        async with db.write() as s:
            if await s.get(PersonRow, "p1") is None:
                s.add(PersonRow(id="p1", platform="console", platform_user_id="ana", name="Ana", dm_id="D-ana",
                                created_at=at, greeted=True))
                s.add(OutboxRow(key="k1", recipient_id="p1", payload=Message("p1", "hello").to_json(),
                                state="pending", attempts=0, next_attempt_at=at, created_at=at))
            lock = await s.get(HeartbeatRow, SQLITE_LOCK)
            if lock is None:
                s.add(HeartbeatRow(name=SQLITE_LOCK, at=lock_until, info={"owner": "worker-7"}))
            else:
                lock.at = lock_until
        await db.dispose()

    asyncio.run(seed(datetime.now(UTC) + timedelta(minutes=5)))
    r = hplj("tick", "--at", at.isoformat(), env={"DATABASE_URL": url})
    assert r.returncode == 1, r.stdout + r.stderr
    (line,) = r.stdout.strip().splitlines()
    assert "delivered 0" in line and "1 due message(s) not delivered" in line and "worker-7" in line, line

    asyncio.run(seed(datetime.now(UTC) - timedelta(seconds=1)))  # the holder is gone: this tick delivers
    r = hplj("tick", "--at", at.isoformat(), env={"DATABASE_URL": url})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "delivered 1" in r.stdout and "not delivered" not in r.stdout, r.stdout
