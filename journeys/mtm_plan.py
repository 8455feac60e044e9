"""Planning a moment that matters: the PPP's own moments offered as choices, and the plan's date.

The journey's `ppp.moments_that_matter` are the situations the business cares about, so the plan
offers them first, plus "Something else"; the person describes the moment in their own words when
none fits (or adds who and when to the one they picked). The date must be a working day of the
person's own calendar inside the journey's window (today up to the day of its last step): a
moment on a Saturday or a year ahead is refused with the reason and the nearest day that works.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from journeys.definition import Journey, MtmFollowUpStep, MtmPlanStep, Step
from journeys.messages import FormField, Option
from journeys.numbers import is_number
from journeys.timekeeping import format_day

OTHER = "other"
MOMENT = "moment"


def moment_field(journey: Journey) -> FormField | None:
    """The choice of the PPP's moments that matter, plus "Something else"; None without any."""
    moments = journey.ppp.moments_that_matter
    if not moments:
        return None
    options = (*(Option(f"m{i}", text) for i, text in enumerate(moments, 1)), Option(OTHER, "Something else"))
    return FormField(MOMENT, "Which moment that matters?", "choice", options, required=False,
                     hint="Pick the closest, or Something else and describe it below")


def situation_of(journey: Journey, values: dict[str, Any]) -> str | None:
    """The moment as stored on the plan: the picked moment (with what they added), or their own
    words; None when neither was given."""
    own = str(values.get("situation") or "").strip()
    picked = str(values.get(MOMENT) or "")
    moments = journey.ppp.moments_that_matter
    if picked.startswith("m") and is_number(picked[1:]) and 1 <= int(picked[1:]) <= len(moments):
        label = moments[int(picked[1:]) - 1]
        return f"{label}: {own}" if own else label
    return own or None


def date_fields(step: Step) -> tuple[str, ...]:
    if isinstance(step, MtmPlanStep):
        return ("date",)
    if isinstance(step, MtmFollowUpStep):
        return ("new_date",)
    return ()


def date_problem(day: date, today: date, last: date | None, working: bool, next_working: date) -> str | None:
    """Why `day` cannot hold a moment that matters, or None. `last`: the journey's last day."""
    if last is not None and day > last:
        return (f"{format_day(day)} is after your journey ends. Pick a day on or before {format_day(last)}, "
                "so there is time to reflect on it")
    if not working:
        later = "" if last is not None and next_working > last else f"; the next one is {format_day(next_working)}"
        return f"{format_day(day)} is not one of your working days, so it can't hold a moment at work{later}"
    return None

