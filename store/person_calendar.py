"""A person's own working week as stored on the people row, and back.

Columns hold plain text ("mon tue wed", "08:00") so an HR export, Graph's mailboxSettings and a
database console all read the same; the engine gets typed values (journeys.state.Person).
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from journeys.definition import WEEKDAYS

__all__ = ["format_days", "format_hhmm", "parse_days", "parse_hhmm", "work_pattern"]

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?\s*$")


def parse_days(text: str | None) -> tuple[int, ...] | None:
    """'mon tue,wed' -> (0, 1, 2); None for nothing; ValueError naming the bad word."""
    if text is None or not text.strip():
        return None
    out: list[int] = []
    for word in re.split(r"[\s,;]+", text.strip().lower()):
        key = word[:3]
        if key not in WEEKDAYS or not (len(word) == 3 or _FULL_NAMES[key].startswith(word)):
            raise ValueError(f"unknown weekday {word!r}: use mon, tue, wed, thu, fri, sat, sun")
        day = WEEKDAYS.index(key)
        if day not in out:
            out.append(day)
    return tuple(sorted(out))


_FULL_NAMES = dict(zip(WEEKDAYS, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                  "sunday"), strict=True))


def format_days(days: tuple[int, ...] | None) -> str | None:
    return " ".join(WEEKDAYS[d] for d in days) if days else None


def parse_hhmm(text: str | None) -> time | None:
    """'8:00', '08:00', '08:00:00.0000000' (Graph) -> time(8, 0); ValueError when not a time."""
    if text is None or not text.strip():
        return None
    m = _HHMM.match(text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"expected a time of day HH:MM (24h), got {text!r}")
    return time(int(m.group(1)), int(m.group(2)))


def format_hhmm(t: time | None) -> str | None:
    return None if t is None else f"{t.hour:02d}:{t.minute:02d}"


def work_pattern(row: Any) -> tuple[tuple[int, ...] | None, time | None, time | None]:
    """The stored week of a people row (ORM or Core); what cannot be read counts as not given, so a
    hand-edited column delays no one: the journey's calendar applies."""
    try:
        days = parse_days(getattr(row, "work_days", None))
    except ValueError:
        days = None
    try:
        start, end = parse_hhmm(getattr(row, "work_start", None)), parse_hhmm(getattr(row, "work_end", None))
    except ValueError:
        start = end = None
    if start is None or end is None or not start < end:
        start = end = None
    return days, start, end
