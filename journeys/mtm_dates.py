"""Checking a moment's date against the person's calendar and the journey's window.

Separate from `journeys/mtm_plan.py` because it needs the engine's calendars and the lifecycle's
window; the engine imports it where it checks an answer.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from journeys import lifecycle, timekeeping
from journeys.definition import Journey, MtmPlanStep, Step
from journeys.mtm_plan import date_fields, date_problem, situation_of
from journeys.next_moments import is_loop_step
from journeys.state import EnrollmentState


def mtm_answer_problem(journey: Journey, enrollment: EnrollmentState, step: Step, values: dict[str, Any],
                       today: date, *, finished: bool) -> str | None:
    """What is wrong with a (partial) MTM plan or postponement, in words for the person; None if fine."""
    cal = timekeeping.calendar_for(journey, enrollment.person)
    for key in date_fields(step):
        if values.get(key):
            day = date.fromisoformat(str(values[key]))
            # the "plan your next moment" loop comes after the journey's window
            last = None if is_loop_step(step.id) else lifecycle.last_day(journey, enrollment)
            problem = date_problem(day, today, last, cal.is_working_day(day), cal.roll_forward(day))
            if problem:
                return problem
    if finished and isinstance(step, MtmPlanStep) and situation_of(journey, values) is None:
        return "Pick one of the moments that matter, or choose Something else and describe yours"
    return None
