"""The facilitator of a cohort's workshop: a brief before it and the cohort's progress after it.

A facilitator meets the cohort in the room, so they need to know what the group wants from the
workshop, not who said what. Before the workshop (the working day before it, at the start of the
facilitator's working day) they get the cohort's focus areas, the moments its people planned and
what their pictures of success are about, as counts over the journey's own words (option labels,
the PPP's outcomes, behaviours and moments that matter). A week of working days after it, they get
the cohort's progress, again as counts. No name and nothing a participant typed ever reaches
them, and a group smaller than the minimum group (`journeys.evaluation.success_case.MIN_GROUP`,
the one definition every report uses) is described by its size only.

The workshop is the journey's `workshop` event, else its first event, else the start. Pure: the
scheduler (scheduler/facilitators.py) loads the cohort and saves what is decided here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from journeys import timekeeping
from journeys.definition import Journey, QuestionStep, When
from journeys.messages import Message, Outgoing
from journeys.relative import day_words
from journeys.state import EnrollmentState, MtmState, Person, PromptState

Stage = Literal["brief", "progress", "done"]
BRIEF: Stage = "brief"
PROGRESS: Stage = "progress"
DONE: Stage = "done"
PROGRESS_AFTER = 5  # working days after the workshop: a week of practice to report on
LIVE = ("active", "paused", "completed")

_STOP = frozenset((
    "their", "there", "where", "which", "these", "those", "about", "after", "before", "again", "other",
    "every", "would", "could", "should", "fewer", "early", "first", "being", "people", "person", "things",
    "thing", "something", "without", "within", "while", "really", "better", "always", "never"))
_WORD = re.compile(r"[a-z0-9:]+")


@dataclass(frozen=True)
class CohortView:
    """What a facilitator's message is drawn from: the cohort's enrollments (with their notes), its
    moments that matter and its prompts. Only counts of these leave this module."""

    name: str
    enrollments: Sequence[EnrollmentState]
    mtms: Sequence[MtmState] = ()
    prompts: Sequence[PromptState] = ()

    @property
    def live(self) -> list[EnrollmentState]:
        return [e for e in self.enrollments if e.status in LIVE]


@dataclass(frozen=True)
class FacilitatorDecision:
    """What becomes of a due facilitator row: its stage and next time, and the message to queue."""

    stage: Stage
    next_at: datetime | None
    outgoing: Outgoing | None = None


def workshop_event(journey: Journey) -> str | None:
    """The event the facilitator runs: `workshop`, else the journey's first event; None: the start."""
    ids = [e.id for e in journey.events]
    return "workshop" if "workshop" in ids else (ids[0] if ids else None)


def workshop_day(journey: Journey, cohort: Sequence[EnrollmentState]) -> date | None:
    """The cohort's workshop day: the earliest among its live enrollments (one room, one day)."""
    event = workshop_event(journey)
    days = [timekeeping.event_date(journey, e, event) if event else e.start
            for e in cohort if e.status in LIVE]
    found = [d for d in days if d is not None]
    return min(found) if found else None


def _times(journey: Journey, facilitator: Person, day: date) -> tuple[datetime, datetime]:
    """(brief, progress): the working day before the workshop and PROGRESS_AFTER working days after
    it, each at the start of the facilitator's working day, in their zone."""
    cal = timekeeping.calendar_for(journey, facilitator)
    tz = timekeeping.tz_of(journey, facilitator)
    return (cal.local_slot(cal.add_working_days(day, -1), cal.day_start, tz),
            cal.local_slot(cal.add_working_days(day, PROGRESS_AFTER), cal.day_start, tz))


def first_due(journey: Journey, facilitator: Person, day: date | None, now: datetime) -> tuple[Stage, datetime | None]:
    """Where a newly assigned facilitator starts: the brief while the workshop is still ahead (at
    once when its time has passed), else the progress."""
    if day is None:
        return DONE, None
    brief, progress = _times(journey, facilitator, day)
    if timekeeping.local_date(now, timekeeping.tz_of(journey, facilitator)) < day:
        return BRIEF, max(brief, now)
    return PROGRESS, max(progress, now)


