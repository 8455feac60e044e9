"""Cohort reports from stored events: the Success Case summary every front end shows."""

from __future__ import annotations

from bot.services.host import Services
from bot.services.plain_report import cohort_pooled
from bot.services.recommendations import Recommendations, recommendations_for, section_lines
from bot.services.stop_reasons import stop_lines
from bot.services.verified_stories import anonymise, verified_stories
from journeys.definition import Journey, SurveyStep
from journeys.evaluation.accountability import request_steps
from journeys.evaluation.cohorts import CohortFigures, comparison_lines
from journeys.evaluation.followup import follow_up, follow_up_lines
from journeys.evaluation.interviews import verdicts
from journeys.evaluation.plain_words import headline
from journeys.evaluation.success_case import MIN_GROUP, Evaluation, evaluate, summary_lines
from journeys.evaluation.value import business_figures, ppp_lines
from journeys.state import JourneyEvent


async def cohort_events(service: Services, cohort: str) -> tuple[list[str], list[JourneyEvent], str | None]:
    async with service.uow.read() as u:
        ids, journey_id = await u.enrollments.cohort_journey(cohort)
        events = await u.events.of_enrollments(ids)
    return ids, events, journey_id


async def cohort_evaluation(service: Services, cohort: str) -> tuple[Evaluation | None, str]:
    ids, events, journey_id = await cohort_events(service, cohort)
    if not ids or journey_id is None:
        return None, ""
    journey = service.library.get(journey_id)
    target = journey.target_impact_rate if journey else 0.8
    baseline = journey.baseline_impact_rate if journey else 0.2
    min_group = service.settings.min_group_size if service.settings else MIN_GROUP
    title = journey.title if journey else journey_id
    # The journey names its support-request steps, so requests no manager ever answered count as
    # slow too; "now" decides which unanswered ones are overdue (the same as the CSV's rows).
    clock = getattr(service, "clock", None)
    return evaluate(events, enrollment_ids=ids, target=target, baseline=baseline, min_group=min_group,
                    request_steps=request_steps(journey) if journey else (),
                    as_of=clock.now() if clock is not None else None), title


def story_questions(journey: Journey) -> tuple[set[str], str | None, str | None]:
    steps: set[str] = set()
    did = result = None
    for step in journey.steps:
        if isinstance(step, SurveyStep) and step.evaluation == "success_case":
            steps.add(step.id)
            for q in step.questions:
                if q.role == "scm_evidence" and did is None:
                    did = q.id
                elif q.role == "scm_result" and result is None:
                    result = q.id
    return steps, did, result


async def success_stories(service: Services, journey: Journey | None, enrollment_ids: list[str],
                          limit: int = 2) -> list[tuple[str, str]]:
    """Up to `limit` anonymised (what they did, what resulted) pairs, in the order given (the
    evaluation's success cases who agreed to be contacted, earliest survey first)."""
    if journey is None or not enrollment_ids:
        return []
    steps, did_q, result_q = story_questions(journey)
    if not steps or (did_q is None and result_q is None):
        return []
    async with service.uow.read() as u:
        answers = await u.prompts.answered(enrollment_ids, steps)
        people = await u.enrollments.people_of(enrollment_ids)
        names = await u.views.names(sorted({p for _, a, b in people for p in (a, b) if p}))
    who = {eid: [names.get(p or "", "") for p in (pid, mid)] for eid, pid, mid in people}
    stories: list[tuple[str, str]] = []
    for eid in enrollment_ids:
        a = answers.get(eid)
        if a is None:
            continue
        hide = [n for n in who.get(eid, []) if n]
        did = anonymise(a.get(did_q), hide) if did_q else ""
        result = anonymise(a.get(result_q), hide) if result_q else ""
        if did or result:
            stories.append((did, result))
        if len(stories) >= limit:
            break
    return stories


async def cohort_report_lines(service: Services, cohort: str) -> list[str]:
    ev, title = await cohort_evaluation(service, cohort)
    if ev is None:
        return [f"No cohort named {cohort!r}."]
    journey = None
    async with service.uow.read() as u:
        _, jid = await u.enrollments.cohort_journey(cohort)
    if jid is not None:
        journey = service.library.get(jid)
    opening: list[str] = []
    told: set[str] = set()
    if journey is not None:  # the PPP first: business goal, verified value, what was lost
        ids, events, _ = await cohort_events(service, cohort)
        opening = ppp_lines(journey, ev, *business_figures(journey, ev, events, ids))
        verified_lines, told = await verified_stories(service, journey, verdicts(events, ids))
        opening += verified_lines
    stories = await success_stories(service, journey, [e for e in ev.success_story_enrollments if e not in told])
    over_time = comparison_lines(title, await journey_cohorts(service, jid)) if jid is not None else []
    ids, events, _ = await cohort_events(service, cohort)
    lasted = follow_up(events, ev.min_group, ids)
    later = follow_up_lines(lasted, ev.min_group)
    # the business goal first (the PPP), then plain words before any figure
    goal, opening = opening[:1], opening[1:]
    stops = await stop_lines(service, cohort, ev.min_group)
    pooled = await cohort_pooled(service, cohort, ev)
    return [f"{title} — cohort {cohort}", *goal, *headline(ev, pooled, lasted), *opening,
            *summary_lines(ev, title, stories, lost_line=not goal), *later, *stops, *over_time,
            *section_lines(await recommendations_for(service, cohort, ev, pooled))]


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


async def cohort_recommendations(service: Services, cohort: str) -> Recommendations | None:
    """The cohort's "What to change" as every reader shows it: the L&D lead's edited text, or the
    draft from the evidence; None for an unknown cohort. The leader's final digest calls this."""
    ev, _ = await cohort_evaluation(service, cohort)
    return None if ev is None else await recommendations_for(service, cohort, ev, await cohort_pooled(service, cohort, ev))
