"""The demo's "What to change": the L&D lead reads the draft drafted from the evidence, then replaces
it with her own words before the report goes out, through the same admin command Slack, Teams and
the console use (`report <cohort> recommendations [set <text>]`)."""

from __future__ import annotations

from collections.abc import Callable

from bot.app.service import BotService
from bot.devtools.demo_interviews import INTERVIEWER
from journeys.text import plain

EDITED = ("Ask every manager to hold the expectations conversation before the start (2 of 5 had none).\n"
          "Agree with the team leads that support requests are answered within a working day "
          "(3 expired unanswered).\n"
          "Meet the support-desk lead about queue pressure in outage weeks (named in an interview).")


async def edit_recommendations(service: BotService, cohort: str, *, write: Callable[[str], None],
                               quiet: bool) -> None:
    now = service.clock.now()
    for n, line in enumerate((f"report {cohort} recommendations",
                              f"report {cohort} recommendations set {EDITED}")):
        result = await service.handle_command("console", INTERVIEWER, line, f"demo-changes-{n}")
        if quiet:
            continue
        shown = line.replace("\n", " ⏎ ")
        write(f"{now:%a %d %b %H:%M} UTC ⌨ (L&D admin) /journey {shown}")
        for r in result.replies:
            write("  " + plain(r.text).replace("\n", "\n  "))
