"""Against the usual approach (issue 3, Benchmarks): one APScheduler job per prompt vs this design.

    .venv/bin/python bench/vs_apscheduler.py [--prompts 100000] [--aps-timeout 1500] [--workdir DIR]

The same prompts (participants enrolled in `active-listening`, one manager per 10; 17 prompts per
enrollment, so `--prompts` is rounded up to whole enrollments) go from enrollment to the outbox two
ways, one after the other in one run. People exist beforehand on both sides (not timed).

- this design: `BotService.enroll` (one call per manager's group of 10: enrollment, audit, prompt
  and event rows, the digest row) on a SQLite file with the project's schema, then the real
  `scheduler.tick.process_due` run at each moment work is due (the clock jumps from one due
  moment to the next, which is what a periodic tick sees, minus the idle ticks) until every prompt
  created at enrollment has left `scheduled`. That includes work the other side does not do:
  rendering every message, events, reminders for unanswered questions, escalations and weekly
  manager digests that fall due on the way.
- usual approach: the same prompt schedule (`engine.schedule_enrollment` for the same people), each
  prompt added as one `DateTrigger` job (`add_job(..., id=prompt id)`) to APScheduler 3's
  `SQLAlchemyJobStore` on a SQLite file with a `BackgroundScheduler` (default 10-thread pool),
  then fired; each job only inserts its outbox row (key, recipient, a tiny JSON payload) into a
  SQLite table and commits. Generous to it: nothing else is stored at enrollment, nothing is
  rendered, and the run dates are set to "now" (so it never waits for real time, like the jumping
  clock on the other side) with `misfire_grace_time=None` so no job is dropped as misfired.

Elapsed time per side and the ratio (target: this design >= 10x faster). If the APScheduler side
has not finished after `--aps-timeout` seconds it is stopped and the run reports how far it got and
the ratio as a lower bound; nothing is extrapolated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import population as pop

from journeys import engine
from journeys.state import EnrollmentState, Person

PER_ENROLLMENT = 17


def write_people(path: Path, groups: list[pop.Group]) -> None:
    """The rows `BotService.ensure_person` writes, for everyone in `groups` (before the clock starts)."""
    now_s = pop._dt(pop.ENROLL_AT)
    rows = []
    for g in groups:
        rows.append((g.manager[0], g.manager[1], f"Manager {g.manager[1]}", pop.TZ, now_s, now_s))
        rows.extend((pid, puid, f"Person {puid}", pop.TZ, now_s, now_s) for pid, puid, _ in g.participants)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO people (id, platform, platform_user_id, name, email, tz, tz_checked_at, country, subdivision, "
        "dm_id, address, greeted, opted_out_at, manager_id, created_at) "
        "VALUES (?, 'slack', ?, ?, NULL, ?, ?, NULL, NULL, NULL, 'null', 0, NULL, NULL, ?)", rows)
    con.execute("COMMIT")
    con.close()


# --- this design --------------------------------------------------------------------------------

async def run_hplj(path: Path, groups: list[pop.Group], lib: dict) -> dict:
    from sqlalchemy import func, select

    from adapters.memory import RecordingChat
    from bot.clock import SimulatedClock
    from bot.service import BotService
    from scheduler.tick import process_due
    from store.db import Database
    from store.models import DigestRow, PromptRow

    db = Database(f"sqlite:///{path}")
    clock = SimulatedClock(pop.ENROLL_AT)
    svc = BotService(db, lib, {"slack": RecordingChat()}, clock)
    t0 = time.perf_counter()
    prompts = 0
    for g in groups:
        res = await svc.enroll(pop.JOURNEY, [p[0] for p in g.participants], g.manager[0], g.start)
        prompts += res.prompts
    t_enrolled = time.perf_counter() - t0
    ticks = fired = queued = digests = 0
    async with db.read() as s:
        last_due = (await s.execute(select(func.max(PromptRow.due_at)))).scalar()
    at = pop.ENROLL_AT
    while True:
        async with db.read() as s:
            if at >= last_due:  # (counting `scheduled` scans the table: only once the last is due)
                left = (await s.execute(select(func.count()).select_from(PromptRow)
                                        .where(PromptRow.status == "scheduled"))).scalar_one()
                if left == 0:
                    break
            a = (await s.execute(select(func.min(PromptRow.next_at)))).scalar()
            b = (await s.execute(select(func.min(DigestRow.next_at)))).scalar()
        at = min(v for v in (a, b) if v is not None)
        clock.set(at)
        r = await process_due(db, lib, at)
        ticks += 1
        fired += r.fired
        queued += r.queued
        digests += r.digests
        if ticks > 10_000:
            raise RuntimeError("the clock does not converge")
    elapsed = time.perf_counter() - t0
    async with db.read() as s:
        from store.models import OutboxRow

        first = (await s.execute(select(func.count()).select_from(OutboxRow)
                                 .where(OutboxRow.key.like("%:1")))).scalar_one()
        expired = (await s.execute(select(func.count()).select_from(PromptRow)
                                   .where(PromptRow.status == "expired"))).scalar_one()
        outbox = (await s.execute(select(func.count()).select_from(OutboxRow))).scalar_one()
    await db.dispose()
    return {"seconds": elapsed, "enroll_seconds": t_enrolled, "prompts": prompts, "ticks": ticks,
            "first_deliveries": first, "expired": expired, "outbox_rows": outbox, "fired": fired,
            "digests": digests}


# --- the usual approach --------------------------------------------------------------------------

_OUT: dict[str, str] = {}
_local = threading.local()


def deliver(key: str, recipient_id: str) -> None:
    """The APScheduler job: put this prompt in the outbox (one insert, one commit)."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = sqlite3.connect(_OUT["path"], timeout=60)
    con.execute("insert into outbox (key, recipient_id, payload, created_at) values (?, ?, ?, ?)",
                (key, recipient_id, json.dumps({"prompt_id": key.rsplit(":", 1)[0]}),
                 datetime.now(UTC).isoformat()))
    con.commit()


