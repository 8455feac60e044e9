"""Slack ack latency: `hplj serve` vs a bare slack-bolt AsyncApp that only acks (issue 4, Benchmark).

    .venv/bin/python bench/slack_ack.py [--rate 100] [--seconds 20] [--warmup 3] [--drivers 1]

One run starts three processes: the fake Slack Web API (tests/fakes/slack_api.py), `hplj serve`
(SQLite in a temp dir, scheduler on, SLACK_API_URL at the fake, HPLJ_ADMINS set) and a bare bolt
`AsyncApp` (aiohttp adapter, same signing secret) whose listeners only `await ack()`. Before
`hplj serve` starts, a cohort is enrolled and one scheduler pass delivers the due prompts, so the
button clicks carry real prompt ids. Each server is then driven open-loop at a steady rate
(requests are scheduled at fixed intervals whatever the previous ones are doing; latency is
measured from the scheduled instant to the full response): half signed `block_actions` button
clicks, a quarter `/journey help`, a quarter `/journey status`. Prints p50/p99/max per server,
the ratio p99(hplj)/p99(bare) and the 3 s deadline check. Target: ratio <= 2, every ack < 3 s.

The load comes from `--drivers` processes of their own (not the one that runs the bench), each
with its own connections and a share of the instants, and every body is built and signed before
the run. Each prints its lag (scheduled instant -> request handed to the HTTP client): while that
stays in milliseconds the driver kept up and a rising latency is the server's; when it grows to
hundreds of ms the machine (2 cores here: server + driver) is the limit, not the server.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret-0123456789abcdef"
TOKEN = "xoxb-bench"
ADMIN = "UADMIN"
MANAGERS = [f"UMGR{i:02d}" for i in range(10)]
PARTICIPANTS = [f"UPAR{i:03d}" for i in range(100)]  # 10 per manager
ZONES = ["Europe/London", "America/New_York", "Europe/Berlin", "Asia/Singapore", "UTC"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- child processes -------------------------------------------------------------------------------

async def run_fake(port: int) -> None:
    from aiohttp import web

    from tests.fakes.slack_api import FakeSlackApi

    fake = FakeSlackApi(TOKEN)
    for i, uid in enumerate([ADMIN, *MANAGERS, *PARTICIPANTS]):
        fake.add_user(uid, uid.lower(), tz=ZONES[i % len(ZONES)], email=f"{uid.lower()}@example.com")
    # keep memory flat over a long run: the bench never inspects the record
    fake.calls = _Discard()  # type: ignore[assignment]
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


class _Discard(list):  # type: ignore[type-arg]
    def append(self, _item: Any) -> None:
        pass


async def run_bare(port: int, api_url: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET,
                    process_before_response=False)

    @bolt.command(re.compile(".*"))
    async def _cmd(ack: Any) -> None:
        await ack()

    @bolt.action(re.compile(".*"))
    async def _act(ack: Any) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:  # what bolt's own AsyncSlackAppServer does
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)

    async def health(_r: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


# ---- preparing the hplj database --------------------------------------------------------------------

async def prepare(env: dict[str, str]) -> list[tuple[str, str, str]]:
    """Enroll the cohort and deliver what is due now; returns (manager id, prompt id, value) clicks."""
    from sqlalchemy import select

    from bot.app.settings import Settings
    from bot.app.wiring import build_service
    from journeys.loader import default_library_path, load_library
    from store.models import PersonRow, PromptRow

    old = dict(os.environ)
    os.environ.update(env)
    try:
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
    finally:
        os.environ.clear()
        os.environ.update(old)
    service = await build_service(settings, load_library(default_library_path()))
    slack = service.ports["slack"]
    start = date.today() + timedelta(days=2)
    for m, manager in enumerate(MANAGERS):
        mp = await slack.resolve_profile(manager)  # type: ignore[attr-defined]
        mrow = await service.ensure_person("slack", manager, name=mp.name, tz=mp.tz)
        ids = []
        for uid in PARTICIPANTS[m * 10:(m + 1) * 10]:
            p = await slack.resolve_profile(uid)  # type: ignore[attr-defined]
            ids.append((await service.ensure_person("slack", uid, name=p.name, tz=p.tz)).id)
        await service.enroll("active-listening", ids, mrow.id, start)
    await service.tick()  # deliver what is due now, so the prompts are real, sent messages
    clicks: list[tuple[str, str, str]] = []
    async with service.db.read() as s:
        rows = (await s.execute(select(PromptRow, PersonRow).join(PersonRow, PersonRow.id == PromptRow.recipient_id)
                                .where(PromptRow.step_id == "expectations"))).all()
        for prompt, person in rows:
            for value in ("done", "tomorrow", "guide"):
                clicks.append((person.platform_user_id, prompt.id, value))
    await service.db.dispose()
    await slack.client.session.close() if slack.client.session else None  # type: ignore[attr-defined]
    return clicks


# ---- the driver ------------------------------------------------------------------------------------

def sign(body: str) -> dict[str, str]:
    from tests.fakes.slack_api import sign_request

    return sign_request(body, SECRET)


def make_requests(clicks: list[tuple[str, str, str]], fake_url: str) -> Any:
    """An endless, deterministic mix: click, help, click, status, ..."""
    from tests.fakes.slack_api import block_actions_payload, slash_command_form

    n = itertools.count(1)
    click_iter = itertools.cycle(clicks)
    while True:
        i = next(n)
        if i % 2:
            user, pid, value = next(click_iter)
            payload = block_actions_payload(
                user_id=user, action_id=f"hplj:btn:{value}", value=json.dumps({"p": pid, "v": value}),
                channel="D" + user, message_ts=f"1700000000.{i:06d}", action_ts=f"{1800000000 + i}.000001",
                trigger_id=f"bench.{i}", response_url=f"{fake_url}/response/act{i}", label=value)
            yield "click", urlencode({"payload": json.dumps(payload)})
        else:
            text = "help" if i % 4 == 0 else "status"
            form = slash_command_form(user_id=ADMIN, text=text, response_url=f"{fake_url}/response/cmd{i}",
                                      trigger_id=f"bench.cmd.{i}", channel_id="DUADMIN")
            yield text, urlencode(form)


def presigned(reqs: Any, n: int) -> list[tuple[str, str, dict[str, str]]]:
    """The next `n` requests of the mix, each with its body and signed headers, made before the
    run so the driver does no JSON, URL-encoding or HMAC while it drives (signatures stay valid
    for Slack's 5 minutes, far longer than a run)."""
    out = []
    for _ in range(n):
        kind, body = next(reqs)
        out.append((kind, body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}))
    return out