def decide(journey: Journey, facilitator: Person, stage: Stage, cohort: CohortView, now: datetime, *,
           min_group: int) -> FacilitatorDecision:
    """The due row's message and next time; only in the facilitator's working hours."""
    day = workshop_day(journey, cohort.enrollments)
    if stage == DONE or day is None or not cohort.live:
        return FacilitatorDecision(DONE, None)
    cal = timekeeping.calendar_for(journey, facilitator)
    tz = timekeeping.tz_of(journey, facilitator)
    if not cal.is_open(now, tz):
        return FacilitatorDecision(stage, cal.next_open(now, tz))
    _, progress = _times(journey, facilitator, day)
    key = f"facilitator:{journey.id}:{cohort.name}:{facilitator.id}"
    if stage == BRIEF:
        if timekeeping.local_date(now, tz) > day:  # the workshop is over: its brief has lost its point
            return FacilitatorDecision(PROGRESS, max(progress, now))
        message = build_brief(journey, facilitator, cohort, day, min_group=min_group,
                              today=timekeeping.local_date(now, tz))
        return FacilitatorDecision(PROGRESS, progress, Outgoing(f"{key}:brief", message, journey_id=journey.id))
    message = build_progress(journey, facilitator, cohort, day, min_group=min_group)
    return FacilitatorDecision(DONE, None, Outgoing(f"{key}:progress", message, journey_id=journey.id))


# --------------------------------------------------------------------------- what they read


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _counted(counts: Counter[str], order: Sequence[str]) -> list[str]:
    ranked = sorted((k for k in counts if counts[k]), key=lambda k: (-counts[k], order.index(k)
                                                                     if k in order else len(order)))
    return [f"• {k}: {counts[k]}" for k in ranked]


def _too_few(what: str, answered: int, min_group: int) -> str | None:
    if answered == 0:
        return f"*{what}:* no answers yet."
    if answered < min_group:
        return f"*{what}:* too few answers yet to describe (shown from {min_group}, so nobody can be picked out)."
    return None


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _WORD.findall(text.lower()) if len(w) >= 5 and w not in _STOP}


def _theme_of(text: str, themes: Sequence[str]) -> list[str]:
    """The PPP outcomes and behaviours a picture of success speaks to: a shared stem of a word of
    five letters or more ("escalating" and "escalated"), so the facilitator reads themes in the
    journey's own words and never the participant's."""
    words = _stems(text)
    return [t for t in themes if _stems(t) & words]


def focus_lines(journey: Journey, cohort: CohortView, *, min_group: int) -> list[str]:
    """The line-of-sight questions (`manager_support.expectations.shares`, else the before phase's
    questions): a choice as counts per option, a written answer as counts per PPP theme."""
    ex = journey.manager_support.expectations
    steps = [journey.step(s) for s in ex.shares] if ex else [
        s for s in journey.steps if isinstance(s, QuestionStep) and s.when and When.parse(s.when).anchor == "start"
        and When.parse(s.when).days < 0]
    answers: dict[str, list[object]] = {s.id: [] for s in steps}
    for e in cohort.live:
        shared = e.notes.get("shared", {})
        for p in cohort.prompts:
            if p.enrollment_id == e.id and p.step_id in answers and p.step_id not in shared and p.answers.get("answer"):
                answers[p.step_id].append(p.answers["answer"])
        for sid, value in shared.items():
            if sid in answers and value not in (None, ""):
                answers[sid].append(value)
    themes = [str(o) for o in journey.ppp.outcomes] + [b.text for b in journey.ppp.behaviours]
    lines: list[str] = []
    for step in steps:
        if not isinstance(step, QuestionStep):
            continue
        got = answers[step.id]
        title = re.sub(r"^Your\b", "Their", step.title or step.id)  # the participant's title, read by another
        short = _too_few(f"{title}", len(got), min_group)
        if short:
            lines.append(short)
            continue
        counts: Counter[str] = Counter()
        if step.options:
            labels = {o.value: o.label for o in step.options}
            for v in got:
                for one in (v if isinstance(v, list) else [v]):
                    counts[labels.get(str(one), "another answer")] += 1
            lines.append(f"*{title}* ({len(got)} answered):")
            lines += _counted(counts, [o.label for o in step.options])
        else:
            for v in got:
                found = _theme_of(str(v), themes)
                counts.update(found or ["not about a listed outcome or habit"])
            lines.append(f"*{title}* ({len(got)} written; what they speak to, by the journey's outcomes and habits):")
            lines += _counted(counts, themes)
    return lines


