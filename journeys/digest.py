"""The weekly manager digest: each report's progress, upcoming MTMs, open requests, who is stuck."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from journeys import before_phase, rendering, timekeeping
from journeys.definition import Journey
from journeys.messages import Message
from journeys.progress import AFTER_THE_END, BEFORE_THE_START, progress_of, week_label
from journeys.relative import day_words
from journeys.state import EnrollmentState, MtmState, Person, PromptState
from journeys.stuck import REPEAT_WEEKS, is_stuck, stuck_after, stuck_silence, waiting_since
from journeys.text import typed
from journeys.wording import weekday_name


@dataclass(frozen=True)
class ReportView:
    enrollment: EnrollmentState
    prompts: list[PromptState]
    mtms: list[MtmState]


def build_digest(journey: Journey, manager: Person, reports: list[ReportView], now: datetime) -> Message | None:
    tz = timekeeping.tz_of(journey, manager)
    today = timekeeping.local_date(now, tz)
    # after a journey's end only the survey and the closing remain, and they are the participant's:
    # nothing left for the manager to act on, so no line
    active = [r for r in reports if r.enrollment.status in ("active", "paused")
              and week_label(journey, r.enrollment.start, today) != AFTER_THE_END]
    if not any(p.sent_at is not None for r in active for p in r.prompts):
        return None  # nothing has happened yet (or everything is over): no digest of zeros
    if all(week_label(journey, r.enrollment.start, today) == BEFORE_THE_START
           and not any(p.recipient_id == manager.id and p.status == "open" for p in r.prompts) for r in active):
        return None  # before the start with nothing waiting for the manager: nothing to act on yet
    limit = stuck_after(journey)
    lines: list[str] = []
    waiting_for_you = 0
    stuck_names: list[str] = []
    still: list[str] = []  # a silence nudged before, said again at a longer interval with its figures
    for r in sorted(active, key=lambda r: r.enrollment.person.name.lower()):
        person = r.enrollment.person
        own = [p for p in r.prompts if p.recipient_id == person.id]
        status = "" if r.enrollment.status == "active" else " (paused)"
        journey_week = week_label(journey, r.enrollment.start, today)
        progress = progress_of(journey, person.id, r.prompts).text()
        lines.append(f"*{typed(person.name)}*{status} — {journey_week}, {progress}")
        for m in sorted(r.mtms, key=lambda m: m.when):
            if m.status in ("planned", "postponed") and m.when >= today:
                what = typed(m.situation[:70]) if m.share_plan else "details kept private"
                lines.append(f"  • upcoming moment: {day_words(m.when, today)} — {what}")
        # a before-phase prompt has lost its point once the journey has started (it closes then)
        started = today >= r.enrollment.start
        live = [p for p in r.prompts if not (started and _before_phase_prompt(journey, p))]
        asked = own  # all of theirs, the before phase's included: a silence may have begun there
        own = [p for p in own if p in live]
        mine = [p for p in live if p.recipient_id == manager.id and p.status == "open"]
        for p in mine:
            waiting_for_you += 1
            lines.append(f"  • waiting for you: {rendering.prompt_title(journey, p)}")
        late = [p for p in own if is_stuck(journey, person, p, now)]
        if late and r.enrollment.status == "active":
            current = max(late, key=lambda p: (p.sent_at or p.due_at, p.id))  # the latest, not the oldest
            lines.append(f"  • ⚠️ no response to “{rendering.prompt_title(journey, current)}” "
                         + waiting_since(journey, person, current, now, limit))
            first = typed(person.name.split()[0])
            silence = stuck_silence(journey, person, manager, asked, late, r.enrollment.start,
                                    lambda p: _before_phase_prompt(journey, p), now,
                                    [p for p in r.prompts if p.recipient_id == manager.id])
            if silence.weeks == 0:
                stuck_names.append(first)
            elif silence.weeks % REPEAT_WEEKS == 0:
                what = "" if silence.quiet else f" to “{rendering.prompt_title(journey, silence.prompt)}”"
                still.append(f"Still no answer from {first}{what} "
                             + waiting_since(journey, person, silence.prompt, now, limit)
                             + ". If you have not had that check-in yet, it still helps most.")
    nudge = ""
    if stuck_names:
        nudge = (f"\n\n{', '.join(stuck_names)} may be stuck. A two-minute check-in this week "
                 "(what's getting in the way?) is the single biggest thing you can do for their learning.")
    if still:
        nudge += "\n\n" + "\n".join(still)
    week = today - timedelta(days=today.weekday())
    return Message(
        recipient_id=manager.id,
        title=f"Your weekly digest · week of {timekeeping.format_day(week)}",
        text="\n".join(lines) + nudge,
        journey_title=journey.title,
        facts=(("Reports in the journey", str(len(active))), ("Waiting for you", str(waiting_for_you))),
        context=f"{journey.title} · sent every {weekday_name(journey.manager_digest.day) if journey.manager_digest else 'week'}",
        audience="manager",
    )


def _before_phase_prompt(journey: Journey, p: PromptState) -> bool:
    try:
        return before_phase.is_before_phase(journey.step(p.step_id))
    except KeyError:  # a prompt of no journey step (the coach check, the day-of nudge)
        return False
