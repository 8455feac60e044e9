"""A form with one bad field keeps the good ones and asks again only for the bad one.

Submitting a five-field plan with a date on a holiday used to discard the whole plan, so every
field had to be entered again. Here each field is checked on its own: the good ones are kept on the
prompt (`PromptState.answers`, like a plan typed field by field), and the reply names the one
field to give again, which the person can type (the next typed text fills the first missing field).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from journeys.definition import Journey, Step
from journeys.forms import AnswerError, check_one, check_values
from journeys.messages import FormField
from journeys.mtm_dates import mtm_answer_problem
from journeys.mtm_plan import date_fields
from journeys.state import EnrollmentState


def check_partly(journey: Journey, enrollment: EnrollmentState, step: Step, fields: tuple[FormField, ...],
                 values: dict[str, Any], today: date) -> tuple[dict[str, Any], list[tuple[FormField, str]]]:
    """(the clean values of the good fields, [(bad field, why)])."""
    good: dict[str, Any] = {}
    bad: list[tuple[FormField, str]] = []
    for f in fields:
        if f.id not in values:
            continue
        try:
            v = check_one(f, values[f.id], today)
        except AnswerError as exc:
            bad.append((f, str(exc)))
            continue
        if v is not None:
            good[f.id] = v
    by_id = {f.id: f for f in fields}
    for key in date_fields(step):
        if key in good:
            problem = mtm_answer_problem(journey, enrollment, step, {key: good[key]}, today, finished=False)
            if problem and key in by_id:
                del good[key]
                bad.append((by_id[key], problem))
    # answers to branches that are not shown are dropped, as for a whole submission
    visible_good = check_values(fields, good, today) if good else {}
    return visible_good, bad


def ask_again(bad: list[tuple[FormField, str]]) -> str:
    """The reply: what was kept, and the one thing to give again."""
    labels = " and ".join(f"'{f.label}'" for f, _ in bad)
    why = " ".join(f"{reason}." for _, reason in bad)
    example = " (e.g. `friday` or 2026-12-11)" if any(f.kind == "date" for f, _ in bad) else ""
    return (f"I kept the rest of your answers. Only {labels} needs another go: {why} "
            f"Type it here{example}, or open the form again.")
