"""A delivery worker process for the fault tests: `BotService.tick` (or `Dispatcher.deliver`) in a
loop at a fixed instant until nothing is left to do, then prints a JSON summary.

    python tests/fault/worker.py --db URL --at ISO [--slack URL] [--teams URL] [--mode tick|deliver]
        [--lease SECONDS] [--concurrency N] [--batch N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime, timedelta

from sqlalchemy import func, select

from adapters.slack.client import SlackChat
from adapters.teams.client import TeamsChat
from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from scheduler.delivery import Dispatcher
from scheduler.ratelimit import DEFAULT_LIMITS, Limit, PlatformLimits
from store.db import Database
from store.models import OutboxRow, PersonRow, PromptRow
from store.uow import UnitOfWorkFactory

FAST = {
    # per-key limits as published; a global budget large enough for a test-sized wave
    "slack": PlatformLimits(per_key=DEFAULT_LIMITS["slack"].per_key, global_=Limit(rate=2000.0, burst=200)),
    "teams": PlatformLimits(per_key=DEFAULT_LIMITS["teams"].per_key, global_=Limit(rate=2000.0, burst=200)),
}


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--at", required=True)
    ap.add_argument("--slack")
    ap.add_argument("--teams")
    ap.add_argument("--mode", default="tick", choices=("tick", "deliver"))
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--lease", type=float, default=60.0, help="outbox lease in seconds")
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    at = datetime.fromisoformat(args.at)
    db = Database(args.db)
    ports: dict[str, object] = {}
    if args.slack:
        ports["slack"] = SlackChat("xoxb-test", api_url=args.slack)
    if args.teams:
        async def address_for(person_id: str) -> dict[str, object] | None:
            async with db.read() as s:
                row = await s.get(PersonRow, person_id)
                return dict(row.address) if row is not None and row.address else None

        ports["teams"] = TeamsChat(address_for=address_for, timeout=5.0)
    dispatcher = Dispatcher(UnitOfWorkFactory(db), ports, limits=FAST, concurrency=args.concurrency,  # type: ignore[arg-type]
                            lease=timedelta(seconds=args.lease))
    svc = BotService(db, load_library(default_library_path()), ports, SimulatedClock(at),  # type: ignore[arg-type]
                     dispatcher=dispatcher)
    totals = {"sent": 0, "failed": 0, "retried": 0, "ambiguous": 0, "deferred": 0, "passes": 0}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.max_seconds
    t0 = loop.time()
    now = at
    print(json.dumps({"pid": os.getpid(), "ready": True}), flush=True)
    while loop.time() < deadline:
        if args.mode == "tick":
            _, r = await svc.tick(now)
        else:
            r = await svc.dispatcher.deliver(now, limit=args.batch)
        totals["passes"] += 1
        for k in ("sent", "failed", "retried", "ambiguous", "deferred"):
            totals[k] += getattr(r, k)
        async with db.read() as s:
            open_rows = (await s.execute(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.state.in_(("pending", "sending"))))).scalar_one()
            due = (await s.execute(select(func.count()).select_from(PromptRow).where(
                PromptRow.next_at.is_not(None), PromptRow.next_at <= now))).scalar_one()
        if not open_rows and not due:
            break
        if not (r.sent or r.failed or r.retried):
            # Rows wait for a Retry-After, a backoff or another worker's lease: let time pass.
            await asyncio.sleep(0.2)
        now = at + timedelta(seconds=loop.time() - t0)  # the simulated instant, then real time
    await db.dispose()
    print(json.dumps(totals), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
