"""Success Case survey answers recorded straight into a world's store, as the engine records them, so
interview tests on Slack and Teams start from the same classified cohort."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from store.models import EnrollmentRow, EventRow

# A success case who agreed to be contacted: the usual first interview candidate.
SUCCESS_WITH_CONTACT: dict[str, Any] = {"classification": "success", "contact": True,
                                        "outcome": "fewer-escalations"}


async def classified(w: Any, start: date, answers: Mapping[Any, dict[str, Any] | None]) -> str:
    """Record each person's survey answer (None: no answer) 40 days after `start`, tick the next day,
    and return their cohort's name. `w` is a Slack or Teams test world."""
    enrollments = {e.person_id: e for e in await w.rows(select(EnrollmentRow))}
    people = [await w.person(user) for user in answers]
    assert all(people), answers
    survey_at = datetime.combine(start + timedelta(days=40), datetime.min.time(), UTC)
    async with w.db.write() as s:
        for person, answer in zip(people, answers.values(), strict=True):
            if answer is not None:
                s.add(EventRow(kind="scm_classified", enrollment_id=enrollments[person.id].id, at=survey_at,
                               data=answer))
    await w.tick(survey_at + timedelta(days=1))
    return str(enrollments[people[0].id].cohort)
