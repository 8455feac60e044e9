"""Cohort reports from stored events: the Success Case summary every front end shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from journeys.evaluation import Evaluation, evaluate, summary_lines
from journeys.state import JourneyEvent
from store.models import EnrollmentRow, EventRow


async def cohort_events(service: Any, cohort: str) -> tuple[list[str], list[JourneyEvent], str | None]:
    async with service.db.read() as s:
        rows = (await s.execute(select(EnrollmentRow.id, EnrollmentRow.journey_id)
                                .where(EnrollmentRow.cohort == cohort))).all()
        ids = [r[0] for r in rows]
        journey_id = rows[0][1] if rows else None
        events = (await s.execute(select(EventRow).where(EventRow.enrollment_id.in_(ids))
                                  .order_by(EventRow.id))).scalars().all() if ids else []
    return ids, [JourneyEvent(e.kind, e.enrollment_id, e.at, e.prompt_id, dict(e.data or {})) for e in events], journey_id


async def cohort_evaluation(service: Any, cohort: str) -> tuple[Evaluation | None, str]:
    ids, events, journey_id = await cohort_events(service, cohort)
    if not ids or journey_id is None:
        return None, ""
    journey = service.library.get(journey_id)
    target = journey.target_impact_rate if journey else 0.8
    min_group = getattr(service.settings, "min_group_size", 5) if service.settings else 5
    title = journey.title if journey else journey_id
    return evaluate(events, enrollment_ids=ids, target=target, min_group=min_group), title


async def cohort_report_lines(service: Any, cohort: str) -> list[str]:
    ev, title = await cohort_evaluation(service, cohort)
    if ev is None:
        return [f"No cohort named {cohort!r}."]
    return [f"{title} — cohort {cohort}", *summary_lines(ev, title)]
