"""The figures of a journey's recent cohorts, for the report's and the dashboard's comparison."""

from __future__ import annotations

from bot.host import Services
from bot.reports import cohort_evaluation, cohort_events
from journeys.cohorts import CohortFigures
from journeys.value import business_figures

RECENT = 5  # cohorts compared, the newest first


async def journey_cohorts(service: Services, journey_id: str, limit: int = RECENT) -> list[CohortFigures]:
    """The `limit` most recent cohorts of the journey, newest first."""
    journey = service.library.get(journey_id)
    async with service.uow.read() as u:
        names = await u.enrollments.cohorts_newest_first()
        mine = []
        for name in names:
            _, jid = await u.enrollments.cohort_journey(name)
            if jid == journey_id:
                rows = await u.enrollments.cohort_rows(name)
                mine.append((name, min((r.start for r in rows), default=None)))
            if len(mine) >= limit:
                break
    out: list[CohortFigures] = []
    for name, start in mine:
        ev, _ = await cohort_evaluation(service, name)
        if ev is None:
            continue
        verified = value = currency = None
        if journey is not None:
            ids, events, _ = await cohort_events(service, name)
            v, bv = business_figures(journey, ev, events, ids)
            verified = v.impact if v.interviewed else None
            value, currency = bv.total, bv.currency
        out.append(CohortFigures(name, start, ev.impact, verified, value, currency))
    return out
