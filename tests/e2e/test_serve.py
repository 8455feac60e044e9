"""`hplj serve` as a real process: it starts, ticks, answers /healthz and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_reports_scheduler_liveness_and_backlog(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
           "HPLJ_TICK_SECONDS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "serve", "--port", str(port), "--host", "127.0.0.1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.loads(r.read())
                    if body["scheduler"]["last_tick"]:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.3)
        assert body is not None, "server never answered /healthz"
        assert body["status"] == "ok"
        assert body["outbox"] == {"backlog": 0, "failed": 0}
        assert body["scheduler"]["running"] is True and body["scheduler"]["last_tick"]
        # Slack is not configured, so its endpoint does not exist rather than accepting unsigned input.
        req = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=b"x=1", method="POST")
        try:
            urllib.request.urlopen(req, timeout=2)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        else:
            raise AssertionError("unconfigured Slack endpoint accepted a request")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
