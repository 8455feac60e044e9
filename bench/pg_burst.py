"""The Monday-morning burst on PostgreSQL (issue 25, item 2): N prompts due at once, drained by 1, 2
and 4 worker processes while 2 `hplj serve` web processes answer clicks.

    .venv/bin/python bench/pg_burst.py [--prompts 100000] [--workers 1,2,4] [--web 2] [--rate 20]
                                       [--database postgresql | postgresql://...] [--profile-workers]

Set-up: bench/population.py builds N participants (one manager per 10) whose `focus-situation`
prompt is due at TICK_AT, after a warm-up tick fired (and this script marks delivered) their first
prompt; bench/pg_population.py copies that into a throwaway PostgreSQL server started here with the
installed binaries (the tests' own cluster helper), once, as a template; every run gets a fresh
`CREATE DATABASE ... TEMPLATE` copy.

One run per worker count: the fake Slack Web API (tests/fakes/slack_api.py, its own process, every
participant known), `--web` `hplj serve --no-scheduler` processes on the database, then K workers
(tests/fault/worker.py: the scheduler's tick + delivery loop, `BotService.tick` at TICK_AT then
real time, exiting when nothing is due or pending; `hplj worker` itself follows the wall clock,
where nothing of 2027 is due). While they drain, a driver sends signed Slack clicks and
`/journey` commands open-loop at `--rate` per second, alternating between the web processes, and
samples `pg_stat_activity` every 0.25 s (sessions waiting on a lock). Reported per run: time until
the fake Slack holds N prompts, throughput, every delivery id posted exactly once and every outbox
row `sent`, lock waits, click latency (p50/p99/max) during the burst, and the outbox's and prompts'
dead tuples after it (`pg_stat_user_tables`). Target: throughput(4) >= throughput(1).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import pg_population
import population as pop
import slack_ack

WORKER = ROOT / "tests" / "fault" / "worker.py"
TOKEN = "xoxb-test"  # the token tests/fault/worker.py sends


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (to see where a run's CPU went)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- the fake Slack, in its own process ------------------------------------------------------------

async def run_fake(port: int, people: list[str]) -> None:
    from aiohttp import web

    from tests.fakes.slack_api import FakeSlackApi

    fake = FakeSlackApi(TOKEN)
    for uid in [slack_ack.ADMIN, *people]:
        fake.add_user(uid, uid.lower(), tz=pop.TZ)
    fake.calls = slack_ack._Discard()  # type: ignore[assignment]

    async def counts(_r: web.Request) -> web.Response:
        return web.json_response(fake.posts_by_delivery_id())

    fake.app.router.add_get("/bench/posts", counts)
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


# ---- set-up ----------------------------------------------------------------------------------------

def build_template(work: Path, n: int, server: str) -> tuple[str, list[str], list[tuple[str, str, str]]]:
    """The template database; returns its URL, the participants' Slack ids and click targets."""
    path = work / f"burst-{n}.db"
    counts = pop.build(path, n, n)
    fired = asyncio.run(pop.warmup(path, pop.library()))
    con = sqlite3.connect(path)
    try:  # the warm-up's messages went out at their time: only the burst is left to deliver
        con.execute("update outbox set state='sent', sent_at=?, next_attempt_at=NULL, message_id='warm.' || id, "
                    "conversation_id='D' || (select platform_user_id from people where people.id = recipient_id)",
                    (pop._dt(pop.WARMUP_AT),))
        con.commit()
        people = [r[0] for r in con.execute("select platform_user_id from people")]
        due = con.execute("select p.id, u.platform_user_id from prompts p join people u on u.id = p.recipient_id "
                          "where p.next_at <= ?", (pop._dt(pop.TICK_AT),)).fetchall()
    finally:
        con.close()
    assert len(due) == n, (len(due), n)
    print(f"built {n:,} participants ({counts['prompts']:,} prompts), warm-up fired {fired}; {len(due):,} due at TICK_AT")
    clicks = [(uid, pid, v) for pid, uid in due[:2000] for v in ("tomorrow", "guide")]
    url = pg_population.copy(path, server, f"burst_template_{n}")
    return url, people, clicks


async def clone(template_url: str, name: str) -> str:
    import asyncpg

    admin = await asyncpg.connect(template_url.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_url.rsplit("/", 1)[1]}"')
    finally:
        await admin.close()
    return template_url.rsplit("/", 1)[0] + "/" + name


# ---- one run ---------------------------------------------------------------------------------------

