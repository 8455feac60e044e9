"""Loading engine state from rows and saving engine outcomes back, inside the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from journeys.state import EnrollmentState, JourneyEvent, MtmState, Outcome, Person, PromptState
from store.models import EnrollmentRow, EventRow, MtmRow, OutboxRow, PersonRow, PromptRow


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


def person_state(row: PersonRow, default_tz: str = "UTC") -> Person:
    return Person(row.id, row.name or row.platform_user_id, row.tz or default_tz, row.country, row.subdivision)


def _events_from_json(data: dict[str, Any]) -> dict[str, date]:
    return {k: date.fromisoformat(v) for k, v in (data or {}).items()}


def enrollment_state(row: EnrollmentRow, person: PersonRow, manager: PersonRow | None, default_tz: str) -> EnrollmentState:
    return EnrollmentState(
        id=row.id,
        journey_id=row.journey_id,
        person=person_state(person, default_tz),
        manager=person_state(manager, default_tz) if manager is not None else None,
        start=row.start,
        events=_events_from_json(row.events),
        status=row.status,  # type: ignore[arg-type]
        cohort=row.cohort,
        paused_at=row.paused_at,
    )


def prompt_state(row: PromptRow) -> PromptState:
    return PromptState(
        id=row.id, enrollment_id=row.enrollment_id, step_id=row.step_id, recipient_id=row.recipient_id,
        status=row.status,  # type: ignore[arg-type]
        due_at=row.due_at, next_at=row.next_at, mtm_id=row.mtm_id, reminders_sent=row.reminders_sent,
        escalated=row.escalated, answers=dict(row.answers or {}), sent_at=row.sent_at,
        answered_at=row.answered_at, deliveries=row.deliveries, last_delivery_key=row.last_delivery_key,
    )


def mtm_state(row: MtmRow) -> MtmState:
    return MtmState(
        id=row.id, enrollment_id=row.enrollment_id, plan_step_id=row.plan_step_id, practice=row.practice,
        situation=row.situation, when=row.when, behaviour=row.behaviour, share_plan=row.share_plan,
        status=row.status,  # type: ignore[arg-type]
        manager_response=row.manager_response,  # type: ignore[arg-type]
        manager_responded_at=row.manager_responded_at, planned_at=row.planned_at, reflection=row.reflection,
        rating=row.rating, share_reflection=row.share_reflection,
    )


_PROMPT_FIELDS = ("enrollment_id", "step_id", "recipient_id", "status", "due_at", "next_at", "mtm_id",
                  "reminders_sent", "escalated", "answers", "sent_at", "answered_at", "deliveries",
                  "last_delivery_key")
_MTM_FIELDS = ("enrollment_id", "plan_step_id", "practice", "situation", "when", "behaviour", "share_plan",
               "status", "manager_response", "manager_responded_at", "planned_at", "reflection", "rating",
               "share_reflection")


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def save_prompts(session: AsyncSession, prompts: Sequence[PromptState]) -> None:
    if not prompts:
        return
    ins = _insert(session)
    rows = [{"id": p.id, **{f: getattr(p, f) for f in _PROMPT_FIELDS}, "claimed_until": None} for p in prompts]
    # Batches keep each statement under the drivers' parameter limits.
    for i in range(0, len(rows), 500):
        stmt = ins(PromptRow).values(rows[i:i + 500])
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"], set_={f: stmt.excluded[f] for f in (*_PROMPT_FIELDS, "claimed_until")}
        )
        await session.execute(stmt)


async def save_mtms(session: AsyncSession, mtms: Sequence[MtmState]) -> None:
    if not mtms:
        return
    ins = _insert(session)
    stmt = ins(MtmRow).values([{"id": m.id, **{f: getattr(m, f) for f in _MTM_FIELDS}} for m in mtms])
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={f: stmt.excluded[f] for f in _MTM_FIELDS})
    await session.execute(stmt)


async def save_outcome(session: AsyncSession, outcome: Outcome, now: datetime) -> int:
    """Persist one engine decision; returns how many new outbox rows it queued."""
    for e in outcome.enrollments:
        await session.execute(
            update(EnrollmentRow).where(EnrollmentRow.id == e.id).values(
                status=e.status, paused_at=e.paused_at, start=e.start,
                events={k: v.isoformat() for k, v in e.events.items()},
            )
        )
    await save_prompts(session, outcome.prompts)
    await save_mtms(session, outcome.mtms)
    if outcome.cancel_pending_for:
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.enrollment_id.in_(outcome.cancel_pending_for), OutboxRow.state == "pending",
                   OutboxRow.replaces_key.is_(None))
            .values(state="cancelled", next_attempt_at=None)
        )
    await save_events(session, outcome.events)
    return await queue_outgoing(session, outcome, now)


async def save_events(session: AsyncSession, events: Iterable[JourneyEvent]) -> None:
    rows = [{"kind": e.kind, "enrollment_id": e.enrollment_id, "prompt_id": e.prompt_id, "at": e.at, "data": e.data}
            for e in events]
    if rows:
        await session.execute(_insert(session)(EventRow).values(rows))


async def queue_outgoing(session: AsyncSession, outcome: Outcome, now: datetime) -> int:
    if not outcome.outgoing:
        return 0
    enrollment_of = {p.id: p.enrollment_id for p in outcome.prompts}
    rows = []
    for o in outcome.outgoing:
        pid = o.message.prompt_id
        rows.append({
            "key": o.delivery_key,
            "recipient_id": o.message.recipient_id,
            "enrollment_id": enrollment_of.get(pid or "") or (pid.rsplit(".", 1)[0] if pid else None),
            "payload": o.message.to_json(),
            "replaces_key": o.replaces_key,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": max(now, datetime.fromisoformat(o.not_before_iso)) if o.not_before_iso else now,
            "stale_at": datetime.fromisoformat(o.stale_at_iso) if o.stale_at_iso else None,
            "created_at": now,
        })
    stmt = _insert(session)(OutboxRow).values(rows).on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def load_enrollments(session: AsyncSession, ids: Iterable[str], default_tz: str = "UTC") -> dict[str, EnrollmentState]:
    ids = list(set(ids))
    if not ids:
        return {}
    rows = (await session.execute(select(EnrollmentRow).where(EnrollmentRow.id.in_(ids)))).scalars().all()
    person_ids = {r.person_id for r in rows} | {r.manager_id for r in rows if r.manager_id}
    people = await load_people(session, person_ids)
    return {
        r.id: enrollment_state(r, people[r.person_id], people.get(r.manager_id or ""), default_tz) for r in rows
    }


async def load_people(session: AsyncSession, ids: Iterable[str]) -> dict[str, PersonRow]:
    ids = list(set(ids))
    if not ids:
        return {}
    rows = (await session.execute(select(PersonRow).where(PersonRow.id.in_(ids)))).scalars().all()
    return {r.id: r for r in rows}


async def load_mtms(session: AsyncSession, ids: Iterable[str]) -> dict[str, MtmState]:
    ids = list({i for i in ids if i})
    if not ids:
        return {}
    rows = (await session.execute(select(MtmRow).where(MtmRow.id.in_(ids)))).scalars().all()
    return {r.id: mtm_state(r) for r in rows}


async def due_prompts(session: AsyncSession, now: datetime, limit: int, skip_locked: bool) -> list[PromptRow]:
    """The due-work index: only prompts with `next_at <= now` are touched."""
    stmt = (select(PromptRow).where(PromptRow.next_at.is_not(None), PromptRow.next_at <= now)
            .order_by(PromptRow.next_at).limit(limit))
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).scalars().all())


async def next_due_at(session: AsyncSession) -> datetime | None:
    """The earliest moment any work is due (the demo's clock jumps straight there)."""
    from store.models import DigestRow

    a = (await session.execute(select(func.min(PromptRow.next_at)))).scalar()
    b = (await session.execute(select(func.min(DigestRow.next_at)))).scalar()
    c = (await session.execute(select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.state == "pending"))).scalar()
    vals = [v for v in (a, b, c) if v is not None]
    vals = [v if isinstance(v, datetime) and v.tzinfo else _utc(v) for v in vals]
    return min(vals) if vals else None


def _utc(v: Any) -> datetime:
    from datetime import timezone

    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    assert isinstance(v, datetime)
    return v.replace(tzinfo=timezone.utc)
