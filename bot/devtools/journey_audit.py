"""`hplj audit FILE...`: each journey lived by the audit's personas, every message checked against
the written rules (`journeys/transcript_rules.py`); `hplj preview FILE`: the timeline one role receives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.app.wiring import message_renderer
from bot.devtools.simulation import Simulation, audit_cast, preview_cast
from journeys.definition import Journey
from journeys.loader import load_journey_file
from journeys.transcript import Transcript
from journeys.transcript_rules import Breach, check


def next_monday(today: date) -> date:
    """The default start: the first Monday at least a week away, so the before phase fits."""
    return today + timedelta(days=7 + (7 - today.weekday()) % 7)


async def audit_journey(journey: Journey, start: date) -> tuple[Transcript, list[Breach]]:
    transcript = await Simulation(journey, start, audit_cast()).run()
    return transcript, check(transcript)


async def preview_journey(journey: Journey, start: date, role: str, fmt: str) -> list[Any]:
    """Every message the role receives, in order: text blocks, or the platform's JSON payloads."""
    transcript = await Simulation(journey, start, preview_cast()).run()
    return received(transcript, role, fmt)


def received(transcript: Transcript, role: str, fmt: str = "text") -> list[Any]:
    """What one role (or `all`) received, in order, as each reader sees it in their own time."""
    render: Callable[[Any], Any] = message_renderer(fmt)
    out: list[Any] = []
    for s in transcript.sent:
        if role not in (s.role, "all"):
            continue
        when = f"{s.local:%a %d %b %Y %H:%M} {s.local.tzname()}"
        if fmt == "text":
            body = "\n".join("    " + line for line in str(render(s.message)).splitlines())
            out.append(f"{when} → {transcript.names[s.recipient]} ({s.kind.name})\n{body}")
        else:
            out.append({"local_time": s.local.isoformat(), "kind": s.kind.name, "payload": render(s.message)})
    return out


def load(path: Path) -> Journey:
    return load_journey_file(path)