async def one_run(k: int, url: str, n: int, args: argparse.Namespace, fake_url: str, api_url: str,
                  clicks: list[tuple[str, str, str]], tmp: Path, fake_pid: int) -> dict[str, Any]:
    import aiohttp
    import asyncpg

    log = open(tmp / f"run-{k}.log", "wb")  # noqa: SIM115, ASYNC230
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "SLACK_SIGNING_SECRET": slack_ack.SECRET,
           "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": api_url, "HPLJ_ADMINS": slack_ack.ADMIN,
           "HPLJ_DASHBOARD_SECRET": "bench-dashboard-secret-0123456789", "HPLJ_PUBLIC_URL": "https://hplj.example.com"}
    ports = [free_port() for _ in range(args.web)]
    webs = [subprocess.Popen([sys.executable, "-m", "bot.app.cli", "serve", "--no-scheduler", "--port", str(p),  # noqa: ASYNC220
                              "--host", "127.0.0.1"], cwd=tmp, env=env, stdout=log, stderr=log) for p in ports]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for p, proc in zip(ports, webs):
            await slack_ack.wait_healthy(f"http://127.0.0.1:{p}/healthz", proc)
        mon = await asyncpg.connect(url)
        cpu0 = {"fake": cpu_seconds(fake_pid), "web": sum(cpu_seconds(w.pid) for w in webs)}
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        outs = [open(tmp / f"run-{k}-worker-{i}.out", "wb") for i in range(k)]  # noqa: SIM115, ASYNC230
        def profiled(i: int) -> list[str]:  # --profile-workers: each worker under cProfile (call counts)
            return ["-m", "cProfile", "-o", str(tmp / f"run-{k}-worker-{i}.prof")] if args.profile_workers else []

        workers = [subprocess.Popen([sys.executable, *profiled(i), str(WORKER), "--db", url, "--at", pop.TICK_AT.isoformat(),  # noqa: ASYNC220
                                     "--slack", api_url, "--max-seconds", str(args.max_seconds)],
                                    cwd=ROOT, env=env, stdout=outs[i], stderr=log) for i in range(k)]
        lat: list[float] = []
        statuses: dict[int, int] = {}
        errors = 0
        samples: list[tuple[int, int]] = []  # (sessions waiting on a lock, active sessions)
        lock_events: dict[str, int] = {}
        done_at: float | None = None
        reqs = slack_ack.make_requests(clicks, fake_url)
        urls = itertools.cycle([f"http://127.0.0.1:{p}/slack/events" for p in ports])
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                         timeout=aiohttp.ClientTimeout(total=30)) as session:
            async def click(target: str, body: str, scheduled: float) -> None:
                nonlocal errors
                headers = {"Content-Type": "application/x-www-form-urlencoded", **slack_ack.sign(body)}
                try:
                    async with session.post(target, data=body, headers=headers) as resp:
                        await resp.read()
                        statuses[resp.status] = statuses.get(resp.status, 0) + 1
                except Exception:  # noqa: BLE001
                    errors += 1
                    return
                lat.append(time.perf_counter() - scheduled)

            async def drive() -> None:
                i = 0
                tasks = []
                while done_at is None:
                    scheduled = t0 + 1.0 + i / args.rate  # after the workers' start-up second
                    delay = scheduled - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    _kind, body = next(reqs)
                    tasks.append(asyncio.create_task(click(next(urls), body, scheduled)))
                    i += 1
                await asyncio.gather(*tasks)

            async def sample() -> None:
                nonlocal done_at
                last_poll = 0.0
                while done_at is None:
                    rows = await mon.fetch("select state, wait_event_type, wait_event from pg_stat_activity "
                                           "where datname = current_database() and pid <> pg_backend_pid()")
                    waiting = [r for r in rows if r["wait_event_type"] == "Lock"]
                    for r in waiting:
                        lock_events[r["wait_event"]] = lock_events.get(r["wait_event"], 0) + 1
                    samples.append((len(waiting), sum(1 for r in rows if r["state"] == "active")))
                    if time.perf_counter() - last_poll > 1.0:
                        last_poll = time.perf_counter()
                        async with session.get(f"{fake_url}/bench/posts") as resp:
                            posted = await resp.json()
                        if len(posted) >= n:
                            done_at = time.perf_counter()
                        elif all(w.poll() is not None for w in workers):
                            done_at = time.perf_counter()  # the workers gave up: reported below
                    await asyncio.sleep(0.25)

            await asyncio.gather(drive(), sample())
            cpu = {"fake": cpu_seconds(fake_pid) - cpu0["fake"],
                   "web": sum(cpu_seconds(w.pid) for w in webs) - cpu0["web"],
                   "workers": sum(cpu_seconds(w.pid) for w in workers)}
            load1 = os.getloadavg()[0]
            async with session.get(f"{fake_url}/bench/posts") as resp:
                posted = await resp.json()
        for w in workers:
            w.wait(args.max_seconds)
        for f in outs:
            f.close()
        summaries = [json.loads((tmp / f"run-{k}-worker-{i}.out").read_text().strip().splitlines()[-1])
                     for i in range(k)]
        # the rows queued during the burst (the warm-up's were marked delivered with a 'warm.' id)
        new_rows = "coalesce(message_id, '') not like 'warm.%'"
        states = dict(await mon.fetch(f"select state, count(*) from outbox where {new_rows} group by state"))
        fired = await mon.fetchval("select count(*) from prompts where step_id = 'focus-situation' "
                                   "and sent_at is not null")
        burst_keys = {r[0] for r in await mon.fetch(f"select key from outbox where {new_rows}")}
        await asyncio.sleep(1.0)  # the statistics collector's flush interval
        dead = {r["relname"]: dict(r) for r in await mon.fetch(
            "select relname, n_live_tup, n_dead_tup, autovacuum_count, "
            "last_autovacuum is not null as autovacuumed from pg_stat_user_tables "
            "where relname in ('outbox', 'prompts')")}
        await mon.close()
        seconds = (done_at or time.perf_counter()) - t0
        lat.sort()
        burst_posted = {key: c for key, c in posted.items() if key in burst_keys}
        return {
            "workers": k, "seconds": seconds, "per_second": len(burst_posted) / seconds,
            "fired": fired, "posted": len(burst_posted), "doubled": sum(1 for c in burst_posted.values() if c > 1),
            "outbox_states": states, "unposted_keys": len(burst_keys - set(posted)),
            "worker_sent": [s.get("sent") for s in summaries],
            "lock_wait_max": max((w for w, _ in samples), default=0),
            "lock_wait_mean": sum(w for w, _ in samples) / max(1, len(samples)),
            "lock_wait_samples": sum(1 for w, _ in samples if w), "samples": len(samples),
            "lock_events": lock_events, "active_max": max((a for _, a in samples), default=0),
            "clicks": len(lat), "click_errors": errors, "click_statuses": statuses,
            "click_p50_ms": slack_ack.pct(lat, 50) * 1000, "click_p99_ms": slack_ack.pct(lat, 99) * 1000,
            "click_max_ms": (lat[-1] if lat else float("nan")) * 1000, "dead_tuples": dead,
            "cpu_seconds": {key: round(v, 1) for key, v in cpu.items()}, "load_start": load0, "load_end": load1,
        }
    finally:
        for p in [*workers, *webs]:
            if p.poll() is None:
                p.terminate()
        for p in [*workers, *webs]:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=100_000)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--web", type=int, default=2)
    ap.add_argument("--rate", type=float, default=20.0, help="clicks + commands per second during the burst")
    ap.add_argument("--max-seconds", type=float, default=1800.0)
    ap.add_argument("--database", default="postgresql")
    ap.add_argument("--profile-workers", action="store_true", help="run each worker under cProfile (files kept)")
    ap.add_argument("--child", choices=["fake"], help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--people", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "fake":
        await run_fake(args.port, args.people.read_text().split())
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="hplj-burst-"))
    print(f"work directory (logs, worker output): {tmp}", flush=True)
    server = args.database if "://" in args.database else pg_population.start_cluster()
    template, people, clicks = await asyncio.to_thread(build_template, tmp, args.prompts, server)
    (tmp / "people.txt").write_text("\n".join(people))
    results = []
    for k in [int(x) for x in args.workers.split(",")]:
        url = await clone(template, f"burst_{k}")
        fake_port = free_port()
        fake_url = f"http://127.0.0.1:{fake_port}"
        fake = subprocess.Popen([sys.executable, __file__, "--child", "fake", "--port", str(fake_port),  # noqa: ASYNC220
                                 "--people", str(tmp / "people.txt")], cwd=ROOT)
        try:
            await slack_ack.wait_healthy(f"{fake_url}/bench/posts", fake)
            r = await one_run(k, url, args.prompts, args, fake_url, f"{fake_url}/api/", clicks, tmp, fake.pid)
        finally:
            fake.terminate()
            fake.wait(20)
        results.append(r)
        print(json.dumps(r))
        ok = r["posted"] == args.prompts and r["doubled"] == 0 and r["fired"] == args.prompts
        print(f"{k} worker(s): {r['posted']:,}/{args.prompts:,} prompts posted ({r['doubled']} twice, "
              f"outbox {r['outbox_states']}) in {r['seconds']:.1f} s = {r['per_second']:.0f}/s; "
              f"lock waits: max {r['lock_wait_max']} sessions, in {r['lock_wait_samples']}/{r['samples']} samples "
              f"{r['lock_events']}; clicks {r['clicks']} p50 {r['click_p50_ms']:.0f} ms p99 {r['click_p99_ms']:.0f} ms "
              f"max {r['click_max_ms']:.0f} ms statuses {r['click_statuses']}; dead tuples after: "
              f"outbox {r['dead_tuples'].get('outbox', {}).get('n_dead_tup')} / "
              f"prompts {r['dead_tuples'].get('prompts', {}).get('n_dead_tup')}; CPU s {r['cpu_seconds']}, "
              f"load {r['load_start']:.1f} -> {r['load_end']:.1f}: {'ok' if ok else 'NOT ALL SENT ONCE'}")
    first, last = results[0], results[-1]
    ratio = last["per_second"] / first["per_second"]
    print(f"throughput {last['workers']} workers / {first['workers']} worker = {ratio:.2f} "
          f"(target >= 1: {'met' if ratio >= 1 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
