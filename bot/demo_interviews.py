"""The demo's second Success Case stage: an L&D admin selects candidates, asks their consent and
records two interviews, through the same admin commands Slack, Teams and the console use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.clock import SimulatedClock
from bot.service import BotService
from journeys.text import plain

INTERVIEWER = "lena"  # the demo's L&D admin (bot.demo.PEOPLE)


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


def command_lines(cohort: str) -> list[str]:
    lines = [f"interviews {cohort}"]
    for i in INTERVIEWS:
        lines.append(f"interview @{i.user_id} agreed")
        tail = (f" outcome {i.outcome}" if i.outcome else "") + (f" value {i.units:g}" if i.units is not None else "")
        lines.append(f"interview @{i.user_id} {i.classification}{tail}")
    return lines


async def run_interviews(service: BotService, clock: SimulatedClock, cohort: str, *,
                         write: Callable[[str], None], quiet: bool) -> None:
    """Run the interview commands a day apart (consent, then the conversation), delivering what
    they queue, and print the admin's replies."""
    for n, line in enumerate(command_lines(cohort)):
        clock.set(clock.now() + timedelta(hours=2 if n % 2 else 20))
        result = await service.handle_command("console", INTERVIEWER, line, f"demo-interview-{n}")
        await service.tick(clock.now())
        if not quiet:
            write(f"{clock.now():%a %d %b %H:%M} UTC ⌨ (L&D admin) /journey {line}")
            for r in result.replies:
                write("  " + plain(r.text).replace("\n", "\n  "))
    for _ in range(24):  # deliver the consent requests still waiting for someone's working hours
        clock.set(clock.now() + timedelta(hours=1))
        await service.tick(clock.now())
