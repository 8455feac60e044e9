"""Loading engine state from rows and saving engine outcomes back, inside the caller's transaction."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeys.state import EnrollmentState, JourneyEvent, MtmState, Outcome, Person, PromptState
from store.models import EnrollmentRow, EventRow, MtmRow, OutboxRow, PersonRow, PromptRow
from store.person_calendar import work_pattern
from store.sql import dialect_insert as _insert


class PersonColumns(Protocol):
    """What engine state needs of a stored person (an ORM row, a Core row or a PersonRecord)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def platform_user_id(self) -> str: ...
    @property
    def tz(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def subdivision(self) -> str | None: ...


def person_state(row: PersonColumns, default_tz: str = "UTC") -> Person:
    days, start, end = work_pattern(row)
    return Person(row.id, row.name or row.platform_user_id, row.tz or default_tz, row.country, row.subdivision,
                  work_days=days, work_start=start, work_end=end)


def _events_from_json(data: dict[str, Any]) -> dict[str, date]:
    return {k: date.fromisoformat(v) for k, v in (data or {}).items()}


def enrollment_state(row: Any, person: PersonColumns, manager: PersonColumns | None,
                     default_tz: str, leader: PersonColumns | None = None) -> EnrollmentState:
    """From an enrollments row (ORM or Core); `leader`: the manager's own manager, if loaded."""
    return EnrollmentState(
        id=row.id,
        journey_id=row.journey_id,
        person=person_state(person, default_tz),
        manager=person_state(manager, default_tz) if manager is not None else None,
        start=row.start,
        events=_events_from_json(row.events),
        status=row.status,
        cohort=row.cohort,
        paused_at=row.paused_at,
        leader=person_state(leader, default_tz) if leader is not None else None,
        notes=dict(getattr(row, "notes", None) or {}),
    )


def prompt_state(row: Any) -> PromptState:
    """From a prompts row (ORM or Core)."""
    return PromptState(
        id=row.id, enrollment_id=row.enrollment_id, step_id=row.step_id, recipient_id=row.recipient_id,
        status=row.status,
        due_at=row.due_at, next_at=row.next_at, mtm_id=row.mtm_id, reminders_sent=row.reminders_sent,
        escalated=row.escalated, answers=dict(row.answers or {}), sent_at=row.sent_at,
        answered_at=row.answered_at, deliveries=row.deliveries, last_delivery_key=row.last_delivery_key,
    )


def mtm_state(row: Any) -> MtmState:
    """From an mtms row (ORM or Core)."""
    return MtmState(
        id=row.id, enrollment_id=row.enrollment_id, plan_step_id=row.plan_step_id, practice=row.practice,
        situation=row.situation, when=row.when, behaviour=row.behaviour, share_plan=row.share_plan,
        status=row.status,
        manager_response=row.manager_response,
        manager_responded_at=row.manager_responded_at, planned_at=row.planned_at, reflection=row.reflection,
        rating=row.rating, share_reflection=row.share_reflection,
    )


_PROMPT_FIELDS = ("enrollment_id", "step_id", "recipient_id", "status", "due_at", "next_at", "mtm_id",
                  "reminders_sent", "escalated", "answers", "sent_at", "answered_at", "deliveries",
                  "last_delivery_key")
_MTM_FIELDS = ("enrollment_id", "plan_step_id", "practice", "situation", "when", "behaviour", "share_plan",
               "status", "manager_response", "manager_responded_at", "planned_at", "reflection", "rating",
               "share_reflection")


def _upsert(session: AsyncSession, table: Any, fields: Sequence[str]) -> Any:
    """INSERT .. ON CONFLICT (id) DO UPDATE, built once per call and compiled once per process."""
    stmt = _insert(session)(table)
    return stmt.on_conflict_do_update(index_elements=["id"], set_={f: stmt.excluded[f] for f in fields})


async def save_prompts(session: AsyncSession, prompts: Sequence[PromptState]) -> None:
    if not prompts:
        return
    rows = [{"id": p.id, **{f: getattr(p, f) for f in _PROMPT_FIELDS}, "claimed_until": None} for p in prompts]
    # One cached statement run as an executemany: no per-row SQL compilation (the drivers batch it).
    await session.execute(_upsert(session, PromptRow.__table__, (*_PROMPT_FIELDS, "claimed_until")), rows)


async def save_prompt_changes(session: AsyncSession, loaded: Mapping[str, PromptState],
                              prompts: Sequence[PromptState]) -> None:
    """`save_prompts` for prompts read in this same transaction (the tick's claim): the rows are
    locked and as loaded, so an UPDATE of the fields that changed writes the same result as the
    upsert, with a fraction of the parameters. Prompts not in `loaded` go through `save_prompts`."""
    if len({p.id for p in prompts}) != len(prompts):
        await save_prompts(session, prompts)  # the same prompt twice: keep the upsert's order
        return
    new: list[PromptState] = []
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for p in prompts:
        old = loaded.get(p.id)
        if old is None:
            new.append(p)
            continue
        changed = tuple(f for f in _PROMPT_FIELDS if getattr(p, f) != getattr(old, f))
        groups.setdefault(changed, []).append({"b_id": p.id, **{f: getattr(p, f) for f in changed}})
    await save_prompts(session, new)
    t = cast(Table, PromptRow.__table__)
    for changed, rows in groups.items():
        stmt = (update(t).where(t.c.id == bindparam("b_id"))
                .values(claimed_until=None, **{f: bindparam(f) for f in changed}))
        await session.execute(stmt, rows)


async def save_mtms(session: AsyncSession, mtms: Sequence[MtmState]) -> None:
    if not mtms:
        return
    ins = _insert(session)
    stmt = ins(MtmRow).values([{"id": m.id, **{f: getattr(m, f) for f in _MTM_FIELDS}} for m in mtms])
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={f: stmt.excluded[f] for f in _MTM_FIELDS})
    await session.execute(stmt)


