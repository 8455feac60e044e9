"""Rows -> engine state and records: private to store/ (the repositories return what these build).

Nothing outside store/ imports this module (an import contract in pyproject.toml says so).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from journeys.state import EnrollmentState, MtmState, Person, PromptState
from store.person_calendar import work_pattern
from store.records import AuditEntry, DigestKind, DueDigest, EnrollmentRecord, OutboxItem


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


_T = TypeVar("_T")


def _trusted(cls: type[_T], values: dict[str, Any]) -> _T:
    """A frozen engine dataclass from every one of its fields, without running its `__init__`
    (one `object.__setattr__` per field): the tick builds three per due prompt from our own rows.
    Only for the classes of journeys/state.py, which have no `__post_init__`; every field must be
    given (tests/unit/store/test_trusted_states.py compares with the constructor)."""
    obj = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


def person_state(row: PersonColumns, default_tz: str = "UTC") -> Person:
    days, start, end = work_pattern(row)
    return _trusted(Person, {"id": row.id, "name": row.name or row.platform_user_id, "tz": row.tz or default_tz,
                             "country": row.country, "subdivision": row.subdivision, "work_days": days,
                             "work_start": start, "work_end": end})


def _events_from_json(data: dict[str, Any]) -> dict[str, date]:
    return {k: date.fromisoformat(v) for k, v in (data or {}).items()}


def enrollment_state(row: Any, person: PersonColumns, manager: PersonColumns | None,
                     default_tz: str, leader: PersonColumns | None = None,
                     people: dict[str, Person] | None = None) -> EnrollmentState:
    """From an enrollments row (ORM or Core); `leader`: the manager's own manager, if loaded.
    `people`: engine states already built in this read, by id (a manager of ten is built once)."""
    return _trusted(EnrollmentState, {
        "id": row.id,
        "journey_id": row.journey_id,
        "person": _person(person, default_tz, people),
        "manager": _person(manager, default_tz, people) if manager is not None else None,
        "start": row.start,
        "events": dict(row.events) if isinstance(row, EnrollmentRecord) else _events_from_json(row.events),
        "status": row.status,
        "cohort": row.cohort,
        "paused_at": row.paused_at,
        "leader": _person(leader, default_tz, people) if leader is not None else None,
        "notes": dict(getattr(row, "notes", None) or {}),
        "endorsement": None,
    })


def _person(row: PersonColumns, default_tz: str, people: dict[str, Person] | None) -> Person:
    if people is None:
        return person_state(row, default_tz)
    hit = people.get(row.id)
    if hit is None:
        hit = people[row.id] = person_state(row, default_tz)
    return hit


def enrollment_record(row: Any) -> EnrollmentRecord:
    """From an enrollments row (ORM or Core)."""
    return EnrollmentRecord(row.id, row.journey_id, row.person_id, row.manager_id, row.start, row.status,
                            row.cohort, row.paused_at, row.created_at, _events_from_json(row.events),
                            dict(row.notes or {}), getattr(row, "journey_version", None))


def prompt_state(row: Any) -> PromptState:
    """From a prompts row (ORM or Core)."""
    return _trusted(PromptState, {
        "id": row.id, "enrollment_id": row.enrollment_id, "step_id": row.step_id, "recipient_id": row.recipient_id,
        "status": row.status, "due_at": row.due_at, "next_at": row.next_at, "mtm_id": row.mtm_id,
        "reminders_sent": row.reminders_sent, "escalated": row.escalated, "answers": dict(row.answers or {}),
        "sent_at": row.sent_at, "answered_at": row.answered_at, "deliveries": row.deliveries,
        "last_delivery_key": row.last_delivery_key,
    })


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


def outbox_item(row: Any) -> OutboxItem:
    """From an outbox row (ORM or Core)."""
    return OutboxItem(
        id=row.id, key=row.key, recipient_id=row.recipient_id, payload=dict(row.payload or {}), state=row.state,
        attempts=row.attempts, enrollment_id=row.enrollment_id, replaces_key=row.replaces_key,
        next_attempt_at=row.next_attempt_at, in_doubt=bool(row.in_doubt), ambiguous=bool(row.ambiguous),
        conversation_id=row.conversation_id, message_id=row.message_id, error=row.error, stale_at=row.stale_at,
        journey_id=row.journey_id, at_once=bool(row.at_once))


def due_digest(row: Any) -> DueDigest:
    kind: DigestKind = "leader" if row.kind == "leader" else "manager"
    return DueDigest(row.manager_id, row.journey_id, kind, row.next_at, row.sent)


def audit_entry(row: Any) -> AuditEntry:
    return AuditEntry(row.at, row.actor_id, row.action, row.target_id, dict(row.detail or {}))


def as_utc(v: Any) -> datetime:
    """A datetime read back from the database (SQLite gives naive values, or text from aggregates)."""
    if isinstance(v, datetime) and v.tzinfo:
        return v
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    assert isinstance(v, datetime)
    return v.replace(tzinfo=UTC)
