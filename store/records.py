"""What the repositories return besides engine state: frozen values, never rows or ORM objects.

A column rename fails here, in store/, at type-check time, instead of in a service at run time.
Changing one of these changes nothing stored: the repositories take explicit changes
(`OutboxRepository.settle(Settlement)`, `DigestsRepository.reschedule`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

DigestKind = Literal["manager", "leader"]


@dataclass(frozen=True)
class EnrollmentRecord:
    """One enrollment's columns."""

    id: str
    journey_id: str
    person_id: str
    manager_id: str | None
    start: date
    status: str
    cohort: str
    paused_at: datetime | None
    created_at: datetime
    events: dict[str, date] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    journey_version: int | None = None  # the journey's version at enrollment (None: not read)


@dataclass(frozen=True)
class OutboxItem:
    """A claimed outbox row, as leased to its sender."""

    id: int
    key: str
    recipient_id: str
    payload: dict[str, Any]
    state: str
    attempts: int
    enrollment_id: str | None = None
    replaces_key: str | None = None
    next_attempt_at: datetime | None = None
    in_doubt: bool = False
    ambiguous: bool = False
    conversation_id: str | None = None
    message_id: str | None = None
    error: str | None = None
    stale_at: datetime | None = None
    journey_id: str | None = None
    at_once: bool = False


@dataclass(frozen=True)
class Settlement:
    """How one delivery attempt ended: the row's new state, written only by its lease holder."""

    state: str
    error: str | None = None
    next_attempt_at: datetime | None = None
    ambiguous: bool = False
    attempts: int | None = None  # None: as claimed
    in_doubt: bool | None = None  # None: unchanged
    sent_at: datetime | None = None  # set: delivered, at this platform reference
    conversation_id: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class DueDigest:
    """A digest row that is due: who gets it, for which journey, of which kind."""

    recipient_id: str
    journey_id: str
    kind: DigestKind
    next_at: datetime | None
    sent: int


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor_id: str | None
    action: str
    target_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
