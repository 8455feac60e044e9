"""One scheduler pass: claim due work, let the engine decide, queue the outbox, deliver.

`hplj tick --at` and the APScheduler job run exactly this. The database is the source of truth:
a pass claims due prompts in batches inside a write transaction (SKIP LOCKED on PostgreSQL, the
single-writer lock on SQLite), so concurrent passes never fire the same prompt twice, and the
outbox's unique delivery key catches any decision made twice anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from journeys import engine
from journeys.definition import Journey
from journeys.digest import ReportView, build_digest
from journeys.messages import Outgoing
from journeys.state import Outcome
from store.db import Database
from store.models import DigestRow, EnrollmentRow, HeartbeatRow, MtmRow, PromptRow
from store.repo import (
    due_prompts,
    load_enrollments,
    load_mtms,
    load_people,
    mtm_state,
    person_state,
    prompt_state,
    queue_outgoing,
    save_outcome,
)

log = logging.getLogger("hplj.tick")


@dataclass
class TickResult:
    fired: int = 0
    queued: int = 0
    digests: int = 0
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


async def process_due(db: Database, library: dict[str, Journey], now: datetime, *, batch: int = 500,
                      default_tz: str = "UTC") -> TickResult:
    """Turn every prompt due at `now` into outbox rows; cost follows the due work only."""
    result = TickResult()
    while True:
        async with db.write() as s:
            rows = await due_prompts(s, now, batch, skip_locked=not db.is_sqlite)
            if not rows:
                break
            enrollments = await load_enrollments(s, {r.enrollment_id for r in rows}, default_tz)
            mtms = await load_mtms(s, {r.mtm_id for r in rows if r.mtm_id})
            combined = Outcome()
            for r in rows:
                e = enrollments.get(r.enrollment_id)
                journey = library.get(e.journey_id) if e else None
                if e is None or journey is None:
                    log.warning("prompt %s has no loadable journey; parked", r.id)
                    r.next_at = None
                    continue
                out = engine.fire(journey, e, prompt_state(r), mtms.get(r.mtm_id or ""), now)
                for p in out.prompts:
                    if p.next_at is not None and p.next_at <= now and p.id == r.id:
                        # never spin on the same prompt within one pass
                        out.prompts[out.prompts.index(p)] = p.with_(next_at=now + timedelta(minutes=1))
                combined.extend(out)
            result.fired += len(rows)
            result.queued += await save_outcome(s, combined, now)
    result.digests = await process_digests(db, library, now, default_tz=default_tz)
    return result


async def process_digests(db: Database, library: dict[str, Journey], now: datetime, *,
                          default_tz: str = "UTC") -> int:
    sent = 0
    async with db.write() as s:
        stmt = select(DigestRow).where(DigestRow.next_at.is_not(None), DigestRow.next_at <= now).limit(200)
        if not db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        due = list((await s.execute(stmt)).scalars().all())
        for d in due:
            journey = library.get(d.journey_id)
            people = await load_people(s, [d.manager_id])
            if journey is None or d.manager_id not in people:
                await s.execute(delete(DigestRow).where(DigestRow.manager_id == d.manager_id,
                                                        DigestRow.journey_id == d.journey_id))
                continue
            manager = person_state(people[d.manager_id], default_tz)
            ids = (await s.execute(select(EnrollmentRow.id).where(
                EnrollmentRow.manager_id == d.manager_id, EnrollmentRow.journey_id == d.journey_id,
                EnrollmentRow.status.in_(("active", "paused"))))).scalars().all()
            enrollments = await load_enrollments(s, ids, default_tz)
            prompts = (await s.execute(select(PromptRow).where(PromptRow.enrollment_id.in_(ids)))).scalars().all()
            mtm_rows = (await s.execute(select(MtmRow).where(MtmRow.enrollment_id.in_(ids)))).scalars().all()
            reports = [ReportView(e, [prompt_state(p) for p in prompts if p.enrollment_id == e.id],
                                  [mtm_state(m) for m in mtm_rows if m.enrollment_id == e.id])
                       for e in enrollments.values()]
            cal = engine.calendar_for(journey, manager)
            tz = engine.tz_of(journey, manager)
            if not cal.is_open(now, tz):
                d.next_at = cal.next_open(now, tz)
                continue
            if not reports:
                await s.execute(delete(DigestRow).where(DigestRow.manager_id == d.manager_id,
                                                        DigestRow.journey_id == d.journey_id))
                continue
            message = build_digest(journey, manager, reports, now)
            if message is None:
                d.next_at = engine.next_digest_at(journey, manager, now + timedelta(hours=1))
                continue
            key = f"digest:{d.manager_id}:{d.journey_id}:{engine.local_date(now, tz).isoformat()}"
            sent += await queue_outgoing(s, Outcome(outgoing=[Outgoing(key, message)]), now)
            d.sent += 1
            d.next_at = engine.next_digest_at(journey, manager, now + timedelta(hours=1))
    return sent


async def heartbeat(db: Database, name: str, now: datetime, info: dict[str, object] | None = None) -> None:
    from store.repo import _insert

    async with db.write() as s:
        stmt = _insert(s)(HeartbeatRow).values(name=name, at=now, info=info or {})
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"at": stmt.excluded.at,
                                                                          "info": stmt.excluded.info})
        await s.execute(stmt)
