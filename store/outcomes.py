"""Saving engine decisions: prompt, MTM and enrollment changes, events and outbox rows, in the
caller's transaction (`UnitOfWork.save` / `UnitOfWork.queue`)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeys.state import JourneyEvent, MtmState, Outcome, PromptState
from store import hotpath
from store.models import EnrollmentRow, EventRow, MtmRow, OutboxRow, PromptRow
from store.sql import dialect_insert as _insert


class OutcomesRepository:
    """Where engine decisions are written."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def save(self, outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState] | None = None,
                   prepared: PreparedSave | None = None) -> int:
        """Persist one engine decision; returns how many new outbox rows it queued.

        `loaded`: the prompts as read earlier in this transaction, when the caller has them (the tick);
        `prepared`: their writes worked out ahead (`prepare`).
        """
        return await _save_outcome(self._s, outcome, now, loaded, prepared)

    def prepare(self, outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState]) -> PreparedSave | None:
        """`save(outcome, now, loaded)`'s writes worked out now, without the database (pure)."""
        return prepare_save(outcome, now, loaded) if hotpath.fast(self._s) else None

    async def queue(self, outcome: Outcome, now: datetime) -> int:
        """Queue only the decision's outgoing messages (and its card change); returns how many were new."""
        return await _queue_outgoing(self._s, outcome, now)


_PROMPT_FIELDS = ("enrollment_id", "step_id", "recipient_id", "status", "due_at", "next_at", "mtm_id",
                  "reminders_sent", "escalated", "answers", "sent_at", "answered_at", "deliveries",
                  "last_delivery_key")
_MTM_FIELDS = ("enrollment_id", "plan_step_id", "practice", "situation", "when", "behaviour", "share_plan",
               "status", "manager_response", "manager_responded_at", "planned_at", "reflection", "rating",
               "share_reflection")


_E = cast(Table, EnrollmentRow.__table__)
# Built once (Core, not the ORM's bulk update, which re-plans each call): an answer that changes
# its enrollment (a manager's agreement, a consent) writes it with these.
_NOTES_FOR_UPDATE = select(_E.c.notes).where(_E.c.id == bindparam("b_id")).with_for_update()
_ENROLLMENT_UPDATE = update(_E).where(_E.c.id == bindparam("b_id")).values(
    {c: bindparam(c) for c in ("status", "paused_at", "start", "events", "notes")})
_UPSERTS: dict[tuple[Any, str, tuple[str, ...]], Any] = {}


def _upsert(session: AsyncSession, table: Any, fields: Sequence[str]) -> Any:
    """INSERT .. ON CONFLICT (id) DO UPDATE, built once per dialect and compiled once per process
    (building it costs about half a millisecond: `excluded` lays out the table's columns anew)."""
    insert = _insert(session)
    key = (insert, table.name, tuple(fields))
    stmt = _UPSERTS.get(key)
    if stmt is None:
        stmt = insert(table)
        stmt = _UPSERTS[key] = stmt.on_conflict_do_update(index_elements=["id"],
                                                          set_={f: stmt.excluded[f] for f in fields})
    return stmt


async def _save_prompts(session: AsyncSession, prompts: Sequence[PromptState]) -> None:
    if not prompts:
        return
    rows = [{"id": p.id, **{f: getattr(p, f) for f in _PROMPT_FIELDS}, "claimed_until": None} for p in prompts]
    # One cached statement run as an executemany: no per-row SQL compilation (the drivers batch it).
    await session.execute(_upsert(session, PromptRow.__table__, (*_PROMPT_FIELDS, "claimed_until")), rows)


def _prompt_changes(loaded: Mapping[str, PromptState], prompts: Sequence[PromptState]
                    ) -> tuple[list[PromptState], dict[tuple[str, ...], list[dict[str, Any]]]] | None:
    """The prompts not in `loaded` (new), and the others grouped by the fields that changed, each
    as the UPDATE's parameters; None when a prompt comes twice (the upsert keeps their order)."""
    if len({p.id for p in prompts}) != len(prompts):
        return None
    new: list[PromptState] = []
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for p in prompts:
        old = loaded.get(p.id)
        if old is None:
            new.append(p)
            continue
        now_, before = vars(p), vars(old)  # frozen dataclasses: their fields are their __dict__
        changed = tuple(f for f in _PROMPT_FIELDS if now_[f] != before[f])
        groups.setdefault(changed, []).append({"b_id": p.id, **{f: now_[f] for f in changed}})
    return new, groups


