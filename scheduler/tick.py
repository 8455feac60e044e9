"""One scheduler pass: claim due work, let the engine decide, queue the outbox, deliver.

`hplj tick --at` and the APScheduler job run exactly this. The database is the source of truth:
a pass claims due prompts in batches inside a write transaction (SKIP LOCKED on PostgreSQL, the
single-writer lock on SQLite), so concurrent passes never fire the same prompt twice, and the
outbox's unique delivery key catches any decision made twice anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from journeys import engine, lifecycle
from journeys.definition import Journey
from journeys.ending import CLOSE_STEP
from journeys.escalation_groups import group_escalations, will_tell_manager
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
from journeys.state import EnrollmentState, MtmState, Outcome, PromptState
from scheduler import results
from scheduler.collections_paused import fewer_collections
from scheduler.roles import process_facilitators, with_endorsements
from store.people import PersonRecord
from store.records import DueDigest
from store.uow import AbstractUnitOfWork, PreparedSave, UnitsOfWork, WriteMark

log = logging.getLogger("hplj.tick")


@dataclass
class TickResult:
    fired: int = 0
    queued: int = 0
    digests: int = 0


async def process_due(units: UnitsOfWork, library: dict[str, Journey], now: datetime, *, batch: int = 500,
                      min_group: int = MIN_GROUP, pace: Callable[[], Awaitable[object]] | None = None) -> TickResult:
    """Turn every prompt due at `now` into outbox rows; cost follows the due work only.

    Each batch is claimed, decided and saved in one transaction. Where the store can (SQLite,
    store/overlap.py), the next batch is read before that transaction commits and decided while it
    commits; the next transaction uses those decisions only if nobody wrote in between, else it
    claims and decides again.

    `pace` (the web process's): awaited between batches, so requests that arrived while a batch
    was decided are answered before the next one holds the event loop."""
    with fewer_collections():
        result = await _process_prompts(units, library, now, batch, min_group, pace)
    result.digests = await process_digests(units, library, now, min_group=min_group)
    result.digests += await process_facilitators(units, library, now, min_group=min_group)
    return result


async def _process_prompts(units: UnitsOfWork, library: dict[str, Journey], now: datetime, batch: int,
                           min_group: int, pace: Callable[[], Awaitable[object]] | None) -> TickResult:
    result = TickResult()
    ahead: tuple[WriteMark, _Batch] | None = None
    first = True
    while True:
        if pace is not None and not first:
            await pace()  # a request that wrote meanwhile only costs the batch decided ahead
        first = False
        async with units() as uow:
            b = ahead[1] if ahead is not None and await uow.unchanged_since(ahead[0]) else None
            ahead = None
            if b is None:
                b = await _claim(uow, library, now, batch, min_group)
                if b is None:
                    break
                _decide(library, b, now)
            await uow.prompts.park(b.parked)
            result.fired += len(b.rows)
            result.queued += await uow.save(b.combined, now, loaded=b.loaded, prepared=b.prepared)
            mark = await uow.mark()
            following = await _claim(uow, library, now, batch, min_group) if mark is not None else None
            if mark is None or following is None:
                await uow.commit()
                if mark is None:
                    continue
                break  # nothing else was due as this batch committed
            await uow.commit_while(partial(_decide_ahead, uow, library, following, now))
            ahead = (mark, following)
    return result


@dataclass
class _Batch:
    """Claimed due prompts and everything the engine decides them from (read in one transaction);
    `_decide` fills in what to save."""

    rows: list[PromptState]
    enrollments: dict[str, EnrollmentState]
    mtms: dict[str, MtmState]
    closing: dict[str, tuple[list[PromptState], list[MtmState]]]
    achieved: dict[str, str]
    history: dict[str, list[PromptState]]  # the other prompts of enrollments that may escalate
    combined: Outcome = field(default_factory=Outcome)
    parked: list[str] = field(default_factory=list)
    prepared: PreparedSave | None = None  # the writes of `combined`, worked out ahead

    @property
    def loaded(self) -> dict[str, PromptState]:
        return {r.id: r for r in self.rows}


async def _claim(uow: AbstractUnitOfWork, library: dict[str, Journey], now: datetime, batch: int,
                 min_group: int) -> _Batch | None:
    """Claim up to `batch` due prompts and read what deciding them needs; None: nothing is due."""
    rows = await uow.prompts.due(now, batch)
    if not rows:
        return None
    enrollments = await with_endorsements(uow, library, rows,
                                          await uow.enrollments.states({r.enrollment_id for r in rows}))
    mtms = await uow.mtms.by_ids({r.mtm_id for r in rows if r.mtm_id})
    closing = await closing_context(uow, [r for r in rows if r.step_id == CLOSE_STEP])
    history = await _escalation_history(uow, library, enrollments, rows, now)
    achieved = await results.closing_lines(uow, library, enrollments.values(),
                                           [r for r in rows if r.step_id == CLOSE_STEP], now, min_group)
    return _Batch(rows, enrollments, mtms, closing, achieved, history)


def _decide(library: dict[str, Journey], b: _Batch, now: datetime) -> None:
    """The engine's decisions for a claimed batch (pure: no database, no await)."""
    for r in b.rows:
        e = b.enrollments.get(r.enrollment_id)
        journey = library.get(e.journey_id) if e else None
        if e is None or journey is None:
            log.warning("prompt %s has no loadable journey; parked", r.id)
            b.parked.append(r.id)
            continue
        if r.step_id == CLOSE_STEP:
            prompts, e_mtms = b.closing.get(e.id, ([], []))
            out = lifecycle.fire_close(journey, e, r, prompts, e_mtms, now, cohort_line=b.achieved.get(e.id, ""))
        else:
            out = engine.fire(journey, e, r, b.mtms.get(r.mtm_id or ""), now)
        for p in out.prompts:
            if p.next_at is not None and p.next_at <= now and p.id == r.id:
                # never spin on the same prompt within one pass
                out.prompts[out.prompts.index(p)] = p.with_(next_at=now + timedelta(minutes=1))
        b.combined.extend(out)
    group_manager_cards(library, b.enrollments, b.combined)
    group_escalations(library, b.enrollments, b.combined, now, b.history)


def _decide_ahead(uow: AbstractUnitOfWork, library: dict[str, Journey], b: _Batch, now: datetime) -> None:
    """`_decide`, and the writes of its decisions worked out too (while the previous batch commits)."""
    _decide(library, b, now)
    b.prepared = uow.prepare(b.combined, now, b.loaded)


async def _escalation_history(uow: AbstractUnitOfWork, library: dict[str, Journey],
                              enrollments: dict[str, EnrollmentState], rows: list[PromptState],
                              now: datetime) -> dict[str, list[PromptState]]:
    """All prompts of the enrollments whose participant may be escalated to their manager in this
    pass: a later escalation in one silence says since when (escalation_groups.still_silent).
    Read only for those few enrollments."""
    ids = sorted({r.enrollment_id for r in rows if (e := enrollments.get(r.enrollment_id)) is not None
                  and (j := library.get(e.journey_id)) is not None and will_tell_manager(j, e, r, now)})
    found: dict[str, list[PromptState]] = {i: [] for i in ids}
    if ids:
        for p in await uow.prompts.of_enrollments(ids):
            found[p.enrollment_id].append(p)
    return found


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
