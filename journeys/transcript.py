"""A transcript of what one simulated cohort received, as structured records the audit can check.

Each delivered message is recorded with its kind, its recipient's role and local time, and whom it
is about, all taken from the delivery itself (the outbox's deterministic delivery key and the
journey's steps), not guessed from the wording. `journeys/transcript_rules.py` checks the records.
Pure data: no clock, no store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from journeys.definition import Journey
from journeys.messages import Message
from journeys.text import plain

Role = Literal["participant", "manager", "leader", "facilitator", "interviewer"]

# Kinds of messages that are not a step's card (the delivery key's suffix, or its prefix).
ESCALATION = "escalation"  # a participant stuck: their manager is told
LEADER_ESCALATION = "leader_escalation"  # a manager's item unanswered: their manager is told
DIGEST = "digest"  # the manager's weekly digest
LEADER_DIGEST = "leader_digest"  # the senior leader's weekly accountability digest
LEADER_BRIEF = "leader_brief"  # the senior leader's kickoff brief
FACILITATOR = "facilitator"  # a cohort's facilitator: the brief before the workshop, the progress after
CLOSING = "closing"
SCORECARD = "scorecard"  # a manager's (or a leader's, of their managers) scorecard at the end
FINAL_DIGEST = "final_digest"  # the senior leader's final digest, after the follow-up and interviews
INTERVIEW = "interview:"  # a Success Case interview's message: `interview:<purpose>` (invite, consent, reminder…)
REPLY = "reply:"  # the bot's answer to a command someone typed (`reply:interviews`)
_SUFFIX_KINDS = {"esc": ESCALATION, "leader": LEADER_ESCALATION, "closing": CLOSING}


@dataclass(frozen=True)
class Kind:
    """What a delivery is: `name` is the step id for a step's card (`step:<id>`), else a notice
    kind; `step_kind` the journey step's kind when it is one; `reminder` for a repeat delivery."""

    name: str
    step_id: str | None = None
    step_kind: str | None = None
    reminder: bool = False
    enrollment_id: str | None = None


def classify(delivery_key: str, journey: Journey) -> Kind:
    """The kind of a delivery from its outbox key (`{enrollment}.{step}:{n}`, `...:esc`,
    `digest:...`, `leader:...`, `leader-brief:...`, `scorecard:...`, `final-digest:...`, `facilitator:...`,
    `interview:{enrollment}:{purpose}...`), or of a command's reply (`reply:{command}`)."""
    if delivery_key.startswith("digest:"):
        return Kind(DIGEST)
    if delivery_key.startswith("leader-brief:"):
        return Kind(LEADER_BRIEF)
    if delivery_key.startswith("facilitator:"):
        return Kind(FACILITATOR)
    if delivery_key.startswith("leader:"):
        return Kind(LEADER_DIGEST)
    if delivery_key.startswith("scorecard:"):
        return Kind(SCORECARD)
    if delivery_key.startswith("final-digest:"):
        return Kind(FINAL_DIGEST)
    if delivery_key.startswith((INTERVIEW, REPLY)):  # `interview:{enrollment}:{purpose}…`, `reply:{command}`
        head, _, rest = delivery_key.partition(":")
        if head == "reply":
            return Kind(delivery_key)
        enrollment_id, _, purpose = rest.partition(":")
        return Kind(f"{INTERVIEW}{purpose.partition(':')[0]}", enrollment_id=enrollment_id or None)
    base, _, suffix = delivery_key.rpartition(":")
    enrollment_id, _, step_id = base.partition(".")
    step = next((s for s in journey.steps if s.id == step_id), None)
    if suffix.isdigit():
        return Kind(f"step:{step_id}", step_id, step.kind if step else None, int(suffix) > 1, enrollment_id or None)
    return Kind(_SUFFIX_KINDS.get(suffix, f"notice:{suffix}"), step_id or None, step.kind if step else None,
                False, enrollment_id or None)


@dataclass(frozen=True)
class Sent:
    """One delivered message, as its recipient received it."""

    at: datetime  # UTC
    local: datetime  # in the recipient's time zone
    in_hours: bool  # inside the recipient's working hours (their calendar, holidays included)
    recipient: str  # the recipient's user id
    role: Role
    kind: Kind
    message: Message
    about: str | None = None  # the participant's user id, for a message about one enrollment
    final: Message | None = None  # the message as it looks at the end (after updates)

    @property
    def text(self) -> str:
        m = self.message
        return plain("\n".join(x for x in (m.title, m.text, m.context,
                                           *(f"{a}: {b}" for a, b in m.facts)) if x))

    @property
    def asks(self) -> bool:
        """It asks for an answer (buttons or a form), rather than informing."""
        return bool(self.message.prompt_id and not self.message.closed and (self.message.buttons
                                                                             or self.message.fields))


@dataclass(frozen=True)
class Action:
    """Something a simulated person did: a button or form (`prompt_id`, `step_id` of the prompt,
    the `button` pressed), or typed `text`."""

    at: datetime
    user: str
    step_id: str | None = None
    text: str | None = None
    prompt_id: str | None = None
    button: str | None = None  # the button's value, for a button


@dataclass
class Transcript:
    """Everything one scenario produced, with what the rules need to judge it."""

    journey: Journey
    start: date
    end: date  # the day after the journey's last week ("after the end" from here)
    names: dict[str, str]  # user id -> display name
    participants: set[str]
    preparation: tuple[str, ...] = ()  # the before phase's participant steps (consent, shared questions)
    expectations_step: str | None = None
    enrolled_at: dict[str, datetime] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    personas: dict[str, str] = field(default_factory=dict)  # user id -> the persona's description
    stopped: dict[str, datetime] = field(default_factory=dict)  # who confirmed `stop`, and when

    def persona(self, user: str | None) -> str:
        if user is None:
            return "-"
        return f"{self.names.get(user, user)} ({self.personas.get(user, user)})"
