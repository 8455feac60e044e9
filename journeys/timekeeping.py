"""Time, calendars and how times are written: one module. So far the formats, one definition each,
in the reader's zone.

`format_day` "Tue 3 Dec", `format_slot` "Tue 3 Dec 09:30" (an offered or agreed time),
`format_local` "Tue 3 Dec, 09:30 (Europe/London)" (a time whose zone must be said).
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo


@functools.lru_cache(maxsize=4096)
def format_day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def format_slot(at: datetime, tz: ZoneInfo) -> str:
    """A time in the reader's zone, without naming the zone (the text says "your time")."""
    loc = at.astimezone(tz)
    return f"{format_day(loc.date())} {loc:%H:%M}"


def format_local(at: datetime, tz: ZoneInfo) -> str:
    """'Tue 3 Dec, 09:30 (Europe/London)': times are always shown in the reader's zone."""
    loc = at.astimezone(tz)
    return f"{format_day(loc.date())}, {loc:%H:%M} ({tz.key})"
