"""Date-relative words, computed for the day a message is read, never written into a template.

"Next week" or "your next working day" in a step's text is true only on the day the author had
in mind; a late enrollment, a reminder or a snooze makes it false. The `{starts}` placeholder says
how the journey's start stands on the day the reader gets the message.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from journeys.calendar import WorkCalendar


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def starts_phrase(start: date, today: date, cal: WorkCalendar) -> str:
    """'starts tomorrow, Mon 7 Dec', 'starts today', 'started on Mon 7 Dec', … for `today`."""
    if today == start:
        return "starts today"
    if today > start:
        return f"started on {_day(start)}"
    if start == today + timedelta(days=1):
        return f"starts tomorrow, {_day(start)}"
    if cal.add_working_days(today, 1) == start:
        return f"starts on your next working day, {_day(start)}"
    this_monday = today - timedelta(days=today.weekday())
    if start < this_monday + timedelta(days=7):
        return f"starts this {start:%A}, {_day(start)}"
    if start < this_monday + timedelta(days=14):
        return f"starts next week, on {_day(start)}"
    return f"starts on {_day(start)}"


def day_words(d: date, today: date) -> str:
    """A day as read on `today`: "today, Tue 5 Jan", "tomorrow, Tue 5 Jan" or "Tue 5 Jan". The date
    stays, so a message scrolled back to later still says which day it meant."""
    if d == today:
        return f"today, {_day(d)}"
    if d == today + timedelta(days=1):
        return f"tomorrow, {_day(d)}"
    return _day(d)


def on_day(d: date, today: date) -> str:
    """`day_words` after a noun: "today, Tue 5 Jan", "tomorrow, Tue 5 Jan" or "on Tue 5 Jan"."""
    words = day_words(d, today)
    return words if words.startswith(("today", "tomorrow")) else f"on {words}"


def is_relative(d: date, today: date) -> bool:
    """Whether `day_words` says "today" or "tomorrow": a text that does is true only on `today`."""
    return today <= d <= today + timedelta(days=1)


def time_words(at: datetime, tz: ZoneInfo, today: date, *, zone: bool = False) -> str:
    """A time in the reader's zone as read on their `today`: "tomorrow, Fri 29 Jan 10:00" (with
    `zone`: "tomorrow, Fri 29 Jan, 10:00 (Europe/Paris)"), for listings a person asks for."""
    loc = at.astimezone(tz)
    words = day_words(loc.date(), today)
    return f"{words}, {loc:%H:%M} ({tz.key})" if zone else f"{words} {loc:%H:%M}"



def their_time_words(at: datetime, tz: ZoneInfo, whose: str, reader_today: date) -> str:
    """A time in someone else's zone, read by another person (an admin) on their own day:
    "tomorrow, Tue 8 Dec, 09:30 (Ana's time, America/New_York)" or "on Mon 14 Dec, …". The date
    and hour are theirs, labelled so; the day word says which date that is for the reader, who
    acts on it in their own day."""
    loc = at.astimezone(tz)
    return f"{on_day(loc.date(), reader_today)}, {loc:%H:%M} ({whose} time, {tz.key})"
