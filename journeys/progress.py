"""Progress: the one definition prompts, `status` and the manager digest all show.

A participant's progress counts *their own actions*: the steps that ask something of them (a
question, a plan, a reflection, a survey; never a message, and never a manager's task or request)
that they answered, out of how many such steps the journey has for them. Something merely sent to
them is not progress. Prompts do not number steps: steps timed from a moment that matters or
an event arrive in a different order for each person, so a prompt says which week of the journey
it belongs to, counted in calendar weeks from the start in the reader's own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from journeys.definition import Journey, When, step_recipient
from journeys.next_moments import is_loop_step
from journeys.state import PromptState

DONE_STATUSES = ("answered",)  # "done" is a message delivered: not something the person did


def participant_step_ids(journey: Journey) -> frozenset[str]:
    """The steps that ask the participant to act (messages ask nothing)."""
    return frozenset(s.id for s in journey.steps if step_recipient(s) == "participant" and s.kind != "message")


def journey_weeks(journey: Journey) -> int:
    """How many weeks the journey spans: its latest step timed from the start (or an event's
    default), in working days, read as five working days a week, rounded up; at least one."""
    latest = 0
    event_days = {e.id: When.parse(e.default).days for e in journey.events if e.default}
    for s in journey.steps:
        if s.when is None or is_loop_step(s.id) or getattr(s, "evaluation", None) == "follow_up":
            continue  # the follow-up survey comes weeks after the journey, on its own
        w = When.parse(s.when)
        if w.anchor == "start":
            latest = max(latest, w.days)
        elif w.anchor == "event" and w.event in event_days:
            latest = max(latest, event_days[w.event] + w.days)
    return max(1, -(-(latest + 1) // 5))


AFTER_THE_END = "after the end"
BEFORE_THE_START = "before the start"


def week_label(journey: Journey, start: date, today: date) -> str:
    """'week 2 of 6', 'before the start' or 'after the end', for the date a reader sees."""
    if today < start:
        return BEFORE_THE_START
    week = (today - start).days // 7 + 1
    total = journey_weeks(journey)
    return f"week {week} of {total}" if week <= total else AFTER_THE_END


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    def text(self) -> str:
        return f"{self.done} of {self.total} of their steps done"

    def own_text(self) -> str:
        return f"{self.done} of {self.total} of your steps done"


def progress_of(journey: Journey, participant_id: str, prompts: list[PromptState]) -> Progress:
    """Progress of one participant from their enrollment's prompts."""
    ids = participant_step_ids(journey)
    done = sum(1 for p in prompts if p.recipient_id == participant_id and p.step_id in ids
               and p.status in DONE_STATUSES)
    return Progress(done, len(ids))

