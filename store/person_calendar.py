"""A person's own working week as stored on the people row, and back.

Columns hold plain text ("mon tue wed", "08:00") so an HR export, Graph's mailboxSettings and a
database console all read the same; the engine gets typed values (journeys.state.Person).
"""

from __future__ import annotations

from datetime import time
from typing import Any

from journeys.directory import format_days, format_hhmm, parse_days, parse_hhmm

__all__ = ["format_days", "format_hhmm", "parse_days", "parse_hhmm", "work_pattern"]

def work_pattern(row: Any) -> tuple[tuple[int, ...] | None, time | None, time | None]:
    """The stored week of a people row (ORM or Core); what cannot be read counts as not given, so a
    hand-edited column delays no one: the journey's calendar applies."""
    days_text, start_text, end_text = (getattr(row, "work_days", None), getattr(row, "work_start", None),
                                       getattr(row, "work_end", None))
    if days_text is None and start_text is None and end_text is None:
        return None, None, None  # most people: the journey's week (the tick asks for every due step)
    try:
        days = parse_days(days_text)
    except ValueError:
        days = None
    try:
        start, end = parse_hhmm(start_text), parse_hhmm(end_text)
    except ValueError:
        start = end = None
    if start is None or end is None or not start < end:
        start = end = None
    return days, start, end
