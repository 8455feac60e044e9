"""Time, calendars and how times are written: one module. So far the formats, one definition each,
in the reader's zone.

`format_day` "Tue 3 Dec", `format_slot` "Tue 3 Dec 09:30" (an offered or agreed time),
`format_local` "Tue 3 Dec, 09:30 (Europe/London)" (a time whose zone must be said).
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from journeys.calendar import WorkCalendar, zone
from journeys.definition import (
    Journey,
    Step,
    When,
)
from journeys.messages import Message, Outgoing
from journeys.state import (
    EnrollmentState,
    Person,
)
from journeys.text import typed


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


# (id of the journey's frozen Calendar, the person's holiday region, working days and hours)
# -> (that Calendar, its WorkCalendar).
# The engine asks for a calendar several times per due prompt; building one parses the working
# hours and checks the holiday region every time. The Calendar is kept in the value so a reused id
# of a freed definition can never hit.
_CALENDARS: dict[tuple[Any, ...], tuple[Any, WorkCalendar]] = {}


def calendar_for(journey: Journey, person: Person) -> WorkCalendar:
    definition = journey.calendar
    mine = _BY_PERSON.get(id(person))  # the same (frozen) person asked again: no key to build
    if mine is not None and mine[0] is person and mine[1] is definition:
        return mine[2]
    cal = _calendar_for(definition, person)
    if len(_BY_PERSON) >= 4096:
        _BY_PERSON.clear()
    _BY_PERSON[id(person)] = (person, definition, cal)
    return cal


# id of a Person -> (that Person, the Calendar it was asked with, its WorkCalendar): the engine asks
# for one person's calendar several times per due prompt. Both objects are kept in the value, so a
# reused id of a freed one can never hit.
_BY_PERSON: dict[int, tuple[Person, Any, WorkCalendar]] = {}


def _calendar_for(definition: Any, person: Person) -> WorkCalendar:
    key = (id(definition), person.country, person.subdivision, person.work_days, person.work_start,
           person.work_end)
    hit = _CALENDARS.get(key)
    if hit is not None and hit[0] is definition:
        return hit[1]
    cal = WorkCalendar.from_definition(definition, person.country, person.subdivision,
                                       days=person.work_days, start=person.work_start, end=person.work_end)
    if len(_CALENDARS) >= 4096:
        _CALENDARS.clear()
    _CALENDARS[key] = (definition, cal)
    return cal


def tz_of(journey: Journey, person: Person) -> ZoneInfo:
    try:
        return zone(person.tz)
    except ValueError:
        return zone(journey.calendar.timezone)


def local_date(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def event_date(journey: Journey, enrollment: EnrollmentState, event_id: str) -> date | None:
    if event_id in enrollment.events:
        return enrollment.events[event_id]
    for ev in journey.events:
        if ev.id == event_id and ev.default is not None:
            w = _when(ev.default)
            cal = calendar_for(journey, enrollment.person)
            return _add_working_days(cal, enrollment.start, w.days)
    return None


def due_time(journey: Journey, enrollment: EnrollmentState, step: Step, recipient: Person,
             mtm_date: date | None = None) -> datetime | None:
    """When a step is due for its recipient: working days from its anchor, at a local time."""
    if step.when is None:
        return None
    w = _when(step.when)
    if w.anchor == "start":
        anchor: date | None = enrollment.start
    elif w.anchor == "event":
        anchor = event_date(journey, enrollment, w.event or "")
    else:
        anchor = mtm_date
    if anchor is None:
        return None
    cal = calendar_for(journey, recipient)
    tz = tz_of(journey, recipient)
    day = cal.add_working_days(anchor, w.days)
    return cal.local_slot(day, w.at, tz)


def after_working_days(journey: Journey, person: Person, now: datetime, days: int) -> datetime:
    return _shifted(calendar_for(journey, person), tz_of(journey, person), now, days)


def after_working_days_in(cal: WorkCalendar, tz: ZoneInfo, now: datetime, days: int) -> datetime:
    """`after_working_days` for a caller that already has the person's calendar and zone."""
    return _shifted(cal, tz, now, days)


# Pure functions of hashable values (a frozen WorkCalendar, a zone, an instant), memoised: a tick
# asks the same question for every prompt of a cohort (same due time, same zone, same rules).
@functools.lru_cache(maxsize=8192)
def _shifted(cal: WorkCalendar, tz: ZoneInfo, now: datetime, days: int) -> datetime:
    local = now.astimezone(tz)
    day = cal.add_working_days(local.date(), days)
    return cal.local_slot(day, local.time().replace(second=0, microsecond=0), tz)


@functools.lru_cache(maxsize=8192)
def _add_working_days(cal: WorkCalendar, d: date, n: int) -> date:
    return cal.add_working_days(d, n)


# `When` is frozen: parse each `when:` text once.
_when = functools.lru_cache(maxsize=1024)(When.parse)


@functools.lru_cache(maxsize=8192)
def _is_open(cal: WorkCalendar, tz: ZoneInfo, now: datetime) -> bool:
    return cal.is_open(now, tz)


def released_at(journey: Journey, recipient: Person, now: datetime) -> datetime:
    """When a notice made `now` reaches its recipient: now in their working hours, else when their
    next working hours open."""
    cal = calendar_for(journey, recipient)
    tz = tz_of(journey, recipient)
    return now if cal.is_open(now, tz) else cal.next_open(now, tz)


def read_on(journey: Journey, recipient: Person, now: datetime) -> date:
    """The recipient's own date when a notice made `now` reaches them: what "today" means in it."""
    return local_date(released_at(journey, recipient, now), tz_of(journey, recipient))


def day_ends(journey: Journey, recipient: Person, day: date) -> datetime:
    """The end of `day` in the recipient's zone (UTC): a text saying "today" or "tomorrow" for that
    day is false after it, so it must not go out later."""
    return datetime.combine(day + timedelta(days=1), time(0), tz_of(journey, recipient)).astimezone(UTC)


def notice(journey: Journey, recipient: Person, key: str, message: Message, now: datetime,
           enrollment_id: str | None = None, true_on: date | None = None) -> Outgoing:
    """A message caused by someone else's action, held until the recipient's working hours.
    `true_on`: the recipient's day its words are true for (it says "today" or "tomorrow"): it
    expires rather than reach them after that day."""
    when = released_at(journey, recipient, now)
    stale = day_ends(journey, recipient, true_on).isoformat() if true_on is not None else None
    return Outgoing(key, message, not_before_iso=when.isoformat() if when > now else None, journey_id=journey.id,
                    enrollment_id=enrollment_id, stale_at_iso=stale)


def next_digest_at(journey: Journey, manager: Person, now: datetime) -> datetime | None:
    """The next weekly digest slot for a manager, in their zone and working hours."""
    d = journey.manager_digest
    if d is None:
        return None
    cal = calendar_for(journey, manager)
    tz = tz_of(journey, manager)
    hh, mm = (int(x) for x in d.at.split(":"))
    day = local_date(now, tz)
    target = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(d.day)
    for ahead in range(15):
        cand = day + timedelta(days=ahead)
        if cand.weekday() != target:
            continue
        slot = cal.local_slot(cand, datetime.min.time().replace(hour=hh, minute=mm), tz)
        if slot > now:
            return slot
    return None


def first_name(p: Person | None) -> str:
    return typed(p.name.split()[0]) if p and p.name.strip() else "your colleague"


def typed_name(p: Person) -> str:
    """A person's full name, inert on every platform."""
    return typed(p.name)
