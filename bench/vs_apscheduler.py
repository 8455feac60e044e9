"""Against the usual approach (issue 3, Benchmarks): one APScheduler job per prompt vs this design.

    .venv/bin/python bench/vs_apscheduler.py [--prompts 100000] [--aps-timeout 1500] [--workdir DIR]

The same prompts (participants enrolled in `active-listening`, one manager per 10; 17 prompts per
enrollment, so `--prompts` is rounded up to whole enrollments) go from enrollment to the outbox two
ways, one after the other in one run. People exist beforehand on both sides (not timed).

- this design: `BotService.enroll` (one call per manager's group of 10: enrollment, audit, prompt
  and event rows, the digest row) on a SQLite file with the project's schema, then the real
  `scheduler.tick.process_due` run at each moment work is due (the clock jumps from one due
  moment to the next, which is what a periodic tick sees, minus the idle ticks) until every prompt
  has nothing left to do (every prompt sent, reminded, escalated as the engine decides). On the
  way it also does work the other side does not: the weekly manager digests that fall due.
- usual approach: the same bot, but one APScheduler 3 `DateTrigger` job per prompt in a
  `SQLAlchemyJobStore` on a SQLite file (`AsyncIOScheduler`): the same `BotService.enroll`, then
  `add_job(fire_prompt, ..., id=prompt id)` for each prompt it created; each job, when fired, does
  that prompt's work through the same engine and store in its own transaction (load the prompt
  and its enrollment, `engine.fire` as of the prompt's due moment, save prompt, event and outbox
  row), at most 10 at a time (APScheduler's default pool size); when the engine asks to come back
  (a reminder, an escalation), the job adds the next job for that prompt. The run dates are set to "now", so it never waits for real time
  (like the jumping clock on the other side), with `misfire_grace_time=None` so no job is dropped
  as misfired. Both sides end with the same rendered message for every prompt in the outbox.

Elapsed time per side and the ratio (target: this design >= 10x faster). If the APScheduler side
has not finished after `--aps-timeout` seconds it is stopped and the run reports how far it got and
the ratio as a lower bound; nothing is extrapolated.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import population as pop

from journeys import engine

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
    from bot.app.service import BotService
    from bot.services.clock import SimulatedClock
    from scheduler.tick import process_due
    from store.db import Database
    from store.models import DigestRow, PromptRow
    from store.uow import UnitOfWorkFactory

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
    while True:
        async with db.read() as s:
            a = (await s.execute(select(func.min(PromptRow.next_at)))).scalar()
            b = (await s.execute(select(func.min(DigestRow.next_at)))).scalar()
        if a is None:  # no prompt has anything left to do (sends, reminders, escalations)
            break
        at = min(v for v in (a, b) if v is not None)
        clock.set(at)
        r = await process_due(UnitOfWorkFactory(db), lib, at)
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

_DB: dict[str, Any] = {}


async def fire_prompt(prompt_id: str, at_iso: str) -> None:
    """The APScheduler job: this one prompt's moment has come. The same work the tick does for it,
    through the same engine and store, in its own transaction: load the prompt and its enrollment,
    `engine.fire` at the job's scheduled moment, save the outcome (prompt, event, outbox row)."""
    from store.uow import UnitOfWork

    at = datetime.fromisoformat(at_iso)
    try:
        # the gate is like a pool of 10 worker threads: not 100,000 connections at once
        async with _DB["gate"], UnitOfWork(_DB["db"]) as uow:
            p = await uow.prompts.get(prompt_id)
            assert p is not None
            enrollment = (await uow.enrollments.states([p.enrollment_id]))[p.enrollment_id]
            out = engine.fire(_DB["lib"][enrollment.journey_id], enrollment, p, None, at)
            await uow.save(out, at)
            await uow.commit()
        after = next((q for q in out.prompts if q.id == prompt_id), None)
        if after is not None and after.next_at is not None:
            # a reminder / escalation / a moment outside working hours: the next job for this prompt
            schedule(prompt_id, after.next_at)
    finally:
        _DB["pending"] -= 1


