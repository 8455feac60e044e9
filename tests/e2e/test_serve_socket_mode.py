"""`hplj serve` with SLACK_APP_TOKEN as a real process: it opens Slack's Socket Mode connection
itself (no signing secret, no public URL), answers a slash command over it, reconnects when Slack
asks, and stops cleanly. The fake Slack (tests/fakes/slack_socket.py) hands out a loopback
WebSocket URL from `apps.connections.open`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.fakes.slack_api import slash_command_form
from tests.fakes.slack_socket import FakeSocketModeSlack

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-serve-socket"
APP_TOKEN = "xapp-1-A0001-serve-socket"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _help(fake: FakeSocketModeSlack, name: str) -> None:
    before = len(fake.responses)
    form = slash_command_form(user_id="UADMIN", text="help", response_url=fake.response_url(name),
                              trigger_id=f"trig.{name}")
    env = await fake.deliver("slash_commands", dict(form))
    await fake.wait_ack(env, timeout=30)
    replies = await fake.wait_for_response_url(before + 1, timeout=30)
    assert replies[-1]["url_token"] == name and "enroll" in str(replies[-1])


async def test_serve_runs_slack_over_socket_mode(tmp_path: Path) -> None:
    async with FakeSocketModeSlack(TOKEN, APP_TOKEN) as fake:
        fake.add_user("UADMIN", "lee")
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "HPLJ_"))}
        env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path}/serve.db", SLACK_BOT_TOKEN=TOKEN,
                   SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=fake.api_url, HPLJ_ADMINS="UADMIN",
                   HPLJ_DASHBOARD_SECRET="socket-mode-test-secret-0123456789",
                   HPLJ_PUBLIC_URL=f"http://127.0.0.1:{port}", HPLJ_TICK_SECONDS="5")
        log = (tmp_path / "serve.log").open("wb")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.app.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
            cwd=str(ROOT), env=env, stdout=log, stderr=asyncio.subprocess.STDOUT)
        try:
            await fake.wait_connected(1, timeout=90)
            await _help(fake, "first")
            await fake.refresh()  # Slack retires the connection: serve opens a new one and goes on
            await fake.wait_connected(2, timeout=30)
            await _help(fake, "after-refresh")
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
            log.close()
        out = (tmp_path / "serve.log").read_text(errors="replace")
        assert proc.returncode == 0, out[-3000:]
        assert "Traceback" not in out and TOKEN not in out and APP_TOKEN not in out, out[-3000:]
        assert [c.headers["Authorization"] for c in fake.calls_to("apps.connections.open")] == \
            [f"Bearer {APP_TOKEN}"] * 2
