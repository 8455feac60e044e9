"""Reads about one cohort's evaluation that both the tick (the senior leader's final digest) and the
bot's report, dashboard and CSV make: the support comparison pooled over the journey's cohorts on
one version, and the "What to change" lines (the L&D lead's edit, or the draft). One home, so the
digest and the report never disagree."""

from __future__ import annotations

from datetime import datetime

from journeys.definition import Journey
from journeys.evaluation.accountability import request_steps
from journeys.evaluation.plain_words import Pooled
from journeys.evaluation.pooling import pool_factors
from journeys.evaluation.recommendations import TEXT_KIND, draft, edited_lines
from journeys.evaluation.success_case import Evaluation
from store.uow import AbstractUnitOfWork


async def pooled_in(u: AbstractUnitOfWork, journey: Journey | None, cohort: str, ev: Evaluation,
                    as_of: datetime | None) -> Pooled | None:
    """The pooled factor comparison for `cohort`, or None when it compares on its own or has no
    cohort of the same journey version to pool with."""
    if not any(f.hidden_because == "small" for f in ev.factors):
        return None
    _, journey_id = await u.enrollments.cohort_journey(cohort)
    if journey_id is None:
        return None
    groups = await u.enrollments.journey_cohort_versions(journey_id)
    if len(groups) < 2 or cohort not in groups:
        return None
    events = await u.events.of_enrollments(sorted({e for _, ids in groups.values() for e in ids}))
    return pool_factors(events, groups, cohort, min_group=ev.min_group,
                        request_steps=request_steps(journey) if journey else (), as_of=as_of)


async def stored_recommendations(u: AbstractUnitOfWork, cohort: str) -> tuple[list[str], datetime] | None:
    """The L&D lead's edited lines (marked typed) and when they were set; None: show the draft."""
    stored = await u.cohort_texts.get(cohort, TEXT_KIND)
    return None if stored is None else (edited_lines(stored.text), stored.updated_at)


async def recommendation_lines(u: AbstractUnitOfWork, journey: Journey, cohorts: list[str], ev: Evaluation,
                               as_of: datetime) -> list[str]:
    """The final digest's "What to change": for one cohort, the L&D lead's edit or the draft from the
    evidence (pooled as the report pools it); over several cohorts, the draft from their joint
    evaluation followed by each cohort's edit, named."""
    if len(cohorts) == 1:
        edited = await stored_recommendations(u, cohorts[0])
        if edited is not None:
            return edited[0]
        return draft(ev, await pooled_in(u, journey, cohorts[0], ev, as_of))
    lines = draft(ev, None)
    for cohort in cohorts:
        edited = await stored_recommendations(u, cohort)
        lines += [f"{cohort}: {line}" for line in (edited[0] if edited else [])]
    return lines
