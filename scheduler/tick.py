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
from journeys.ending import CLOSE_STEP
from journeys.escalation_groups import group_escalations
from journeys.evaluation.success_case import MIN_GROUP
from journeys.manager_card import group_manager_cards
from journeys.schedule import (
    DigestDecision,
    LeaderView,
    closed_until,
    first_leader_slot,
    leader_brief,
    leader_digest,
    leader_gone,
    manager_digest,
)
from journeys.state import MtmState, Outcome, PromptState
from scheduler import results
from scheduler.roles import process_facilitators, with_endorsements
from store.people import PersonRecord
from store.records import DueDigest
from store.uow import AbstractUnitOfWork, UnitsOfWork

log = logging.getLogger("hplj.tick")


@dataclass
class TickResult:
    fired: int = 0
    queued: int = 0
    digests: int = 0


async def process_due(units: UnitsOfWork, library: dict[str, Journey], now: datetime, *, batch: int = 500,
                      min_group: int = MIN_GROUP) -> TickResult:
    """Turn every prompt due at `now` into outbox rows; cost follows the due work only."""
    result = TickResult()
    while True:
        async with units() as uow:
            rows = await uow.prompts.due(now, batch)
            if not rows:
                break
            enrollments = await with_endorsements(uow, library, rows,
                                                  await uow.enrollments.states({r.enrollment_id for r in rows}))
            mtms = await uow.mtms.by_ids({r.mtm_id for r in rows if r.mtm_id})
            combined = Outcome()
            parked: list[str] = []
            closing = await closing_context(uow, [r for r in rows if r.step_id == CLOSE_STEP])
            achieved = await results.closing_lines(uow, library, enrollments.values(),
                                                   [r for r in rows if r.step_id == CLOSE_STEP], now, min_group)
            for r in rows:
                e = enrollments.get(r.enrollment_id)
                journey = library.get(e.journey_id) if e else None
                if e is None or journey is None:
                    log.warning("prompt %s has no loadable journey; parked", r.id)
                    parked.append(r.id)
                    continue
                if r.step_id == CLOSE_STEP:
                    prompts, e_mtms = closing.get(e.id, ([], []))
                    out = lifecycle.fire_close(journey, e, r, prompts, e_mtms, now, cohort_line=achieved.get(e.id, ""))
                else:
                    out = engine.fire(journey, e, r, mtms.get(r.mtm_id or ""), now)
                for p in out.prompts:
                    if p.next_at is not None and p.next_at <= now and p.id == r.id:
                        # never spin on the same prompt within one pass
                        out.prompts[out.prompts.index(p)] = p.with_(next_at=now + timedelta(minutes=1))
                combined.extend(out)
            group_manager_cards(library, enrollments, combined)
            group_escalations(library, enrollments, combined, now)
            await uow.prompts.park(parked)
            result.fired += len(rows)
            result.queued += await uow.save(combined, now, loaded={r.id: r for r in rows})
            await uow.commit()
    result.digests = await process_digests(units, library, now, min_group=min_group)
    result.digests += await process_facilitators(units, library, now, min_group=min_group)
    return result


async def closing_context(uow: AbstractUnitOfWork, rows: list[PromptState]
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


async def process_digests(units: UnitsOfWork, library: dict[str, Journey], now: datetime, *,
                          min_group: int = MIN_GROUP) -> int:
    """Queue the digests that are due (journeys/schedule.py decides; this claims, loads and saves).

    A manager's due row also makes sure their own managers (the people row's `manager_id`, or the
    manager of an enrollment where the manager is a participant) have a leader row."""
    sent = 0
    async with units() as uow:
        for d in await uow.digests.due(now):
            journey = library.get(d.journey_id)
            people = await uow.people.by_ids([d.recipient_id])
            recipient = people.get(d.recipient_id)
            if journey is None or recipient is None or (d.kind == "leader" and journey.manager_digest is None):
                await uow.digests.drop(d)
                continue
            if d.kind == "leader":
                decision = await _leader(uow, journey, recipient, now, min_group)
            else:
                await _ensure_leader_rows(uow, journey, recipient, now)
                ids = await uow.enrollments.managed_open(d.recipient_id, d.journey_id)
                reports = await uow.views.digest_inputs(await uow.enrollments.states(ids), ids)
                decision = manager_digest(journey, uow.people.state(recipient), reports, now)
                if decision.drop:  # nobody of theirs left in the journey: their scorecard (scheduler/results.py)
                    decision = await results.manager_after_end(uow, journey, uow.people.state(recipient), now,
                                                               min_group)
            sent += await _save(uow, d, decision, now)
        await uow.commit()
    return sent


async def _save(uow: AbstractUnitOfWork, d: DueDigest, decision: DigestDecision, now: datetime) -> int:
    if decision.drop:
        await uow.digests.drop(d)
        return 0
    queued = 0
    if decision.outgoing is not None:
        queued = await uow.queue(Outcome(outgoing=[decision.outgoing]), now)
    await uow.digests.reschedule(d, decision.next_at, sent=queued)
    return queued


async def _ensure_leader_rows(uow: AbstractUnitOfWork, journey: Journey, manager: PersonRecord,
                              now: datetime) -> None:
    """The manager's own managers get a leader row, first due at their slot of this week."""
    above: set[str | None] = {manager.manager_id} | await uow.enrollments.managers_of(manager.id)
    above -= {None, manager.id}
    for lid, leader in (await uow.people.states(a for a in above if a)).items():
        first = first_leader_slot(journey, leader, now)
        if first is not None:
            await uow.digests.ensure(lid, journey.id, first, kind="leader")


async def _leader(uow: AbstractUnitOfWork, journey: Journey, record: PersonRecord, now: datetime,
                  min_group: int) -> DigestDecision:
    """Load what a senior leader's row decides from, in steps: nothing more than the decision needs."""
    leader = uow.people.state(record)
    closed = closed_until(journey, leader, now)
    if closed is not None:
        return DigestDecision(closed)
    below = await uow.people.reporting_to(leader.id)
    below |= await uow.enrollments.participants_of(leader.id)
    below.discard(leader.id)
    rows = await uow.enrollments.under_managers(below, journey.id)
    if leader_gone(LeaderView(rows, {}, [])):
        return DigestDecision(None, drop=True)
    managers = {mid for _, mid, _ in rows if mid is not None}
    names = {m: r.name for m, r in (await uow.people.by_ids(managers)).items()}
    starts = [s.start for s in (await uow.enrollments.states(
        [eid for eid, _, status in rows if status in ("active", "paused")])).values()]
    view = LeaderView(rows, names, starts)
    brief = leader_brief(journey, leader, view, now)
    if brief is not None:
        return brief
    if not view.live:  # everyone below completed: the last weekly digest with the managers' scorecards, then
        # the final digest (scheduler/results.py)
        return await results.leader_after_end(uow, journey, leader, view, now, min_group, lambda events: leader_digest(
            journey, leader, view, events, now, min_group=min_group))
    events = await uow.events.of_enrollments([eid for eid, _, _ in rows])
    return leader_digest(journey, leader, view, events, now, min_group=min_group)


async def heartbeat(units: UnitsOfWork, name: str, now: datetime, info: dict[str, object] | None = None) -> None:
    async with units() as uow:
        await uow.heartbeats.beat(name, now, info)
        await uow.commit()
