"""Idle worker pass (issue 25, item 4): what one scheduler pass costs when nothing is due.

    .venv/bin/python bench/idle_pass.py [--people 10000] [--passes 50]

A worker passes every few seconds whether or not anything is due, and the humane-delivery
simulation (bench/humane_delivery.py) makes one pass per simulated due moment, so the cost of a
pass with nothing to do decides both the worker's idle load and how far the simulation scales.
Set-up (bench/population.py): `--people` participants enrolled in `active-listening` (rows as
`BotService.enroll` writes them), their first prompt fired and its outbox rows marked sent, as in
a database that has been running. Then `--passes` passes of `BotService.tick` (purge due access
data, claim due prompts and digests, the dispatcher's pass over the outbox) at an instant where
nothing is due, plus the simulation's own per-pass question (`views.next_due_at`). Prints the
median and p90 per pass and the SQL statements each runs (a deterministic count). Target: an idle
pass at 10,000 enrolled <= 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import population as pop


async def measure(path: Path, passes: int) -> None:
    from sqlalchemy import event

    from adapters.memory import RecordingChat
    from bot.app.service import BotService
    from bot.services.clock import SimulatedClock
    from store.uow import UnitOfWork

    lib = pop.library()
    idle_at = pop.TICK_AT + timedelta(minutes=5)
    from store.db import Database

    db = Database(f"sqlite:///{path}")
    svc = BotService(db, lib, {"slack": RecordingChat()}, SimulatedClock(idle_at))
    statements = [0]

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def count(*_: object) -> None:
        statements[0] += 1

    async def next_due() -> None:
        async with UnitOfWork(db, read_only=True) as uow:
            await uow.views.next_due_at()

    try:
        fired, _ = await svc.tick(idle_at)  # warm: compiled statements, pooled connections
        assert fired.fired == 0, f"{fired.fired} prompts were due at the idle instant"
        gc.collect()
        gc.freeze()
        for name, fn in (("worker pass (BotService.tick)", lambda: svc.tick(idle_at)),
                         ("simulation's next-due question (views.next_due_at)", next_due)):
            times = []
            statements[0] = 0
            for _ in range(passes):
                t0 = time.perf_counter()
                await fn()
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            print(f"{name}: median {statistics.median(times):.2f} ms, p90 {times[int(0.9 * (len(times) - 1))]:.2f} ms, "
                  f"{statements[0] / passes:.0f} SQL statements per pass")
    finally:
        await svc.settle()
        await db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=10000)
    ap.add_argument("--passes", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hplj-idle-") as d:
        path = Path(d) / "idle.db"
        lib = pop.library()
        t0 = time.perf_counter()
        counts = pop.build(path, args.people, args.people, lib=lib)
        asyncio.run(pop.warmup(path, lib))
        from scheduler.tick import process_due
        from store.db import Database
        from store.uow import UnitOfWorkFactory

        async def fire() -> int:
            db = Database(f"sqlite:///{path}")
            try:
                return (await process_due(UnitOfWorkFactory(db), lib, pop.TICK_AT)).queued
            finally:
                await db.dispose()

        queued = asyncio.run(fire())
        con = sqlite3.connect(path)
        # delivered, as the dispatcher leaves rows it sent
        con.execute("update outbox set state = 'sent', sent_at = created_at, attempts = 1, next_attempt_at = null")
        con.commit()
        outbox = con.execute("select count(*) from outbox").fetchone()[0]
        con.close()
        print(f"set-up {time.perf_counter() - t0:.1f} s: {counts}, {queued} queued at the tick, {outbox} outbox rows sent")
        asyncio.run(measure(path, args.passes))


if __name__ == "__main__":
    main()
