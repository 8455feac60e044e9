"""The send-time check: nothing leaves outside its recipient's hours, however late it is sent.

The engine decides *when* a prompt is due in the recipient's working hours, but a row can wait in
the outbox past that moment (a platform outage, a worker that was down overnight, a backlog): the
dispatcher asks again here just before sending. A row outside the recipient's calendar is held to
their next open slot (not dropped, not a failure); the rows of one person held together go out in
order, `BACKLOG_SPACING` apart, instead of all in the first minute of their morning. Answers to a
person's own action (`at_once`) go at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from journeys import timekeeping
from journeys.calendar import WorkCalendar
from journeys.definition import Journey
from journeys.state import Person
from store.records import OutboxItem

BACKLOG_SPACING = timedelta(seconds=60)


def recipient_hours(journey: Journey, person: Person) -> tuple[WorkCalendar, ZoneInfo]:
    """The calendar and zone a person is reached in: the same lookup the engine makes, from the
    person's stored calendar fields (zone, holiday country and subdivision) and the journey's rules."""
    return timekeeping.calendar_for(journey, person), timekeeping.tz_of(journey, person)


def held_until(row: OutboxItem, person: Person, library: Mapping[str, Journey], now: datetime) -> datetime | None:
    """None when the row may go now; otherwise the recipient's next open slot."""
    if row.at_once or row.journey_id is None:
        return None
    journey = library.get(row.journey_id)
    if journey is None:
        return None
    cal, tz = recipient_hours(journey, person)
    if cal.is_open(now, tz):
        return None
    return cal.next_open(now, tz)


def spread(slot: datetime, waiting: datetime | None, count: int) -> list[datetime]:
    """Times for `count` held rows of one person, in order: from their open slot, after anything
    of theirs already waiting, `BACKLOG_SPACING` apart."""
    first = slot if waiting is None or waiting + BACKLOG_SPACING <= slot else waiting + BACKLOG_SPACING
    return [first + BACKLOG_SPACING * i for i in range(count)]
