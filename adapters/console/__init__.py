"""The console adapter: the bot in a terminal (`hplj demo`, `hplj chat`), same port as Slack and Teams."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from adapters.console.render import render_text, save_attachment
from adapters.memory import RecordingChat
from journeys.messages import Message
from ports.chat import Address, Capabilities, SentRef


class ConsoleChat(RecordingChat):
    """Prints each message as it is delivered; keeps the record so the chat loop can answer buttons."""

    def __init__(self, write: Callable[[str], None] | None = None, *, names: dict[str, str] | None = None) -> None:
        super().__init__(platform="console",
                         capabilities=Capabilities(update_in_place=True, reconcile=True))
        self.write = write or print
        self.names = names or {}
        self.clock_label: Callable[[], str] = lambda: ""

    async def open_dm(self, user_id: str, *, address: Address | None = None) -> str:
        if user_id not in self.profiles:
            self.add_user(user_id, self.names.get(user_id, user_id))
        return await super().open_dm(user_id, address=address)

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef:
        ref = await super().send(conversation_id, message, delivery_id, address=address)
        self._print(conversation_id, message, updated=False)
        return ref

    async def update(self, ref: SentRef, message: Message, *, address: Address | None = None) -> None:
        await super().update(ref, message, address=address)

    def _print(self, conversation_id: str, message: Message, *, updated: bool) -> None:
        who = conversation_id.removeprefix("D-")
        name = self.profiles[who].name if who in self.profiles else who
        stamp = self.clock_label()
        body = render_text(message, updated=updated)
        indented = "\n".join("    " + line for line in body.splitlines())
        self.write(f"{stamp} → {name}\n{indented}")

    def reply_text(self, message: Message) -> str:
        """A reply shown at once to whoever acted (`hplj chat`), drawn like a delivered message."""
        return render_text(message)

    def save_attachment(self, message: Message, folder: Path) -> Path:
        """A reply's file, written whole rather than dumped into the terminal."""
        return save_attachment(message, folder)
