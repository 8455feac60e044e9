"""The demo's second Success Case stage: an L&D admin selects candidates, the candidates answer the
consent request with its buttons (one declines), and the admin records two interviews, through the
same admin commands and inbound path Slack, Teams and the console use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from adapters.port import InboundAction
from bot.clock import SimulatedClock
from bot.service import BotService
from journeys.interviews import NO, consent_enrollment
from journeys.text import plain

INTERVIEWER = "lena"  # the demo's L&D admin (bot.demo.PEOPLE)
DECLINES = {"eli"}  # candidates who say "No, thanks" to the consent request; the others take the first time


@dataclass(frozen=True)
class ScriptedInterview:
    user_id: str
    classification: str
    outcome: str | None = None
    units: float | None = None


# Ana's renewal story is verified with a value in the sample journey's measured outcome; Fatima's
# is verified too, in an outcome without a measure (so it adds a verified case but no value).
INTERVIEWS = (
    ScriptedInterview("ana", "success", "fewer-escalations", 6),
    ScriptedInterview("fatima", "success", "early-concerns"),
)


def verdict_lines() -> list[str]:
    lines = []
    for i in INTERVIEWS:
        tail = (f" outcome {i.outcome}" if i.outcome else "") + (f" value {i.units:g}" if i.units is not None else "")
        lines.append(f"interview @{i.user_id} {i.classification}{tail}")
    return lines


async def _admin(service: BotService, clock: SimulatedClock, line: str, n: int, write: Callable[[str], None],
                 quiet: bool) -> None:
    result = await service.handle_command("console", INTERVIEWER, line, f"demo-interview-{n}")
    await service.tick(clock.now())
    if not quiet:
        write(f"{clock.now():%a %d %b %H:%M} UTC ⌨ (L&D admin) /journey {line}")
        for r in result.replies:
            write("  " + plain(r.text).replace("\n", "\n  "))


async def _tick_hours(service: BotService, clock: SimulatedClock, hours: int) -> None:
    for _ in range(hours):
        clock.set(clock.now() + timedelta(hours=1))
        await service.tick(clock.now())


async def run_interviews(service: BotService, clock: SimulatedClock, cohort: str, *,
                         write: Callable[[str], None], quiet: bool) -> None:
    """Select and invite, let the candidates click (in their working hours), then record the
    interviews a few days later; finally deliver what is still waiting for someone's hours."""
    sent = getattr(service.ports["console"], "sent", [])
    seen = len(sent)
    clock.set(clock.now() + timedelta(hours=20))
    await _admin(service, clock, f"interviews {cohort}", 0, write, quiet)
    for _ in range(24):  # each request reaches its candidate in their working hours; they answer within the hour
        await _tick_hours(service, clock, 1)
        for d in sent[seen:]:
            msg = d.message
            if consent_enrollment(msg.prompt_id) is None or not msg.buttons:
                continue
            user = d.conversation_id.removeprefix("D-")
            choice = NO if user in DECLINES else msg.buttons[0].value
            if not quiet:
                label = next(b.label for b in msg.buttons if b.value == choice)
                write(f"{clock.now():%a %d %b %H:%M} UTC ← {user} answers “{msg.title}”: {label}")
            await service.handle_action(InboundAction("console", user, f"demo-consent-{user}", msg.prompt_id, choice))
            await service.settle()
        seen = len(sent)
    await _tick_hours(service, clock, 48)  # the interviews happen at the booked times
    for n, line in enumerate(verdict_lines(), start=1):
        clock.set(clock.now() + timedelta(hours=2))
        await _admin(service, clock, line, n, write, quiet)
    await _tick_hours(service, clock, 24)  # deliver what still waits for someone's working hours
