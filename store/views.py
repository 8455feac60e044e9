"""Read views: what admin `status`, the dashboard, reports, digests and exports show, in few queries.

Views return engine state (prompts, enrollments) and plain records, never sessions or ORM rows
that could be written back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from journeys.digest import ReportView
from journeys.state import EnrollmentState, Person, PromptState
from store.chain import manager_links
from store.mappers import as_utc, enrollment_record, mtm_state, person_state, prompt_state
from store.models import (
    OUTBOX_FAILED,
    OUTBOX_LIVE,
    AdminRow,
    AuditRow,
    CohortRoleRow,
    DigestRow,
    EndorsementRow,
    EnrollmentRow,
    HeartbeatRow,
    InboundRow,
    MtmRow,
    OutboxRow,
    PersonRow,
    PromptRow,
)
from store.people import PersonRecord, record
from store.records import EnrollmentRecord

_E = cast(Table, EnrollmentRow.__table__)
_P = cast(Table, PromptRow.__table__)
_PEOPLE = cast(Table, PersonRow.__table__)
_O = cast(Table, OutboxRow.__table__)

# The admin overview at any size: the counts come from ix_enrollments_overview alone, and the
# failed deliveries from ix_outbox_failed (the failed rows, not the whole outbox).
OVERVIEW_COUNTS = (select(_E.c.cohort, _E.c.journey_id, _E.c.status, func.count())
                   .group_by(_E.c.cohort, _E.c.journey_id, _E.c.status)
                   .order_by(_E.c.cohort, _E.c.journey_id, _E.c.status))
FAILED_PER_COHORT = (select(_E.c.cohort, func.count()).select_from(_O)
                     .join(_E, _E.c.id == _O.c.enrollment_id)
                     .where(text(OUTBOX_FAILED)).group_by(_E.c.cohort))


@dataclass(frozen=True)
class FailedDelivery:
    title: str
    error: str


@dataclass(frozen=True)
class PersonStatus:
    enrollments: list[EnrollmentRecord]
    prompts: list[PromptState]
    failed: list[FailedDelivery]


@dataclass(frozen=True)
class CohortRows:
    """A cohort's enrollments with their prompts and the people they name."""

    enrollments: list[EnrollmentRecord]
    prompts: list[PromptState]
    people: dict[str, PersonRecord]
    states: dict[str, Person]  # the same people as the engine sees them (zones, calendars)


