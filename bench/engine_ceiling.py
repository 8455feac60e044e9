"""Engine ceiling (issue 3, Benchmarks): tick throughput vs the raw database ceiling, on SQLite.

    .venv/bin/python bench/engine_ceiling.py [--due 20000] [--batch 500] [--repeats 3]

Set-up (bench/population.py): `--due` participants enrolled in `active-listening` (one manager per
10), rows identical to what `BotService.enroll` writes; a warm-up tick fires the managers' first
task. At TICK_AT exactly `--due` prompts are due (each participant's `focus-situation`).

Per repeat, on two fresh copies of that database file (same schema, indexes, WAL, pragmas):
- tick: the real `scheduler.tick.process_due` (claims due prompts by the `next_at` index in
  batches of `--batch`, loads enrollments/people, `engine.fire`, renders, saves prompts, events
  and outbox rows in one transaction per batch) through SQLAlchemy + aiosqlite; since issue 25's
  third pass the next batch is decided while the previous one commits on a worker thread
  (store/overlap.py), so the tick may use a second core where the ceiling uses one;
- ceiling: a plain `sqlite3` loop doing only the minimal writes per due step, in transactions of
  the same `--batch` steps (`BEGIN IMMEDIATE` ... `COMMIT`): one outbox insert (the very rows the
  tick produced, payload included, already serialized) and one prompt state update by primary key
  (the state the tick left). This is the number the target is measured against.
- for information: the same minimal writes through the app's own driver stack (SQLAlchemy Core
  executemany on aiosqlite in `Database.write()` transactions), to show how much of the gap is the
  Python driver stack rather than the engine.
The runs alternate within each repeat so background load hits all of them. Prints due steps per
second of each and the median of the per-repeat tick/ceiling ratios (target >= 0.5, issue 25).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import population as pop


def copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(src, dst)


async def run_tick(path: Path, lib: dict, batch: int) -> tuple[float, int, int]:
    from scheduler.tick import process_due
    from store.db import Database
    from store.uow import UnitOfWorkFactory

    db = Database(f"sqlite:///{path}")
    # as `hplj worker` does after start-up (bot/app/wiring.py): what is loaded by now stays
    gc.collect()
    gc.freeze()
    try:
        t0 = time.perf_counter()
        r = await process_due(UnitOfWorkFactory(db), lib, pop.TICK_AT, batch=batch)
        dt = time.perf_counter() - t0
    finally:
        await db.dispose()
    return dt, r.fired, r.queued


OUTBOX_COLS = ("key", "recipient_id", "enrollment_id", "payload", "replaces_key", "state", "attempts",
               "next_attempt_at", "lease_until", "lease_owner", "in_doubt", "ambiguous", "conversation_id",
               "message_id", "error", "stale_at", "created_at", "sent_at")
PROMPT_SET = ("status", "next_at", "sent_at", "deliveries", "last_delivery_key", "claimed_until")


def work_of_tick(tick_db: Path, since_outbox: int) -> tuple[list[tuple], dict[str, tuple]]:
    """The outbox rows the tick wrote and the prompt states it left, to replay as minimal writes."""
    con = sqlite3.connect(tick_db)
    try:
        rows = con.execute(f"select {', '.join(OUTBOX_COLS)} from outbox where id > ? order by id",
                           (since_outbox,)).fetchall()
        keys = [r[0] for r in rows]
        pids = [k.rsplit(":", 1)[0] for k in keys]
        states: dict[str, tuple] = {}
        for part in pop.chunks(pids, 500):
            q = f"select id, {', '.join(PROMPT_SET)} from prompts where id in ({','.join('?' * len(part))})"
            for r in con.execute(q, part):
                states[r[0]] = tuple(r[1:])
        return rows, states
    finally:
        con.close()


def run_ceiling(path: Path, rows: list[tuple], states: dict[str, tuple], batch: int) -> float:
    """Only the writes: per due step one outbox insert and one state update, `batch` steps per transaction."""
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    # the app's own connection pragmas (store/db.py), cache size and temp store included
    for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL", "foreign_keys=ON",
                   "temp_store=MEMORY", "cache_size=-16000"):
        con.execute(f"PRAGMA {pragma}")
    ins = f"insert into outbox ({', '.join(OUTBOX_COLS)}) values ({', '.join('?' * len(OUTBOX_COLS))})"
    upd = f"update prompts set {', '.join(f'{c} = ?' for c in PROMPT_SET)} where id = ?"
    t0 = time.perf_counter()
    for part in pop.chunks(rows, batch):
        con.execute("BEGIN IMMEDIATE")
        con.executemany(ins, part)
        con.executemany(upd, [(*states[r[0].rsplit(":", 1)[0]], r[0].rsplit(":", 1)[0]) for r in part])
        con.execute("COMMIT")
    dt = time.perf_counter() - t0
    con.close()
    return dt


def _py(value: object, col: str) -> object:
    """A raw column value back to what the app hands SQLAlchemy (aware datetimes, dicts, bools)."""
    if value is None:
        return None
    if col == "payload":
        return json.loads(str(value))
    if col in ("in_doubt", "ambiguous"):
        return bool(value)
    if col in ("next_attempt_at", "lease_until", "stale_at", "created_at", "sent_at", "next_at", "claimed_until"):
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    return value


async def run_ceiling_app_driver(path: Path, rows: list[tuple], states: dict[str, tuple], batch: int) -> float:
    """The same minimal writes through the app's own stack (SQLAlchemy Core executemany on aiosqlite,
    `Database.write()` transactions): for information, next to the raw ceiling."""
    from sqlalchemy import Table, bindparam, insert, update

    from store.db import Database
    from store.models import OutboxRow, PromptRow

    outbox = [{c: _py(v, c) for c, v in zip(OUTBOX_COLS, r, strict=True)} for r in rows]
    changes = []
    for r in rows:
        pid = r[0].rsplit(":", 1)[0]
        changes.append({"b_id": pid, **{c: _py(v, c) for c, v in zip(PROMPT_SET, states[pid], strict=True)}})
    t = PromptRow.__table__
    assert isinstance(t, Table)
    ins = insert(OutboxRow.__table__)
    upd = update(t).where(t.c.id == bindparam("b_id")).values({c: bindparam(c) for c in PROMPT_SET})
    db = Database(f"sqlite:///{path}")
    try:
        t0 = time.perf_counter()
        for i in range(0, len(outbox), batch):
            async with db.write() as s:
                await s.execute(ins, outbox[i:i + batch])
                await s.execute(upd, changes[i:i + batch])
        return time.perf_counter() - t0
    finally:
        await db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--due", type=int, default=20000, help="due steps in the measured tick")
    ap.add_argument("--batch", type=int, default=500, help="due steps per transaction (process_due's batch)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--profile", action="store_true", help="cProfile one extra tick and print the top entries")
    ap.add_argument("--sort", default="cumulative", help="cProfile sort key")
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="hplj-ceiling-"))
    work.mkdir(parents=True, exist_ok=True)
    lib = pop.library()
    base = work / "base.db"
    t0 = time.perf_counter()
    counts = pop.build(base, args.due, args.due, lib=lib)
    warm = asyncio.run(pop.warmup(base, lib))
    con = sqlite3.connect(base)
    since = con.execute("select coalesce(max(id), 0) from outbox").fetchone()[0]
    due = con.execute("select count(*) from prompts where next_at <= ?", (pop._dt(pop.TICK_AT),)).fetchone()[0]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    print(f"set-up {time.perf_counter() - t0:.1f} s: {counts}, warm-up fired {warm}, due at tick {due}")

    ticks: list[float] = []
    ceilings: list[float] = []
    app_ceilings: list[float] = []
    for rep in range(args.repeats):
        a, b = work / "tick.db", work / "raw.db"
        copy_db(base, a)
        copy_db(base, b)
        dt, fired, queued = asyncio.run(run_tick(a, lib, args.batch))
        assert fired == due and queued == due, (fired, queued, due)
        rows, states = work_of_tick(a, since)
        assert len(rows) == due and len(states) == due
        raw = run_ceiling(b, rows, states, args.batch)
        copy_db(base, b)
        app = asyncio.run(run_ceiling_app_driver(b, rows, states, args.batch))
        ticks.append(due / dt)
        ceilings.append(due / raw)
        app_ceilings.append(due / app)
        print(f"repeat {rep + 1}: tick {dt:.3f} s = {due / dt:,.0f} steps/s; ceiling {raw:.3f} s = "
              f"{due / raw:,.0f} steps/s; ratio {raw / dt:.3f}; same writes via SQLAlchemy+aiosqlite "
              f"{app:.3f} s = {due / app:,.0f} steps/s")

    if args.profile:
        import cProfile
        import pstats

        a = work / "tick.db"
        copy_db(base, a)
        prof = cProfile.Profile()
        prof.enable()
        asyncio.run(run_tick(a, lib, args.batch))
        prof.disable()
        pstats.Stats(prof).sort_stats(args.sort).print_stats(45)

    tick, ceil = statistics.median(ticks), statistics.median(ceilings)
    # each repeat's tick and ceiling ran back to back: the median of those paired ratios is what
    # background load disturbs least
    ratio = statistics.median(t / c for t, c in zip(ticks, ceilings, strict=True))
    print()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    print(f"due steps per tick: {due}, batch {args.batch}, repeats {args.repeats} (medians)")
    print(f"tick (process_due)      : {tick:10,.0f} due steps/s")
    print(f"ceiling (minimal writes): {ceil:10,.0f} due steps/s")
    app_ratio = statistics.median(t / c for t, c in zip(ticks, app_ceilings, strict=True))
    print(f"(for information) the same minimal writes through SQLAlchemy Core + aiosqlite: "
          f"{statistics.median(app_ceilings):,.0f} due steps/s; tick / that = {app_ratio:.3f}")
    print(f"tick / ceiling (median of the paired ratios): {ratio:.3f}  target >= 0.5 (issue 25): "
          f"{'met' if ratio >= 0.5 else 'MISSED'}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
