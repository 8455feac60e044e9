"""What the dashboard shows for one cohort, read from the store: the Success Case evaluation,
the weekly answer funnel and who is stuck (the journey's `stuck_after`, in the person's calendar)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.services.host import Services
from bot.services.plain_report import cohort_pooled
from bot.services.recommendations import Recommendations, recommendations_for
from bot.services.reports import cohort_evaluation, cohort_events, journey_cohorts
from journeys.definition import Journey
from journeys.evaluation.cohorts import CohortFigures
from journeys.evaluation.followup import follow_up, follow_up_lines
from journeys.evaluation.interviews import Verified
from journeys.evaluation.plain_words import Pooled, headline
from journeys.evaluation.success_case import Evaluation
from journeys.evaluation.value import BusinessValue, business_figures
from journeys.stuck import stuck_after as stuck_days_of
from journeys.stuck import waiting_days
from journeys.timekeeping import local_date, tz_of

# Participant steps that ask for an answer (messages only inform; manager steps are not the
# participant's progress).
ANSWERABLE = ("question", "mtm_plan", "mtm_follow_up", "survey")
SENT_STATUSES = ("open", "answered", "done", "expired")


@dataclass(frozen=True)
class WeekRow:
    label: str
    asked: int  # participants sent at least one question that week
    answered: int  # ... who answered at least one
    completed: int  # ... who answered every question they were sent that week


@dataclass(frozen=True)
class StuckRow:
    participant: str
    prompt: str
    waiting_on: str  # "participant" or the manager's name
    since: datetime
    working_days: int


@dataclass
class CohortView:
    cohort: str
    journey: Journey | None
    title: str
    evaluation: Evaluation | None
    participants: int
    weeks: list[WeekRow]
    stuck: list[StuckRow]
    stuck_after: int
    business: tuple[Verified, BusinessValue] | None = None  # the PPP opening (journeys/evaluation/value.py)
    cohorts: list[CohortFigures] = field(default_factory=list)  # the journey's recent cohorts
    follow_up: list[str] = field(default_factory=list)  # the follow-up survey against the first
    headline: list[str] = field(default_factory=list)  # plain words first (journeys/evaluation/plain_words.py)
    pooled: Pooled | None = None  # manager support pooled over the journey's cohorts, when this one is too small
    recommendations: Recommendations | None = None  # "What to change": edited or drafted


async def list_cohorts(service: Services) -> list[str]:
    """Every cohort, the most recently enrolled first."""
    async with service.uow.read() as u:
        return await u.enrollments.cohorts_newest_first()


def _step_kind(journey: Journey | None, step_id: str) -> str | None:
    if journey is None:
        return None
    try:
        return journey.step(step_id).kind
    except KeyError:
        return None


def _step_title(journey: Journey | None, step_id: str) -> str:
    if journey is None:
        return step_id
    try:
        step = journey.step(step_id)
    except KeyError:
        return step_id
    return step.title or step_id


async def cohort_view(service: Services, cohort: str, now: datetime) -> CohortView:
    ev, title = await cohort_evaluation(service, cohort)
    async with service.uow.read() as u:
        rows = await u.views.cohort(cohort, without_unenrolled=True)
    enrollments, prompts, people = rows.enrollments, rows.prompts, rows.people
    journey = service.library.get(enrollments[0].journey_id) if enrollments else None
    by_id = {e.id: e for e in enrollments}

    # Funnel: participants' answerable prompts, by the journey week they were due in.
    per_week: dict[int, dict[str, list[bool]]] = {}
    for p in prompts:
        e = by_id[p.enrollment_id]
        if p.recipient_id != e.person_id or _step_kind(journey, p.step_id) not in ANSWERABLE:
            continue
        if p.status not in SENT_STATUSES or p.sent_at is None:
            continue
        person = people.get(e.person_id)
        tz = tz_of(journey, rows.states[person.id]) if journey and person else UTC
        week = max(0, (local_date(p.due_at, tz) - e.start).days // 7 + 1)  # type: ignore[arg-type]
        per_week.setdefault(week, {}).setdefault(e.id, []).append(p.status == "answered")
    weeks: list[WeekRow] = []
    for w in range(min(per_week), max(per_week) + 1) if per_week else ():
        who = per_week.get(w, {})  # a week without questions still shows, as 0 asked
        weeks.append(WeekRow("Before the start" if w == 0 else f"Week {w}", len(who),
                             sum(1 for v in who.values() if any(v)), sum(1 for v in who.values() if all(v))))

    # Who is stuck: open prompts waiting for an answer for `stuck_after` working days or more.
    stuck_after = stuck_days_of(journey) if journey is not None else 3
    stuck: list[StuckRow] = []
    for p in prompts:
        e = by_id[p.enrollment_id]
        if p.status != "open" or p.sent_at is None or e.status not in ("active", "paused"):
            continue
        recipient = people.get(p.recipient_id)
        participant = people.get(e.person_id)
        if journey is not None and recipient is not None:
            days = waiting_days(journey, rows.states[recipient.id], p, now) or 0
        else:
            days = max(0, (now.date() - p.sent_at.date()).days)
        if days < stuck_after:
            continue
        waiting = "participant" if p.recipient_id == e.person_id else \
            f"manager: {recipient.name if recipient else 'unknown'}"
        stuck.append(StuckRow(participant.name if participant else "(removed)", _step_title(journey, p.step_id),
                              waiting, p.sent_at, days))
    stuck.sort(key=lambda r: (-r.working_days, r.participant, r.prompt))
    business, later, lasted = None, [], None
    if journey is not None and ev is not None:
        ids, events, _ = await cohort_events(service, cohort)
        business = business_figures(journey, ev, events, ids)
        lasted = follow_up(events, ev.min_group, ids)
        later = follow_up_lines(lasted, ev.min_group)
    over_time = await journey_cohorts(service, journey.id) if journey is not None else []
    view = CohortView(cohort, journey, title, ev, len(enrollments), weeks, stuck, stuck_after, business, over_time,
                      later)
    if ev is not None:
        view.pooled = await cohort_pooled(service, cohort, ev)
        view.headline = headline(ev, view.pooled, lasted)
        view.recommendations = await recommendations_for(service, cohort, ev, view.pooled)
    return view
