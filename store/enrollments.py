"""Enrollments, their prompts and moments that matter, read as engine state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeys.state import EnrollmentState, JourneyEvent, MtmState, Person, PromptState
from store import hotpath
from store.mappers import enrollment_record, enrollment_state, mtm_state, prompt_state
from store.models import EnrollmentRow, EventRow, MtmRow, PersonRow, PromptRow
from store.people import PersonRecord
from store.records import EnrollmentRecord
from store.sql import new_id

_E = cast(Table, EnrollmentRow.__table__)
_P = cast(Table, PromptRow.__table__)
_M = cast(Table, MtmRow.__table__)
# The hot path's reads, built once (Core: rows, no ORM identity map).
_PROMPT_BY_ID = select(_P).where(_P.c.id == bindparam("id"))
_ENROLLMENT_BY_ID = select(_E).where(_E.c.id == bindparam("id"))
_MTM_BY_ID = select(_M).where(_M.c.id == bindparam("id"))
_PROMPT_EXISTS = select(_P.c.id).where(_P.c.id == bindparam("id"))
_OPEN_STATUSES = ("active", "paused")
_PERSON_STATE_COLS = (PersonRow.id, PersonRow.name, PersonRow.platform_user_id, PersonRow.tz, PersonRow.country,
                      PersonRow.subdivision, PersonRow.work_days, PersonRow.work_start, PersonRow.work_end)
# The same reads on SQLite's driver (store/hotpath.py): the tick's claim and its enrollments.
_PROMPT_STATE_COLS = ("id", "enrollment_id", "step_id", "recipient_id", "status", "due_at", "next_at", "mtm_id",
                      "reminders_sent", "escalated", "answers", "sent_at", "answered_at", "deliveries",
                      "last_delivery_key")
_DUE_READER = hotpath.RowReader(_P, _PROMPT_STATE_COLS)
_ENROLLMENT_READER = hotpath.RowReader(_E, [c.name for c in _E.columns])
_PEOPLE_READER = hotpath.RowReader(cast(Table, PersonRow.__table__),
                                   [*(c.key for c in _PERSON_STATE_COLS), "manager_id"])


class EnrollmentsRepository:
    def __init__(self, session: AsyncSession, default_tz: str) -> None:
        self._s = session
        self._tz = default_tz

    async def record(self, enrollment_id: str) -> EnrollmentRecord | None:
        """The enrollment's columns, or None."""
        if hotpath.fast(self._s):
            row = await _ENROLLMENT_READER.first(self._s, "id = ?", (enrollment_id,))
        else:
            row = (await self._s.execute(_ENROLLMENT_BY_ID, {"id": enrollment_id})).first()
        return enrollment_record(row) if row is not None else None

    async def states(self, ids: Iterable[str]) -> dict[str, EnrollmentState]:
        """Engine state of these enrollments, with their participant, manager and senior leader."""
        ids = list(set(ids))
        if not ids:
            return {}
        # Core rows, not ORM objects: only engine state is built from them, nothing is written back.
        rows = await self._rows(ids)
        person_ids = list({r.person_id for r in rows} | {r.manager_id for r in rows if r.manager_id})
        people = {p.id: p for p in await self._people(person_ids)}
        # the managers' own managers: the senior leaders escalations go to
        leader_of = {mid: people[mid].manager_id for mid in {r.manager_id for r in rows if r.manager_id}
                     if mid in people and people[mid].manager_id and people[mid].manager_id != mid}
        missing = [lid for lid in set(leader_of.values()) if lid not in people]
        if missing:
            people.update({p.id: p for p in await self._people(missing)})
        leader_of = await self._above_their_managers(leader_of, people)
        built: dict[str, Person] = {}  # each person's engine state once (a manager has about ten reports)
        return {
            r.id: enrollment_state(r, people[r.person_id], people.get(r.manager_id or ""), self._tz,
                                   people.get(leader_of.get(r.manager_id or "", "") or ""), built)
            for r in rows
        }

    async def _rows(self, ids: list[str]) -> Sequence[Any]:
        if hotpath.fast(self._s):
            return await _ENROLLMENT_READER.by_ids(self._s, ids)
        return (await self._s.execute(select(*_E.c).where(_E.c.id.in_(ids)))).all()

    async def _people(self, ids: list[str]) -> Sequence[Any]:
        """What engine state needs of these people, and their own manager."""
        if not ids:
            return []
        if hotpath.fast(self._s):
            return await _PEOPLE_READER.by_ids(self._s, ids)
        return (await self._s.execute(select(*_PERSON_STATE_COLS, PersonRow.manager_id).where(
            PersonRow.id.in_(ids)))).all()

    async def _above_their_managers(self, leader_of: dict[str, str], people: dict[str, Any]) -> dict[str, str]:
        """Only leaders really above their manager: not someone who reports to the manager or is
        enrolled under them (a bent chain stored before the chain checks existed); their escalation
        would tell a participant about a peer. Those managers get no leader at all."""
        if not leader_of:
            return leader_of
        below = {(a, b) for a, b in (await self._s.execute(select(_E.c.person_id, _E.c.manager_id).where(
            _E.c.person_id.in_(list(set(leader_of.values()))), _E.c.manager_id.in_(list(leader_of)),
            _E.c.status.in_(_OPEN_STATUSES)))).all()}
        return {m: leader for m, leader in leader_of.items()
                if (leader, m) not in below and getattr(people.get(leader), "manager_id", None) != m}

    def state(self, record: EnrollmentRecord, person: PersonRecord, manager: PersonRecord | None) -> EnrollmentState:
        """Engine state of an enrollment whose people the caller has already read (no leader)."""
        return enrollment_state(record, person, manager, self._tz)

    async def add(self, *, journey_id: str, version: int, person_id: str, manager_id: str | None, start: date,
                  events: dict[str, date], cohort: str, now: datetime) -> str:
        eid = new_id("e_")
        self._s.add(EnrollmentRow(id=eid, journey_id=journey_id, journey_version=version, person_id=person_id,
                                  manager_id=manager_id, start=start,
                                  events={k: v.isoformat() for k, v in events.items()},
                                  status="active", cohort=cohort, created_at=now))
        return eid

    async def flush(self) -> None:
        await self._s.flush()

    async def open_in(self, journey_id: str, person_ids: Sequence[str]) -> dict[str, date]:
        """person id -> start of their active or paused enrollment in this journey."""
        rows = (await self._s.execute(select(_E.c.person_id, _E.c.start).where(
            _E.c.journey_id == journey_id, _E.c.person_id.in_(list(person_ids)),
            _E.c.status.in_(_OPEN_STATUSES)))).all()
        return {pid: start for pid, start in rows}

    async def open_without_step(self, step_id: str) -> list[str]:
        """Active or paused enrollments that have no prompt of `step_id` (made before it existed)."""
        has = select(_P.c.id).where(_P.c.enrollment_id == _E.c.id, _P.c.step_id == step_id).exists()
        return list((await self._s.execute(select(_E.c.id).where(_E.c.status.in_(_OPEN_STATUSES), ~has)))
                    .scalars().all())

    async def ids_involving(self, person_id: str) -> list[str]:
        """Enrollments where they are the participant or the manager, not unenrolled."""
        return list((await self._s.execute(select(_E.c.id).where(
            or_(_E.c.person_id == person_id, _E.c.manager_id == person_id),
            _E.c.status != "unenrolled"))).scalars().all())

    async def of_person(self, person_id: str, statuses: Sequence[str] | None = None,
                        journey_id: str | None = None) -> list[EnrollmentRecord]:
        """Their own enrollments, oldest first."""
        stmt = select(_E).where(_E.c.person_id == person_id)
        if statuses is not None:
            stmt = stmt.where(_E.c.status.in_(list(statuses)))
        if journey_id is not None:
            stmt = stmt.where(_E.c.journey_id == journey_id)
        return [enrollment_record(r) for r in (await self._s.execute(stmt.order_by(_E.c.created_at))).all()]

    async def managed_open(self, manager_id: str, journey_id: str) -> list[str]:
        return list((await self._s.execute(select(_E.c.id).where(
            _E.c.manager_id == manager_id, _E.c.journey_id == journey_id,
            _E.c.status.in_(_OPEN_STATUSES)))).scalars().all())

    async def managers_of(self, person_id: str) -> set[str]:
        """Who manages this person in any journey they are still in."""
        return {m for m in (await self._s.execute(select(_E.c.manager_id).where(
            _E.c.person_id == person_id, _E.c.status != "unenrolled"))).scalars().all() if m}

    async def participants_of(self, manager_id: str) -> set[str]:
        return set((await self._s.execute(select(_E.c.person_id).where(
            _E.c.manager_id == manager_id, _E.c.status != "unenrolled"))).scalars().all())

    async def under_managers(self, manager_ids: Iterable[str], journey_id: str) -> list[tuple[str, str | None, str]]:
        """(enrollment id, manager id, status) of everyone these managers manage in the journey."""
        ids = list(manager_ids)
        if not ids:
            return []
        rows = (await self._s.execute(select(_E.c.id, _E.c.manager_id, _E.c.status).where(
            _E.c.manager_id.in_(ids), _E.c.journey_id == journey_id, _E.c.status != "unenrolled"))).all()
        return [(eid, mid, status) for eid, mid, status in rows]

    async def active_counts(self) -> dict[str, int]:
        """journey id -> number of active enrollments."""
        return {j: n for j, n in (await self._s.execute(select(_E.c.journey_id, func.count()).where(
            _E.c.status == "active").group_by(_E.c.journey_id))).all()}

    async def cohort_rows(self, cohort: str, *, without_unenrolled: bool = False) -> list[EnrollmentRecord]:
        stmt = select(_E).where(_E.c.cohort == cohort)
        if without_unenrolled:
            stmt = stmt.where(_E.c.status != "unenrolled")
        return [enrollment_record(r) for r in (await self._s.execute(stmt)).all()]

    async def cohorts(self, limit: int | None = None) -> list[str]:
        stmt = select(_E.c.cohort).distinct().order_by(_E.c.cohort)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list((await self._s.execute(stmt)).scalars().all())

    async def cohorts_newest_first(self) -> list[str]:
        latest: dict[str, datetime] = {}
        for cohort, created in (await self._s.execute(select(_E.c.cohort, _E.c.created_at))).all():
            if cohort not in latest or created > latest[cohort]:
                latest[cohort] = created
        return sorted(latest, key=lambda c: (latest[c], c), reverse=True)

    async def cohort_journey(self, cohort: str) -> tuple[list[str], str | None]:
        """The cohort's enrollment ids and its journey id."""
        rows = (await self._s.execute(select(_E.c.id, _E.c.journey_id).where(_E.c.cohort == cohort))).all()
        return [r[0] for r in rows], (rows[0][1] if rows else None)

    async def journey_cohort_versions(self, journey_id: str) -> dict[str, tuple[int | None, list[str]]]:
        """Every cohort of the journey: (its journey version, None when its enrollments are on
        different versions; its enrollment ids), for comparisons pooled over cohorts."""
        rows = (await self._s.execute(select(_E.c.cohort, _E.c.id, _E.c.journey_version)
                                      .where(_E.c.journey_id == journey_id))).all()
        versions: dict[str, set[int]] = {}
        ids: dict[str, list[str]] = {}
        for cohort, eid, version in rows:
            versions.setdefault(cohort, set()).add(version)
            ids.setdefault(cohort, []).append(eid)
        return {c: (next(iter(v)) if len(v) == 1 else None, sorted(ids[c])) for c, v in versions.items()}

    async def people_of(self, ids: Sequence[str]) -> list[tuple[str, str, str | None]]:
        """(enrollment id, participant id, manager id)."""
        if not ids:
            return []
        rows = (await self._s.execute(select(_E.c.id, _E.c.person_id, _E.c.manager_id)
                                      .where(_E.c.id.in_(list(ids))))).all()
        return [(a, b, c) for a, b, c in rows]


