"""Plain words first for a stored cohort: the manager-support comparison pooled over the journey's
cohorts (same version) when the cohort alone is too small, for the opening sentences
(journeys/evaluation/plain_words.py `headline`) and the drafted "What to change"."""

from __future__ import annotations

from bot.services.host import Services
from journeys.evaluation.accountability import request_steps
from journeys.evaluation.plain_words import Pooled
from journeys.evaluation.pooling import pool_factors
from journeys.evaluation.success_case import Evaluation


async def cohort_pooled(service: Services, cohort: str, ev: Evaluation) -> Pooled | None:
    """The pooled factor comparison for `cohort`, or None when it compares on its own or has no
    cohort of the same journey version to pool with."""
    if not any(f.hidden_because == "small" for f in ev.factors):
        return None
    async with service.uow.read() as u:
        _, journey_id = await u.enrollments.cohort_journey(cohort)
        if journey_id is None:
            return None
        groups = await u.enrollments.journey_cohort_versions(journey_id)
        if len(groups) < 2 or cohort not in groups:
            return None
        events = await u.events.of_enrollments(sorted({e for _, ids in groups.values() for e in ids}))
    journey = service.library.get(journey_id)
    clock = getattr(service, "clock", None)
    return pool_factors(events, groups, cohort, min_group=ev.min_group,
                        request_steps=request_steps(journey) if journey else (),
                        as_of=clock.now() if clock is not None else None)
