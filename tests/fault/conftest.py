"""Fault-test fixtures: a throwaway PostgreSQL cluster, a population of due Slack prompts, and a
worker script run as separate OS processes (so `kill -9` and real lock contention are real)."""

from __future__ import annotations

import asyncio
import atexit
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("worker.py")
START = date(2027, 4, 12)
# The first prompt (why-it-matters) of active-listening for people in London starting on START.
DUE_AT = datetime(2027, 4, 6, 10, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _initdb() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return found[-1]
    return shutil.which("initdb")


class PgCluster:
    """A throwaway PostgreSQL server: its URL, and `restart()` / `create_database()` for fault tests."""

    def __init__(self, bindir: Path, tmp: Path, port: int, run_as: list[str]) -> None:
        self.bindir, self.tmp, self.port, self.run_as = bindir, tmp, port, run_as
        self.data, self.sock = tmp / "data", tmp / "sock"
        self.opts = (f"-p {port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                     "-c max_connections=200 -c synchronous_commit=off -c full_page_writes=off")
        self.url = f"postgresql://hplj@127.0.0.1:{port}/hplj"

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), *args],
                              check=check, capture_output=True)

    def start(self) -> None:
        self._pg_ctl("-o", self.opts, "-l", str(self.tmp / "log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "stop", check=False)

    def restart(self, mode: str = "immediate") -> None:
        """Stop the server (`immediate`: like a crash, connections cut) and start it again."""
        self._pg_ctl("-m", mode, "-w", "stop")
        self.start()

    def create_database(self, name: str) -> str:
        subprocess.run([*self.run_as, str(self.bindir / "createdb"), "-h", str(self.sock), "-p", str(self.port),
                        "-U", "hplj", name], check=True, capture_output=True)
        return f"postgresql://hplj@127.0.0.1:{self.port}/{name}"


_CLUSTER: PgCluster | None = None


def new_cluster(prefix: str, owned: tuple[str, ...] = ()) -> PgCluster:
    """A new, initialised, not yet started cluster in a temp dir (`owned`: further subfolders
    of it the server's user must own). Skips when the server binaries are missing, except in
    CI (`CI=true`), where that is a failure."""
    initdb = _initdb()
    if initdb is None:
        msg = "PostgreSQL server binaries (initdb) not found; run .ci/install-postgres.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    bindir = Path(initdb).parent
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    for sub in ("sock", *owned):
        (tmp / sub).mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        for sub in ("", "sock", *owned):
            shutil.chown(tmp / sub, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    cluster = PgCluster(bindir, tmp, _free_port(), run_as)
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(cluster.data), "-U", "hplj", "--auth=trust",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    return cluster


def _cluster() -> PgCluster:
    """The one throwaway cluster of this test session, started on first use, stopped at exit.

    Skips when the server binaries are missing (install them with `.ci/install-postgres.sh`),
    except in CI (`CI=true`), where a missing server is a failure.
    """
    global _CLUSTER
    if _CLUSTER is not None:
        return _CLUSTER
    _CLUSTER = launch(new_cluster("hplj-pg-"))
    return _CLUSTER


def launch(cluster: PgCluster) -> PgCluster:
    """Start `cluster`, stop and delete it at exit, and create its `hplj` database."""
    cluster.start()

    def _stop() -> None:
        cluster.stop("immediate")
        shutil.rmtree(cluster.tmp, ignore_errors=True)

    atexit.register(_stop)
    cluster.create_database("hplj")
    return cluster


@pytest.fixture(scope="session")
def postgres_cluster() -> PgCluster:
    """A PostgreSQL server of its own in a temp dir (restartable), stopped when the session ends."""
    return _cluster()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the throwaway cluster's `hplj` database (importable on its own by other test dirs)."""
    return _cluster().url


def worker_cmd(*args: str) -> list[str]:
    return [sys.executable, str(WORKER), *args]


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


async def stop_processes(procs, logs) -> None:  # type: ignore[no-untyped-def]
    """SIGTERM every process still running, kill what has not exited 30 s later, close the logs."""
    procs = list(procs)
    for p in procs:
        if p.returncode is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            await asyncio.wait_for(p.wait(), 30)
        except TimeoutError:
            p.kill()
            await p.wait()
    for f in logs:
        f.close()


def wait_until(pred, timeout: float, step: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


async def populate(url: str, n: int, *, platform: str = "slack", teams_url: str | None = None,
                   fake_slack=None) -> list[str]:  # type: ignore[no-untyped-def]
    """`n` participants on `platform`, enrolled in active-listening to start on START (their first
    prompts are due at DUE_AT). Returns the person ids."""
    from bot.services.clock import SimulatedClock
    from journeys.loader import default_library_path, load_library
    from store.db import Database
    from store.models import PersonRow
    from tests.worlds import service_on

    db = Database(url)
    await db.create_all()
    created = datetime(2027, 3, 29, 8, tzinfo=UTC)
    ids = []
    async with db.write() as s:
        for i in range(n):
            uid = f"U{i:06d}"
            pid = f"p_{i:06d}"
            address = None
            if platform == "teams":
                address = {"service_url": teams_url, "conversation_id": f"a:dm-{i}", "user_id": f"29:{uid}",
                           "tenant_id": "tenant-1", "bot_id": "28:bot", "channel_id": "msteams"}
            s.add(PersonRow(id=pid, platform=platform, platform_user_id=uid, name=f"Person {i}",
                            tz="Europe/London", dm_id=("D" + uid) if platform == "slack" else f"a:dm-{i}",
                            address=address, created_at=created, greeted=True))
            if fake_slack is not None:
                fake_slack.add_user(uid, name=f"person{i}")
                fake_slack.channels["D" + uid] = uid
            ids.append(pid)
    svc = await service_on(db, load_library(default_library_path()), {}, SimulatedClock(created))
    for i in range(0, n, 500):
        await svc.enroll("active-listening", ids[i:i + 500], None, START)
    await db.dispose()
    return ids


def accepted_posts(fake) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """delivery id -> how many messages carrying it the fake Slack actually posted."""
    return fake.posts_by_delivery_id()


async def drain_outbox(db, disp, start: datetime, timeout: float) -> None:  # type: ignore[no-untyped-def]
    """Run delivery passes on a clock that starts at `start` and follows real time until nothing is
    pending or sending; fail when that takes longer than `timeout` seconds."""
    import asyncio
    from datetime import timedelta

    from sqlalchemy import func, select

    from store.models import OutboxRow

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        r = await disp.deliver(start + timedelta(seconds=time.monotonic() - t0))
        async with db.read() as s:
            left = (await s.execute(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.state.in_(("pending", "sending"))))).scalar_one()
        if not left:
            return
        if not (r.sent or r.failed):
            await asyncio.sleep(0.05)
    raise AssertionError("outbox not drained in time")
