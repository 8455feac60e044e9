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


def serve_until_ready(port: int, env: dict[str, str], cwd: Path, *args: str,
                      timeout: float = 60) -> tuple[dict[str, Any], str, int]:
    """(the /readyz body, everything the process wrote, its exit status)."""
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
                             *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    ready: dict[str, Any] = json.loads(r.read())
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and proc.poll() is None, "hplj serve never came up"
                time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    return ready, out, proc.returncode
