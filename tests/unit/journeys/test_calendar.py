"""Working days and hours as a participant would notice them: nothing arrives on a weekend, a
bank holiday, over lunch, or at a wall-clock time that does not exist."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.calendar import WorkCalendar, zone
from journeys.definition import Calendar

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")

MON_FRI = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def office(country: str | None = "GB", subdivision: str | None = "ENG") -> WorkCalendar:
    return WorkCalendar(
        working_days=MON_FRI,
        day_start=time(9),
        day_end=time(17, 30),
        quiet=((time(12), time(13)),),
        holiday_country=country,
        holiday_subdivision=subdivision,
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz)


# -- working days -------------------------------------------------------------------------


def test_weekends_are_skipped() -> None:
    cal = office(country=None, subdivision=None)
    friday = date(2026, 3, 6)
    assert cal.add_working_days(friday, 1) == date(2026, 3, 9)
    assert cal.roll_forward(date(2026, 3, 7)) == date(2026, 3, 9)
    assert cal.roll_forward(friday) == friday
    assert cal.add_working_days(date(2026, 3, 8), 0) == date(2026, 3, 9)
    assert not cal.is_working_day(date(2026, 3, 8))


def test_uk_christmas_and_substitute_day_are_skipped() -> None:
    cal = office()
    table = holidays.country_holidays("GB", subdiv="ENG", years=2026)
    # 26 Dec 2026 is a Saturday: the package moves Boxing Day to Monday 28th.
    assert date(2026, 12, 25) in table and "observed" in table[date(2026, 12, 28)].lower()
    assert cal.is_holiday(date(2026, 12, 25)) and cal.is_holiday(date(2026, 12, 28))
    assert not cal.is_working_day(date(2026, 12, 28))
    assert cal.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    # Christmas Eve after hours: the next message waits for Tuesday morning.
    assert cal.next_open(utc(2026, 12, 24, 18), LONDON) == utc(2026, 12, 29, 9)
    assert cal.next_working_morning(utc(2026, 12, 24, 10), LONDON) == utc(2026, 12, 29, 9)


def test_bavarian_holidays_differ_from_berlin() -> None:
    corpus_christi = date(2026, 6, 4)  # a Thursday, a holiday in Bavaria but not in Berlin
    assert corpus_christi in holidays.country_holidays("DE", subdiv="BY", years=2026)
    assert corpus_christi not in holidays.country_holidays("DE", subdiv="BE", years=2026)
    bavaria, berlin = office("DE", "BY"), office("DE", "BE")
    assert bavaria.add_working_days(date(2026, 6, 3), 1) == date(2026, 6, 5)
    assert berlin.add_working_days(date(2026, 6, 3), 1) == corpus_christi
    assert bavaria.is_holiday(date(2026, 1, 6))  # Epiphany
    assert not office("GB", "ENG").is_holiday(date(2026, 1, 6))


def test_negative_offsets_count_back_over_holidays() -> None:
    cal = office()
    assert cal.add_working_days(date(2026, 12, 29), -1) == date(2026, 12, 24)
    # New Year's Day 2026 is a Thursday; Friday 2 Jan is a normal working day in England.
    assert cal.add_working_days(date(2026, 1, 5), -1) == date(2026, 1, 2)
    assert cal.add_working_days(date(2026, 1, 5), -2) == date(2025, 12, 31)
    assert cal.add_working_days(date(2026, 1, 4), -1) == date(2026, 1, 2)  # from a Sunday


def test_working_days_between_counts_christmas_correctly() -> None:
    cal = office()
    # 29, 30, 31 Dec and Mon 4 Jan; 25/28 Dec and 1 Jan are holidays.
    assert cal.working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 4
    assert cal.working_days_between(date(2027, 1, 4), date(2026, 12, 24)) == 0
    assert cal.working_days_between(date(2026, 12, 24), date(2026, 12, 24)) == 0


# -- hours --------------------------------------------------------------------------------


def test_quiet_hours_push_delivery_past_lunch() -> None:
    cal = office()
    wednesday = date(2026, 6, 10)  # BST, UTC+1
    assert cal.local_slot(wednesday, time(12, 15), LONDON) == utc(2026, 6, 10, 12)  # 13:00 local
    assert cal.is_open(utc(2026, 6, 10, 10, 59), LONDON)  # 11:59 local
    assert not cal.is_open(utc(2026, 6, 10, 11), LONDON)  # 12:00 local
    assert cal.is_open(utc(2026, 6, 10, 12), LONDON)  # 13:00 local
    assert cal.next_open(utc(2026, 6, 10, 11, 30), LONDON) == utc(2026, 6, 10, 12)


def test_after_hours_and_before_hours_move_to_the_working_window() -> None:
    cal = office(country=None, subdivision=None)
    assert cal.local_slot(date(2026, 6, 10), time(7), LONDON) == utc(2026, 6, 10, 8)
    # Friday 17:30 local is closed (the end is exclusive): Monday 09:00.
    assert cal.local_slot(date(2026, 6, 12), time(17, 30), LONDON) == utc(2026, 6, 15, 8)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        office().is_open(datetime(2026, 6, 10, 10), LONDON)


# -- DST ----------------------------------------------------------------------------------

ALWAYS = WorkCalendar(working_days=EVERY_DAY, day_start=time(0), day_end=time(23, 59))


@pytest.mark.parametrize(
    ("tz", "day", "wall", "expected_utc", "expected_local"),
    [
        # Spring forward: a wall time in the gap is read with the pre-gap offset (one hour on).
        ("Europe/London", date(2026, 3, 29), time(1, 30), utc(2026, 3, 29, 1, 30), time(2, 30)),
        ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 30), time(3, 30)),
        # Fall back: the first of the two 01:30s.
        ("Europe/London", date(2026, 10, 25), time(1, 30), utc(2026, 10, 25, 0, 30), time(1, 30)),
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30), time(1, 30)),
        # Lord Howe moves its clocks by 30 minutes.
        (
            "Australia/Lord_Howe",
            date(2026, 10, 4),
            time(2, 15),
            utc(2026, 10, 3, 15, 45),
            time(2, 45),
        ),
        (
            "Australia/Lord_Howe",
            date(2026, 4, 5),
            time(1, 45),
            utc(2026, 4, 4, 14, 45),
            time(1, 45),
        ),
    ],
)
def test_dst_gaps_and_repeats_give_one_instant(
    tz: str, day: date, wall: time, expected_utc: datetime, expected_local: time
) -> None:
    zi = zone(tz)
    first = ALWAYS.local_slot(day, wall, zi)
    assert first == expected_utc
    assert local(first, zi).time() == expected_local
    assert local(first, zi).date() == day
    # The caller's fold never picks a second instant.
    assert ALWAYS.local_slot(day, wall.replace(fold=1), zi) == first


def test_window_starting_inside_a_gap_opens_at_the_jump() -> None:
    cal = WorkCalendar(working_days=EVERY_DAY, day_start=time(2, 30), day_end=time(5))
    # 01:00 EST; at 07:00Z the clock jumps from 02:00 EST to 03:00 EDT, inside the window.
    assert cal.next_open(utc(2026, 3, 8, 6), NEW_YORK) == utc(2026, 3, 8, 7)


def test_window_entirely_inside_a_gap_moves_to_the_next_day() -> None:
    cal = WorkCalendar(working_days=EVERY_DAY, day_start=time(1), day_end=time(1, 45))
    slot = cal.local_slot(date(2026, 3, 29), time(1), LONDON)
    assert slot == utc(2026, 3, 30, 0)  # 01:00 BST on Monday
    assert cal.is_open(slot, LONDON)


def test_repeated_hour_is_open_twice() -> None:
    cal = WorkCalendar(working_days=EVERY_DAY, day_start=time(1), day_end=time(2))
    assert cal.is_open(utc(2026, 10, 25, 0, 30), LONDON)  # 01:30 BST
    assert cal.is_open(utc(2026, 10, 25, 1, 30), LONDON)  # 01:30 GMT, the second pass
    assert not cal.is_open(utc(2026, 10, 25, 2), LONDON)  # 02:00 GMT
    assert cal.next_open(utc(2026, 10, 25, 2), LONDON) == utc(2026, 10, 26, 1)


# -- odd offsets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        ("Asia/Kolkata", date(2026, 6, 10), utc(2026, 6, 10, 3, 30)),
        ("Asia/Kathmandu", date(2026, 6, 10), utc(2026, 6, 10, 3, 15)),
        ("Australia/Lord_Howe", date(2026, 1, 14), utc(2026, 1, 13, 22)),  # +11 in summer
        ("Australia/Lord_Howe", date(2026, 6, 10), utc(2026, 6, 9, 22, 30)),  # +10:30 in winter
    ],
)
def test_non_hour_offsets(tz: str, day: date, expected: datetime) -> None:
    cal = office(country=None, subdivision=None)
    assert cal.local_slot(day, time(9), zone(tz)) == expected


def test_kathmandu_weekend_after_hours() -> None:
    cal = office(country=None, subdivision=None)
    friday_evening = utc(2026, 6, 12, 11, 45)  # 17:30 +05:45
    assert cal.next_open(friday_evening, zone("Asia/Kathmandu")) == utc(2026, 6, 15, 3, 15)


# -- construction -------------------------------------------------------------------------


def test_from_definition_reads_the_journey_calendar() -> None:
    definition = Calendar.model_validate(
        {
            "timezone": "Europe/London",
            "working_days": ["mon", "tue", "wed", "thu"],
            "working_hours": {"start": "08:30", "end": "16:00"},
            "quiet_hours": ["12:00-13:00"],
            "holidays": {"country": "GB", "subdivision": "ENG"},
        }
    )
    cal = WorkCalendar.from_definition(definition)
    assert cal == WorkCalendar(
        working_days=frozenset({0, 1, 2, 3}),
        day_start=time(8, 30),
        day_end=time(16),
        quiet=((time(12), time(13)),),
        holiday_country="GB",
        holiday_subdivision="ENG",
    )
    # A person in Bavaria on the same journey gets Bavarian holidays, not English ones.
    own = WorkCalendar.from_definition(definition, "DE", "BY")
    assert (own.holiday_country, own.holiday_subdivision) == ("DE", "BY")
    assert own.is_holiday(date(2026, 6, 4)) and not cal.is_holiday(date(2026, 6, 4))
    # Another country without a subdivision drops the journey's English subdivision.
    us = WorkCalendar.from_definition(definition, "US")
    assert (us.holiday_country, us.holiday_subdivision) == ("US", None)


def test_bad_holiday_region_fails_at_construction() -> None:
    definition = Calendar.model_validate({"holidays": {"country": "GB", "subdivision": "ENG"}})
    with pytest.raises(ValueError, match="'XX'"):
        WorkCalendar.from_definition(definition, "XX")
    with pytest.raises(ValueError, match="GB/NOPE"):
        WorkCalendar.from_definition(definition, "GB", "NOPE")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"working_days": frozenset()}, "at least one working day"),
        ({"day_start": time(18), "day_end": time(9)}, "start before they end"),
        ({"quiet": ((time(8), time(18)),)}, "whole working day"),
        ({"holiday_subdivision": "ENG"}, "without a country"),
    ],
)
def test_impossible_calendars_are_refused(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"working_days": MON_FRI, "day_start": time(9), "day_end": time(17)}
    with pytest.raises(ValueError, match=message):
        WorkCalendar(**{**base, **kwargs})  # type: ignore[arg-type]


def test_zone_names() -> None:
    assert zone("Asia/Kathmandu") is zone("Asia/Kathmandu")
    for bad in ("Mars/Olympus", "", "../etc/passwd"):
        with pytest.raises(ValueError, match="unknown IANA time zone"):
            zone(bad)
    with pytest.raises(ValueError, match="unknown IANA time zone 'Europe/Londn'"):
        zone("Europe/Londn")


# -- properties ---------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",
    "America/Santiago",  # DST changes at midnight
    "America/Havana",  # spring-forward gap at midnight
    "Africa/Casablanca",  # DST suspended for Ramadan
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
]
COUNTRIES = [None, "GB", "DE", "US", "IN"]
START, END = datetime(2024, 1, 1), datetime(2030, 12, 31)


@cache
def transitions(name: str) -> tuple[datetime, ...]:
    """Offset changes of a zone in 2024-2030, so examples can aim at the awkward hours."""
    tz = zone(name)
    found: list[datetime] = []
    step = timedelta(hours=1)
    at = START.replace(tzinfo=UTC)
    previous = at.astimezone(tz).utcoffset()
    while at < END.replace(tzinfo=UTC):
        nxt = at + step
        offset = nxt.astimezone(tz).utcoffset()
        if offset != previous:
            lo, hi = at, nxt
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == previous:
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
            previous = offset
        at = nxt
    return tuple(found)


def minutes(lo: int, hi: int) -> st.SearchStrategy[time]:
    return st.integers(lo, hi).map(lambda m: time(m // 60, m % 60))


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    start = draw(st.integers(0, 24 * 60 - 2))
    end = draw(st.integers(start + 1, 24 * 60 - 1))
    quiet: tuple[tuple[time, time], ...] = ()
    if draw(st.booleans()):
        q_start = draw(st.integers(0, 24 * 60 - 2))
        q_end = draw(st.integers(q_start + 1, 24 * 60 - 1))
        if q_start <= start and q_end >= end:  # would leave no working time at all
            q_end = start + (end - start) // 2 if end - start > 1 else start
        if q_start < q_end:
            quiet = ((time(q_start // 60, q_start % 60), time(q_end // 60, q_end % 60)),)
    return WorkCalendar(
        working_days=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        day_start=time(start // 60, start % 60),
        day_end=time(end // 60, end % 60),
        quiet=quiet,
        holiday_country=draw(st.sampled_from(COUNTRIES)),
    )


@st.composite
def instants(draw: st.DrawFn, name: str) -> datetime:
    """Anywhere in 2024-2030, or within a day and a half of one of the zone's clock changes."""
    near = transitions(name)
    aim_at_change: bool = draw(st.booleans())
    if near and aim_at_change:
        base = draw(st.sampled_from(near))
        return base + timedelta(seconds=draw(st.integers(-36 * 3600, 36 * 3600)))
    return draw(st.datetimes(min_value=START, max_value=END, timezones=st.just(UTC)))


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUARTER = timedelta(minutes=15)


