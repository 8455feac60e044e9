"""`hplj serve` (and `hplj worker`) at start, as real processes: in production (a platform
credential set) they refuse to run without HPLJ_DASHBOARD_SECRET and HPLJ_PUBLIC_URL, warn once
about an SQLite file, and say in one line what they run; a port in use, a bad DATABASE_URL and an
unreachable database are one sentence each and exit status 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve_process import serve_until_ready

ROOT = Path(__file__).resolve().parents[2]
SLACK = {"SLACK_BOT_TOKEN": "xoxb-start-1", "SLACK_SIGNING_SECRET": "start-signing-secret-0123"}
TEAMS = {"MICROSOFT_APP_ID": "00000000-1111-2222-3333-444444444444", "MICROSOFT_APP_PASSWORD": "app-pw-0123456789",
         "MICROSOFT_APP_TENANT_ID": "tenant-1", "MICROSOFT_APP_TYPE": "SingleTenant"}
READY = {"HPLJ_DASHBOARD_SECRET": "d" * 40, "HPLJ_PUBLIC_URL": "https://hplj.example.com"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "HPLJ_", "LOG_"))}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/start.db", **extra})
    return env


def hplj(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], env=_env(tmp_path, **extra), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)


def one_sentence(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("hplj: "), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


@pytest.mark.parametrize("platform", [SLACK, TEAMS], ids=["slack", "teams"])
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_production_refuses_without_dashboard_secret_and_public_url(tmp_path: Path, platform: dict[str, str],
                                                                    command: str) -> None:
    done = hplj(tmp_path, command, "--port", "1", **platform) if command == "serve" else \
        hplj(tmp_path, command, **platform)
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert [ln.split(" ")[1] for ln in lines] == ["HPLJ_DASHBOARD_SECRET", "HPLJ_PUBLIC_URL"], done.stderr
    assert not (tmp_path / "start.db").exists()  # refused before touching anything


@pytest.mark.parametrize("missing", ["HPLJ_DASHBOARD_SECRET", "HPLJ_PUBLIC_URL"])
def test_each_missing_setting_is_one_sentence_naming_it(tmp_path: Path, missing: str) -> None:
    given = {k: v for k, v in READY.items() if k != missing}
    line = one_sentence(hplj(tmp_path, "serve", "--port", "1", **SLACK, **given))
    assert line.startswith(f"hplj: {missing} is not set")


def test_without_platform_credentials_nothing_is_required(tmp_path: Path) -> None:
    """The console and local trials need neither setting: only production does."""
    port = _free_port()
    with socket.socket() as taken:  # so the run stops at the port, after the production checks
        taken.bind(("127.0.0.1", port))
        taken.listen()
        line = one_sentence(hplj(tmp_path, "serve", "--port", str(port), "--host", "127.0.0.1"))
    assert f"port {port} on 127.0.0.1 is already in use" in line


def test_a_bad_database_url_is_one_sentence(tmp_path: Path) -> None:
    line = one_sentence(hplj(tmp_path, "serve", "--port", "1", DATABASE_URL="mysql://root:hunter22@db/hplj"))
    assert "DATABASE_URL" in line and "hunter22" not in line


def test_an_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    url = f"postgres://hplj:hunter22@127.0.0.1:{_free_port()}/hplj?sslmode=prefer"
    line = one_sentence(hplj(tmp_path, "serve", "--port", "1", DATABASE_URL=url))
    assert "cannot reach the database postgresql://hplj:***@127.0.0.1" in line and "hunter22" not in line


def test_production_on_sqlite_warns_once_and_says_what_runs(tmp_path: Path) -> None:
    port = _free_port()
    ready, out, code = serve_until_ready(port, _env(tmp_path, **SLACK, **READY, HPLJ_LOG_FORMAT="json"), tmp_path,
                                         "--no-scheduler")
    assert ready["status"] == "ready" and code == 0, out
    entries = [json.loads(line) for line in out.splitlines() if line.strip()]
    warnings = [e for e in entries if e["level"] == "WARNING"]
    assert len(warnings) == 1 and "SQLite file" in warnings[0]["message"], out
    start = [e["message"] for e in entries if e["message"].startswith("hplj serve on")]
    assert start == [(f"hplj serve on http://127.0.0.1:{port}: platforms slack (/slack/events); database "
                     f"sqlite:///{tmp_path}/start.db; public URL https://hplj.example.com; this process runs no "
                     "scheduler (run `hplj worker` beside it)")], out


@pytest.mark.parametrize(("name", "bad", "says"), [
    ("LOG_LEVEL", "verbose", "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
    ("HPLJ_LOG_FORMAT", "xml", "'text' or 'json'"),
])
def test_a_bad_log_setting_is_one_sentence_naming_it(tmp_path: Path, name: str, bad: str, says: str) -> None:
    line = one_sentence(hplj(tmp_path, "serve", "--port", "1", **{name: bad}))
    assert line.startswith(f"hplj: {name}='{bad}' is not valid") and says in line


def test_log_level_warning_keeps_hplj_quiet_but_for_warnings(tmp_path: Path) -> None:
    port = _free_port()
    ready, out, code = serve_until_ready(port, _env(tmp_path, **SLACK, **READY, LOG_LEVEL="warning"), tmp_path,
                                         "--no-scheduler")
    assert ready["status"] == "ready" and code == 0, out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1 and " WARNING hplj: DATABASE_URL is the SQLite file" in lines[0], out
