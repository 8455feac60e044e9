"""The CSV import's `facilitator_email` column: the facilitator of each row's cohort.

Every row of a cohort that names one must name the same person (one facilitator per cohort; a
blank cell leaves it to the others); a row that disagrees is refused with its line. After the
rows are enrolled, each cohort's facilitator is assigned as `enroll … facilitator` does."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from bot.services.enrollment import cohort_name
from bot.services.facilitators import assign
from journeys.definition import Journey
from store.uow import UnitsOfWork


class _Row(Protocol):
    @property
    def line(self) -> int: ...
    @property
    def journey(self) -> str: ...
    @property
    def start(self) -> date: ...
    @property
    def cohort(self) -> str | None: ...
    @property
    def facilitator_email(self) -> str | None: ...


def _key(r: _Row) -> tuple[str, str]:
    return r.journey, cohort_name(r.journey, r.start, r.cohort)


def conflicting(rows: list[_Row]) -> list[tuple[int, str]]:
    """(line, reason) for each row naming another facilitator than an earlier row of its cohort."""
    first: dict[tuple[str, str], _Row] = {}
    bad: list[tuple[int, str]] = []
    for r in rows:
        if not r.facilitator_email:
            continue
        seen = first.setdefault(_key(r), r)
        if seen.facilitator_email != r.facilitator_email:
            why = (f"facilitator_email {r.facilitator_email} differs from {seen.facilitator_email} on line {seen.line} "
                   f"for cohort {_key(r)[1]}: one facilitator per cohort")
            bad.append((r.line, why))
    return bad


async def assign_all(units: UnitsOfWork, library: dict[str, Journey], rows: list[_Row], people: dict[str, str],
                     now: datetime) -> int:
    """Assign each cohort's facilitator (once per cohort); returns how many were assigned."""
    done: set[tuple[str, str]] = set()
    for r in rows:
        key = _key(r)
        if not r.facilitator_email or key in done or r.facilitator_email not in people or key[0] not in library:
            continue
        if await assign(units, library[key[0]], key[1], people[r.facilitator_email], now, None) is not None:
            done.add(key)
    return len(done)
