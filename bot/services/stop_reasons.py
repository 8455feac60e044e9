"""Who left a cohort's journey themselves, in the cohort report: how many, and why if they said.

A reason is what a person typed after `stop yes`: like the report's other free text (the success
stories) it appears without a name, with the participant's and their manager's names taken out,
shortened and rendered inert. Below the minimum group only the count appears: a reason from one
or two people in a small cohort would point at them. `status` (for the L&D team) keeps the names.
"""

from __future__ import annotations

from bot.services.host import Services
from bot.services.verified_stories import anonymise
from journeys.text import typed
from journeys.wording import plural


async def stop_lines(service: Services, cohort: str, min_group: int) -> list[str]:
    """The report's lines about stops (none when nobody stopped)."""
    async with service.uow.read() as u:
        rows = [r for r in await u.enrollments.cohort_rows(cohort) if r.status != "unenrolled"]
        stopped = [r for r in rows if r.status == "stopped"]
        names = await u.views.names(sorted({p for r in stopped for p in (r.person_id, r.manager_id) if p}))
    if not stopped:
        return []
    reasons = []
    for r in stopped:
        note = r.notes.get("stopped")
        reason = note.get("reason") if isinstance(note, dict) else None
        if reason:
            hide = [names.get(p, "") for p in (r.person_id, r.manager_id) if p and names.get(p)]
            reasons.append(anonymise(reason, hide))
    head = (f"Stopped by the participant: {len(stopped)} of {plural(len(rows), 'person', 'people')}, "
            f"{len(reasons)} with a reason.")
    if not reasons:
        return [head]
    if len(stopped) < min_group:
        held = (f"  Their reasons are not shown while fewer than {min_group} people have stopped "
                f"(`status {cohort}` lists them for the L&D team).")
        return [head, held]
    return [head, *(f"  • “{typed(reason)}”" for reason in sorted(reasons, key=str.lower))]
