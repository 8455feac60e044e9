"""Shared set-up for the engine benchmarks (engine_ceiling.py, growth.py, vs_apscheduler.py).

Builds a SQLite database (schema from the project's own Alembic migration) holding people enrolled
in the bundled `active-listening` journey, fast enough for 1,000,000 people: rows are written with
raw `sqlite3.executemany`, but their content is what `BotService.ensure_person` + `BotService.enroll`
write (people, enrollments, audit, prompts, journey_events, digests). The prompt schedule of each
cohort comes from the real `engine.schedule_enrollment` (computed once per cohort, then repeated
with each enrollment's ids). `verify()` proves the equivalence: it enrolls a few groups through the
real path, rebuilds the same people with the bulk writer into a second database and compares every
row of every table.

The instants (Europe/London, June 2027, no public holidays nearby):
- the due cohort starts on START; everyone is enrolled at ENROLL_AT (start-7, 08:00);
- WARMUP_AT (start-7, 09:30): a first tick fires the participants' `why-it-matters` (start-7
  09:00, the journey's first prompt, no reminder);
- TICK_AT (start-7, 10:05): exactly the due cohort's `focus-situation` (start-7 10:00) is due,
  one prompt per participant: the measured tick (a first send: rendered, queued, its reminder
  scheduled). Before 2026-12-05 the journey had no before-phase prompts at start-7 and these were
  start-5 10:30 / start-4 10:05 (the managers' `expectations`, then `why-it-matters`);
- every other cohort starts >= 3 weeks later, so none of its prompts is due at TICK_AT.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from journeys import engine, lifecycle, timekeeping
from journeys.definition import Journey
from journeys.loader import default_library_path, load_library
from journeys.state import EnrollmentState, Person

JOURNEY = "active-listening"
TZ = "Europe/London"
LONDON = ZoneInfo(TZ)
START = date(2027, 6, 15)  # a Tuesday
ENROLL_AT = datetime(2027, 6, 8, 8, 0, tzinfo=LONDON).astimezone(UTC)
WARMUP_AT = datetime(2027, 6, 8, 9, 30, tzinfo=LONDON).astimezone(UTC)
TICK_AT = datetime(2027, 6, 8, 10, 5, tzinfo=LONDON).astimezone(UTC)
GROUP = 10  # participants per manager


def library() -> dict[str, Journey]:
    return load_library(default_library_path())


# --- value formatting exactly as SQLAlchemy's SQLite types store them ---------------------------

def _dt(v: datetime | None) -> str | None:
    if v is None:
        return None
    v = v.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"


def _json(v: Any) -> str:
    return json.dumps(v)


def _hex() -> str:
    return os.urandom(8).hex()


@dataclass
class Group:
    manager: tuple[str, str]  # (person id, platform user id)
    participants: list[tuple[str, str, str]]  # (person id, platform user id, enrollment id)
    start: date


def make_groups(n_people: int, *, due: int, group: int = GROUP, spread_days: int = 200,
                prefix: str = "U") -> list[Group]:
    """`due` participants start on START; the rest start 3..3+spread_days weeks-ish later."""
    groups: list[Group] = []
    made = 0
    g = 0
    while made < n_people:
        size = min(group, n_people - made)
        if made < due:
            size = min(size, due - made)
            start = START
        else:
            start = START + timedelta(days=21 + (g % spread_days))
        mgr = (f"p_{_hex()}", f"{prefix}M{g:07d}")
        parts = [(f"p_{_hex()}", f"{prefix}P{made + i:08d}", f"e_{_hex()}") for i in range(size)]
        groups.append(Group(mgr, parts, start))
        made += size
        g += 1
    return groups


class BulkWriter:
    """Writes the rows `ensure_person` + `enroll` would write, with sqlite3.executemany."""

    def __init__(self, path: Path, lib: dict[str, Journey], now: datetime = ENROLL_AT) -> None:
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute("PRAGMA synchronous=OFF")
        self.con.execute("PRAGMA cache_size=-1500000")
        self.journey = lib[JOURNEY]
        self.now = now
        self._templates: dict[date, tuple[list[Any], Any]] = {}
        self._next_event = (self.con.execute("select coalesce(max(id),0) from journey_events").fetchone()[0]) + 1
        self._next_audit = (self.con.execute("select coalesce(max(id),0) from audit").fetchone()[0]) + 1

    def _template(self, start: date) -> tuple[list[Any], Any]:
        if start not in self._templates:
            person = Person("P", "P", TZ)
            manager = Person("M", "M", TZ)
            state = EnrollmentState("E", JOURNEY, person, manager, start, {}, "active", f"{JOURNEY}-{start.isoformat()}")
            out = engine.schedule_enrollment(self.journey, state, self.now)
            closing = lifecycle.closing_prompt(self.journey, state)  # as BotService.enroll adds it
            digest = timekeeping.next_digest_at(self.journey, manager, self.now)
            self._templates[start] = ([*out.prompts, *([closing] if closing else [])], digest)
        return self._templates[start]

    def write(self, groups: list[Group], *, chunk: int = 20000) -> None:
        now_s = _dt(self.now)
        con = self.con
        people: list[tuple[Any, ...]] = []
        enrollments: list[tuple[Any, ...]] = []
        audit: list[tuple[Any, ...]] = []
        prompts: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        digests: list[tuple[Any, ...]] = []

        def flush() -> None:
            con.execute("BEGIN")
            con.executemany(
                "INSERT INTO people (id, platform, platform_user_id, name, email, tz, tz_checked_at, country, "
                "subdivision, dm_id, address, greeted, opted_out_at, manager_id, created_at) "
                "VALUES (?, 'slack', ?, ?, NULL, ?, ?, NULL, NULL, NULL, 'null', 0, NULL, NULL, ?)", people)
            con.executemany(
                "INSERT INTO enrollments (id, journey_id, journey_version, person_id, manager_id, start, events, "
                "status, cohort, paused_at, created_at) VALUES (?, ?, ?, ?, ?, ?, '{}', 'active', ?, NULL, ?)",
                enrollments)
            con.executemany("INSERT INTO audit (id, at, actor_id, action, target_id, detail) "
                            "VALUES (?, ?, NULL, 'enroll', ?, ?)", audit)
            con.executemany(
                "INSERT INTO prompts (id, enrollment_id, step_id, recipient_id, status, due_at, next_at, mtm_id, "
                "reminders_sent, escalated, answers, sent_at, answered_at, deliveries, last_delivery_key, "
                "claimed_until) VALUES (?, ?, ?, ?, 'scheduled', ?, ?, NULL, 0, 0, '{}', NULL, NULL, 0, NULL, NULL)",
                prompts)
            con.executemany("INSERT INTO journey_events (id, kind, enrollment_id, prompt_id, at, data) "
                            "VALUES (?, 'enrolled', ?, NULL, ?, ?)", events)
            con.executemany("INSERT INTO digests (manager_id, journey_id, next_at, sent) VALUES (?, ?, ?, 0)", digests)
            con.execute("COMMIT")
            for rows in (people, enrollments, audit, prompts, events, digests):
                rows.clear()

        version = self.journey.version
        for g in groups:
            template, digest_at = self._template(g.start)
            tmpl = [(p.step_id, p.recipient_id == "M", _dt(p.due_at), _dt(p.next_at)) for p in template]
            cohort = f"{JOURNEY}-{g.start.isoformat()}"
            start_s = g.start.isoformat()
            mid, muid = g.manager
            people.append((mid, muid, f"Manager {muid}", TZ, now_s, now_s))
            for pid, puid, eid in g.participants:
                people.append((pid, puid, f"Person {puid}", TZ, now_s, now_s))
            for pid, _puid, eid in g.participants:
                enrollments.append((eid, JOURNEY, version, pid, mid, start_s, cohort, now_s))
                audit.append((self._next_audit, now_s, pid,
                              _json({"enrollment": eid, "journey": JOURNEY, "cohort": cohort})))
                self._next_audit += 1
                for step_id, to_manager, due_s, next_s in tmpl:
                    prompts.append((f"{eid}.{step_id}", eid, step_id, mid if to_manager else pid, due_s, next_s))
                events.append((self._next_event, eid, now_s, _json({"start": start_s})))
                self._next_event += 1
            digests.append((mid, JOURNEY, _dt(digest_at)))
            if len(prompts) >= chunk:
                flush()
        flush()

    def close(self) -> None:
        self.con.close()


async def migrate(path: Path) -> None:
    from store.db import Database
    from store.migrate import upgrade_async

    await upgrade_async(Database(f"sqlite:///{path}"))


def build(path: Path, n_people: int, due: int, *, lib: dict[str, Journey] | None = None,
          spread_days: int = 200) -> dict[str, int]:
    """A fresh database at `path` with `n_people` participants enrolled (plus one manager per GROUP)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    asyncio.run(migrate(path))
    lib = lib or library()
    groups = make_groups(n_people, due=due, spread_days=spread_days)
    w = BulkWriter(path, lib)
    w.write(groups)
    w.close()
    con = sqlite3.connect(path)
    counts = {t: con.execute(f"select count(*) from {t}").fetchone()[0]
              for t in ("people", "enrollments", "prompts", "journey_events", "audit", "digests")}
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return counts


