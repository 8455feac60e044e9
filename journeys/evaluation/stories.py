"""Verified stories quoted without names: the words an interview kept with the person's consent,
marked as verified, with the evidence seen and the value over its period. Pure, so the report
(bot/services/verified_stories.py) and the leader's final digest (scheduler/results.py) quote
them alike."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from journeys.definition import Journey
from journeys.evaluation.interview_notes import story_of
from journeys.evaluation.interviews import Verdict
from journeys.evaluation.success_case import SUCCESS
from journeys.evaluation.value import PERIOD_WORDS, money
from journeys.ppp import measured_outcomes, units

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


def storied(found: Sequence[Verdict]) -> list[Verdict]:
    """The verified success cases whose notes may keep a story, earliest interview first."""
    return sorted((v for v in found if v.classification == SUCCESS and v.with_notes),
                  key=lambda v: (v.at, v.enrollment_id))


def story_lines(journey: Journey, found: Sequence[Verdict], notes: Mapping[str, Mapping[str, Any]],
                names: Mapping[str, list[str]], limit: int = 3) -> tuple[list[str], set[str]]:
    """(lines, the enrollments they quote): `notes` and `names` (participant's and manager's, to
    hide) by enrollment id."""
    lines: list[str] = []
    used: set[str] = set()
    for v in storied(found):
        story = story_of(dict(notes.get(v.enrollment_id, {})))
        if not story:
            continue
        lines.append(story_line(len(lines) + 1, story, v, journey, [n for n in names.get(v.enrollment_id, []) if n]))
        used.add(v.enrollment_id)
        if len(lines) >= limit:
            break
    return lines, used