def _prompt_updater(changed: tuple[str, ...]) -> hotpath.RowWriter:
    return hotpath.updater(cast(Table, PromptRow.__table__), changed, key_param="b_id", fixed="claimed_until = NULL")


async def _save_prompt_changes(session: AsyncSession, loaded: Mapping[str, PromptState],
                              prompts: Sequence[PromptState]) -> None:
    """`_save_prompts` for prompts read in this same transaction (the tick's claim): the rows are
    locked and as loaded, so an UPDATE of the fields that changed writes the same result as the
    upsert, with a fraction of the parameters. Prompts not in `loaded` go through `_save_prompts`."""
    split = _prompt_changes(loaded, prompts)
    if split is None:
        await _save_prompts(session, prompts)  # the same prompt twice: keep the upsert's order
        return
    new, groups = split
    await _save_prompts(session, new)
    t = cast(Table, PromptRow.__table__)
    if hotpath.fast(session):
        for changed, rows in groups.items():
            await _prompt_updater(changed).run(session, rows)
        return
    for changed, rows in groups.items():
        stmt = (update(t).where(t.c.id == bindparam("b_id"))
                .values(claimed_until=None, **{f: bindparam(f) for f in changed}))
        await session.execute(stmt, rows)


async def _save_mtms(session: AsyncSession, mtms: Sequence[MtmState]) -> None:
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


async def _save_outcome(session: AsyncSession, outcome: Outcome, now: datetime,
                       loaded: Mapping[str, PromptState] | None = None, prepared: PreparedSave | None = None) -> int:
    """Persist one engine decision; returns how many new outbox rows it queued.

    `loaded`: the prompts as read earlier in this transaction, when the caller has them (the tick).
    `prepared`: `prepare_save`'s result for them, when the caller worked it out ahead.
    """
    if loaded is not None and hotpath.fast(session):
        prepared = prepared or prepare_save(outcome, now, loaded)
        if prepared is not None:
            return await _run_prepared(session, prepared)
    for e in outcome.enrollments:
        notes = e.notes
        if notes:  # merged into what is stored now: a participant and their manager may answer at once
            current = (await session.execute(_NOTES_FOR_UPDATE, {"b_id": e.id})).scalar_one_or_none()
            notes = _merged_notes(current or {}, notes)
        await session.execute(_ENROLLMENT_UPDATE, {
            "b_id": e.id, "status": e.status, "paused_at": e.paused_at, "start": e.start,
            "events": {k: v.isoformat() for k, v in e.events.items()}, "notes": notes or None})
    if loaded is not None:
        await _save_prompt_changes(session, loaded, outcome.prompts)
    else:
        await _save_prompts(session, outcome.prompts)
    await _save_mtms(session, outcome.mtms)
    if outcome.cancel_pending_for:
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.enrollment_id.in_(outcome.cancel_pending_for), OutboxRow.state == "pending",
                   OutboxRow.replaces_key.is_(None))
            .values(state="cancelled", next_attempt_at=None)
        )
    await _save_events(session, outcome.events)
    return await _queue_outgoing(session, outcome, now)


def _event_rows(events: Iterable[JourneyEvent]) -> list[dict[str, Any]]:
    return [{"kind": e.kind, "enrollment_id": e.enrollment_id, "prompt_id": e.prompt_id, "at": e.at, "data": e.data}
            for e in events]


async def _save_events(session: AsyncSession, events: Iterable[JourneyEvent]) -> None:
    rows = _event_rows(events)
    if rows and hotpath.fast(session):
        await _EVENT_INSERT.run(session, rows)
    elif rows:
        await session.execute(_insert(session)(EventRow.__table__), rows)


_EVENTS = cast(Table, EventRow.__table__)
_EVENT_INSERT = hotpath.inserter(_EVENTS, ("kind", "enrollment_id", "prompt_id", "at", "data"))
_OUTBOX = cast(Table, OutboxRow.__table__)
_OUTBOX_COLUMNS = ("key", "recipient_id", "enrollment_id", "payload", "replaces_key", "state", "attempts",
                   "next_attempt_at", "stale_at", "created_at", "journey_id", "at_once", "topic")
_OUTBOX_INSERT = hotpath.inserter(_OUTBOX, _OUTBOX_COLUMNS, conflict_nothing="key")


_REPLACED_WHY = "replaced by a newer one"
# The same UPDATE on SQLite's driver: one per batch of the tick, with a topic per prompt.
_REPLACED = ("UPDATE outbox SET state = 'cancelled', next_attempt_at = NULL, error = ? "
             "WHERE topic IN ({topics}) AND state = 'pending' AND key NOT IN ({keys})")
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