async def drive_share(url: str, requests: list[tuple[str, str, dict[str, str]]], rate: float, start: float,
                      first: int, stride: int, n_warm: int) -> dict[str, Any]:
    """Send requests first, first + stride, ... of the run, each at its instant `start + i / rate`
    (wall clock, shared by the driver processes), open-loop; record latency from that instant to
    the full response, and the driver's own lag (from the instant to the moment the request was
    handed to the HTTP client), which shows whether the driver kept up."""
    import aiohttp

    latencies: list[tuple[str, float]] = []
    lags: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def one(kind: str, body: str, headers: dict[str, str], scheduled: float, record: bool) -> None:
            nonlocal errors
            lag = time.time() - scheduled
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except Exception:  # noqa: BLE001
                errors += 1
                return
            if record:
                latencies.append((kind, time.time() - scheduled))
                lags.append(lag)
                statuses[status] = statuses.get(status, 0) + 1

        tasks = []
        for i in range(first, len(requests), stride):
            scheduled = start + i / rate
            delay = scheduled - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            kind, body, headers = requests[i]
            tasks.append(asyncio.create_task(one(kind, body, headers, scheduled, i >= n_warm)))
        await asyncio.gather(*tasks)
    return {"lat": latencies, "lag": lags, "statuses": statuses, "errors": errors}


async def run_driver(spec: Path) -> None:
    """A driver process: its share of the run described in `spec`; results to `spec`.out."""
    job = json.loads(spec.read_text())
    result = await drive_share(job["url"], [tuple(r) for r in job["requests"]], job["rate"], job["start"],
                               job["first"], job["stride"], job["n_warm"])
    spec.with_suffix(".out").write_text(json.dumps(result))