class PromptsRepository:
    def __init__(self, session: AsyncSession, skip_locked: bool = False) -> None:
        self._s = session
        self._skip_locked = skip_locked

    async def get(self, prompt_id: str) -> PromptState | None:
        if hotpath.fast(self._s):
            row = await _DUE_READER.first(self._s, "id = ?", (prompt_id,))
        else:
            row = (await self._s.execute(_PROMPT_BY_ID, {"id": prompt_id})).first()
        return prompt_state(row) if row is not None else None

    async def many(self, ids: Iterable[str]) -> dict[str, PromptState]:
        """Prompts by id, in one read (a grouped manager card carries about ten)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        if hotpath.fast(self._s):
            rows: Sequence[Any] = await _DUE_READER.by_ids(self._s, wanted)
        else:
            rows = (await self._s.execute(select(*_P.c).where(_P.c.id.in_(wanted)))).all()
        return {r.id: prompt_state(r) for r in rows}

    async def exists(self, prompt_id: str) -> bool:
        return (await self._s.execute(_PROMPT_EXISTS, {"id": prompt_id})).first() is not None

    async def of_enrollments(self, ids: Sequence[str], *, recipient_id: str | None = None) -> list[PromptState]:
        """The prompts of these enrollments (and, with `recipient_id`, any sent to that person)."""
        if not ids and recipient_id is None:
            return []
        cond: ColumnElement[bool] = _P.c.enrollment_id.in_(list(ids))
        if recipient_id is not None:
            cond = or_(cond, _P.c.recipient_id == recipient_id)
        return [prompt_state(r) for r in (await self._s.execute(select(_P).where(cond))).all()]

    async def answered(self, ids: Sequence[str], step_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """enrollment id -> answers, for the answered prompts of these steps."""
        rows = (await self._s.execute(select(_P.c.enrollment_id, _P.c.answers).where(
            _P.c.enrollment_id.in_(list(ids)), _P.c.step_id.in_(list(step_ids)), _P.c.status == "answered"))).all()
        return {eid: dict(a or {}) for eid, a in rows}

    async def due(self, now: datetime, limit: int) -> list[PromptState]:
        """Prompts due at `now`, earliest first, read as Core rows (the tick's hot path: no ORM
        objects); SKIP LOCKED (PostgreSQL) lets several workers claim side by side."""
        if hotpath.fast(self._s):
            rows = await _DUE_READER.where(self._s, "next_at IS NOT NULL AND next_at <= ? ORDER BY next_at LIMIT ?",
                                           (hotpath.sqlite_datetime(now), limit))
            return [prompt_state(r) for r in rows]
        stmt = select(*_P.c).where(_P.c.next_at.is_not(None), _P.c.next_at <= now).order_by(_P.c.next_at).limit(limit)
        if self._skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return [prompt_state(r) for r in (await self._s.execute(stmt)).all()]

    async def park(self, ids: Sequence[str]) -> None:
        if ids:
            await self._s.execute(update(_P).where(_P.c.id.in_(list(ids))).values(next_at=None))


class MtmsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, mtm_id: str) -> MtmState | None:
        row = (await self._s.execute(_MTM_BY_ID, {"id": mtm_id})).first()
        return mtm_state(row) if row is not None else None

    async def by_ids(self, ids: Iterable[str]) -> dict[str, MtmState]:
        wanted = list({i for i in ids if i})
        if not wanted:
            return {}
        return {r.id: mtm_state(r) for r in (await self._s.execute(select(_M).where(_M.c.id.in_(wanted)))).all()}

    async def of_enrollments(self, ids: Sequence[str]) -> list[MtmState]:
        if not ids:
            return []
        return [mtm_state(r) for r in (await self._s.execute(select(_M).where(_M.c.enrollment_id.in_(list(ids)))
                                                             )).all()]


class EventsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def of_enrollments(self, ids: Sequence[str]) -> list[JourneyEvent]:
        """The facts of these enrollments, in the order they happened."""
        if not ids:
            return []
        t = cast(Table, EventRow.__table__)
        rows = (await self._s.execute(select(t).where(t.c.enrollment_id.in_(list(ids))).order_by(t.c.id))).all()
        return [JourneyEvent(e.kind, e.enrollment_id, e.at, e.prompt_id, dict(e.data or {})) for e in rows]
