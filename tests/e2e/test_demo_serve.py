"""Every database the project makes is made by the migrations (issue 11): `hplj demo --db` keeps a
database that `hplj db upgrade` accepts and `hplj serve` serves, and a database the migrations cannot
handle gets one clear sentence and exit code 2 from the CLI, never a traceback."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from bot.dashboard.links import link_query

ROOT = Path(__file__).resolve().parents[2]
SECRET = "demo-serve-dashboard-secret"


def hplj(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], capture_output=True, text=True, cwd=ROOT, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_demo_database_is_upgraded_and_served_in_the_dashboard(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    demo = hplj("demo", "--quiet", "--db", str(db))
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "Report" in demo.stdout and "Success Case evaluation" in demo.stdout and "Impact rate" in demo.stdout
    with sqlite3.connect(db) as conn:  # the dashboard is for admins: Hana, the senior leader, is made one
        [(hana,)] = conn.execute("SELECT id FROM people WHERE platform_user_id = 'hana'").fetchall()
    env = {"DATABASE_URL": f"sqlite:///{db}", "HPLJ_DASHBOARD_SECRET": SECRET, "HPLJ_ADMINS": "hana"}
    up = hplj("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr[-2000:]
    assert "Traceback" not in up.stderr

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
                             "--no-scheduler"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        query = urlencode(link_query(SECRET.encode(), hana, int(time.time()) + 600))
        status, page = 0, ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/dashboard?{query}")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert status == 200, (status, page[:500])
        assert "demo-cohort" in page and "Active Listening" in page  # the demo's cohort, served
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert "Traceback" not in out, out[-3000:]
    assert "already exists" not in out


def _one_sentence(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    text = " ".join(r.stderr.split())
    assert text.startswith("hplj: ") and text.endswith("."), text
    return text


def test_a_database_made_without_the_migrations_gets_one_sentence_and_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "old-demo.db"
    with sqlite3.connect(db) as conn:  # what an older `hplj demo` left: tables, no migration history
        conn.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE people (id TEXT PRIMARY KEY)")
    def schema() -> list[tuple[str, str]]:
        with sqlite3.connect(db) as conn:
            return sorted(conn.execute("SELECT name, sql FROM sqlite_master"))

    before = schema()
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    serve = ("serve", "--host", "127.0.0.1", "--port", str(_free_port()), "--no-scheduler")
    for verb in (("db", "upgrade"), ("tick", "--at", "2026-12-01T09:00:00Z"), serve):
        text = _one_sentence(hplj(*verb, env=env))
        assert str(db) in text and "no migration history" in text, text
    assert schema() == before  # nothing was created or changed


def test_a_file_that_is_not_a_database_gets_one_sentence_and_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("these are my notes, not a database\n" * 200)
    text = _one_sentence(hplj("db", "upgrade", env={"DATABASE_URL": f"sqlite:///{db}"}))
    assert str(db) in text and "not a database" in text, text


def test_an_unknown_revision_gets_one_sentence_and_exit_2(tmp_path: Path) -> None:
    text = _one_sentence(hplj("db", "upgrade", "nonexistent", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}))
    assert "nonexistent" in text, text
