"""Who is stuck: the one definition the digest, admin `status` and the dashboard all use.

An open prompt is stuck once it has waited `stuck_after` working days (the journey's
`manager_digest.stuck_after`) since it was sent, counted in its recipient's calendar.
"""

from __future__ import annotations

from datetime import datetime

from journeys.definition import Journey
from journeys.state import Person, PromptState
from journeys.timekeeping import calendar_for, local_date, tz_of

STUCK_AFTER_DEFAULT = 3  # a journey without a manager digest


def stuck_after(journey: Journey) -> int:
    """Working days without a response before someone counts as stuck."""
    return journey.manager_digest.stuck_after if journey.manager_digest is not None else STUCK_AFTER_DEFAULT


def waiting_days(journey: Journey, recipient: Person, prompt: PromptState, now: datetime) -> int | None:
    """Working days an open, sent prompt has waited for `recipient`, in their calendar; None when
    it is not waiting (answered, closed, or not sent yet)."""
    if prompt.status != "open" or prompt.sent_at is None:
        return None
    tz = tz_of(journey, recipient)
    return calendar_for(journey, recipient).working_days_between(local_date(prompt.sent_at, tz),
                                                                 local_date(now, tz))


def is_stuck(journey: Journey, recipient: Person, prompt: PromptState, now: datetime) -> bool:
    days = waiting_days(journey, recipient, prompt, now)
    return days is not None and days >= stuck_after(journey)
