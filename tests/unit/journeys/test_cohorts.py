"""Cohorts over time: one line per cohort with its interval, and the change worded by its interval."""

from __future__ import annotations

from datetime import date

from journeys.evaluation.cohorts import CohortFigures, change, comparison_lines
from journeys.evaluation.success_case import wilson


def figures(name: str, k: int, n: int, start: date, value: float | None = None) -> CohortFigures:
    return CohortFigures(name, start, wilson(k, n), wilson(k, n) if value is not None else None, value,
                         "GBP" if value is not None else None)


def test_one_cohort_has_nothing_to_compare() -> None:
    assert comparison_lines("Active Listening", [figures("spring", 4, 5, date(2027, 4, 12))]) == []


def test_four_of_five_vs_one_of_five_is_not_distinguishable() -> None:
    """The issue's example: 4 of 5 vs 1 of 5 would read "+60 points", yet Fisher's p = 0.21."""
    newer, older = figures("autumn", 4, 5, date(2027, 9, 6), 2100), figures("spring", 1, 5, date(2027, 4, 12))
    lines = comparison_lines("Active Listening", [newer, older])
    assert lines[0] == "Cohorts of Active Listening over time (newest first):"
    assert lines[1] == ("• autumn (started 06 Sep 2027): impact 80% (4 of 5, 95% CI 38%–96%); verified 80% (4 of 5); "
                        "estimated value £2,100")
    assert lines[2] == "• spring (started 12 Apr 2027): impact 20% (1 of 5, 95% CI 4%–62%)"
    assert lines[3].startswith("Change in impact from spring to autumn: not distinguishable from no difference")
    assert "Fisher's exact p = 0.21" in lines[3]


def test_a_real_improvement_is_named_with_its_interval() -> None:
    newer, older = figures("autumn", 16, 20, date(2027, 9, 6)), figures("spring", 4, 20, date(2027, 4, 12))
    d = change(newer, older)
    assert d is not None and d.distinguishable and round(d.value, 2) == 0.6
    last = comparison_lines("Active Listening", [newer, older])[-1]
    assert last.startswith("Change in impact from spring to autumn: +60 points (95% CI +")


def test_a_cohort_without_answers_gives_no_change() -> None:
    empty = CohortFigures("winter", None, wilson(0, 0), None, None)
    lines = comparison_lines("Active Listening", [empty, figures("spring", 1, 5, date(2027, 4, 12))])
    assert lines[1] == "• winter (not started): impact no survey answers yet"
    assert not any(line.startswith("Change") for line in lines)