class Views:
    def __init__(self, session: AsyncSession, default_tz: str = "UTC") -> None:
        self._s = session
        self._tz = default_tz

    async def manager_links(self) -> list[tuple[str, str, str]]:
        """(person, manager, kind) for every stored management link (store/chain.py)."""
        return await manager_links(self._s)

    async def status_overview(self) -> tuple[list[tuple[str, str, str, int]], dict[str, int]]:
        """(cohort, journey, status, count) for every enrollment group, and failed deliveries per cohort."""
        rows = (await self._s.execute(OVERVIEW_COUNTS)).all()
        failed = {c: int(n) for c, n in (await self._s.execute(FAILED_PER_COHORT)).all()}
        return [(c, j, s, int(n)) for c, j, s, n in rows], failed

    async def person_status(self, person_id: str) -> PersonStatus:
        enrollments = [enrollment_record(r) for r in (await self._s.execute(
            select(_E).where(_E.c.person_id == person_id).order_by(_E.c.created_at))).all()]
        ids = [e.id for e in enrollments]
        prompts = [prompt_state(r) for r in (await self._s.execute(select(_P).where(
            or_(_P.c.enrollment_id.in_(ids), _P.c.recipient_id == person_id)))).all()]
        failed = (await self._s.execute(select(_O.c.key, _O.c.payload, _O.c.error).where(
            or_(_O.c.recipient_id == person_id, _O.c.enrollment_id.in_(ids)), _O.c.state == "failed")
            .order_by(_O.c.id))).all()
        return PersonStatus(enrollments, prompts, [FailedDelivery((payload or {}).get("title") or key,
                                                                  error or "unknown error")
                                                   for key, payload, error in failed])

    async def cohort(self, cohort: str, *, without_unenrolled: bool = False) -> CohortRows:
        """The cohort's enrollments, all their prompts, and everyone they name (participants,
        managers and prompt recipients)."""
        stmt = select(_E).where(_E.c.cohort == cohort)
        if without_unenrolled:
            stmt = stmt.where(_E.c.status != "unenrolled")
        enrollments = [enrollment_record(r) for r in (await self._s.execute(stmt)).all()]
        ids = [e.id for e in enrollments]
        prompts = [prompt_state(r) for r in (await self._s.execute(
            select(_P).where(_P.c.enrollment_id.in_(ids)))).all()] if ids else []
        person_ids = {e.person_id for e in enrollments} | {p.recipient_id for p in prompts}
        people = {r.id: record(r) for r in (await self._s.execute(
            select(_PEOPLE).where(_PEOPLE.c.id.in_(person_ids)))).all()} if person_ids else {}
        return CohortRows(enrollments, prompts, people,
                          {pid: person_state(p, self._tz) for pid, p in people.items()})

    async def participant_names(self, enrollment_ids: Sequence[str]) -> dict[str, str]:
        """enrollment id -> participant name ("" for forgotten, anonymous enrollments)."""
        rows = (await self._s.execute(select(_E.c.id, _PEOPLE.c.name).join(
            _PEOPLE, _PEOPLE.c.id == _E.c.person_id).where(_E.c.id.in_(list(enrollment_ids))))).all()
        return {eid: ("" if eid.startswith("anon-") else name) for eid, name in rows}

    async def names(self, person_ids: Sequence[str]) -> dict[str, str]:
        if not person_ids:
            return {}
        rows = (await self._s.execute(select(_PEOPLE.c.id, _PEOPLE.c.name).where(
            _PEOPLE.c.id.in_(list(person_ids))))).all()
        return {pid: name for pid, name in rows}

    async def digest_inputs(self, enrollments: dict[str, EnrollmentState], ids: Sequence[str]) -> list[ReportView]:
        """What a manager's digest is built from: each report's enrollment, prompts and MTMs."""
        if not ids:
            return []
        prompts = [prompt_state(r) for r in (await self._s.execute(
            select(_P).where(_P.c.enrollment_id.in_(list(ids))))).all()]
        m = cast(Table, MtmRow.__table__)
        mtms = [mtm_state(r) for r in (await self._s.execute(
            select(m).where(m.c.enrollment_id.in_(list(ids))))).all()]
        return [ReportView(e, [p for p in prompts if p.enrollment_id == e.id],
                           [x for x in mtms if x.enrollment_id == e.id]) for e in enrollments.values()]

    async def next_due_at(self) -> datetime | None:
        """The earliest moment any work is due (the demo's clock jumps straight there)."""
        a = (await self._s.execute(select(func.min(PromptRow.next_at)))).scalar()
        b = (await self._s.execute(select(func.min(DigestRow.next_at)))).scalar()
        c = (await self._s.execute(select(func.min(OutboxRow.next_attempt_at)).where(
            text(OUTBOX_LIVE), OutboxRow.state == "pending"))).scalar()  # ix_outbox_live
        d = (await self._s.execute(select(func.min(CohortRoleRow.next_at)))).scalar()
        vals = [as_utc(v) for v in (a, b, c, d) if v is not None]
        return min(vals) if vals else None

    async def health(self) -> tuple[int, int, datetime | None]:
        """(outbox backlog, failed deliveries, the scheduler's last heartbeat)."""
        backlog = (await self._s.execute(select(func.count()).select_from(_O)
                                         .where(_O.c.state.in_(("pending", "sending"))))).scalar_one()
        failed = (await self._s.execute(select(func.count()).select_from(_O)
                                        .where(_O.c.state == "failed"))).scalar_one()
        beat = await self._s.get(HeartbeatRow, "scheduler")
        return int(backlog), int(failed), beat.at if beat is not None else None

    async def export(self, pid: str, now: datetime) -> dict[str, Any] | None:
        """Everything stored about person `pid` as JSON-ready data; None when nobody has that id."""
        s = self._s
        person = await s.get(PersonRow, pid)
        if person is None:
            return None
        enrollments = (await s.execute(select(EnrollmentRow).where(EnrollmentRow.person_id == pid))).scalars().all()
        managed = (await s.execute(select(EnrollmentRow.id).where(EnrollmentRow.manager_id == pid))).scalars().all()
        ids = [e.id for e in enrollments]
        prompts = (await s.execute(select(PromptRow).where(or_(PromptRow.enrollment_id.in_(ids),
                                                               PromptRow.recipient_id == pid)))).scalars().all()
        mtms = (await s.execute(select(MtmRow).where(MtmRow.enrollment_id.in_(ids)))).scalars().all()
        outbox = (await s.execute(select(OutboxRow).where(OutboxRow.recipient_id == pid)
                                  .order_by(OutboxRow.id))).scalars().all()
        audit = (await s.execute(select(AuditRow).where(or_(AuditRow.target_id == pid, AuditRow.actor_id == pid))
                                 .order_by(AuditRow.id))).scalars().all()
        admin = await s.get(AdminRow, pid)
        digests = (await s.execute(select(DigestRow).where(DigestRow.manager_id == pid))).scalars().all()
        inbound = (await s.execute(select(InboundRow).where(InboundRow.person_id == pid))).scalars().all()
        roles = (await s.execute(select(CohortRoleRow).where(CohortRoleRow.person_id == pid))).scalars().all()
        endorsed = (await s.execute(select(EndorsementRow).where(EndorsementRow.leader_id == pid))).scalars().all()
        person_data = _row_dict(person)
        person_data["address"] = _no_secrets(person_data.get("address"))
        return {
            "exported_at": now.isoformat(),
            "person": person_data,
            "admin": _row_dict(admin) if admin else None,
            "enrollments": [_row_dict(e) for e in enrollments],
            "manager_of_enrollments": list(managed),
            "prompts": [_row_dict(p, ("claimed_until",)) for p in prompts],
            "mtms": [_row_dict(m) for m in mtms],
            "messages": [_row_dict(o, ("lease_until", "lease_owner")) for o in outbox],
            "digests": [_row_dict(d) for d in digests],
            "inbound_actions": [_row_dict(i) for i in inbound],
            "cohort_roles": [_row_dict(r) for r in roles],
            "endorsements": [_row_dict(e) for e in endorsed],
            "audit": [_row_dict(a) for a in audit],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _row_dict(row: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: _jsonable(getattr(row, c.key)) for c in row.__table__.columns if c.key not in skip}


def _no_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_secrets(v) for k, v in value.items()
                if not any(w in k.lower() for w in ("token", "secret", "password"))}
    return value
