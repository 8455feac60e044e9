"""The engine's view of stored state: plain frozen dataclasses, loaded and saved by `store/`.

Ids of prompts and MTMs are derived from the enrollment and step ids, so the same decision made
twice (a retried tick, two workers) produces the same rows and a unique constraint catches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from typing import Any, Literal

from journeys.messages import Message, Outgoing

EnrollmentStatus = Literal["active", "paused", "stopped", "completed", "unenrolled"]
PromptStatus = Literal["scheduled", "open", "answered", "done", "expired", "cancelled"]
MtmStatus = Literal["planned", "happened", "not_happened", "postponed"]

FINAL_PROMPT_STATUSES: tuple[PromptStatus, ...] = ("answered", "done", "expired", "cancelled")


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    tz: str
    country: str | None = None  # overrides the journey's holiday country
    subdivision: str | None = None
    # Their own working week (0=Monday..6=Sunday) and hours, from the directory or the HR sync;
    # None: the journey's. The journey's bounds and quiet hours still apply (journeys/calendar.py).
    work_days: tuple[int, ...] | None = None
    work_start: time | None = None
    work_end: time | None = None


@dataclass(frozen=True)
class Endorsement:
    """A senior leader's endorsement of the journey (journeys/endorsement.py): their name and the
    sentence they typed (None: endorsed without one)."""

    leader_name: str
    text: str | None = None


@dataclass(frozen=True)
class EnrollmentState:
    id: str
    journey_id: str
    person: Person
    manager: Person | None
    start: date
    events: dict[str, date] = field(default_factory=dict)
    status: EnrollmentStatus = "active"
    cohort: str = ""
    paused_at: datetime | None = None
    # The manager's own manager (the senior leader escalations go to); None when not known.
    leader: Person | None = None
    # The before phase joined up (journeys/expectations.py): the participant's line-of-sight
    # answers, their consent to share them, and what the manager recorded as agreed. Erased by forget.
    notes: dict[str, Any] = field(default_factory=dict)
    # The leader's endorsement, loaded by the scheduler only for the welcome step's prompt.
    endorsement: Endorsement | None = None


@dataclass(frozen=True)
class PromptState:
    """One step (or one MTM's step) for one enrollment, from scheduled to a final status.

    `next_at` is the only thing the scheduler looks at: the next moment the engine must act
    (send, remind, escalate). It is None when nothing is due, so the due-work index stays small.
    """

    id: str
    enrollment_id: str
    step_id: str
    recipient_id: str
    status: PromptStatus
    due_at: datetime
    next_at: datetime | None
    mtm_id: str | None = None
    reminders_sent: int = 0
    escalated: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    deliveries: int = 0  # how many messages this prompt produced (keys delivery ids)
    last_delivery_key: str | None = None  # the message to update in place when answered

    def with_(self, **changes: Any) -> PromptState:
        """`dataclasses.replace`, several times faster: the engine copies a prompt two or three
        times per due step, and `replace` re-runs the frozen `__init__` over every field. There is
        no `__post_init__` and no init=False field, so copying the fields gives the same object;
        an unknown name still goes to `replace`, which refuses it as before."""
        if not _PROMPT_FIELD_NAMES.issuperset(changes):
            return replace(self, **changes)
        new = object.__new__(type(self))
        attrs = new.__dict__
        attrs.update(self.__dict__)
        attrs.update(changes)
        return new


_PROMPT_FIELD_NAMES = frozenset(f.name for f in fields(PromptState))


@dataclass(frozen=True)
class MtmState:
    id: str
    enrollment_id: str
    plan_step_id: str
    practice: str
    situation: str
    when: date
    behaviour: str
    share_plan: bool
    status: MtmStatus = "planned"
    manager_response: Literal["approved", "coach"] | None = None
    manager_responded_at: datetime | None = None
    planned_at: datetime | None = None
    reflection: str = ""
    rating: int | None = None
    share_reflection: bool = False


@dataclass(frozen=True)
class JourneyEvent:
    """A fact for reports and the audit trail ("answered", "manager_approved", ...).

    `data` holds no free text a person wrote; answers live on the prompt so `forget` can erase them.
    """

    kind: str
    enrollment_id: str
    at: datetime
    prompt_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CardChange:
    """The acted-on prompt's card as it now looks: the one visible update an action makes.

    The engine only says what the card becomes; the application decides how it reaches the
    platform: answered in place (`Outcome.take_card`: a Teams invoke response) or, by default,
    queued as an outbox update of the delivered card (`update.replaces_key`)."""

    update: Outgoing

    @property
    def message(self) -> Message:
        return self.update.message


@dataclass
class Outcome:
    """What one engine decision changes: rows to upsert and messages for the outbox."""

    prompts: list[PromptState] = field(default_factory=list)
    mtms: list[MtmState] = field(default_factory=list)
    enrollments: list[EnrollmentState] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    events: list[JourneyEvent] = field(default_factory=list)
    # Outbox rows not yet delivered that must not go out any more (stop, pause, superseded).
    cancel_pending_for: list[str] = field(default_factory=list)  # enrollment ids
    # Shown at once to whoever acted (confirmations, refusals, help); not durable, not queued.
    replies: list[Message] = field(default_factory=list)
    # The acted-on prompt as it now looks: shown in place (`take_card`) or queued with the outgoing
    # messages (`queued`), never both.
    card: CardChange | None = None

    def extend(self, other: Outcome) -> Outcome:
        self.prompts.extend(other.prompts)
        self.mtms.extend(other.mtms)
        self.enrollments.extend(other.enrollments)
        self.outgoing.extend(other.outgoing)
        self.events.extend(other.events)
        self.cancel_pending_for.extend(other.cancel_pending_for)
        self.replies.extend(other.replies)
        if other.card is not None:
            if self.card is not None:  # an earlier decision's card (another prompt): it is queued
                self.outgoing.append(self.card.update)
            self.card = other.card
        return self

    def take_card(self) -> Message | None:
        """The acted-on prompt's new look, for an adapter that answers the action with it in place
        (a Teams invoke response): taken out, it is not queued as well."""
        card, self.card = self.card, None
        return card.message if card is not None else None

    def queued(self) -> list[Outgoing]:
        """Every message for the outbox: the card change (if not taken) first, then the others."""
        return [self.card.update, *self.outgoing] if self.card is not None else list(self.outgoing)


def prompt_id(enrollment_id: str, step_id: str) -> str:
    """One prompt per step per enrollment (one MTM per plan step, so MTM steps are unique too)."""
    return f"{enrollment_id}.{step_id}"


def mtm_id(enrollment_id: str, plan_step_id: str) -> str:
    return f"{enrollment_id}.{plan_step_id}"