async def drive(url: str, reqs: Any, rate: float, seconds: float, warmup: float, drivers: int,
                tmp: Path) -> dict[str, Any]:
    """Drive `url` at `rate` from `drivers` processes of their own (each a share of the instants)."""
    total = int((warmup + seconds) * rate)
    n_warm = int(warmup * rate)
    requests = presigned(reqs, total)
    start = time.time() + 1.5 + 0.05 * total / 1000  # time for the drivers to start and read the run
    procs = []
    for j in range(drivers):
        spec = tmp / f"drive-{j}.json"
        spec.write_text(json.dumps({"url": url, "requests": requests, "rate": rate, "start": start, "first": j,
                                    "stride": drivers, "n_warm": n_warm}))
        procs.append(await asyncio.create_subprocess_exec(sys.executable, __file__, "--child", "drive",
                                                          "--spec", str(spec), cwd=ROOT))
    for proc in procs:
        if await proc.wait() != 0:
            raise RuntimeError(f"a driver process exited with {proc.returncode}")
    latencies: list[tuple[str, float]] = []
    lags: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    for j in range(drivers):
        part = json.loads((tmp / f"drive-{j}.out").read_text())
        latencies += [(k, x) for k, x in part["lat"]]
        lags += part["lag"]
        errors += part["errors"]
        for code, count in part["statuses"].items():
            statuses[int(code)] = statuses.get(int(code), 0) + count
    lat = sorted(x for _, x in latencies)
    by_kind: dict[str, list[float]] = {}
    for kind, x in latencies:
        by_kind.setdefault(kind, []).append(x)
    return {"lat": lat, "by_kind": {k: sorted(v) for k, v in by_kind.items()}, "statuses": statuses,
            "errors": errors, "sent": total - n_warm, "lag": sorted(lags)}


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


async def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not healthy after {timeout}s")


def inbound_count(db: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute("select count(*) from inbound where key like 'slack:slack:act:%'").fetchone()[0])
    finally:
        conn.close()


