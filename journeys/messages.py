"""The neutral message model: what the engine asks adapters to show, and what users send back.

Adapters render these into Block Kit, Adaptive Cards or console text; they never invent content.
Everything here is plain data so it can be stored in the outbox as JSON and rendered later.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FieldKind = Literal["text", "long_text", "date", "choice", "multi_choice", "rating"]
ButtonStyle = Literal["primary", "danger", "default"]
Audience = Literal["participant", "manager", "admin"]


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Button:
    """A one-click answer. `value` is what the engine receives back, scoped to the prompt."""

    label: str
    value: str
    style: ButtonStyle = "default"
    # The prompt this button answers when it is not the message's own (a grouped manager card
    # carries one button per report); None: the message's `prompt_id`.
    prompt_id: str | None = None


@dataclass(frozen=True)
class FormField:
    """One input of a small form (a Slack modal, Adaptive Card inputs, or asked one by one)."""

    id: str
    label: str
    kind: FieldKind
    options: tuple[Option, ...] = ()
    required: bool = True
    hint: str = ""
    # Shown only when another field of the same form has one of these values (survey branches).
    show_if_field: str | None = None
    show_if_values: tuple[str, ...] = ()
    scale: int = 0  # for ratings: 5 or 10


@dataclass(frozen=True)
class Message:
    """One chat message in neutral form.

    `prompt_id` ties buttons and form submissions back to the engine's prompt; `form_label`
    is the button that opens the form on platforms that need one (a Slack modal).
    """

    recipient_id: str
    text: str
    title: str = ""
    journey_title: str = ""
    prompt_id: str | None = None
    buttons: tuple[Button, ...] = ()
    fields: tuple[FormField, ...] = ()
    form_label: str = ""
    links: tuple[Link, ...] = ()
    context: str = ""  # small print: which journey, what's next, why you get this
    facts: tuple[tuple[str, str], ...] = ()  # label/value pairs (digests, status, reports)
    closed: bool = False  # an answered or superseded prompt: shown without inputs
    audience: Audience = "participant"
    attachment_name: str = ""  # a file to attach (CSV report, JSON export)
    attachment_text: str = ""
    # Day words that must stay true when it is delivered later than planned (journeys/reread.py):
    # (form, ISO value) of each, and the reader's day (`dated_on`) and zone they were written for.
    dated: tuple[tuple[str, str], ...] = ()
    dated_on: str = ""
    dated_in: str = ""
    # The interview times (UTC ISO) an interviewer's day message names with what to ask: what it
    # told, kept as data (bot/services/interview_calendar.py reads it back), never parsed from text.
    told: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> Message:
        return Message(
            recipient_id=data["recipient_id"],
            text=data["text"],
            title=data.get("title", ""),
            journey_title=data.get("journey_title", ""),
            prompt_id=data.get("prompt_id"),
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            fields=tuple(
                FormField(
                    id=f["id"],
                    label=f["label"],
                    kind=f["kind"],
                    options=tuple(Option(**o) for o in f.get("options", ())),
                    required=f.get("required", True),
                    hint=f.get("hint", ""),
                    show_if_field=f.get("show_if_field"),
                    show_if_values=tuple(f.get("show_if_values", ())),
                    scale=f.get("scale", 0),
                )
                for f in data.get("fields", ())
            ),
            form_label=data.get("form_label", ""),
            links=tuple(Link(**link) for link in data.get("links", ())),
            context=data.get("context", ""),
            facts=tuple((str(a), str(b)) for a, b in data.get("facts", ())),
            closed=data.get("closed", False),
            audience=data.get("audience", "participant"),
            attachment_name=data.get("attachment_name", ""),
            attachment_text=data.get("attachment_text", ""),
            dated=tuple((str(a), str(b)) for a, b in data.get("dated", ())),
            dated_on=data.get("dated_on", ""),
            dated_in=data.get("dated_in", ""),
            told=tuple(str(t) for t in data.get("told", ())),
        )


@dataclass(frozen=True)
class Outgoing:
    """A message the engine wants delivered.

    `delivery_key` is deterministic (prompt id + purpose), so producing the same message twice
    is caught by a unique constraint instead of reaching a person twice. `replaces_key` names an
    earlier delivery to update in place (answered prompts lose their buttons).
    """

    delivery_key: str
    message: Message
    replaces_key: str | None = None
    # The latest moment it is still worth sending (None: always); past it the outbox expires it.
    stale_at_iso: str | None = None
    # Not before this moment (UTC ISO): notices caused by someone else's action wait for the
    # recipient's working hours instead of arriving at night.
    not_before_iso: str | None = None
    # Whose calendar the dispatcher checks again at send time (None: the message has no journey).
    journey_id: str | None = None
    # An answer to the recipient's own action (their card, closed after their click): it goes at
    # once, whatever the hour; everything else waits for the recipient's working hours.
    at_once: bool = False
    # Messages of one topic (a weekly digest): a newer one replaces an older one still waiting.
    topic: str | None = None
    # The enrollment a message without a prompt is about (a notice): `forget` and `stop` find it.
    enrollment_id: str | None = None


@dataclass(frozen=True)
class Reply:
    """Something a person did: a button, a form submission or typed text.

    `prompt_id` is known for buttons and forms; typed text is routed by the engine.
    `key` identifies the user action for idempotency (a retried request has the same key).
    """

    person_id: str
    key: str
    prompt_id: str | None = None
    button: str | None = None
    values: dict[str, str | list[str]] = field(default_factory=dict)
    text: str | None = None
