"""Day words made true when a message is delivered, not only when it was written.

A notice that must not be lost (a manager's Approve or Coach, an interview booked) never expires,
so the dispatcher may deliver it a day later than planned (a worker down overnight): "approved your
plan for tomorrow, Wed 24 Mar" would then be false. Such a message carries, besides its text, each
relative day phrase as (form, ISO value) and the reader's day and zone it was written for
(`Message.dated`, `dated_on`, `dated_in`); at send time `reread` writes each phrase again for the
reader's own day at that moment. Pure: the caller gives the moment.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from journeys.evaluation.interview_day import slot_words
from journeys.messages import Message
from journeys.relative import day_words, on_day

DAY, ON, SLOT, SLOT_BARE = "day", "on", "slot", "slot-bare"


def words(form: str, value: str, today: date, tz: ZoneInfo) -> str:
    """One phrase as read on `today`: a day ("tomorrow, Wed 24 Mar"; `ON`: "on Wed 24 Mar" when not
    near), or an interview's time ("tomorrow at 10:00"; `SLOT_BARE` without a leading "on")."""
    if form in (DAY, ON):
        d = date.fromisoformat(value)
        return day_words(d, today) if form == DAY else on_day(d, today)
    at = datetime.combine(today, time(12), tz)
    said = slot_words(datetime.fromisoformat(value), at, tz)
    return said.removeprefix("on ") if form == SLOT_BARE else said


def dated(message: Message, spans: list[tuple[str, str]], today: date, tz: ZoneInfo) -> Message:
    """`message`, whose text says each of `spans` as read on `today` (the reader's, in `tz`),
    marked so that `reread` can say them again for another day."""
    return replace(message, dated=tuple(spans), dated_on=today.isoformat(), dated_in=tz.key)


def reread(message: Message, now: datetime) -> Message:
    """`message` as its reader reads it `now`: each dated phrase written for the reader's day then."""
    if not message.dated or not message.dated_in:
        return message
    tz = ZoneInfo(message.dated_in)
    written, today = date.fromisoformat(message.dated_on), now.astimezone(tz).date()
    if today == written:
        return message
    title, text = message.title, message.text
    # longest first, through markers, so one phrase is never rewritten inside another
    spans = sorted(set(message.dated), key=lambda s: -len(words(s[0], s[1], written, tz)))
    for i, (form, value) in enumerate(spans):
        old = words(form, value, written, tz)
        title, text = title.replace(old, f"\x00{i}\x00"), text.replace(old, f"\x00{i}\x00")
    for i, (form, value) in enumerate(spans):
        new = words(form, value, today, tz)
        title, text = title.replace(f"\x00{i}\x00", new), text.replace(f"\x00{i}\x00", new)
    return replace(message, title=title, text=text, dated_on=today.isoformat())