async def wait_for_work(db: Path, before: int, expected: int, ended: float, timeout: float = 300) -> tuple[int, float]:
    """Poll hplj's inbound table until every click is recorded (or it stops moving for 5 s): a
    burst's work may take minutes after it."""
    done, last, moved = 0, ended, time.perf_counter()
    while time.perf_counter() - ended < timeout:
        now_done = inbound_count(db) - before
        if now_done != done:
            done, last, moved = now_done, time.perf_counter(), time.perf_counter()
        if done >= expected or time.perf_counter() - moved > 5:
            break
        await asyncio.sleep(0.05)
    return done, max(0.0, last - ended)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, r: dict[str, Any]) -> str:
    lat = r["lat"]
    kinds = ", ".join(f"{k} p50 {pct(v, 50) * 1000:.1f} / p99 {pct(v, 99) * 1000:.1f} ms (n={len(v)})"
                      for k, v in sorted(r["by_kind"].items()))
    return (f"{name:5s} n={len(lat)}/{r['sent']} errors={r['errors']} statuses={r['statuses']}  "
            f"p50 {pct(lat, 50) * 1000:.1f} ms  p99 {pct(lat, 99) * 1000:.1f} ms  "
            f"max {max(lat) * 1000 if lat else float('nan'):.1f} ms  mean {statistics.fmean(lat) * 1000:.1f} ms\n"
            f"      by kind: {kinds}\n"
            f"      driver lag (scheduled instant -> request handed to the client): p50 "
            f"{pct(r['lag'], 50) * 1000:.1f} ms, p99 {pct(r['lag'], 99) * 1000:.1f} ms\n"
            f"      server CPU while driven: {r['cpu']:.2f} s = {r['cpu'] / max(1, r['total']) * 1e3:.3f} ms "
            f"per request ({r['total']} requests incl. warm-up)")


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--profile", metavar="PATH", help="run hplj serve under cProfile, stats written to PATH")
    ap.add_argument("--drivers", type=int, default=1,
                    help="driver processes sharing the load (each its own process and connections)")
    ap.add_argument("--child", choices=["fake", "bare", "drive"], help=argparse.SUPPRESS)
    ap.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--api-url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "fake":
        await run_fake(args.port)
        return 0
    if args.child == "bare":
        await run_bare(args.port, args.api_url)
        return 0
    if args.child == "drive":
        await run_driver(args.spec)
        return 0

    procs: list[subprocess.Popen[bytes]] = []
    tmp = Path(tempfile.mkdtemp(prefix="hplj-slack-bench-"))
    py = sys.executable
    try:
        fake_port, bare_port, hplj_port = free_port(), free_port(), free_port()
        fake_url = f"http://127.0.0.1:{fake_port}"
        api_url = f"{fake_url}/api/"
        log = open(tmp / "children.log", "wb")  # noqa: SIM115, ASYNC230 (set-up, before any timing)
        procs.append(subprocess.Popen([py, __file__, "--child", "fake", "--port", str(fake_port)],  # noqa: ASYNC220
                                      cwd=ROOT, stdout=log, stderr=log))
        await asyncio.sleep(0.5)
        env = {"DATABASE_URL": f"sqlite:///{tmp / 'hplj.db'}", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": api_url, "HPLJ_ADMINS": ADMIN,
               "HPLJ_DASHBOARD_SECRET": "bench-dashboard-secret-0123456789",
               "HPLJ_PUBLIC_URL": "https://hplj.example.com"}
        for _ in range(50):
            try:
                with socket.create_connection(("127.0.0.1", fake_port), timeout=0.2):
                    break
            except OSError:
                await asyncio.sleep(0.1)
        clicks = await prepare(env)
        print(f"prepared: {len(PARTICIPANTS)} enrolled, {len(clicks) // 3} delivered expectations prompts, "
              f"{len(clicks)} distinct clicks; db {tmp / 'hplj.db'}")
        procs.append(subprocess.Popen([py, __file__, "--child", "bare", "--port", str(bare_port),  # noqa: ASYNC220
                                       "--api-url", api_url], cwd=ROOT, stdout=log, stderr=log))
        serve_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        prof = ["-m", "cProfile", "-o", str(Path(args.profile).resolve())] if args.profile else []
        procs.append(subprocess.Popen([py, *prof, "-m", "bot.app.cli", "serve", "--port", str(hplj_port), "--host",  # noqa: ASYNC220
                                       "127.0.0.1"], cwd=tmp, env=serve_env, stdout=log, stderr=log))
        await wait_healthy(f"http://127.0.0.1:{bare_port}/healthz", procs[1])
        await wait_healthy(f"http://127.0.0.1:{hplj_port}/healthz", procs[2])

        print(f"driving each server open-loop at {args.rate:.0f} req/s for {args.seconds:.0f} s "
              f"(+{args.warmup:.0f} s warm-up) from {args.drivers} driver process(es), pre-signed bodies; mix: 1/2 button clicks, 1/4 /journey help, 1/4 /journey status")
        cpu0 = cpu_seconds(procs[1].pid)
        bare = await drive(f"http://127.0.0.1:{bare_port}/slack/events", make_requests(clicks, fake_url),
                           args.rate, args.seconds, args.warmup, args.drivers, tmp)
        bare["cpu"], bare["total"] = cpu_seconds(procs[1].pid) - cpu0, int((args.warmup + args.seconds) * args.rate)
        print(report("bare", bare))
        before = inbound_count(tmp / "hplj.db")
        cpu0 = cpu_seconds(procs[2].pid)
        hplj = await drive(f"http://127.0.0.1:{hplj_port}/slack/events", make_requests(clicks, fake_url),
                           args.rate, args.seconds, args.warmup, args.drivers, tmp)
        ended = time.perf_counter()
        hplj["cpu"], hplj["total"] = cpu_seconds(procs[2].pid) - cpu0, int((args.warmup + args.seconds) * args.rate)
        print(report("hplj", hplj))
        # The ack comes first; the work after it must still all happen, and keep up with the load.
        expected = (int((args.warmup + args.seconds) * args.rate) + 1) // 2  # every other request is a click
        done, lag = await wait_for_work(tmp / "hplj.db", before, expected, ended)
        print(f"work after the ack: {done}/{expected} clicks recorded by hplj (inbound rows), the last "
              f"{lag * 1000:.0f} ms after the final request was answered; hplj CPU until then "
              f"{(cpu_seconds(procs[2].pid) - cpu0) / max(1, hplj['total']) * 1e3:.3f} ms per request")
        ratio = pct(hplj["lat"], 99) / pct(bare["lat"], 99)
        worst = max(hplj["lat"] + bare["lat"])
        ok_ratio, ok_deadline = ratio <= 2.0, worst < 3.0 and not hplj["errors"] and set(hplj["statuses"]) == {200}
        print(f"p99(hplj)/p99(bare) = {ratio:.2f}  (target <= 2.00: {'met' if ok_ratio else 'MISSED'})")
        print(f"max latency {worst * 1000:.1f} ms vs Slack's 3000 ms deadline, all 200: "
              f"{'met' if ok_deadline else 'MISSED'}")
        return 0 if ok_ratio and ok_deadline else 1
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
