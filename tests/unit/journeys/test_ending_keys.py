"""`ending:` in a journey file: documented defaults, and bad values reported at file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeys.ending import NOT_PRACTISED
from journeys.loader import JourneyFileError, load_journey_text

MINIMAL = (Path(__file__).resolve().parents[2] / "fixtures" / "journeys" / "valid" / "minimal.yml").read_text()
LINES = MINIMAL.count("\n")  # `ending:` goes on the line after the file's last line


def errors(extra: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(JourneyFileError) as info:
        load_journey_text(MINIMAL + extra, "j.yml")
    return [(e.line, e.column, e.key, e.message) for e in info.value.errors]


def test_a_journey_without_ending_gets_the_methods_defaults() -> None:
    journey = load_journey_text(MINIMAL, "j.yml")
    assert journey.ending.survey_open_days == 10 and journey.ending.closing.not_practised == NOT_PRACTISED


def test_ending_keys_load() -> None:
    journey = load_journey_text(MINIMAL + "ending:\n  survey_open_days: 5\n  closing:\n"
                                "    practised: Well done, {name}.\n", "j.yml")
    assert journey.ending.survey_open_days == 5 and journey.ending.closing.practised == "Well done, {name}."


@pytest.mark.parametrize(("value", "fragment"), [("0", "greater than or equal to 1"), ("61", "less than or equal to 60"),
                                                 ("ten", "a whole number")])
def test_survey_open_days_out_of_range_points_at_the_value(value: str, fragment: str) -> None:
    ((line, col, key, message),) = errors(f"ending:\n  survey_open_days: {value}\n")
    assert (line, col, key) == (LINES + 2, 21, "ending.survey_open_days")
    assert fragment in message


def test_unknown_ending_key_points_at_the_key() -> None:
    ((line, col, key, message),) = errors("ending:\n  survey_open: 3\n")
    assert (line, col, key) == (LINES + 2, 3, "ending.survey_open")
    assert "did you mean 'survey_open_days'?" in message


def test_a_closing_placeholder_typo_is_reported() -> None:
    ((line, col, key, message),) = errors("ending:\n  closing:\n    survey_open: Open until {survey_close}.\n")
    assert (line, key) == (LINES + 3, "ending.closing.survey_open") and col == 18
    assert "unknown placeholder {survey_close}" in message and "{survey_closes}" in message
    # {survey_closes} only makes sense while the survey is open
    ((_, _, key, message),) = errors("ending:\n  closing:\n    practised: Closed {survey_closes}.\n")
    assert key == "ending.closing.practised" and "unknown placeholder {survey_closes}" in message
