"""The one port every chat platform implements, and the handler the bot offers inbound adapters.

Outbound: the delivery worker calls `ChatPort` (open a DM, send, update, resolve a profile).
Inbound: an adapter verifies and parses a platform request into an `InboundAction` or a command
line and calls the `BotHandler`; it renders whatever comes back. Platform SDKs never leak past
this boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from journeys.directory import DirectoryEntry
from journeys.messages import Message
from journeys.text import clean, clean_fields


@dataclass(frozen=True)
class Capabilities:
    """What the delivery worker needs to know about a platform."""

    update_in_place: bool = True  # else an answered prompt keeps its old look (the update is cancelled)
    reconcile: bool = False  # can find an in-doubt send by its delivery id (Slack metadata)
    # The organisation directory this port reads (`directory_entries`): "graph", "slack"; None: none.
    # It names the source of what is cached (the directory table's `source`).
    directory: str | None = None
    # an admin's file (a report CSV) reaches them as a file (Slack uploads it, the console saves
    # it); else they get a signed download link (Teams: bot/dashboard/report_links.py)
    file_attachments: bool = True


@dataclass(frozen=True)
class Profile:
    user_id: str  # platform user id (Slack U..., Teams AAD object id, console name)
    name: str
    email: str | None = None
    tz: str | None = None

    def __post_init__(self) -> None:
        # The one cleaning step of every profile, whichever directory it came from (a Slack display
        # name, a Teams roster, Graph): a display name is text a person typed, and a NUL in it would
        # abort a PostgreSQL write. Text fields lose their control characters here.
        clean_fields(self, ("name", "email", "tz"))

    def cleaned(self) -> Profile:
        """The profile without control characters (already so: see `__post_init__`)."""
        return replace(self)


@dataclass(frozen=True)
class SentRef:
    """Where a delivered message lives, so it can be updated in place later."""

    conversation_id: str
    message_id: str


# How a platform reaches someone proactively, as the bot stored it when they installed or wrote (a
# Teams ConversationReference); the dispatcher hands it over with every delivery to that person.
Address = Mapping[str, Any]

FailureKind = Literal["permanent", "retry", "rate_limited", "in_doubt"]


class DeliveryError(Exception):
    """A send that did not (certainly) succeed, classified for the delivery worker.

    permanent: never retry (user gone, bot blocked); retry: safe to repeat (the request was
    refused before acceptance); rate_limited: repeat after `retry_after` seconds; in_doubt: the
    request may have been accepted (dropped connection, timeout, 502/504).
    """

    def __init__(self, kind: FailureKind, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.retry_after = retry_after


def shown_verbatim(rendered: Any, text: str) -> bool:
    """Whether `text` appears unchanged in one of the strings of a rendered payload (JSON-like)."""
    if isinstance(rendered, str):
        return text in rendered
    if isinstance(rendered, dict):
        return any(shown_verbatim(v, text) for v in rendered.values())
    if isinstance(rendered, (list, tuple)):
        return any(shown_verbatim(v, text) for v in rendered)
    return False


class ChatPort(Protocol):
    platform: str

    @property
    def capabilities(self) -> Capabilities: ...

    async def open_dm(self, user_id: str, *, address: Address | None = None) -> str:
        """Conversation id of the 1:1 chat with `user_id`, opening it if needed. `address`: the
        recipient's stored address (platforms that need one to reach anybody: Teams)."""
        ...

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef: ...

    async def update(self, ref: SentRef, message: Message, *, address: Address | None = None) -> None: ...

    async def resolve_profile(self, user_id: str) -> Profile: ...

    async def find_user_by_email(self, email: str) -> Profile | None: ...

    async def find_delivery(self, conversation_id: str, delivery_id: str) -> SentRef | None:
        """Look for an earlier send carrying `delivery_id`; None when absent or unsupported."""
        ...

    def fits(self, message: Message) -> bool:
        """Whether the platform shows `message` without cutting or changing its attachment (what
        must arrive whole, e.g. an export); else the bot offers another way instead of sending it."""
        ...

    async def directory_entries(self, email: str) -> list[DirectoryEntry]:
        """The person with this e-mail and, when known, their managers upward (first is the person);
        empty when the directory does not know them or the port has none (`capabilities.directory`)."""
        ...


@dataclass(frozen=True)
class InboundAction:
    """A button press, form submission or typed message, already verified by the adapter."""

    platform: str
    user_id: str  # platform user id of whoever acted
    key: str  # idempotency key: same user action => same key (retries, redeliveries)
    prompt_id: str | None = None
    button: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    profile: Profile | None = None  # when the payload carries name/tz, to refresh the cache
    # The adapter answers this action with the prompt's new look, in place and at once (Teams'
    # invoke response replaces the clicked card). Otherwise the outbox updates the message, through
    # the rate limiter. Never both: one click, one update.
    refresh_in_place: bool = False
    # Typed text sent as a reply to one of the bot's messages: that message's platform id (a Slack
    # thread's parent ts, a Teams `replyToId`). The handler routes the text to the prompt that
    # message carries, and to no other.
    reply_to: str | None = None

    def cleaned(self) -> InboundAction:
        """The action with control characters (NUL included) stripped from what was typed: the
        edge rule, so nothing downstream (a database, a log, a renderer) ever sees them."""
        values = {k: [clean(x) if isinstance(x, str) else x for x in v] if isinstance(v, list)
                  else clean(v) if isinstance(v, str) else v for k, v in self.values.items()}
        text = clean(self.text) if self.text is not None else None
        return replace(self, values=values, text=text, profile=self.profile and self.profile.cleaned())


@dataclass(frozen=True)
class AccessChange:
    """The platform says the bot lost (or regained) its access: an uninstall or a revoked token.

    `scope`: "workspace" (the Slack workspace this installation serves: everyone on the platform),
    "person" (a Teams personal-scope uninstall: `subject` is their user id) or "team" (a Teams team
    uninstall: `subject` is the team id). Handlers offering `access_changed(change)` get it.
    """

    platform: str
    scope: Literal["workspace", "person", "team"]
    subject: str
    reason: str  # the platform's word for it: app_uninstalled, tokens_revoked, installation_removed
    removed: bool = True  # False: installed again


@dataclass(frozen=True)
class HandlerResult:
    """What the adapter shows right away; everything else travels through the outbox.

    `updated` is the prompt as it now looks, set only for an action with `refresh_in_place` (the
    outbox then leaves that message alone); `replies` are shown only to the acting user (Slack
    ephemeral, Teams reply).
    """

    updated: Message | None = None
    replies: tuple[Message, ...] = ()


class BotHandler(Protocol):
    async def handle_action(self, action: InboundAction) -> HandlerResult: ...

    async def handle_command(self, platform: str, user_id: str, text: str, key: str) -> HandlerResult:
        """An admin command line (`enroll ...`), without the `/journey` or `journey` prefix."""
        ...

    async def remember_user(self, platform: str, profile: Profile, address: dict[str, Any]) -> bool:
        """Store how to reach a user (Teams ConversationReference); True the first time."""
        ...

    async def prompt_message(self, prompt_id: str, *, platform: str | None = None,
                             user_id: str | None = None) -> Message | None:
        """The current rendering of a prompt (to open its form as a modal). Given the acting
        user, raises PermissionError (its text is the answer to show) when the prompt is not
        theirs."""
        ...

    async def home_view(self, platform: str, user_id: str) -> list[Message] | None:
        """What a person's home tab shows (Slack's App Home): their status; None for a stranger."""
        ...