def _outbox_rows(outcome: Outcome, now: datetime) -> tuple[list[dict[str, Any]], set[str]]:
    """The outbox rows of a decision's messages (the card change too, unless the application
    showed it in place), and the topics whose older waiting message they replace."""
    outgoing = outcome.queued()
    enrollment_of = {p.id: p.enrollment_id for p in outcome.prompts} if outgoing else {}
    rows = []
    for o in outgoing:
        pid = o.message.prompt_id
        rows.append({
            "key": o.delivery_key,
            "recipient_id": o.message.recipient_id,
            "enrollment_id": (o.enrollment_id or enrollment_of.get(pid or "")
                              or (pid.rsplit(".", 1)[0] if pid else None)),
            "payload": o.message,  # serialised once, when written: == o.message.to_json()
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
    return rows, {o.topic for o in outgoing if o.topic}


def _replaced(topics: set[str], rows: Sequence[Mapping[str, Any]]) -> tuple[str, tuple[Any, ...]]:
    """SQLite's UPDATE cancelling the messages still waiting on these topics, but for `rows`."""
    keys = [r["key"] for r in rows]
    return (_REPLACED.format(topics=", ".join("?" * len(topics)), keys=", ".join("?" * len(keys))),
            (_REPLACED_WHY, *topics, *keys))


async def _queue_outgoing(session: AsyncSession, outcome: Outcome, now: datetime) -> int:
    rows, topics = _outbox_rows(outcome, now)
    if not rows:
        return 0
    if topics and hotpath.fast(session):
        # A newer digest replaces one still waiting (e.g. held through an outage): never both.
        await hotpath.run_sql(session, *_replaced(topics, rows))
    elif topics:
        await session.execute(update(OutboxRow).where(OutboxRow.topic.in_(topics), OutboxRow.state == "pending",
                                                      OutboxRow.key.not_in([r["key"] for r in rows]))
                              .values(state="cancelled", next_attempt_at=None, error=_REPLACED_WHY))
    if hotpath.fast(session):
        # plain tuples on the driver; the row count of INSERT .. ON CONFLICT DO NOTHING counts the
        # rows really inserted (a key seen before is skipped)
        return await _OUTBOX_INSERT.run(session, rows)
    for r in rows:
        r["payload"] = _plain(r["payload"])
    # executemany of one cached statement; RETURNING counts the rows really inserted (a key seen
    # before is skipped by ON CONFLICT DO NOTHING and returns nothing).
    stmt = (_insert(session)(OutboxRow.__table__).on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxRow.__table__.c.key))
    result = await session.execute(stmt, rows)
    return len(result.all())


@dataclass(frozen=True)
class PreparedSave:
    """A tick decision's writes on SQLite's driver, worked out without the database (so while the
    previous batch commits, store/overlap.py): statements with their parameter tuples, in the
    order `_save_outcome` runs them, then the outbox insert, whose row count is what was queued."""

    statements: tuple[tuple[str, list[tuple[Any, ...]]], ...]
    outbox: list[tuple[Any, ...]]


def prepare_save(outcome: Outcome, now: datetime, loaded: Mapping[str, PromptState]) -> PreparedSave | None:
    """The writes of a decision on prompts all read in the saving transaction (the tick's), for
    SQLite's driver; None when it needs more than prompt updates, events and outbox rows."""
    if outcome.enrollments or outcome.mtms or outcome.cancel_pending_for:
        return None
    split = _prompt_changes(loaded, outcome.prompts)
    if split is None or split[0]:
        return None
    statements = []
    for changed, changes in split[1].items():
        writer = _prompt_updater(changed)
        statements.append((writer.sql, writer.tuples(changes)))
    events = _event_rows(outcome.events)
    if events:
        statements.append((_EVENT_INSERT.sql, _EVENT_INSERT.tuples(events)))
    rows, topics = _outbox_rows(outcome, now)
    if rows and topics:
        sql, replaced = _replaced(topics, rows)
        statements.append((sql, [replaced]))
    return PreparedSave(tuple(statements), _OUTBOX_INSERT.tuples(rows) if rows else [])


async def _run_prepared(session: AsyncSession, prepared: PreparedSave) -> int:
    for sql, params in prepared.statements:
        await hotpath.run_many(session, sql, params)
    return await hotpath.run_many(session, _OUTBOX_INSERT.sql, prepared.outbox) if prepared.outbox else 0
