"""DATABASE_URL as managed PostgreSQL providers give it (`postgres://`, `sslmode`, `sslrootcert`,
`options`, `connect_timeout`), against a real server the test starts with TLS on and plain TCP
refused, so every TLS outcome below is the server's and the driver's, not a guess."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from store.db import Database
from tests.fault.conftest import _free_port
from tests.serve_process import serve_until_ready
from tests.tls_postgres import TlsPostgres, tls_postgres

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pg() -> TlsPostgres:
    return tls_postgres()


async def _one(url: str, sql: str) -> object:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar_one()
    finally:
        await db.dispose()


def _hplj(*args: str, url: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, check=False)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
async def test_sslmode_require_connects_over_tls(pg: TlsPostgres, scheme: str) -> None:
    url = pg.url("sslmode=require", scheme=scheme)
    assert await _one(url, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is True


async def test_sslmode_disable_is_honoured_so_this_server_turns_it_away(pg: TlsPostgres) -> None:
    with pytest.raises(Exception) as caught:
        await _one(pg.url("sslmode=disable"), "SELECT 1")
    assert "no encryption" in str(caught.value)


async def test_verify_full_checks_the_server_certificate_against_sslrootcert(pg: TlsPostgres) -> None:
    good = pg.url(f"sslmode=verify-full&sslrootcert={pg.ca}")
    assert await _one(good, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is True
    with pytest.raises(Exception) as caught:
        await _one(pg.url(f"sslmode=verify-full&sslrootcert={pg.other_ca}"), "SELECT 1")
    assert "certificate verify failed" in str(caught.value)


async def test_options_application_name_and_connect_timeout_reach_the_server(pg: TlsPostgres) -> None:
    url = pg.url("sslmode=require&options=-c%20statement_timeout%3D4321&application_name=hplj-web"
                 "&connect_timeout=10")
    assert await _one(url, "SHOW statement_timeout") == "4321ms"
    assert await _one(url, "SELECT current_setting('application_name')") == "hplj-web"


def test_db_upgrade_accepts_a_provider_url(pg: TlsPostgres) -> None:
    name = "up_" + uuid.uuid4().hex[:8]
    pg.cluster.create_database(name)
    url = pg.url(f"sslmode=verify-full&sslrootcert={pg.ca}&connect_timeout=10", scheme="postgres")
    url = url.replace("/hplj?", f"/{name}?")
    done = _hplj("db", "upgrade", url=url)
    assert done.returncode == 0, done.stderr
    assert "database at head" in done.stdout
    assert "Traceback" not in done.stderr and "INFO" not in done.stderr  # nor Alembic's chatter


def test_a_server_refusing_the_connection_is_one_sentence_and_exit_2(pg: TlsPostgres) -> None:
    done = _hplj("db", "upgrade", url=pg.url("sslmode=disable", password="s3cret-pw"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no encryption" in lines[0], done.stderr
    assert "s3cret-pw" not in done.stderr and "***" in lines[0]


@pytest.mark.parametrize(("query", "named"), [
    ("keepalives_idle=30", "keepalives_idle"),
    ("channel_binding=require", "channel_binding"),
    ("sslmode=required", "sslmode"),
    ("pool=5", "'pool'"),
])
def test_parameters_the_driver_cannot_honour_are_refused_by_name(query: str, named: str) -> None:
    done = _hplj("db", "upgrade", url=f"postgresql://hplj:pw@127.0.0.1:1/hplj?{query}", timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and lines[0].startswith("hplj: DATABASE_URL"), done.stderr


@pytest.mark.parametrize("url", ["mysql://u:pw@db/x", "not a url"])
def test_a_url_that_is_not_sqlite_or_postgresql_is_one_sentence(url: str) -> None:
    done = _hplj("db", "upgrade", url=url, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0] and "pw" not in lines[0], done.stderr


def test_serve_accepts_a_provider_url_and_masks_its_password(pg: TlsPostgres, tmp_path: Path) -> None:
    name = "serve_" + uuid.uuid4().hex[:8]
    pg.cluster.create_database(name)
    url = pg.url(f"sslmode=verify-full&sslrootcert={pg.ca}&application_name=hplj-web", scheme="postgres",
                 password="s3cret-pw").replace("/hplj?", f"/{name}?")
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "HPLJ_"))},
           "PYTHONPATH": str(ROOT), "DATABASE_URL": url}
    ready, out, code = serve_until_ready(port, env, tmp_path, "--no-scheduler")
    assert ready["status"] == "ready", ready
    assert code == 0 and "Traceback" not in out, out
    assert "s3cret-pw" not in out
    assert (f"database postgres://hplj:***@127.0.0.1:{pg.cluster.port}/{name}?application_name=hplj-web"
            "&sslmode=verify-full") in out, out