def moment_lines(journey: Journey, cohort: CohortView, *, min_group: int) -> list[str]:
    """The moments that matter planned so far: by practice, habit and situation (never their words)."""
    live = {e.id for e in cohort.live}
    mtms = [m for m in cohort.mtms if m.enrollment_id in live]
    short = _too_few("Moments they have planned", len(mtms), min_group)
    if short:
        return [short]
    listed = journey.ppp.moments_that_matter
    practice = Counter("a safe practice moment" if m.practice == "safe" else "a real, harder moment" for m in mtms)
    habits = Counter(journey.behaviour_text(m.behaviour) for m in mtms)
    situations: Counter[str] = Counter()
    for m in mtms:
        situations[next((s for s in listed if m.situation == s or m.situation.startswith(s + ": ")),
                        "a situation of their own")] += 1
    return [f"*Moments they have planned* ({len(mtms)} so far):", *_counted(practice, []),
            "By habit:", *_counted(habits, [b.text for b in journey.ppp.behaviours]),
            "By situation:", *_counted(situations, listed)]


def _context(journey: Journey, cohort: CohortView) -> str:
    return f"{journey.title} · cohort {cohort.name} · for you as its facilitator · counts only, no names"


def build_brief(journey: Journey, facilitator: Person, cohort: CohortView, day: date, *, min_group: int,
                today: date | None = None) -> Message:
    """Before the workshop: who is coming (a count), what they want from it, what they plan.
    `today`: the facilitator's day it is sent ("the Workshop tomorrow, Wed 16 Dec")."""
    n = len(cohort.live)
    lines = [f"*Why it matters:* {journey.ppp.business_goal}",
             f"*Who is coming:* {_people(n)} (names and what they wrote are not shared with you)."]
    if n < min_group:
        lines.append(f"With fewer than {min_group} people, their focus, pictures of success and moments are "
                     "not described: any detail could point at someone.")
    else:
        lines += focus_lines(journey, cohort, min_group=min_group)
        lines += moment_lines(journey, cohort, min_group=min_group)
    lines.append("After the workshop you'll get the cohort's progress, as counts.")
    when = day_words(day, today) if today is not None else timekeeping.format_day(day)
    on = "" if when.startswith(("today", "tomorrow")) else "on "
    where = (f"{next(e.title for e in journey.events if e.id == workshop_event(journey))} {on}"
             if workshop_event(journey) else f"start {on}")
    return Message(recipient_id=facilitator.id, title=f"Your brief for the {where}{when}",
                   text="\n".join(lines), journey_title=journey.title, context=_context(journey, cohort),
                   audience="manager")


def build_progress(journey: Journey, facilitator: Person, cohort: CohortView, day: date, *,
                   min_group: int) -> Message:
    """After the workshop: how far the cohort has got, as counts."""
    live = cohort.live
    n = len(live)
    ids = {e.id for e in live}
    lines = [f"*In the journey:* {_people(n)}."]
    if n < min_group:
        lines.append(f"With fewer than {min_group} people, their progress is not broken down: any figure "
                     "could point at someone.")
    else:
        event = workshop_event(journey)
        after = [s for s in journey.steps if isinstance(s, QuestionStep) and s.when
                 and When.parse(s.when).anchor == "event" and When.parse(s.when).event == event]
        for s in after:
            answered = sum(1 for p in cohort.prompts if p.enrollment_id in ids and p.step_id == s.id
                           and p.status == "answered")
            lines.append(f"• {s.title or s.id}: {answered} of {n} answered")
        mtms = [m for m in cohort.mtms if m.enrollment_id in ids]
        planned = len({m.enrollment_id for m in mtms})
        backed = sum(1 for m in mtms if m.manager_response is not None)
        lines += [f"• Planned a moment that matters: {planned} of {n} ({len(mtms)} moments)",
                  f"• Moments that happened: {sum(1 for m in mtms if m.status == 'happened')}",
                  f"• Moments their manager backed (approved or coached): {backed}",
                  f"• Paused: {sum(1 for e in live if e.status == 'paused')}"]
    title = f"Cohort {cohort.name} since the workshop on {timekeeping.format_day(day)}"
    return Message(recipient_id=facilitator.id, title=title, text="\n".join(lines), journey_title=journey.title,
                   context=_context(journey, cohort), audience="manager")
