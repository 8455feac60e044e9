"""Support on the day: the morning of a planned moment that matters, a short nudge.

At the start of the participant's working day on the moment's date (before the moment itself), the
participant gets their plan back: what, which behaviour, a first sentence to try (the behaviour's
`opener` in the journey file, else a general one) and, when their manager chose to coach, the first
tip of the coaching guide. It is a one-way message (closed, nothing to answer), kept as a prompt
`<plan step>~day-of` so it is scheduled, held for working hours and cancelled like any other.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from journeys import timekeeping
from journeys.definition import Journey, ManagerRequestStep, MtmPlanStep
from journeys.messages import Message
from journeys.state import EnrollmentState, MtmState, PromptState, prompt_id
from journeys.text import typed

DAY_OF = "~day-of"
DEFAULT_OPENER = "Before I answer, let me check I've got this right: …"


def is_day_of(step_id: str) -> bool:
    return step_id.endswith(DAY_OF)


def schedule(journey: Journey, enrollment: EnrollmentState, step: MtmPlanStep, mtm: MtmState,
             now: datetime, *, moved: bool = False) -> list[PromptState]:
    """The nudge's prompt, due at the start of the moment's working day (none once that has passed).
    A postponed moment (`moved`) gets a nudge of its own for the new date: the first one has been
    delivered (its outbox key is taken), and one that has not fires only on its own day."""
    person = enrollment.person
    cal, tz = timekeeping.calendar_for(journey, person), timekeeping.tz_of(journey, person)
    due = cal.local_slot(mtm.when, cal.day_start, tz)
    if due <= now:
        return []
    step_id = step.id + (f"~{mtm.when:%Y%m%d}" if moved else "") + DAY_OF
    return [PromptState(prompt_id(enrollment.id, step_id), enrollment.id, step_id, person.id,
                        "scheduled", due, due, mtm_id=mtm.id)]


def moved_away(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState) -> bool:
    """The nudge was for another day than the moment's: it was postponed, so this one never goes."""
    tz = timekeeping.tz_of(journey, enrollment.person)
    return timekeeping.local_date(prompt.due_at, tz) != mtm.when


def _coach_tip(journey: Journey, mtm: MtmState) -> str:
    if mtm.manager_response != "coach":
        return ""
    guide = next((s.coach_guide for s in journey.steps
                  if isinstance(s, ManagerRequestStep) and s.for_mtm == mtm.plan_step_id), "")
    first = next((line.strip().lstrip("-•* ").strip() for line in guide.splitlines() if line.strip()), "")
    return first


def plan_lines(journey: Journey, enrollment: EnrollmentState, mtm: MtmState) -> list[str]:
    """The plan as the participant reads it on the day: what, which habit, a first sentence, the
    manager's coaching tip when they chose to coach."""
    behaviour = next((b for b in journey.ppp.behaviours if b.id == mtm.behaviour), None)
    opener = (behaviour.opener if behaviour is not None and behaviour.opener else DEFAULT_OPENER)
    lines = [f"Today is your moment that matters: {typed(mtm.situation)}",
             f"*Your habit:* {journey.behaviour_text(mtm.behaviour)}",
             f"*A first sentence to try:* “{opener}”"]
    tip = _coach_tip(journey, mtm)
    if tip:
        lines.append(f"*{timekeeping.first_name(enrollment.manager)}'s coaching tip:* {tip}")
    return lines


CLUMSY = "It's fine if it feels clumsy."
AFTERWARDS = "I'll ask you how it went afterwards."


def message(journey: Journey, enrollment: EnrollmentState, prompt: PromptState, mtm: MtmState | None) -> Message:
    person = enrollment.person
    if mtm is None:  # the moment is gone (forgotten): say nothing specific
        text = "Today is the day of your moment that matters. Good luck!"
    else:
        text = "\n".join([*plan_lines(journey, enrollment, mtm), f"{CLUMSY} {AFTERWARDS}"])
    return Message(recipient_id=person.id, title=TITLE, text=text, journey_title=journey.title,
                   prompt_id=prompt.id, context=journey.title, closed=True)


TITLE = "Your moment today"
_TOLD = "day-of-told:"  # enrollment note: the moment's day-of words went in another message


def carried(journey: Journey, enrollment: EnrollmentState, mtm: MtmState, now: datetime,
            due: datetime | None = None) -> bool:
    """A notice made `now` about this moment reaches the participant on its day, no later than the
    nudge would: it carries the nudge's words, and the nudge stands down (one message, not two).
    `due`: when the notice was due, if before `now` (a request's expiry processed late, after a
    worker was down): due before the nudge, it still carries it, since the nudge waits for it
    (`engine._fire`, `support.expiry_pending`) whatever order the late tick takes them in."""
    if mtm.status not in ("planned", "postponed"):
        return False
    person = enrollment.person
    cal, tz = timekeeping.calendar_for(journey, person), timekeeping.tz_of(journey, person)
    at = timekeeping.released_at(journey, person, now)
    slot = cal.local_slot(mtm.when, cal.day_start, tz)
    return (timekeeping.local_date(at, tz) == mtm.when and cal.is_working_day(mtm.when)
            and min(at, due or at) <= slot)


def told(enrollment: EnrollmentState, mtm: MtmState) -> EnrollmentState:
    """The enrollment noting that the moment's day-of words went out in another message."""
    return replace(enrollment, notes={**enrollment.notes, _TOLD + mtm.id: mtm.when.isoformat()})


def already_told(enrollment: EnrollmentState, mtm: MtmState) -> bool:
    return enrollment.notes.get(_TOLD + mtm.id) == mtm.when.isoformat()


_NOTICED = "request-noticed:"  # enrollment note: the participant heard how the moment's request ended


def noticed(enrollment: EnrollmentState, mtm: MtmState) -> EnrollmentState:
    """The enrollment noting that the participant was told how the moment's request ended."""
    return replace(enrollment, notes={**enrollment.notes, _NOTICED + mtm.id: True})


def was_noticed(enrollment: EnrollmentState, mtm: MtmState) -> bool:
    return bool(enrollment.notes.get(_NOTICED + mtm.id)) or already_told(enrollment, mtm)
