"""`hplj chat`: talk to the bot in a terminal as a participant, a manager or an admin.

The same service, scheduler and console adapter as everywhere else, with a simulated clock you
move with `:advance`. Numbers press the buttons of the latest prompt; anything else is typed text.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.console import ConsoleChat
from bot.app.service import BotService
from bot.app.wiring import build_service, console_settings
from bot.services.clock import SimulatedClock
from journeys import before_phase
from journeys.definition import Journey
from journeys.loader import default_library_path, load_library
from journeys.numbers import is_number
from ports.chat import InboundAction

CAST = {
    "ana": ("Ana Silva", "Europe/London"),
    "ben": ("Ben Okafor", "Europe/London"),
    "admin": ("Lee (L&D admin)", "Europe/London"),
}
HELP = """Commands:
  :advance 2d | 3h | 30m | 1w   move time forward; due prompts arrive as time passes
  :as ana | ben | admin         switch who you are (participant, manager, admin)
  :time                         show the simulated time
  :quit                         leave
  1, 2, 3 ...                   press a button of your latest open prompt
  journey <command>             an admin command (try `journey help` as admin)
  anything else                 sent to the bot as a message (try `help` or `status`)"""

_DURATION = re.compile(r"^(\d+)\s*([wdhm])$")


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text.strip().lower())
    if not m:
        raise ValueError(f"expected a duration like 2d, 3h, 30m or 1w, got {text!r}")
    n, unit = int(m.group(1)), m.group(2)
    return {"w": timedelta(weeks=n), "d": timedelta(days=n), "h": timedelta(hours=n),
            "m": timedelta(minutes=n)}[unit]


class ChatSession:
    def __init__(self, service: BotService, console: ConsoleChat, clock: SimulatedClock,
                 write: Callable[[str], None]) -> None:
        self.service = service
        self.console = console
        self.clock = clock
        self.write = write
        self.me = "ana"
        self.n = 0
        self.attachments_dir: Path | None = None  # where files the bot sends are saved (default: cwd)

    async def advance(self, delta: timedelta) -> None:
        target = self.clock.now() + delta
        while True:
            async with self.service.uow.read() as uow:
                due = await uow.views.next_due_at()
            if due is None or due > target:
                break
            self.clock.set(max(due, self.clock.now()))
            await self.service.tick(self.clock.now())
        self.clock.set(target)
        await self.service.tick(target)

    def _latest_buttons(self) -> list[tuple[str, str]] | None:
        """(prompt id, value) of each button of the latest prompt (a grouped card's buttons each
        answer their own report's prompt)."""
        for d in reversed(self.console.to(self.me)):
            msg = d.current
            if msg.prompt_id and not msg.closed:  # the latest open prompt; without buttons, "1" is typed text
                return [(b.prompt_id or msg.prompt_id, b.value) for b in msg.buttons] if msg.buttons else None
        return None

    def _latest_open(self) -> bool:
        return any(d.current.prompt_id and not d.current.closed for d in self.console.to(self.me))

    async def handle(self, line: str) -> bool:
        line = line.strip()
        if not line:
            return True
        if line in (":quit", ":q", ":exit"):
            return False
        if line == ":help":
            self.write(HELP)
            return True
        if line == ":time":
            self.write(f"It is {self.clock.now():%a %d %b %Y %H:%M} UTC.")
            return True
        if line.startswith(":as"):
            who = line[3:].strip().lower()
            if who not in CAST:
                self.write(f":as expects one of {', '.join(CAST)}, got {who!r}")
            else:
                self.me = who
                self.write(f"You are now {CAST[who][0]}.")
            return True
        if line.startswith(":advance"):
            try:
                delta = parse_duration(line[len(":advance"):])
            except ValueError as exc:
                self.write(str(exc))
                return True
            await self.advance(delta)
            self.write(f"It is now {self.clock.now():%a %d %b %H:%M} UTC.")
            return True
        if line.startswith(":"):
            self.write(f"unknown chat command {line.split()[0]!r}; type :help")
            return True
        self.n += 1
        key = f"chat-{self.clock.now().timestamp()}-{self.n}"
        word = line.split()[0].lower()
        if word in ("journey", "/journey"):
            result = await self.service.handle_command("console", self.me, line.split(None, 1)[1] if " " in line
                                                       else "help", key)
        elif is_number(line) and self._latest_buttons() is None and self._latest_open():
            self.write("  Your latest question has no buttons to press: type your answer instead.")
            return True
        elif is_number(line) and (latest := self._latest_buttons()) is not None:
            idx = int(line) - 1
            if not 0 <= idx < len(latest):
                self.write(f"Choose a button from 1 to {len(latest)}.")
                return True
            prompt_id, value = latest[idx]
            result = await self.service.handle_action(InboundAction("console", self.me, key, prompt_id, value))
        else:
            result = await self.service.handle_action(InboundAction("console", self.me, key, text=line))
        await self.service.settle()
        for r in result.replies:
            self.write("\n".join("  " + x for x in self.console.reply_text(r).splitlines()))
            if r.attachment_name:  # the whole file, saved rather than dumped into the conversation
                try:
                    path = self.console.save_attachment(r, self.attachments_dir or Path.cwd())
                except OSError:  # a read-only working directory: a private temp file instead
                    path = self.console.save_attachment(r, Path(tempfile.mkdtemp(prefix="hplj-chat-")))
                self.write(f"  saved {r.attachment_name} to {path}")
        return True


async def run_chat(as_: str, db_path: Path | None, *, lines: list[str] | None = None,
                   write: Callable[[str], None] | None = None,
                   library: dict[str, Journey] | None = None, journey_id: str = "active-listening",
                   now: datetime | None = None) -> ChatSession:
    """`now`: where the simulated clock starts (default: the real time, to the minute)."""
    def to_stdout(s: str) -> None:
        sys.stdout.write(s + "\n")

    out = write or to_stdout
    tmp = None
    if db_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="hplj-chat-")
        db_path = Path(tmp.name) / "chat.db"
    library = library if library is not None else load_library(default_library_path())
    journey = library[journey_id]
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    clock = SimulatedClock(now)
    console = ConsoleChat(write=out)
    console.clock_label = lambda: f"{clock.now():%a %d %b %H:%M} UTC"
    # built as `hplj serve` builds the bot (migrated, so `hplj serve` can serve the file later)
    service = await build_service(console_settings(db_path, {"admin"}), library, clock=clock, console=console)
    ids = {}
    for uid, (name, tz) in CAST.items():
        console.add_user(uid, name, f"{uid}@example.com", tz)
        ids[uid] = (await service.ensure_person("console", uid, name=name, tz=tz, email=f"{uid}@example.com")).id
    start = now.date() + timedelta(days=(7 - now.weekday()) % 7 or 7)  # next Monday
    enrolled = await service.enroll(journey_id, [ids["ana"]], ids["ben"], start, cohort="chat")
    session = ChatSession(service, console, clock, out)
    session.me = as_ if as_ in CAST else "ana"
    warning = before_phase.compression_warning(enrolled.compressed, journey)
    out(f"Ana is enrolled in “{journey.title}” starting {start:%a %d %b}; Ben is her manager.\n"
        + (f"{warning}\n" if warning else "") +
        f"You are {CAST[session.me][0]}. Type :help for commands; try `:advance 1w`.")
    try:
        if lines is not None:
            for line in lines:
                out(f"{session.me}> {line}")
                if not await session.handle(line):
                    break
        else:
            while True:
                try:
                    line = await asyncio.to_thread(input, f"{session.me}> ")
                except EOFError:
                    break
                if not await session.handle(line):
                    break
    finally:
        await service.db.dispose()
        if tmp is not None:
            tmp.cleanup()
    return session