async def warmup(path: Path, lib: dict[str, Journey]) -> int:
    """The earlier tick (WARMUP_AT) that fires the participants' first prompt, through process_due."""
    from scheduler.tick import process_due
    from store.db import Database
    from store.uow import UnitOfWorkFactory

    db = Database(f"sqlite:///{path}")
    try:
        r = await process_due(UnitOfWorkFactory(db), lib, WARMUP_AT)
        return r.fired
    finally:
        await db.dispose()


# --- equivalence with the real enrollment path --------------------------------------------------

def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    try:
        return sorted(con.execute(f"select * from {table}").fetchall(), key=repr)
    finally:
        con.close()


async def _real_enroll(path: Path, lib: dict[str, Journey], groups_spec: list[tuple[int, date]]) -> list[Group]:
    from adapters.memory import RecordingChat
    from bot.app.service import BotService
    from bot.services.clock import SimulatedClock
    from store.db import Database

    db = Database(f"sqlite:///{path}")
    svc = BotService(db, lib, {"slack": RecordingChat()}, SimulatedClock(ENROLL_AT))
    groups: list[Group] = []
    n = 0
    for gi, (size, start) in enumerate(groups_spec):
        muid = f"VM{gi:07d}"
        m = await svc.ensure_person("slack", muid, name=f"Manager {muid}", tz=TZ)
        parts = []
        for _ in range(size):
            puid = f"VP{n:08d}"
            n += 1
            p = await svc.ensure_person("slack", puid, name=f"Person {puid}", tz=TZ)
            parts.append((p.id, puid))
        res = await svc.enroll(JOURNEY, [p[0] for p in parts], m.id, start)
        eids = dict(res.enrolled)
        groups.append(Group((m.id, muid), [(pid, puid, eids[pid]) for pid, puid in parts], start))
    await db.dispose()
    return groups


def verify(workdir: Path, lib: dict[str, Journey] | None = None) -> list[str]:
    """Enroll a few groups through BotService, bulk-write the same people elsewhere, diff every row."""
    lib = lib or library()
    real, bulk = workdir / "verify-real.db", workdir / "verify-bulk.db"
    for p in (real, bulk):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
        asyncio.run(migrate(p))
    spec = [(GROUP, START), (3, START + timedelta(days=23)), (GROUP, START + timedelta(days=40))]
    groups = asyncio.run(_real_enroll(real, lib, spec))
    # same ids, and the same order of autoincrement ids as the real path (one enroll call per group)
    w = BulkWriter(bulk, lib)
    w.write(groups)
    w.close()
    problems = []
    for table in ("people", "enrollments", "prompts", "journey_events", "audit", "digests", "outbox"):
        a, b = _rows(real, table), _rows(bulk, table)
        if a != b:
            diff = [x for x in a if x not in b][:2], [x for x in b if x not in a][:2]
            problems.append(f"{table}: {len(a)} real vs {len(b)} bulk rows; first differences {diff}")
    return problems


def chunks(seq: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(verify(Path(d)) or "bulk rows == rows from BotService.enroll")
