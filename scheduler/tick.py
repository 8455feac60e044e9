"""One scheduler pass: claim due work, let the engine decide, queue the outbox, deliver.

`hplj tick --at` and the APScheduler job run exactly this. The database is the source of truth:
a pass claims due prompts in batches inside a write transaction (SKIP LOCKED on PostgreSQL, the
single-writer lock on SQLite), so concurrent passes never fire the same prompt twice, and the
outbox's unique delivery key catches any decision made twice anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from journeys import engine, lifecycle
from journeys.definition import Journey
from journeys.digest import build_digest
from journeys.ending import CLOSE_STEP
from journeys.manager_card import group_manager_cards
from journeys.messages import Outgoing
from journeys.state import MtmState, Outcome, PromptState
from store.db import Database
from store.models import DigestRow
from store.people import PersonRecord
from store.repo import person_state
from store.uow import UnitOfWork

log = logging.getLogger("hplj.tick")


@dataclass
class TickResult:
    fired: int = 0
    queued: int = 0
    digests: int = 0


async def process_due(db: Database, library: dict[str, Journey], now: datetime, *, batch: int = 500,
                      default_tz: str = "UTC", min_group: int | None = None) -> TickResult:
    """Turn every prompt due at `now` into outbox rows; cost follows the due work only."""
    result = TickResult()
    while True:
        async with UnitOfWork(db, default_tz=default_tz) as uow:
            rows = await uow.prompts.due(now, batch, skip_locked=not db.is_sqlite)
            if not rows:
                break
            enrollments = await uow.enrollments.states({r.enrollment_id for r in rows})
            mtms = await uow.mtms.by_ids({r.mtm_id for r in rows if r.mtm_id})
            combined = Outcome()
            parked: list[str] = []
            closing = await closing_context(uow, [r for r in rows if r.step_id == CLOSE_STEP])
            for r in rows:
                e = enrollments.get(r.enrollment_id)
                journey = library.get(e.journey_id) if e else None
                if e is None or journey is None:
                    log.warning("prompt %s has no loadable journey; parked", r.id)
                    parked.append(r.id)
                    continue
                if r.step_id == CLOSE_STEP:
                    prompts, e_mtms = closing.get(e.id, ([], []))
                    out = lifecycle.fire_close(journey, e, r, prompts, e_mtms, now)
                else:
                    out = engine.fire(journey, e, r, mtms.get(r.mtm_id or ""), now)
                for p in out.prompts:
                    if p.next_at is not None and p.next_at <= now and p.id == r.id:
                        # never spin on the same prompt within one pass
                        out.prompts[out.prompts.index(p)] = p.with_(next_at=now + timedelta(minutes=1))
                combined.extend(out)
            group_manager_cards(library, enrollments, combined)
            await uow.prompts.park(parked)
            result.fired += len(rows)
            result.queued += await uow.save(combined, now, loaded={r.id: r for r in rows})
            await uow.commit()
    result.digests = await process_digests(db, library, now, default_tz=default_tz, min_group=min_group)
    return result


async def closing_context(uow: UnitOfWork, rows: list[PromptState]
                          ) -> dict[str, tuple[list[PromptState], list[MtmState]]]:
    """All prompts and moments that matter of the enrollments whose closing prompt is due: what
    `lifecycle.fire_close` decides from (loaded only for those few enrollments)."""
    ids = sorted({r.enrollment_id for r in rows})
    if not ids:
        return {}
    found: dict[str, tuple[list[PromptState], list[MtmState]]] = {i: ([], []) for i in ids}
    for p in await uow.prompts.of_enrollments(ids):
        found[p.enrollment_id][0].append(p)
    for m in await uow.mtms.of_enrollments(ids):
        found[m.enrollment_id][1].append(m)
    return found


async def process_digests(db: Database, library: dict[str, Journey], now: datetime, *,
                          default_tz: str = "UTC", min_group: int | None = None) -> int:
    """Queue the weekly digests that are due: the digests table holds one row per manager and journey
    (`journey_id` = the journey's id) and one per senior leader and journey (`journey_id` =
    "leader:" + the journey's id; a journey id never contains ":"). A manager's due row also makes
    sure their own managers (the people row's `manager_id`, or the manager of an enrollment where
    the manager is a participant) have a leader row; a leader row is dropped once nobody below the
    leader has participants, and sends one last digest (the final results) once all of them have
    completed. Both kinds are sent in the recipient's working hours, at most
    once per local day (managers) or ISO week (leaders) through the outbox key.
    """
    import os

    from journeys.accountability import (
        build_accountability_digest,
        manager_follow_up,
        organisation_figures,
        request_steps,
    )
    from journeys.interviews import verdicts
    from journeys.kickoff import brief_at, build_leader_brief
    from journeys.value import leader_lines

    leader_prefix = "leader:"
    if min_group is None:
        raw = os.environ.get("HPLJ_MIN_GROUP", "")
        min_group = int(raw) if raw.strip().isdigit() and int(raw) > 0 else 5

    async def ensure_leader_rows(uow: UnitOfWork, journey: Journey, manager_row: PersonRecord) -> None:
        """The manager's own managers get a leader row, first due at their slot of this week."""
        above: set[str | None] = {manager_row.manager_id} | await uow.enrollments.managers_of(manager_row.id)
        above -= {None, manager_row.id}
        leaders = await uow.people.by_ids(a for a in above if a)
        if leaders and len(leader_prefix + journey.id) > 64:  # the digests.journey_id column
            log.warning("journey id %r is too long for senior-leader digests", journey.id)
            return
        for lid, lrow in leaders.items():
            first = engine.next_digest_at(journey, person_state(lrow, default_tz), now - timedelta(days=1))
            if first is None:
                continue
            await uow.digests.ensure(lid, leader_prefix + journey.id, first)

    async def leader_digest(uow: UnitOfWork, d: DigestRow) -> int:
        journey = library.get(d.journey_id.removeprefix(leader_prefix))
        people = await uow.people.by_ids([d.manager_id])
        if journey is None or journey.manager_digest is None or d.manager_id not in people:
            await uow.digests.drop(d)
            return 0
        leader = person_state(people[d.manager_id], default_tz)
        cal = engine.calendar_for(journey, leader)
        tz = engine.tz_of(journey, leader)
        if not cal.is_open(now, tz):
            d.next_at = cal.next_open(now, tz)
            return 0
        below = await uow.people.reporting_to(leader.id)
        below |= await uow.enrollments.participants_of(leader.id)
        below.discard(leader.id)
        rows = await uow.enrollments.under_managers(below, journey.id)
        live = any(status in ("active", "paused") for _, _, status in rows)
        if not live and not any(status == "completed" for _, _, status in rows):
            await uow.digests.drop(d)  # nobody below them is (still) in the journey
            return 0
        org: dict[str, list[str]] = {}
        for eid, mid, _ in rows:
            if mid is not None:
                org.setdefault(mid, []).append(eid)
        ids = [eid for eid, _, _ in rows]
        names = {m: r.name for m, r in (await uow.people.by_ids(org)).items()}
        starts = [s.start for s in (await uow.enrollments.states(
            [eid for eid, _, status in rows if status in ("active", "paused")])).values()]
        first = min(starts) if starts else None
        if first is not None and engine.local_date(now, tz) < first:
            # Before the start a leader gets the kickoff brief (once), never a digest of zeros.
            due = brief_at(journey, leader, first)
            start_slot = cal.local_slot(first, cal.day_start, tz) - timedelta(minutes=1)
            d.next_at = engine.next_digest_at(journey, leader, max(now, start_slot))
            if due is None or now < due:
                d.next_at = due if due is not None and due > now else d.next_at
                return 0
            brief = build_leader_brief(journey, leader, list(names.values()), len(starts), first)
            return await uow.queue(Outcome(outgoing=[Outgoing(
                f"leader-brief:{leader.id}:{journey.id}:{first.isoformat()}", brief, journey_id=journey.id)]), now)
        events = await uow.events.of_enrollments(ids)
        figures = organisation_figures(events, org, steps=request_steps(journey), min_group=min_group,
                                       as_of=now, calendar=cal, tz=tz)
        manager_steps = [s.id for s in journey.steps if s.kind in ("manager_task", "manager_request")]
        expectations = journey.manager_support.expectations
        follow = manager_follow_up(events, org, steps=manager_steps,
                                   expectation_steps=[expectations.step] if expectations else
                                   [s.id for s in journey.steps if s.kind == "manager_task"],
                                   min_group=min_group, as_of=now, calendar=cal, tz=tz)
        # once everyone below them has completed: this last digest (the final results), then none
        d.next_at = engine.next_digest_at(journey, leader, now + timedelta(hours=1)) if live else None
        opening = leader_lines(journey, figures, verdicts(events))  # the PPP first
        message = build_accountability_digest(journey, leader, figures, now, follow, names, opening)
        if message is None:
            return 0
        year, week, _ = engine.local_date(now, tz).isocalendar()
        key = f"leader:{leader.id}:{journey.id}:{year}-W{week:02d}"
        queued = await uow.queue(Outcome(outgoing=[Outgoing(
                key, message, journey_id=journey.id, topic=f"leader:{leader.id}:{journey.id}")]), now)
        d.sent += queued
        return queued

    sent = 0
    async with UnitOfWork(db, default_tz=default_tz) as uow:
        for d in await uow.digests.due(now):
            if d.journey_id.startswith(leader_prefix):
                sent += await leader_digest(uow, d)
                continue
            journey = library.get(d.journey_id)
            people = await uow.people.by_ids([d.manager_id])
            if journey is None or d.manager_id not in people:
                await uow.digests.drop(d)
                continue
            manager = person_state(people[d.manager_id], default_tz)
            await ensure_leader_rows(uow, journey, people[d.manager_id])
            ids = await uow.enrollments.managed_open(d.manager_id, d.journey_id)
            reports = await uow.views.digest_inputs(await uow.enrollments.states(ids), ids)
            cal = engine.calendar_for(journey, manager)
            tz = engine.tz_of(journey, manager)
            if not cal.is_open(now, tz):
                d.next_at = cal.next_open(now, tz)
                continue
            if not reports:
                await uow.digests.drop(d)
                continue
            message = build_digest(journey, manager, reports, now)
            if message is None:
                d.next_at = engine.next_digest_at(journey, manager, now + timedelta(hours=1))
                continue
            key = f"digest:{d.manager_id}:{d.journey_id}:{engine.local_date(now, tz).isoformat()}"
            sent += await uow.queue(Outcome(outgoing=[Outgoing(
                key, message, journey_id=journey.id, topic=f"digest:{d.manager_id}:{d.journey_id}")]), now)
            d.sent += 1
            d.next_at = engine.next_digest_at(journey, manager, now + timedelta(hours=1))
        await uow.commit()
    return sent


async def heartbeat(db: Database, name: str, now: datetime, info: dict[str, object] | None = None) -> None:
    async with UnitOfWork(db) as uow:
        await uow.heartbeats.beat(name, now, info)
        await uow.commit()
