"""Cohorts of one journey over time: is impact improving from one run to the next?

Pure: the caller gives each cohort's figures (from `journeys.evaluation.success_case` and `journeys.evaluation.value`),
newest first. A change between two cohorts is worded by its interval (Newcombe, Fisher's exact),
as every difference in the reports is: "not distinguishable" when the interval includes none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from journeys.evaluation.stats import Difference, difference
from journeys.evaluation.success_case import Rate, difference_words
from journeys.evaluation.value import money


@dataclass(frozen=True)
class CohortFigures:
    name: str
    start: date | None  # the earliest start of its enrollments
    impact: Rate  # self-reported, of survey respondents
    verified: Rate | None  # None: no interviews recorded
    value: float | None  # the estimated value of verified cases (one currency), None when none
    currency: str | None = None


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


def rate_words(r: Rate) -> str:
    if r.value is None:
        return "no survey answers yet"
    return f"{_pct(r.value)} ({r.count} of {r.total}, 95% CI {_pct(r.low)}–{_pct(r.high)})"


def change(newer: CohortFigures, older: CohortFigures) -> Difference | None:
    """Newer minus older impact (self-reported), or None when either has no answers."""
    a, b = newer.impact, older.impact
    if not a.total or not b.total:
        return None
    return difference(a.count, a.total, b.count, b.total)


def comparison_lines(journey_title: str, cohorts: Sequence[CohortFigures]) -> list[str]:
    """One line per cohort (newest first) and the change from the previous cohort to the newest;
    nothing when there is only one cohort."""
    if len(cohorts) < 2:
        return []
    lines = [f"Cohorts of {journey_title} over time (newest first):"]
    for c in cohorts:
        started = f"started {c.start:%d %b %Y}" if c.start else "not started"
        text = f"• {c.name} ({started}): impact {rate_words(c.impact)}"
        if c.verified is not None and c.verified.value is not None:
            text += f"; verified {_pct(c.verified.value)} ({c.verified.count} of {c.verified.total})"
        if c.value is not None and c.currency:
            text += f"; estimated value {money(c.value, c.currency)}"
        lines.append(text)
    d = change(cohorts[0], cohorts[1])
    if d is not None:
        lines.append(f"Change in impact from {cohorts[1].name} to {cohorts[0].name}: {difference_words(d)}.")
    return lines