def _merged_notes(stored: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """An enrollment's notes only grow (journeys/expectations.py: consent, shared answers, the
    agreement), so a decision made on an older copy adds its keys instead of dropping others'."""
    merged = dict(stored)
    for key, value in new.items():
        old = merged.get(key)
        merged[key] = {**old, **value} if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


async def save_outcome(session: AsyncSession, outcome: Outcome, now: datetime,
                       loaded: Mapping[str, PromptState] | None = None) -> int:
    """Persist one engine decision; returns how many new outbox rows it queued.

    `loaded`: the prompts as read earlier in this transaction, when the caller has them (the tick).
    """
    for e in outcome.enrollments:
        notes = e.notes
        if notes:  # merged into what is stored now: a participant and their manager may answer at once
            current = (await session.execute(select(EnrollmentRow.notes).where(EnrollmentRow.id == e.id)
                                              .with_for_update())).scalar_one_or_none()
            notes = _merged_notes(current or {}, notes)
        await session.execute(
            update(EnrollmentRow).where(EnrollmentRow.id == e.id).values(
                status=e.status, paused_at=e.paused_at, start=e.start,
                events={k: v.isoformat() for k, v in e.events.items()}, notes=notes or None,
            )
        )
    if loaded is not None:
        await save_prompt_changes(session, loaded, outcome.prompts)
    else:
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
        await session.execute(_insert(session)(EventRow.__table__), rows)


_LEAF_TYPES = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """What `dataclasses.asdict` returns (so what `Message.to_json()` returns), several times faster:
    immutable leaves are taken as they are instead of deep-copied one call at a time. The outbox
    payload of every due prompt goes through here, so it is the tick's hottest helper."""
    cls = type(value)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        if cls is tuple or cls is list:
            return cls([v if type(v) in _LEAF_TYPES else _plain(v) for v in value])
        if cls is dict:
            return {_plain(k): (v if type(v) in _LEAF_TYPES else _plain(v)) for k, v in value.items()}
        if not is_dataclass(value) or isinstance(value, type):
            return copy.deepcopy(value)
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(value))
    out = {}
    for name in names:
        v = getattr(value, name)
        out[name] = v if type(v) in _LEAF_TYPES else _plain(v)
    return out


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
            "enrollment_id": (o.enrollment_id or enrollment_of.get(pid or "")
                              or (pid.rsplit(".", 1)[0] if pid else None)),
            "payload": _plain(o.message),  # == o.message.to_json()
            "replaces_key": o.replaces_key,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": max(now, datetime.fromisoformat(o.not_before_iso)) if o.not_before_iso else now,
            "stale_at": datetime.fromisoformat(o.stale_at_iso) if o.stale_at_iso else None,
            "created_at": now,
            "journey_id": o.journey_id,
            "at_once": o.at_once or o.replaces_key is not None,
            "topic": o.topic,
        })
    topics = {o.topic for o in outcome.outgoing if o.topic}
    if topics:
        # A newer digest replaces one still waiting (e.g. held through an outage): never both.
        await session.execute(update(OutboxRow).where(OutboxRow.topic.in_(topics), OutboxRow.state == "pending",
                                                      OutboxRow.key.not_in([r["key"] for r in rows]))
                              .values(state="cancelled", next_attempt_at=None, error="replaced by a newer one"))
    # executemany of one cached statement; RETURNING counts the rows really inserted (a key seen
    # before is skipped by ON CONFLICT DO NOTHING and returns nothing), on SQLite and PostgreSQL alike.
    stmt = (_insert(session)(OutboxRow.__table__).on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxRow.__table__.c.key))
    result = await session.execute(stmt, rows)
    return len(result.all())


