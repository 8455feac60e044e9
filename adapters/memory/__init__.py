"""An in-memory chat platform that records everything: the reference implementation of the port."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from journeys.directory import DirectoryEntry
from journeys.messages import Message
from ports.chat import Address, Capabilities, DeliveryError, Profile, SentRef


@dataclass
class Delivered:
    conversation_id: str
    message_id: str
    delivery_id: str
    message: Message
    updates: list[Message] = field(default_factory=list)

    @property
    def current(self) -> Message:
        return self.updates[-1] if self.updates else self.message


class RecordingChat:
    """Keeps every send and update; `fail_next` injects platform errors for tests."""

    platform = "memory"

    def __init__(self, profiles: dict[str, Profile] | None = None, *, platform: str = "memory",
                 capabilities: Capabilities | None = None, fits: Callable[[Message], bool] | None = None) -> None:
        self.platform = platform
        # Everything fits in memory; a stand-in for a real platform can borrow that platform's rule.
        self._fits = fits
        self.capabilities = capabilities or Capabilities(reconcile=True)
        self.profiles: dict[str, Profile] = dict(profiles or {})
        self.sent: list[Delivered] = []
        self.fail_next: list[DeliveryError] = []
        self._n = 0

    def add_user(self, user_id: str, name: str, email: str | None = None, tz: str | None = None) -> Profile:
        p = Profile(user_id, name, email, tz)
        self.profiles[user_id] = p
        return p

    async def open_dm(self, user_id: str, *, address: Address | None = None) -> str:
        if user_id not in self.profiles:
            raise DeliveryError("permanent", "user_not_found")
        return f"D-{user_id}"

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self._n += 1
        d = Delivered(conversation_id, f"m{self._n}", delivery_id, message)
        self.sent.append(d)
        return SentRef(conversation_id, d.message_id)

    async def update(self, ref: SentRef, message: Message, *, address: Address | None = None) -> None:
        for d in self.sent:
            if d.message_id == ref.message_id and d.conversation_id == ref.conversation_id:
                d.updates.append(message)
                return
        raise DeliveryError("permanent", "message_not_found")

    async def resolve_profile(self, user_id: str) -> Profile:
        if user_id not in self.profiles:
            raise DeliveryError("permanent", "user_not_found")
        return self.profiles[user_id]

    async def find_user_by_email(self, email: str) -> Profile | None:
        return next((p for p in self.profiles.values() if p.email and p.email.lower() == email.lower()), None)

    async def find_delivery(self, conversation_id: str, delivery_id: str) -> SentRef | None:
        for d in self.sent:
            if d.delivery_id == delivery_id and d.conversation_id == conversation_id:
                return SentRef(conversation_id, d.message_id)
        return None

    def fits(self, message: Message) -> bool:
        return self._fits(message) if self._fits is not None else True

    async def directory_entries(self, email: str) -> list[DirectoryEntry]:
        """No organisation directory here (`capabilities.directory` is None)."""
        return []

    def to(self, user_id: str) -> list[Delivered]:
        return [d for d in self.sent if d.conversation_id == f"D-{user_id}"]
