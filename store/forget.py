"""`forget`: a person's data removed for good, their journey facts kept only as anonymous numbers."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit import AuditRepository
from store.models import (
    AdminRow,
    AuditRow,
    CohortRoleRow,
    DigestRow,
    EndorsementRow,
    EnrollmentRow,
    EventRow,
    InboundRow,
    InterviewSlotRow,
    MtmRow,
    OutboxRow,
    PersonRow,
    PromptRow,
)
from store.people import PersonRecord
from store.sql import dialect_insert

ANON_PERSON_ID = "anon"  # the placeholder that forgotten enrollments point at, so counts survive
FORGOTTEN = "forgotten"


def _scrub(value: Any, replace: dict[str, str | None]) -> Any:
    """Replace every string (or substring) equal to a forgotten id inside JSON data."""
    if isinstance(value, dict):
        return {k: _scrub(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, replace) for v in value]
    if isinstance(value, str):
        if value in replace:
            return replace[value]
        for old, new in replace.items():
            if old in value:
                value = value.replace(old, new or "anon")
        return value
    return value


def _mentions(data: Any, needles: list[str]) -> bool:
    blob = json.dumps(data, ensure_ascii=False, default=str).lower()
    return any(n and n.lower() in blob for n in needles)


async def forget_person(s: AsyncSession, is_sqlite: bool, audit: AuditRepository, person: PersonRecord,
                        now: datetime, actor_id: str | None) -> int:
    """Remove everything stored about `person` within the caller's transaction (`UnitOfWork.forget`);
    returns how many of their enrollments became anonymous rows. The caller commits, then compacts
    (`UnitOfWorkFactory.compact`)."""
    pid = person.id
    if is_sqlite:
        await s.execute(text("PRAGMA secure_delete=ON"))
    enrollments = (await s.execute(select(EnrollmentRow).where(EnrollmentRow.person_id == pid))).scalars().all()
    ids = [e.id for e in enrollments]
    tokens = {eid: f"anon-{uuid.uuid4().hex[:16]}" for eid in ids}
    replace: dict[str, str | None] = {**tokens, pid: None}
    needles = [pid, person.email or "", *ids]

    # aggregates survive as anonymous numbers: facts move to an anonymous enrollment id
    events = (await s.execute(select(EventRow).where(EventRow.enrollment_id.in_(ids)))).scalars().all() if ids else []
    for ev in events:
        ev.enrollment_id = tokens[ev.enrollment_id]
        ev.prompt_id = None
        ev.data = _scrub(dict(ev.data or {}), replace)

    # their own data
    if ids:
        await s.execute(delete(MtmRow).where(MtmRow.enrollment_id.in_(ids)))
    await s.execute(delete(PromptRow).where(or_(PromptRow.enrollment_id.in_(ids), PromptRow.recipient_id == pid)))
    await s.execute(delete(OutboxRow).where(or_(OutboxRow.recipient_id == pid, OutboxRow.enrollment_id.in_(ids))))
    # other people's messages that quote them: their managers' digests, their own team's requests
    quoting = [pid, person.email or ""]
    if len(person.platform_user_id) >= 6:  # short console names would match ordinary words
        quoting.append(person.platform_user_id)
    if person.name and len(person.name) >= 4:
        quoting.append(person.name)
    related = {e.manager_id for e in enrollments if e.manager_id} | set((await s.execute(
        select(EnrollmentRow.person_id).where(EnrollmentRow.manager_id == pid))).scalars().all())
    others = (await s.execute(select(OutboxRow.id, OutboxRow.payload).where(
        OutboxRow.recipient_id.in_(related)))).all() if related else []
    doomed = [oid for oid, payload in others if _mentions(payload, quoting)]
    if doomed:
        await s.execute(delete(OutboxRow).where(OutboxRow.id.in_(doomed)))
    await s.execute(delete(InterviewSlotRow).where(or_(InterviewSlotRow.enrollment_id.in_(ids),
                                                       InterviewSlotRow.interviewer_id == pid)))
    await s.execute(delete(InboundRow).where(InboundRow.person_id == pid))
    await s.execute(delete(CohortRoleRow).where(CohortRoleRow.person_id == pid))
    await s.execute(delete(EndorsementRow).where(EndorsementRow.leader_id == pid))  # typed by them
    await s.execute(delete(DigestRow).where(DigestRow.manager_id == pid))
    await s.execute(delete(AdminRow).where(AdminRow.person_id == pid))
    await s.execute(update(AdminRow).where(AdminRow.granted_by == pid).values(granted_by=None))
    # the notes hold what this manager recorded as agreed (journeys/expectations.py): typed by them
    await s.execute(update(EnrollmentRow).where(EnrollmentRow.manager_id == pid).values(manager_id=None, notes=None))
    await s.execute(update(PersonRow).where(PersonRow.manager_id == pid).values(manager_id=None))

    # their enrollments become anonymous rows, so cohort counts stay right
    if enrollments:
        await s.execute(dialect_insert(s)(PersonRow).values(
            id=ANON_PERSON_ID, platform="anon", platform_user_id=ANON_PERSON_ID, name="(forgotten)",
            created_at=now, greeted=True).on_conflict_do_nothing(index_elements=["id"]))
        for e in enrollments:
            s.add(EnrollmentRow(id=tokens[e.id], journey_id=e.journey_id, journey_version=e.journey_version,
                                person_id=ANON_PERSON_ID, manager_id=None, start=e.start, events=dict(e.events or {}),
                                status=FORGOTTEN, cohort=e.cohort, paused_at=None, created_at=e.created_at))
        await s.flush()
        await s.execute(delete(EnrollmentRow).where(EnrollmentRow.id.in_(ids)))

    # the audit trail keeps what happened, not to whom
    audits = (await s.execute(select(AuditRow).where(or_(AuditRow.target_id == pid, AuditRow.actor_id == pid))
                              )).scalars().all()
    for a in audits:
        touched = False
        if a.target_id == pid or a.target_id in tokens:
            a.target_id, touched = None, True
        if a.actor_id == pid:
            a.actor_id, touched = None, True
        if touched or _mentions(a.detail, needles):
            a.detail = _scrub(dict(a.detail or {}), replace)
    await s.execute(delete(PersonRow).where(PersonRow.id == pid))
    audit.record(now, actor_id, "forget", None, {"enrollments": len(ids)})
    return len(ids)
