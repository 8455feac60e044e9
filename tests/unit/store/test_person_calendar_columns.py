"""The stored week reads the way HR exports and Graph write it, and bad text is named."""

from __future__ import annotations

from datetime import time
from types import SimpleNamespace

import pytest

from store.person_calendar import format_days, parse_days, parse_hhmm, work_pattern


def test_days_and_times_in_the_forms_exports_use():
    assert parse_days("Mon, tue;WEDNESDAY  thu fri") == (0, 1, 2, 3, 4)
    assert parse_days("sunday monday") == (0, 6)
    assert format_days((0, 6)) == "mon sun"
    assert parse_hhmm("8:00") == time(8) and parse_hhmm("17:30:00.0000000") == time(17, 30)


@pytest.mark.parametrize("bad", ["funday", "mo", "montag"])
def test_unknown_weekday_is_named(bad):
    with pytest.raises(ValueError, match=repr(bad)):
        parse_days(bad)


def test_unreadable_or_backwards_hours_mean_the_journeys():
    assert work_pattern(SimpleNamespace(work_days="x", work_start="17:00", work_end="09:00")) == (None, None, None)
    assert work_pattern(SimpleNamespace(work_days="sat", work_start="9:00", work_end="13:00")) == (
        (5,), time(9), time(13))
