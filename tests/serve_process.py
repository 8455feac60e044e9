"""Run `hplj serve` as a real process until `/readyz` answers, then stop it with SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def wait_json(url: str, proc: subprocess.Popen[str] | None = None, timeout: float = 60) -> dict[str, Any]:
    """The JSON `url` answers once it answers (any status below 400); fails when `proc` exits or
    `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body: dict[str, Any] = json.loads(r.read())
                return body
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, f"{url} never answered"
            assert proc is None or proc.poll() is None, f"the process serving {url} exited"
            time.sleep(0.3)


def serve_until_ready(port: int, env: dict[str, str], cwd: Path, *args: str,
                      timeout: float = 60) -> tuple[dict[str, Any], str, int]:
    """(the /readyz body, everything the process wrote, its exit status)."""
    proc = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
                             *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ready = wait_json(f"http://127.0.0.1:{port}/readyz", proc, timeout)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    return ready, out, proc.returncode
