"""`hplj demo`'s facilitator and sponsor: the L&D admin names the cohort's workshop facilitator
(who then gets the anonymous brief before the workshop and the progress after it), and the
senior leader endorses the journey on the morning of the start, after the welcomes of the people
furthest east went out: theirs stay as sent, the later ones quote her."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

from bot.app.service import BotService
from bot.devtools.demo_interviews import _admin
from bot.services.clock import SimulatedClock
from journeys.endorsement import endorse_prompt_id
from journeys.messages import Message
from journeys.text import plain
from ports.chat import InboundAction

FACILITATOR = "olu"
SPONSOR = "hana"
ENDORSEMENT = ("Listening first is how we keep customers and people. I'll ask each of you "
               "in June what changed, so make the time for it.")
# Each participant's picture of success (before the start): the facilitator sees only its themes.
PICTURES = {
    "ana": "An angry caller leaves calm and I never have to escalate the complaint.",
    "chen": "My stand-ups surface concerns early instead of in a crisis a week later.",
    "dev": "Customers with an outage feel heard and the problem is resolved in one contact.",
    "eli": "I paraphrase before I respond, and people stop repeating themselves.",
    "fatima": "Handovers where nobody talks past each other and concerns come up early.",
}


async def name_facilitator(service: BotService, clock: SimulatedClock, journey_id: str, cohort: str, *,
                           write: Callable[[str], None], quiet: bool) -> None:
    await _admin(service, clock, f"enroll {journey_id} facilitator @{FACILITATOR} cohort {cohort}", 900, write, quiet)


def endorsement(journey_id: str, sponsor_id: str, start: date) -> tuple[datetime, InboundAction, str]:
    """The leader's Endorse form, submitted at 07:30 UTC on the start day."""
    at = datetime.combine(start, time(7, 30), UTC)
    action = InboundAction("console", SPONSOR, "demo-endorse", endorse_prompt_id(journey_id, sponsor_id),
                           None, {"sentence": ENDORSEMENT})
    return at, action, f"Hana Kobayashi presses Endorse on her brief: “{ENDORSEMENT}”"


def closing_lines(sent: list[tuple[datetime, str, Message]], participants: dict[str, str]) -> list[str]:
    """The closing note's part: the facilitator's brief as he got it, and the endorsement in the
    welcomes (`sent`: when, recipient user id, message; `participants`: user id -> name)."""
    lines: list[str] = []
    briefs = [(when, m) for when, user, m in sent if user == FACILITATOR and m.title.startswith("Your brief")]
    for when, m in briefs[:1]:
        body = " ".join(plain(m.text).replace("*", "").splitlines()[1:4])
        named = [n for n in participants.values() if n.split()[0] in m.text]
        lines.append(f"Facilitator's brief ({when:%a %d %b}): “{m.title}: {body} …” — names "
                     f"{', '.join(named) if named else 'nobody'}.")
    welcomes = [(when, user, m) for when, user, m in sent if user in participants and m.title == "Your six weeks at a "
                "glance"]
    quoting = [(when, user, m) for when, user, m in welcomes if ENDORSEMENT in plain(m.text)]
    if quoting:
        quote = plain(quoting[0][2].text).split("\n\n")[-1].replace("*", "")
        earlier = sorted(participants[u] for _, u, m in welcomes if ENDORSEMENT not in plain(m.text))
        lines.append(f"Sponsor's endorsement in the welcome: {len(quoting)} of {len(welcomes)} welcomes quote it "
                     f"({quote}); sent before it, not resent: {', '.join(earlier) or 'none'}.")
    return lines
