"""The report's verified stories: success cases whose interview notes keep the story with the
person's consent, quoted without their name (or their manager's), marked as verified in an
interview, with the evidence seen and the value over its period (the wording is
journeys/evaluation/stories.py, shared with the leader's final digest)."""

from __future__ import annotations

from bot.services.host import Services
from journeys.definition import Journey
from journeys.evaluation.interviews import Verdict
from journeys.evaluation.stories import anonymise, storied, story_lines

__all__ = ["anonymise", "verified_stories"]


async def verified_stories(service: Services, journey: Journey, found: list[Verdict],
                           limit: int = 3) -> tuple[list[str], set[str]]:
    """(report lines, the enrollments they come from), earliest interview first."""
    ids = [v.enrollment_id for v in storied(found)]
    if not ids:
        return [], set()
    async with service.uow.read() as u:
        states = await u.enrollments.states(ids)
        people = await u.enrollments.people_of(ids)
        names = await u.views.names(sorted({p for _, a, b in people for p in (a, b) if p}))
    who = {eid: [names.get(p or "", "") for p in (pid, mid)] for eid, pid, mid in people}
    return story_lines(journey, found, {eid: s.notes for eid, s in states.items()}, who, limit)
