"""How an enrollment ends: the closing prompt, the closing message, completion.

Every enrollment gets one closing prompt (`CLOSE_STEP`) at enrollment, due one working day after
the journey's last step timed from the start or an event (in the participant's calendar). Pausing
moves it like any scheduled prompt; stopping cancels it. When it fires (the tick hands it the
enrollment's prompts and moments that matter):

- the first time, the participant gets the closing message that fits what happened: the survey
  is still open (with the day it closes), or they practised (a moment that matters happened), or
  they did not;
- while a survey, an MTM follow-up or a step of the "plan your next moment" loop
  (`journeys/next_moments.py`) is still open (or not sent yet), the journey waits for it,
  at most `ending.survey_open_days` working days after it was sent, looking again each working
  morning;
- then whatever is still open or scheduled expires and the enrollment is `completed`: it leaves
  manager digests and "waiting for you" lists, and nothing more is sent.

Pure: `now` is passed in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Literal

from journeys import rendering, timekeeping
from journeys.definition import Journey, When, is_follow_up_survey, step_recipient
from journeys.ending import CLOSE_STEP
from journeys.messages import Message
from journeys.next_moments import is_loop_step
from journeys.state import EnrollmentState, JourneyEvent, MtmState, Outcome, PromptState, prompt_id

Closing = Literal["practised", "not_practised", "survey_open"]
_WAITS_FOR = ("survey", "mtm_follow_up")  # answers worth keeping the journey open for


def last_step_due(journey: Journey, enrollment: EnrollmentState) -> datetime | None:
    """When the participant's last step timed from the start or an event is due (UTC)."""
    latest: datetime | None = None
    for step in journey.steps:
        if (step.when is None or step_recipient(step) != "participant" or When.parse(step.when).anchor == "mtm"
                or is_loop_step(step.id) or is_follow_up_survey(step)):
            continue
        due = timekeeping.due_time(journey, enrollment, step, enrollment.person)
        if due is not None and (latest is None or due > latest):
            latest = due
    return latest


def last_day(journey: Journey, enrollment: EnrollmentState) -> date | None:
    """The last day of the journey's window, in the participant's zone: moments that matter are
    planned on or before it."""
    due = last_step_due(journey, enrollment)
    return None if due is None else timekeeping.local_date(due, timekeeping.tz_of(journey, enrollment.person))


def closing_prompt(journey: Journey, enrollment: EnrollmentState) -> PromptState | None:
    """The enrollment's closing prompt, one working day after its last step, same local time."""
    due = last_step_due(journey, enrollment)
    if due is None:
        return None
    at = _working_days_after(journey, enrollment, due, 1)
    return PromptState(prompt_id(enrollment.id, CLOSE_STEP), enrollment.id, CLOSE_STEP, enrollment.person.id,
                       "scheduled", at, at)


def _working_days_after(journey: Journey, enrollment: EnrollmentState, at: datetime, days: int) -> datetime:
    cal = timekeeping.calendar_for(journey, enrollment.person)
    tz = timekeeping.tz_of(journey, enrollment.person)
    local = at.astimezone(tz)
    return cal.local_slot(cal.add_working_days(local.date(), days), local.time().replace(second=0, microsecond=0), tz)


def closing_kind(journey: Journey, mtms: list[MtmState], waiting: list[PromptState]) -> Closing:
    """Which closing message fits: the survey is still open, or they practised, or not."""
    if any(journey.step(p.step_id).kind == "survey" for p in waiting):
        return "survey_open"
    return "practised" if any(m.status == "happened" for m in mtms) else "not_practised"


def fire_close(journey: Journey, enrollment: EnrollmentState, close: PromptState, prompts: list[PromptState],
               mtms: list[MtmState], now: datetime, *, cohort_line: str = "") -> Outcome:
    """The closing prompt's time has come: send the closing message, wait for an open survey, or
    complete the enrollment. `prompts` and `mtms` are all of the enrollment's; `cohort_line` says
    what the cohort achieved (journeys/evaluation/scorecards.py `cohort_achievement`), if anything."""
    out = Outcome()
    if close.next_at is None or close.next_at > now:
        return out
    if enrollment.status != "active" or close.status != "scheduled":
        out.prompts.append(close.with_(next_at=None))
        return out
    person = enrollment.person
    cal = timekeeping.calendar_for(journey, person)
    tz = timekeeping.tz_of(journey, person)
    if not cal.is_open(now, tz):
        out.prompts.append(close.with_(next_at=cal.next_open(now, tz)))
        return out
    steps = {s.id for s in journey.steps}
    # the follow-up survey comes weeks after the end, to the completed enrollment (rendering.live)
    others = [p for p in prompts if p.id != close.id
              and not (p.step_id in steps and is_follow_up_survey(journey.step(p.step_id)))]
    open_days = journey.ending.survey_open_days
    waiting = [p for p in others if p.status in ("scheduled", "open") and p.recipient_id == person.id
               and p.step_id in steps and (journey.step(p.step_id).kind in _WAITS_FOR or is_loop_step(p.step_id))]
    deadlines = [_working_days_after(journey, enrollment, p.sent_at or p.due_at, open_days) for p in waiting]
    first = close.sent_at is None
    if first:
        kind = closing_kind(journey, mtms, waiting)
        closes = max(deadlines) if deadlines else now
        survey_closes = timekeeping.format_day(timekeeping.local_date(closes, tz))
        text = rendering.fill(getattr(journey.ending.closing, kind), journey, enrollment, None, person)
        text = text.replace("{survey_closes}", survey_closes) + (f"\n\n{cohort_line}" if cohort_line else "")
        out.outgoing.append(timekeeping.notice(journey, person, f"{close.id}:closing", Message(
            recipient_id=person.id, title="The end of your journey" if kind != "survey_open" else "Nearly done",
            text=text, journey_title=journey.title, context=journey.title), now))
        out.events.append(JourneyEvent("closing_sent", enrollment.id, now, close.id, {"closing": kind}))
        close = close.with_(sent_at=now)
    later = [d for d in deadlines if d > now]
    if later:  # look again each working morning: an answer completes the journey the next day
        out.prompts.append(close.with_(next_at=min(max(later), cal.next_working_morning(now, tz))))
        return out
    return out.extend(complete(enrollment, close, others, now))


def complete(enrollment: EnrollmentState, close: PromptState, others: list[PromptState], now: datetime) -> Outcome:
    """Mark the enrollment completed; whatever is still open or scheduled expires, and nothing
    still waiting in the outbox for it goes out (a closing message queued with it still does)."""
    out = Outcome(enrollments=[replace(enrollment, status="completed")])
    for p in others:
        if p.status in ("scheduled", "open"):
            out.prompts.append(p.with_(status="expired", next_at=None))
            out.events.append(JourneyEvent("expired", enrollment.id, now, p.id,
                                           {"step": p.step_id, "reason": "journey_ended"}))
    out.prompts.append(close.with_(status="done", next_at=None))
    out.cancel_pending_for.append(enrollment.id)
    out.events.append(JourneyEvent("completed", enrollment.id, now, close.id))
    return out