def schedule(prompt_id: str, at: datetime) -> None:
    from apscheduler.triggers.date import DateTrigger

    # run "now" instead of at `at`: fired as soon as the scheduler runs; the job still acts as of
    # `at` (the simulated clock the other side jumps through)
    _DB["sched"].add_job(fire_prompt, DateTrigger(datetime.now(UTC)), args=[prompt_id, at.isoformat()],
                         id=f"{prompt_id}@{at.isoformat()}")
    _DB["pending"] += 1


async def run_apscheduler(work: Path, groups: list[pop.Group], lib: dict, timeout: float) -> dict:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from sqlalchemy import func, select

    from adapters.memory import RecordingChat
    from bot.app.service import BotService
    from bot.services.clock import SimulatedClock
    from store.db import Database
    from store.models import OutboxRow, PromptRow

    jobs_db, path = work / "apscheduler-jobs.sqlite", work / "apscheduler-bot.db"
    for p in (jobs_db, path):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
    await pop.migrate(path)
    write_people(path, groups)
    db = Database(f"sqlite:///{path}")
    _DB.update(db=db, lib=lib, gate=asyncio.Semaphore(10))
    svc = BotService(db, lib, {"slack": RecordingChat()}, SimulatedClock(pop.ENROLL_AT))
    sched = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{jobs_db}")},
                             job_defaults={"misfire_grace_time": None, "coalesce": False})
    sched.start(paused=True)  # add_job writes straight to the job store
    _DB.update(sched=sched, pending=0)
    t0 = time.perf_counter()
    added = 0
    timed_out = False
    for g in groups:
        res = await svc.enroll(pop.JOURNEY, [p[0] for p in g.participants], g.manager[0], g.start)
        async with db.read() as s:
            prompts = (await s.execute(select(PromptRow.id, PromptRow.due_at).where(
                PromptRow.enrollment_id.in_([eid for _, eid in res.enrolled])))).all()
        for pid, due in prompts:
            schedule(pid, due)
            added += 1
        if time.perf_counter() - t0 > timeout:
            timed_out = True
            break
    t_added = time.perf_counter() - t0
    if not timed_out:
        sched.resume()
        while _DB["pending"] > 0 and time.perf_counter() - t0 <= timeout:
            await asyncio.sleep(0.2)
        timed_out = _DB["pending"] > 0
    elapsed = time.perf_counter() - t0
    sched.shutdown(wait=False)
    async with db.read() as s:
        first = (await s.execute(select(func.count()).select_from(OutboxRow)
                                 .where(OutboxRow.key.like("%:1")))).scalar_one()
        outbox = (await s.execute(select(func.count()).select_from(OutboxRow))).scalar_one()
    await db.dispose()
    return {"seconds": elapsed, "add_seconds": t_added, "added": added, "in_outbox": first, "outbox_rows": outbox,
            "timed_out": timed_out}


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
    a = asyncio.run(run_apscheduler(work, groups, lib, args.aps_timeout))
    print(f"APScheduler: {a['seconds']:.1f} s ({a['add_seconds']:.1f} s enrolling and adding {a['added']} jobs); "
          f"{a['in_outbox']} prompts in the outbox; {a['outbox_rows']} outbox rows in all (reminders, escalations)"
          + ("  (STOPPED at --aps-timeout)" if a["timed_out"] else ""))

    ratio = a["seconds"] / h["seconds"]
    print()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    print(f"prompts: {n_prompts} ({enrollments} enrollments)")
    print(f"this design : {h['seconds']:8.1f} s  enrollment -> {h['first_deliveries']} of {n_prompts} prompts in the "
          f"outbox ({h['expired']} expired), {h['outbox_rows']} outbox rows with reminders, escalations, digests")
    print(f"APScheduler : {a['seconds']:8.1f} s  enrollment -> {a['in_outbox']} of {n_prompts} prompts in the "
          f"outbox, {a['outbox_rows']} outbox rows with reminders and escalations")
    bound = ">= " if a["timed_out"] else ""
    print(f"APScheduler / this design: {bound}{ratio:.1f}x  target >= 10x: {'met' if ratio >= 10 else 'MISSED'}"
          + (" (lower bound: APScheduler stopped unfinished)" if a["timed_out"] else ""))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
