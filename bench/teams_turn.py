"""Teams card actions: `hplj serve` versus a bare botbuilder bot, same run (issue 5, "Benchmark").

    python bench/teams_turn.py [--rate 100] [--seconds 20] [--people 1000] [--twice 0.1] [--warmup 100]
                               [--profile serve.prof]

1. Seeds a SQLite database in a temp dir through the real code paths: Teams people with stored
   conversation references (serviceUrl = a local FakeConnector), `active-listening` enrollments,
   one scheduler pass that delivers the before-phase cards. The open prompts with buttons
   (managers' "Done" on the expectations task, participants' choice on "Your focus") are the
   targets. A manager's Done asks what was agreed (the product's expectations flow), so each
   expectations target is two requests: the Done click, then the form's submit with the agreement.
2. Starts `hplj serve --no-scheduler` (subprocess, HPLJ_TEAMS_LOCAL=1) on that database and, as a
   second subprocess, a bare botbuilder `ActivityHandler` on `CloudAdapter` (aiohttp) whose
   `on_invoke_activity` only returns a static Adaptive Card.
3. Warms each server up, outside the measurement and with the same bodies for both: 20 actions on
   unknown prompts, then `--warmup` first answers to open prompts the plan never uses (a fresh
   process otherwise pays its lazy imports, holiday tables and first compilations inside the
   measured window, which is not the steady state the target is about).
4. Drives each for `--seconds` with `invoke adaptiveCard/action` at a steady `--rate` (open loop:
   request i is sent at t0 + i/rate whatever happened before; latency is measured from that
   scheduled time, so queueing shows up). Against hplj every prompt is answered once, and a
   fraction `--twice` are answered a second time (a double click: new activity id, same prompt).
5. Prints p50/p99 for both and the p99 ratio. Target: hplj p99 <= 2x the bare bot's p99 (issue 25,
   below saturation: <= 1x). Also, per kind of request (a manager's Done, the agreement form, a
   participant's focus choice, a double click), p50/p99 and how many of the slowest 2% it holds:
   that is how the tail was traced to the agreement form (issue 25, eighth round).

The FakeConnector runs in its own process (it receives hplj's reply messages after each answer;
the refreshed card is the invoke's own answer, so the outbox PUTs nothing: one update per click);
the load generator is the main process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT = {"id": "28:5b6c7d8e-2222-4b4b-8c8c-000000000abc", "name": "HPLJ Coach"}
STATIC_CARD = {
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Thanks, noted.", "wrap": True}],
}


# ---- the bare bot (run as a subprocess: `teams_turn.py --bare PORT`) ------------------------------

def run_bare(port: int) -> None:
    from aiohttp import web
    from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
    from botbuilder.schema import AdaptiveCardInvokeResponse

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    class Bare(ActivityHandler):
        async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
            # A model, not a dict: CloudAdapter.process serializes the body with msrest (docs/platform-pitfalls.md).
            return InvokeResponse(status=200, body=AdaptiveCardInvokeResponse(
                status_code=200, type="application/vnd.microsoft.card.adaptive", value=STATIC_CARD))

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = Bare()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", lambda r: web.json_response({"status": "ok"}))
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# ---- helpers ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early ({proc.returncode}): {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError("server never became healthy")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


class ConnectorProcess:
    """The FakeConnector in a process of its own. (In a thread of the driver it would share the
    driver's GIL: hplj makes ~2 connector calls per action and the bare bot none, so the driver
    timed hplj's responses late by up to ~100 ms while hplj's own loop showed no such stall.)"""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--connector"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError(f"fake connector did not start: {self.url!r}")

    def counts(self) -> dict[str, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_connector() -> None:
    """`teams_turn.py --connector`: print the URL, answer `count` lines on stdin, stop at EOF."""
    from tests.fakes.teams_connector import FakeConnector

    async def serve() -> None:
        fake = await FakeConnector().start()
        print(fake.url, flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            counts: dict[str, int] = {"total": len(fake.sent)}
            for c in fake.sent:
                counts[c.method] = counts.get(c.method, 0) + 1
            print(json.dumps(counts), flush=True)
        await fake.stop()

    asyncio.run(serve())


class ConnectorThread:
    """The FakeConnector on its own event loop in a thread (kept for tools that want `fake.sent`)."""

    def __init__(self) -> None:
        from tests.fakes.teams_connector import FakeConnector

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = asyncio.run_coroutine_threadsafe(FakeConnector().start(), self.loop).result(30)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def last_weekday_afternoon(now: datetime) -> datetime:
    """14:30 London time on the latest working day that is not in the future (start-3 then: the
    participants' preparation and the managers' expectations card, 14:00, are all due)."""
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    day = now.astimezone(london).date()
    while True:
        at = datetime(day.year, day.month, day.day, 14, 30, tzinfo=london)
        if day.weekday() < 5 and at <= now:
            return at.astimezone(UTC)
        day -= timedelta(days=1)


def add_working_days(d: date, n: int) -> date:
    while n:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def aad(kind: str, i: int) -> str:
    return f"{'a' if kind == 'p' else 'b'}{i:07d}-0000-4000-8000-{i:012d}"


def address(user_aad: str, service_url: str) -> dict[str, Any]:
    return {"channel_id": "msteams", "service_url": service_url, "tenant_id": TENANT,
            "conversation_id": f"a:1x{user_aad}", "conversation_type": "personal", "user_id": f"29:1{user_aad}",
            "user_aad_id": user_aad, "user_name": user_aad, "bot_id": BOT["id"], "bot_name": BOT["name"],
            "locale": "en-GB"}


async def seed(db_url: str, service_url: str, people: int, per_manager: int) -> list[tuple[str, str, str]]:
    """Enroll `people` participants; deliver the before phase; return (aad, prompt id, button) targets."""
    from sqlalchemy import select

    from adapters.teams.client import TeamsChat
    from bot.app.service import BotService
    from bot.services.clock import SimulatedClock
    from journeys.loader import default_library_path, load_library
    from store.db import Database
    from store.models import PersonRow, PromptRow

    fire_at = last_weekday_afternoon(datetime.now(UTC))
    start = add_working_days(fire_at.date(), 3)  # start-3: the before phase and the expectations card (open)
    from store.migrate import upgrade_async

    db = Database(db_url)
    await upgrade_async(db)  # as `hplj serve` does, so it finds the schema current
    library = load_library(default_library_path())
    clock = SimulatedClock(fire_at - timedelta(days=7))
    # the dispatcher hands TeamsChat each recipient's stored address (no callback into the service)
    service = BotService(db, library, {"teams": TeamsChat()}, clock, default_tz="Europe/London")
    managers = max(1, people // per_manager)
    mgr_ids = []
    for m in range(managers):
        row = await service.ensure_person("teams", aad("m", m), name=f"Manager {m}", tz="Europe/London",
                                          address=address(aad("m", m), service_url))
        mgr_ids.append(row.id)
    part_ids: list[list[str]] = [[] for _ in range(managers)]
    for i in range(people):
        row = await service.ensure_person("teams", aad("p", i), name=f"Person {i}", tz="Europe/London",
                                          address=address(aad("p", i), service_url))
        part_ids[i % managers].append(row.id)
    for m in range(managers):
        await service.enroll("active-listening", part_ids[m], mgr_ids[m], start, cohort="bench")
    clock.set(fire_at)
    for _ in range(50):
        result, delivered = await service.tick(fire_at)
        if not result.fired and not delivered.sent:
            break
    async with db.read() as s:
        rows = (await s.execute(select(PromptRow, PersonRow.platform_user_id)
                                .join(PersonRow, PersonRow.id == PromptRow.recipient_id)
                                .where(PromptRow.status == "open",
                                       PromptRow.step_id.in_(("expectations", "focus-situation"))))).all()
    await db.dispose()
    buttons = {"expectations": "done", "focus-situation": "one-to-ones"}
    return [(uid, p.id, buttons[p.step_id]) for p, uid in rows]


AGREE = "<agreed>"  # a target's second request: the form that records what was agreed


def invoke(user_aad: str, service_url: str, prompt_id: str, value: str, n: int) -> bytes:
    """A click on a card button, or (value AGREE) the submit of the "what did you agree?" form
    that a manager's Done on the expectations card opens."""
    if value == AGREE:
        action = {"type": "Action.Execute", "verb": "hplj.submit",
                  "data": {"prompt_id": prompt_id, "fields": {"agreed": "long_text"},
                           "f.agreed": f"Two one-to-ones a month, first one on Thursday ({n})"}}
    else:
        action = {"type": "Action.Execute", "verb": "hplj.button", "data": {"prompt_id": prompt_id, "value": value}}
    return json.dumps({
        "type": "invoke", "name": "adaptiveCard/action", "id": f"f:bench-{n}-{random.getrandbits(48):x}",
        "timestamp": datetime.now(UTC).isoformat(), "channelId": "msteams", "serviceUrl": service_url,
        "from": {"id": f"29:1{user_aad}", "name": user_aad, "aadObjectId": user_aad},
        "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": f"a:1x{user_aad}"},
        "recipient": BOT, "channelData": {"tenant": {"id": TENANT}}, "locale": "en-GB",
        "value": {"action": action, "trigger": "manual"},
    }).encode()