async def load_enrollments(session: AsyncSession, ids: Iterable[str], default_tz: str = "UTC") -> dict[str, EnrollmentState]:
    ids = list(set(ids))
    if not ids:
        return {}
    # Core rows, not ORM objects: only engine state is built from them, nothing is written back.
    rows = (await session.execute(select(*EnrollmentRow.__table__.c).where(EnrollmentRow.id.in_(ids)))).all()
    person_ids = list({r.person_id for r in rows} | {r.manager_id for r in rows if r.manager_id})
    people = {p.id: p for p in (await session.execute(select(*_PERSON_STATE_COLS, PersonRow.manager_id).where(
        PersonRow.id.in_(person_ids)))).all()} if person_ids else {}
    # the managers' own managers: the senior leaders escalations go to
    leader_of = {mid: people[mid].manager_id for mid in {r.manager_id for r in rows if r.manager_id}
                 if mid in people and people[mid].manager_id and people[mid].manager_id != mid}
    missing = [lid for lid in set(leader_of.values()) if lid not in people]
    if missing:
        people.update({p.id: p for p in (await session.execute(select(*_PERSON_STATE_COLS, PersonRow.manager_id)
                                                               .where(PersonRow.id.in_(missing)))).all()})
    leader_of = await _above_their_managers(session, leader_of, people)
    return {
        r.id: enrollment_state(r, people[r.person_id], people.get(r.manager_id or ""), default_tz,
                               people.get(leader_of.get(r.manager_id or "", "") or ""))
        for r in rows
    }


async def _above_their_managers(session: AsyncSession, leader_of: dict[str, str], people: dict[str, Any]
                                ) -> dict[str, str]:
    """Only leaders really above their manager: not someone who reports to the manager or is
    enrolled under them (a bent chain stored before the chain checks existed); their escalation
    would tell a participant about a peer. Those managers get no leader at all."""
    if not leader_of:
        return leader_of
    below = {(a, b) for a, b in (await session.execute(select(EnrollmentRow.person_id, EnrollmentRow.manager_id).where(
        EnrollmentRow.person_id.in_(list(set(leader_of.values()))), EnrollmentRow.manager_id.in_(list(leader_of)),
        EnrollmentRow.status.in_(("active", "paused"))))).all()}
    return {m: leader for m, leader in leader_of.items()
            if (leader, m) not in below and getattr(people.get(leader), "manager_id", None) != m}


_PERSON_STATE_COLS = (PersonRow.id, PersonRow.name, PersonRow.platform_user_id, PersonRow.tz, PersonRow.country,
                      PersonRow.subdivision, PersonRow.work_days, PersonRow.work_start, PersonRow.work_end)


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


async def due_prompt_states(session: AsyncSession, now: datetime, limit: int, skip_locked: bool) -> list[PromptState]:
    """Prompts due at `now`, earliest first, as engine state read as Core rows (the tick's hot path:
    no ORM objects); `skip_locked` lets several workers claim side by side on PostgreSQL."""
    t = PromptRow.__table__
    stmt = select(*t.c).where(t.c.next_at.is_not(None), t.c.next_at <= now).order_by(t.c.next_at).limit(limit)
    if skip_locked:
        stmt = stmt.with_for_update(skip_locked=True)
    return [prompt_state(r) for r in (await session.execute(stmt)).all()]


async def park_prompts(session: AsyncSession, ids: Sequence[str]) -> None:
    """Nothing more is due for these prompts (their journey or enrollment cannot be loaded)."""
    if ids:
        await session.execute(update(PromptRow).where(PromptRow.id.in_(list(ids))).values(next_at=None))


async def next_due_at(session: AsyncSession) -> datetime | None:
    """The earliest moment any work is due (the demo's clock jumps straight there)."""
    from store.models import DigestRow

    a = (await session.execute(select(func.min(PromptRow.next_at)))).scalar()
    b = (await session.execute(select(func.min(DigestRow.next_at)))).scalar()
    c = (await session.execute(select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.state == "pending"))).scalar()
    vals = [v for v in (a, b, c) if v is not None]
    vals = [as_utc(v) for v in vals]
    return min(vals) if vals else None


def as_utc(v: Any) -> datetime:
    """A datetime read back from the database (SQLite gives naive values, or text from aggregates)."""
    if isinstance(v, datetime) and v.tzinfo:
        return v
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    assert isinstance(v, datetime)
    return v.replace(tzinfo=UTC)
