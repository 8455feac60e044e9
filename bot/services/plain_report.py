"""Plain words first for a stored cohort: the manager-support comparison pooled over the journey's
cohorts (same version) when the cohort alone is too small, for the opening sentences
(journeys/evaluation/plain_words.py `headline`) and the drafted "What to change"."""

from __future__ import annotations

from bot.services.host import Services
from journeys.evaluation.plain_words import Pooled
from journeys.evaluation.success_case import Evaluation
from scheduler.cohort_reads import pooled_in


async def cohort_pooled(service: Services, cohort: str, ev: Evaluation) -> Pooled | None:
    """The pooled factor comparison for `cohort`, or None when it compares on its own or has no
    cohort of the same journey version to pool with."""
    clock = getattr(service, "clock", None)
    async with service.uow.read() as u:
        _, journey_id = await u.enrollments.cohort_journey(cohort)
        journey = service.library.get(journey_id) if journey_id else None
        return await pooled_in(u, journey, cohort, ev, clock.now() if clock is not None else None)