async def drive(url: str, bodies: list[bytes], rate: float,
                by_index: dict[int, float] | None = None) -> tuple[list[float], dict[int, int], int]:
    """Open loop: body i is sent at t0 + i/rate. Returns latencies (ms, from the scheduled time);
    `by_index`, when given, also gets each request's latency under its position in `bodies`."""
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    conn = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=180)) as session:
        async def one(i: int, body: bytes, scheduled: float) -> None:
            nonlocal errors
            try:
                async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                    payload = await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                    if resp.status == 200 and json.loads(payload).get("statusCode") != 200:
                        errors += 1
            except Exception:  # noqa: BLE001 - counted, not fatal
                errors += 1
                return
            latencies.append((time.perf_counter() - scheduled) * 1000)
            if by_index is not None:
                by_index[i] = latencies[-1]

        t0 = time.perf_counter() + 0.2
        tasks = []
        for i, body in enumerate(bodies):
            scheduled = t0 + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, body, scheduled)))
        await asyncio.gather(*tasks)
    return latencies, statuses, errors


def request_kinds(order: list[tuple[str, str, str]]) -> list[str]:
    """What each planned request is, in the product's terms (for the per-kind latencies)."""
    seen: set[tuple[str, str]] = set()
    kinds = []
    for _, pid, val in order:
        key = (pid, val)
        if key in seen:
            kinds.append("double click")
        elif val == AGREE:
            kinds.append("agreement form")
        else:
            kinds.append("manager Done" if val == "done" else "focus choice")
        seen.add(key)
    return kinds


