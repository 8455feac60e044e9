"""Growth (issue 3, Benchmarks): tick time and worker memory with 1,000,000 vs 10,000 enrolled.

    .venv/bin/python bench/growth.py [--small 10000] [--large 1000000] [--due 1000] [--rounds 3]
                                     [--workdir DIR] [--reuse] [--database postgresql]

For each size a SQLite database (bench/population.py: the project's Alembic schema, rows identical
to what `BotService.enroll` writes, checked by `population.verify()` at the start of every run)
holds `--small` / `--large` participants enrolled in `active-listening` (one manager per 10, so
1,100,000 people, 1,000,000 enrollments and 17,000,000 prompts at the large size). Cohorts start on
many different days; at TICK_AT exactly `--due` prompts are due in both databases (the first
cohort's `focus-situation`), after a warm-up tick at WARMUP_AT fired the journey's first prompt.

The measured tick runs in a fresh worker process per size and round (`--child`): it opens the
database, loads the journey library, warms up like a running worker (an idle tick with nothing
due, the engine on an in-memory enrollment) and runs the real `scheduler.tick.process_due` at
TICK_AT, then reports the tick's wall time and its peak RSS (VmHWM of /proc/self/status, see `peak_rss_kb`).
The parent restores the touched rows afterwards (the due prompts, new outbox and event rows), so
every round ticks the same work. Sizes alternate within each round; medians are compared.
Targets: time(large)/time(small) <= 1.5 and peak RSS(large)/peak RSS(small) <= 1.5.

`--database postgresql` measures the same ticks on PostgreSQL: a throwaway server is started with
the installed binaries (the tests' own cluster helper), each SQLite database is copied into its own
PostgreSQL database with COPY (bench/pg_population.py) and the worker process ticks that one
(`--database postgresql://...` uses an existing server instead). Sizes are PostgreSQL's.

`--reuse` keeps the databases in `--workdir` between runs (building the large one takes minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import population as pop


def child(target: str, batch: int) -> None:
    """One worker process doing one tick; prints JSON with the tick time and the peak RSS."""
    import resource

    from journeys import engine, rendering
    from journeys.state import EnrollmentState, Person
    from scheduler.tick import process_due
    from store.db import Database
    from store.uow import UnitOfWorkFactory

    lib = pop.library()
    before = peak_rss_kb()

    async def run() -> tuple[float, int, int]:
        db = Database(target if target.startswith("postgresql") else f"sqlite:///{target}")
        try:
            # a worker that has been running: modules imported (the holidays tables load lazily),
            # statements compiled, connection tuned. An idle tick (nothing due at WARMUP_AT any
            # more) and the engine on an in-memory enrollment; neither touches the measured rows.
            await process_due(UnitOfWorkFactory(db), lib, pop.WARMUP_AT, batch=batch)
            me = Person("warm", "Warm Up", pop.TZ)
            state = EnrollmentState("warm", pop.JOURNEY, me, me, pop.START, {}, "active", "warm")
            for p in engine.schedule_enrollment(lib[pop.JOURNEY], state, pop.ENROLL_AT).prompts:
                rendering.render_prompt(lib[pop.JOURNEY], state, p, None)
            gc.collect()
            gc.freeze()  # as `hplj worker` does after start-up
            t0 = time.perf_counter()
            r = await process_due(UnitOfWorkFactory(db), lib, pop.TICK_AT, batch=batch)
            return time.perf_counter() - t0, r.fired, r.queued
        finally:
            await db.dispose()

    dt, fired, queued = asyncio.run(run())
    print(json.dumps({"seconds": dt, "fired": fired, "queued": queued, "maxrss_kb": peak_rss_kb(),
                      "maxrss_before_tick_kb": before, "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def peak_rss_kb() -> int:
    """This process's peak RSS. Not ru_maxrss: Linux carries the parent's high-water mark over
    fork+exec into it (the parent that built a 1,000,000-people database is big); VmHWM belongs to
    this process's own address space."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class Snapshot:
    """What one measured tick changes, so the next round can tick the same work again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        con = sqlite3.connect(path)
        try:
            at = pop._dt(pop.TICK_AT)
            self.cols = [r[1] for r in con.execute("pragma table_info(prompts)")]
            self.prompts = con.execute("select * from prompts where next_at is not null and next_at <= ?",
                                       (at,)).fetchall()
            self.outbox = con.execute("select coalesce(max(id), 0) from outbox").fetchone()[0]
            self.events = con.execute("select coalesce(max(id), 0) from journey_events").fetchone()[0]
        finally:
            con.close()

    def restore(self) -> None:
        con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("delete from outbox where id > ?", (self.outbox,))
            con.execute("delete from journey_events where id > ?", (self.events,))
            marks = ", ".join("?" * len(self.cols))
            con.executemany(f"insert or replace into prompts ({', '.join(self.cols)}) values ({marks})", self.prompts)
            con.execute("COMMIT")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()


class PgSnapshot:
    """`Snapshot` on PostgreSQL: the due prompt rows as typed records, put back with COPY."""

    def __init__(self, url: str) -> None:
        self.url = url
        asyncio.run(self._take())

    async def _take(self) -> None:
        import asyncpg

        con = await asyncpg.connect(self.url)
        try:
            self.prompts = await con.fetch("select * from prompts where next_at is not null and next_at <= $1",
                                           pop.TICK_AT.astimezone(UTC).replace(tzinfo=None))
            self.outbox = await con.fetchval("select coalesce(max(id), 0) from outbox")
            self.events = await con.fetchval("select coalesce(max(id), 0) from journey_events")
        finally:
            await con.close()

    def restore(self) -> None:
        asyncio.run(self._restore())

    async def _restore(self) -> None:
        import asyncpg

        con = await asyncpg.connect(self.url)
        try:
            async with con.transaction():
                await con.execute("delete from outbox where id > $1", self.outbox)
                await con.execute("delete from journey_events where id > $1", self.events)
                await con.execute("delete from prompts where id = any($1::text[])", [r["id"] for r in self.prompts])
                await con.copy_records_to_table("prompts", records=[tuple(r) for r in self.prompts],
                                                columns=list(self.prompts[0].keys()))
            await con.execute("VACUUM ANALYZE prompts, outbox, journey_events")  # every round from the same state
        finally:
            await con.close()


def prepare(work: Path, n: int, due: int, reuse: bool, lib: dict) -> tuple[Path, dict]:
    path = work / f"growth-{n}.db"
    meta_path = work / f"growth-{n}.json"
    if reuse and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("due") == due:
            print(f"reusing {path}: {meta['counts']}")
            return path, meta
    t0 = time.perf_counter()
    counts = pop.build(path, n, due, lib=lib)
    warm = asyncio.run(pop.warmup(path, lib))
    meta = {"n": n, "due": due, "counts": counts, "warmup_fired": warm, "build_s": time.perf_counter() - t0,
            "bytes": path.stat().st_size}
    meta_path.write_text(json.dumps(meta))
    print(f"built {path} in {meta['build_s']:.0f} s: {counts}, {meta['bytes'] / 1e9:.2f} GB, "
          f"warm-up tick fired {warm}")
    return path, meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--due", type=int, default=1000, help="due prompts in the measured tick")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse databases already built in --workdir")
    ap.add_argument("--database", default="sqlite",
                    help="sqlite (default), or postgresql: a throwaway server started here with the installed "
                         "binaries, or postgresql://... of a server to create the databases on")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.batch)
        return

    work = args.workdir or Path(tempfile.mkdtemp(prefix="hplj-growth-"))
    work.mkdir(parents=True, exist_ok=True)
    lib = pop.library()
    problems = pop.verify(work, lib)
    print("bulk rows vs BotService.enroll rows:", "identical" if not problems else problems)
    if problems:
        sys.exit(1)

    sizes = [args.small, args.large]
    dbs = {n: prepare(work, n, args.due, args.reuse, lib) for n in sizes}
    targets: dict[int, str] = {n: str(dbs[n][0]) for n in sizes}
    snaps: dict[int, Snapshot | PgSnapshot]
    if args.database.startswith("postgresql"):
        import pg_population

        server = args.database if "://" in args.database else pg_population.start_cluster()
        targets = {n: pg_population.copy(dbs[n][0], server, f"growth_{n}") for n in sizes}
        snaps = {n: PgSnapshot(targets[n]) for n in sizes}
        for n in sizes:  # report the PostgreSQL database's size, not the SQLite file it was copied from
            dbs[n][1]["bytes"] = pg_population.database_size(targets[n])
    else:
        snaps = {n: Snapshot(dbs[n][0]) for n in sizes}
    for n in sizes:
        assert len(snaps[n].prompts) == args.due, (n, len(snaps[n].prompts))

    results: dict[int, list[dict]] = {n: [] for n in sizes}
    for rnd in range(args.rounds):
        order = sizes if rnd % 2 == 0 else sizes[::-1]
        for n in order:
            out = subprocess.run([sys.executable, __file__, "--child", targets[n], "--batch", str(args.batch)],
                                 check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            snaps[n].restore()
            assert r["fired"] == args.due and r["queued"] == args.due, r
            results[n].append(r)
            print(f"round {rnd + 1}: {n:>9,} enrolled: tick {r['seconds'] * 1000:7.1f} ms, "
                  f"peak RSS {r['maxrss_kb'] / 1024:6.1f} MiB")

    t = {n: statistics.median(r["seconds"] for r in results[n]) for n in sizes}
    m = {n: statistics.median(r["maxrss_kb"] for r in results[n]) for n in sizes}
    small, large = sizes
    tr, mr = t[large] / t[small], m[large] / m[small]
    print()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, database: {args.database.split('://')[0]}")
    for n in sizes:
        c = dbs[n][1]["counts"]
        print(f"{n:>9,} enrolled ({c['people']:,} people, {c['prompts']:,} prompts, "
              f"{dbs[n][1]['bytes'] / 1e9:.2f} GB): tick for {args.due} due {t[n] * 1000:7.1f} ms, "
              f"peak worker RSS {m[n] / 1024:6.1f} MiB (medians of {args.rounds})")
    print(f"tick time   large/small = {tr:.2f}  target <= 1.5: {'met' if tr <= 1.5 else 'MISSED'}")
    print(f"peak memory large/small = {mr:.2f}  target <= 1.5: {'met' if mr <= 1.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