def outbox_count(path: Path) -> int:
    con = sqlite3.connect(path, timeout=60)
    try:
        return int(con.execute("select count(*) from outbox").fetchone()[0])
    finally:
        con.close()


def run_apscheduler(work: Path, groups: list[pop.Group], lib: dict, timeout: float) -> dict:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    jobs_db, out_db = work / "apscheduler-jobs.sqlite", work / "apscheduler-outbox.sqlite"
    for p in (jobs_db, out_db):
        p.unlink(missing_ok=True)
    con = sqlite3.connect(out_db)
    con.execute("create table outbox (id integer primary key, key text unique, recipient_id text, payload text, "
                "created_at text)")
    con.commit()
    con.close()
    _OUT["path"] = str(out_db)
    journey = lib[pop.JOURNEY]
    sched = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{jobs_db}")},
                                job_defaults={"misfire_grace_time": None, "coalesce": False})
    sched.start(paused=True)  # add_job writes straight to the job store
    t0 = time.perf_counter()
    added = 0
    timed_out = False
    for g in groups:
        manager = Person(g.manager[0], f"Manager {g.manager[1]}", pop.TZ)
        for pid, puid, eid in g.participants:
            state = EnrollmentState(eid, pop.JOURNEY, Person(pid, f"Person {puid}", pop.TZ), manager, g.start, {},
                                    "active", f"{pop.JOURNEY}-{g.start.isoformat()}")
            for p in engine.schedule_enrollment(journey, state, pop.ENROLL_AT).prompts:
                # run "now" instead of at p.due_at: fired as soon as the scheduler runs
                sched.add_job(deliver, DateTrigger(datetime.now(UTC)), args=[f"{p.id}:1", p.recipient_id], id=p.id)
                added += 1
            if time.perf_counter() - t0 > timeout:
                timed_out = True
                break
        if timed_out:
            break
    t_added = time.perf_counter() - t0
    done = 0
    if not timed_out:
        sched.resume()
        while True:
            done = outbox_count(out_db)
            if done >= added or time.perf_counter() - t0 > timeout:
                break
            time.sleep(0.2)
        timed_out = done < added
    elapsed = time.perf_counter() - t0
    sched.shutdown(wait=False)
    done = outbox_count(out_db)
    return {"seconds": elapsed, "add_seconds": t_added, "added": added, "in_outbox": done, "timed_out": timed_out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompts", type=int, default=100_000, help="prompts (rounded up to whole enrollments)")
    ap.add_argument("--aps-timeout", type=float, default=1500.0, help="stop the APScheduler side after this")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="hplj-vs-aps-"))
    work.mkdir(parents=True, exist_ok=True)
    lib = pop.library()
    enrollments = math.ceil(args.prompts / PER_ENROLLMENT)
    groups = pop.make_groups(enrollments, due=enrollments)  # everyone starts on START
    n_prompts = enrollments * PER_ENROLLMENT
    print(f"{enrollments} enrollments ({sum(1 for _ in groups)} managers), {n_prompts} prompts")

    path = work / "hplj.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    asyncio.run(pop.migrate(path))
    write_people(path, groups)
    h = asyncio.run(run_hplj(path, groups, lib))
    assert h["prompts"] == n_prompts, h
    print(f"this design: {h['seconds']:.1f} s ({h['enroll_seconds']:.1f} s enrolling, {h['ticks']} ticks); "
          f"{h['first_deliveries']} prompts in the outbox + {h['expired']} expired by the staleness policy; "
          f"{h['outbox_rows']} outbox rows in all (reminders, escalations, {h['digests']} digests)")
    a = run_apscheduler(work, groups, lib, args.aps_timeout)
    print(f"APScheduler: {a['seconds']:.1f} s ({a['add_seconds']:.1f} s adding {a['added']} jobs); "
          f"{a['in_outbox']} prompts in the outbox" + ("  (STOPPED at --aps-timeout)" if a["timed_out"] else ""))

    ratio = a["seconds"] / h["seconds"]
    print()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    print(f"prompts: {n_prompts} ({enrollments} enrollments)")
    print(f"this design : {h['seconds']:8.1f} s  enrollment -> {h['first_deliveries'] + h['expired']} of "
          f"{n_prompts} prompts handled")
    print(f"APScheduler : {a['seconds']:8.1f} s  enrollment -> {a['in_outbox']} of {n_prompts} prompts in the outbox")
    bound = ">= " if a["timed_out"] else ""
    print(f"APScheduler / this design: {bound}{ratio:.1f}x  target >= 10x: {'met' if ratio >= 10 else 'MISSED'}"
          + (" (lower bound: APScheduler stopped unfinished)" if a["timed_out"] else ""))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