def print_kinds(name: str, by_index: dict[int, float], kinds: list[str]) -> None:
    """p50/p99 per kind of request, and which kinds the slowest 2% are: the tail has a cause."""
    cut = pct(list(by_index.values()), 98)
    per: dict[str, list[float]] = {}
    for i, ms in by_index.items():
        per.setdefault(kinds[i], []).append(ms)
    slow: dict[str, int] = {}
    for i, ms in by_index.items():
        if ms >= cut:
            slow[kinds[i]] = slow.get(kinds[i], 0) + 1
    for kind, values in sorted(per.items()):
        print(f"      {kind:15s} n={len(values):4d}  p50={pct(values, 50):6.1f} ms  p99={pct(values, 99):6.1f} ms  "
              f"in the slowest 2%: {slow.get(kind, 0)}")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--people", type=int, default=1000, help="participants enrolled (each gives 2 prompts)")
    ap.add_argument("--per-manager", type=int, default=10)
    ap.add_argument("--twice", type=float, default=0.1, help="share of requests that re-answer a prompt")
    ap.add_argument("--warmup", type=int, default=100,
                    help="warm-up answers on open prompts outside the plan, before measuring (each server)")
    ap.add_argument("--profile", metavar="PATH", help="run hplj serve under cProfile, stats written to PATH")
    ap.add_argument("--bare", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--connector", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.connector:
        run_connector()
        return
    if args.bare:
        run_bare(args.bare)
        return

    total = int(args.rate * args.seconds)
    tmp = tempfile.TemporaryDirectory(prefix="hplj-bench-teams-")
    db_url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    connector = ConnectorProcess()
    url = connector.url
    procs: list[subprocess.Popen[str]] = []
    try:
        t = time.perf_counter()
        targets = asyncio.run(seed(db_url, url, args.people, args.per_manager))
        print(f"seeded {len(targets)} open prompts with buttons in {time.perf_counter() - t:.1f}s "
              f"({connector.counts()['total']} cards delivered to the fake connector)")
        random.seed(7)
        random.shuffle(targets)
        # The product's flow: a participant's choice answers "Your focus" in one click; a
        # manager's Done on the expectations card asks what was agreed, and only the submitted
        # agreement completes it (journeys/expectations.py): two requests for those prompts.
        firsts = int(total * (1 - args.twice))
        plan: list[tuple[str, str, str]] = []
        requests = 0
        for t in targets:
            if requests >= firsts:
                break
            plan.append(t)
            requests += 2 if t[2] == "done" else 1
        if requests < firsts:
            raise SystemExit(f"only {len(targets)} prompts for {firsts} first answers: raise --people")
        spare = targets[len(plan):len(plan) + args.warmup]  # never measured: warm-up answers
        spare += [(uid, pid, AGREE) for uid, pid, val in spare if val == "done"]
        repeats = [plan[random.randrange(len(plan) // 2)] for _ in range(total - requests)]  # earlier ones
        order = list(plan)
        for uid, pid, val in plan:  # the agreement comes after the Done, a little later
            if val == "done":
                i = order.index((uid, pid, val))
                order.insert(random.randrange(i + 1, min(len(order), i + 40) + 1), (uid, pid, AGREE))
        for r in repeats:  # a re-answer (a double click) is placed after its first answer
            order.insert(random.randrange(order.index(r) + 1, len(order) + 1), r)
        kinds = request_kinds(order)
        hplj_bodies = [invoke(uid, url, pid, val, i) for i, (uid, pid, val) in enumerate(order)]
        bare_bodies = [invoke(uid, url, pid, val, i) for i, (uid, pid, val) in enumerate(order)]

        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url, "HPLJ_TEAMS_LOCAL": "1",
               "MICROSOFT_APP_ID": "", "SLACK_SIGNING_SECRET": "", "SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "",
               "HPLJ_DEFAULT_TZ": "Europe/London"}
        hplj_port, bare_port = free_port(), free_port()
        prof = ["-m", "cProfile", "-o", str(Path(args.profile).resolve())] if args.profile else []
        hplj = subprocess.Popen([sys.executable, *prof, "-m", "bot.app.cli", "serve", "--port", str(hplj_port), "--host",
                                 "127.0.0.1", "--no-scheduler"], env=env, cwd=tmp.name,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(hplj)
        bare = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--bare", str(bare_port)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(bare)
        wait_healthy(hplj_port, hplj)
        wait_healthy(bare_port, bare)

        results = {}
        for name, port, bodies in (("bare", bare_port, bare_bodies), ("hplj", hplj_port, hplj_bodies)):
            endpoint = f"http://127.0.0.1:{port}/api/messages"
            # warm-up outside the measurement, same bodies for both: a few unknown prompts, then
            # first answers to open prompts the plan never uses (so the answer path, its
            # deliveries and lazily built tables are warm, as in a server that has been running)
            warm = [invoke(uid, url, "e_warmup.none", "x", i) for i, (uid, _, _) in enumerate(order[:20])]
            warm += [invoke(uid, url, pid, val, 100_000 + i) for i, (uid, pid, val) in enumerate(spare)]
            asyncio.run(drive(endpoint, warm, args.rate))
            time.sleep(1.0)  # let the warm-up's deliveries finish before measuring
            t = time.perf_counter()
            by_index: dict[int, float] = {}
            lat, statuses, errors = asyncio.run(drive(endpoint, bodies, args.rate, by_index))
            elapsed = time.perf_counter() - t
            results[name] = (lat, statuses, errors, elapsed)
            print(f"{name:5s} n={len(lat)} in {elapsed:.1f}s  p50={pct(lat, 50):7.1f} ms  p99={pct(lat, 99):7.1f} ms  "
                  f"max={max(lat):7.1f} ms  mean={statistics.fmean(lat):6.1f} ms  http={statuses}  "
                  f"non-200 invoke bodies/errors={errors}")
            print_kinds(name, by_index, kinds)
        time.sleep(1.0)  # let hplj's background replies finish
        answered = asyncio.run(_answered(db_url, [pid for _, pid, _ in plan]))
        updates = connector.counts().get("PUT", 0)
        bare_p99, hplj_p99 = pct(results["bare"][0], 99), pct(results["hplj"][0], 99)
        ratio = hplj_p99 / bare_p99
        agreements = sum(1 for _, _, v in order if v == AGREE)
        print(f"prompts answered: {answered}/{len(plan)} ({agreements} of them managers' Done + what was agreed; "
              f"plus {len(repeats)} double clicks); "
              f"PUTs received by the connector (0: each click's card is refreshed once, by the invoke answer): {updates}")
        print(f"p50 ratio hplj/bare = {pct(results['hplj'][0], 50) / pct(results['bare'][0], 50):.2f}x; "
              f"p99 ratio hplj/bare = {ratio:.2f}x (target <= 2.00x: {'MET' if ratio <= 2 else 'NOT MET'}; "
              f"below saturation, issue 25: <= 1.00x: {'MET' if ratio <= 1 else 'NOT MET'})")
    finally:
        for p, name in zip(procs, ("hplj", "bare"), strict=False):
            out = stop(p)
            log_path = Path(tempfile.gettempdir()) / f"teams_turn-{name}.log"
            log_path.write_text(out, encoding="utf-8")
            kinds: dict[str, int] = {}
            for line in out.splitlines():
                if line.startswith(("sqlalchemy.", "sqlite3.")) or ("Error:" in line and not line.startswith(" ")):
                    kinds[line[:160]] = kinds.get(line[:160], 0) + 1
            if kinds:
                print(f"{name} server errors (full log: {log_path}):")
                for line, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:5]:
                    print(f"  {n:5d} x {line}")
        connector.close()
        tmp.cleanup()


async def _answered(db_url: str, prompt_ids: list[str]) -> int:
    from sqlalchemy import func, select

    from store.db import Database
    from store.models import PromptRow

    db = Database(db_url)
    async with db.read() as s:
        n = (await s.execute(select(func.count()).select_from(PromptRow).where(
            PromptRow.id.in_(prompt_ids), PromptRow.status != "open"))).scalar_one()
    await db.dispose()
    return int(n)


if __name__ == "__main__":
    main()
