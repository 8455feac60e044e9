"""The report's verified stories: success cases whose interview notes keep the story with the
person's consent, quoted without their name (or their manager's), marked as verified in an
interview, with the evidence seen and the value over its period."""

from __future__ import annotations

import re
from typing import Any

from bot.services.host import Services
from journeys.definition import Journey
from journeys.evaluation.interview_notes import story_of
from journeys.evaluation.interviews import Verdict
from journeys.evaluation.success_case import SUCCESS
from journeys.evaluation.value import PERIOD_WORDS, money
from journeys.ppp import measured_outcomes, units


def story_line(k: int, story: dict[str, str], verdict: Verdict, journey: Journey, hide: list[str]) -> str:
    seen = f"evidence seen: “{anonymise(story['evidence'], hide)}”" if story.get("evidence") else (
        "evidence seen" if verdict.evidence else "no evidence seen")
    parts = [f"{label}: “{anonymise(story[key], hide)}”" for key, label in
             (("situation", "Situation"), ("behaviour", "Behaviour"), ("result", "Result")) if story.get(key)]
    o = measured_outcomes(journey).get(verdict.outcome or "")
    if o is not None and o.measure is not None and verdict.units:
        m = o.measure
        parts.append(f"Value: {units(verdict.units, m.unit)} {PERIOD_WORDS[m.period]} "
                     f"({money(verdict.units * m.value_per_unit, m.currency)} {PERIOD_WORDS[m.period]})")
    return f"Verified story {k} (interview notes, {seen}): " + " ".join(parts)


async def verified_stories(service: Services, journey: Journey, found: list[Verdict],
                           limit: int = 3) -> tuple[list[str], set[str]]:
    """(report lines, the enrollments they come from), earliest interview first."""
    success = sorted((v for v in found if v.classification == SUCCESS and v.with_notes),
                     key=lambda v: (v.at, v.enrollment_id))
    if not success:
        return [], set()
    ids = [v.enrollment_id for v in success]
    async with service.uow.read() as u:
        states = await u.enrollments.states(ids)
        people = await u.enrollments.people_of(ids)
        names = await u.views.names(sorted({p for _, a, b in people for p in (a, b) if p}))
    who = {eid: [names.get(p or "", "") for p in (pid, mid)] for eid, pid, mid in people}
    lines: list[str] = []
    used: set[str] = set()
    for v in success:
        state = states.get(v.enrollment_id)
        story = story_of(state.notes) if state is not None else {}
        if not story:
            continue
        lines.append(story_line(len(lines) + 1, story, v, journey, [n for n in who.get(v.enrollment_id, []) if n]))
        used.add(v.enrollment_id)
        if len(lines) >= limit:
            break
    return lines, used


STORY_CHARS = 280


def anonymise(text: Any, names: list[str]) -> str:
    """One line of the author's own words without their name (or their manager's), shortened."""
    out = " ".join(str(text or "").split())
    for name in names:
        for part in name.split():
            if len(part) >= 3:
                out = re.sub(rf"\b{re.escape(part)}\b", "[name]", out, flags=re.IGNORECASE)
    out = re.sub(r"\[name\](\s+\[name\])+", "[name]", out)
    return out if len(out) <= STORY_CHARS else out[:STORY_CHARS - 1].rstrip() + "…"