@PROPERTY
@given(cal=calendars(), name=st.sampled_from(ZONES), data=st.data())
def test_next_open_is_the_first_open_instant(
    cal: WorkCalendar, name: str, data: st.DataObject
) -> None:
    tz = zone(name)
    at = data.draw(instants(name))
    found = cal.next_open(at, tz)
    assert found >= at
    assert found.utcoffset() == timedelta(0)
    assert cal.is_open(found, tz)
    assert cal.next_open(found, tz) == found
    probe = at + QUARTER
    limit = at + timedelta(days=4)
    while probe < found and probe < limit:
        assert not cal.is_open(probe, tz), f"{probe} is open, before {found}"
        probe += QUARTER
    if found > at + QUARTER:  # just before is closed, or `found` would not be the first
        assert not cal.is_open(found - timedelta(microseconds=1), tz)


@PROPERTY
@given(
    cal=calendars(),
    name=st.sampled_from(ZONES),
    day=st.dates(min_value=START.date(), max_value=END.date()),
    wall=minutes(0, 24 * 60 - 1),
)
def test_local_slot_is_open_and_never_early(
    cal: WorkCalendar, name: str, day: date, wall: time
) -> None:
    tz = zone(name)
    slot = cal.local_slot(day, wall, tz)
    assert cal.is_open(slot, tz)
    assert slot.astimezone(tz).date() >= day
    assert slot >= datetime.combine(day, wall, tz).astimezone(UTC)
    if cal.is_working_day(day) and cal.is_open(datetime.combine(day, wall, tz), tz):
        assert slot == datetime.combine(day, wall, tz).astimezone(UTC)


@PROPERTY
@given(
    cal=calendars(),
    day=st.dates(min_value=START.date(), max_value=END.date()),
    n=st.integers(1, 60),
)
def test_add_working_days_lands_on_the_nth_working_day(
    cal: WorkCalendar, day: date, n: int
) -> None:
    later = cal.add_working_days(day, n)
    assert later > day and cal.is_working_day(later)
    assert cal.working_days_between(day, later) == n
    earlier = cal.add_working_days(day, -n)
    assert earlier < day and cal.is_working_day(earlier)
    assert cal.working_days_between(earlier, day) == n - 1 + cal.is_working_day(day)
    start = cal.roll_forward(day)
    assert cal.add_working_days(cal.add_working_days(start, n), -n) == start


@PROPERTY
@given(
    cal=calendars(),
    a=st.dates(min_value=START.date(), max_value=END.date()),
    span=st.integers(-10, 400),
)
def test_working_days_between_matches_counting_day_by_day(
    cal: WorkCalendar, a: date, span: int
) -> None:
    b = a + timedelta(days=span)
    brute = sum(cal.is_working_day(a + timedelta(days=i)) for i in range(1, span + 1))
    assert cal.working_days_between(a, b) == brute
