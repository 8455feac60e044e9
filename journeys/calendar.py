"""Working-day and working-hour arithmetic in each person's own time zone.

Journeys are stretched over weeks, so "3 working days later at 09:30" must skip weekends and
public holidays and land inside the person's working hours, whatever their zone does with DST.
Everything here is pure: callers pass the instant (`now`); nothing reads the clock. The only
lookup is the `holidays` package, cached per (country, subdivision, year) because the engine asks
in hot loops.

Instants are timezone-aware datetimes, returned in UTC. "Open" is defined on the local wall
clock: a local date that is a working day, a local time in [day_start, day_end) and outside every
quiet range. Open periods are computed exactly in UTC from the zone's offset segments, so DST
gaps, repeated hours and odd offsets (+5:45, Lord Howe's 30-minute DST) need no special cases.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as _holidays_pkg

from journeys.definition import WEEKDAYS, Calendar, _parse_hhmm

__all__ = ["WorkCalendar", "zone"]

_ONE_DAY = timedelta(days=1)
# Python bounds every UTC offset strictly inside +-24h: the widest margin a wall date can spill.
_MAX_OFFSET = timedelta(hours=24)
# Offsets are probed at most this far apart; only two transitions that cancel out within this
# span could be missed, and no zone in the tz database has such a pair.
_PROBE = 3 * 3600
# Guards against looping forever; a calendar that validates always finds a day much sooner.
_SEARCH_DAYS = 3700

Interval = tuple[datetime, datetime]


@functools.lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """Resolve an IANA name once; a clear error beats zoneinfo's KeyError for a typo."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown IANA time zone {name!r}") from None


@functools.lru_cache(maxsize=256)
def _check_holiday_region(country: str, subdivision: str | None) -> None:
    """Fail when the calendar is built, not deep inside a scheduler tick."""
    try:
        _holidays_pkg.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        where = country if subdivision is None else f"{country}/{subdivision}"
        raise ValueError(f"no public holiday data for {where!r}: {exc}") from None


@functools.lru_cache(maxsize=1024)
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """Cached because building a holidays table costs far more than a set lookup."""
    table = _holidays_pkg.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(d for d in table if d.year == year)


@functools.lru_cache(maxsize=256)
def _open_ranges(
    day_start: time, day_end: time, quiet: tuple[tuple[time, time], ...]
) -> tuple[tuple[time, time], ...]:
    """Working hours with the quiet ranges cut out, as sorted local [start, end) pieces."""
    pieces = [(day_start, day_end)]
    for q_start, q_end in quiet:
        cut: list[tuple[time, time]] = []
        for start, end in pieces:
            if q_end <= start or q_start >= end:
                cut.append((start, end))
                continue
            if start < q_start:
                cut.append((start, q_start))
            if q_end < end:
                cut.append((q_end, end))
        pieces = cut
    return tuple(sorted(pieces))


def _offset(tz: ZoneInfo, ts: int) -> int:
    off = datetime.fromtimestamp(ts, tz).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def _segments(tz: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """Split [lo, hi) (POSIX seconds) into (start, end, offset) pieces of constant UTC offset."""
    changes: list[tuple[int, int]] = []  # (instant the new offset starts, new offset)

    def probe(p: int, op: int, q: int, oq: int) -> None:
        if q - p <= 1:
            if op != oq:
                changes.append((q, oq))
            return
        if op == oq and q - p <= _PROBE:
            return
        m = (p + q) // 2
        om = _offset(tz, m)
        probe(p, op, m, om)
        probe(m, om, q, oq)

    first = _offset(tz, lo)
    probe(lo, first, hi, _offset(tz, hi))
    out: list[tuple[int, int, int]] = []
    start, off = lo, first
    for at, new in changes:
        out.append((start, at, off))
        start, off = at, new
    out.append((start, hi, off))
    return out


def _naive_seconds(dt: datetime) -> int:
    """A naive wall datetime read as if it were UTC, in whole seconds (floor)."""
    return int((dt - datetime(1970, 1, 1)) // timedelta(seconds=1))


@functools.lru_cache(maxsize=16384)
def _open_intervals(cal: WorkCalendar, tz: ZoneInfo, d: date) -> tuple[Interval, ...]:
    """The UTC instants whose local wall clock shows working hours on local date `d`.

    Each constant-offset stretch of the zone maps wall time to UTC by a plain subtraction, so
    the exact answer is the union over stretches; a DST gap simply yields a shorter (or no)
    interval and a repeated hour yields two.
    """
    ranges = _open_ranges(cal.day_start, cal.day_end, cal.quiet)
    first = datetime.combine(d, ranges[0][0])
    last = datetime.combine(d, ranges[-1][1])
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    lo = _naive_seconds(first - _MAX_OFFSET)
    hi = _naive_seconds(last + _MAX_OFFSET) + 1
    found: list[Interval] = []
    for seg_lo, seg_hi, off in _segments(tz, lo, hi):
        seg_start = epoch + timedelta(seconds=seg_lo)
        seg_end = epoch + timedelta(seconds=seg_hi)
        shift = timedelta(seconds=off)
        for start, end in ranges:
            a = max(seg_start, datetime.combine(d, start, UTC) - shift)
            b = min(seg_end, datetime.combine(d, end, UTC) - shift)
            if a < b:
                found.append((a, b))
    found.sort()
    merged: list[Interval] = []
    for a, b in found:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return tuple(merged)


def _as_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {at.isoformat()}")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class WorkCalendar:
    """When a person can be reached: working weekdays, hours, quiet ranges and public holidays.

    The zone is not part of the calendar: managers and participants of one journey share the
    calendar rules but each is reached in their own zone.
    """

    working_days: frozenset[int]  # 0=Monday .. 6=Sunday
    day_start: time
    day_end: time  # exclusive
    quiet: tuple[tuple[time, time], ...] = ()
    holiday_country: str | None = None
    holiday_subdivision: str | None = None

    def __post_init__(self) -> None:
        if not self.working_days:
            raise ValueError("a calendar needs at least one working day")
        if not all(isinstance(d, int) and 0 <= d <= 6 for d in self.working_days):
            raise ValueError(
                f"working days are 0 (Monday) .. 6 (Sunday), got {sorted(self.working_days)}"
            )
        for t in (self.day_start, self.day_end, *(t for q in self.quiet for t in q)):
            if t.tzinfo is not None:
                raise ValueError(f"working and quiet hours are local wall-clock times, got {t}")
        if not self.day_start < self.day_end:
            raise ValueError(
                f"working hours must start before they end, got {self.day_start:%H:%M}-{self.day_end:%H:%M}"
            )
        for q_start, q_end in self.quiet:
            if not q_start < q_end:
                raise ValueError(
                    f"quiet hours must start before they end, got {q_start:%H:%M}-{q_end:%H:%M}"
                )
        if not _open_ranges(self.day_start, self.day_end, self.quiet):
            raise ValueError(
                "quiet hours cover the whole working day: nothing could ever be delivered"
            )
        if self.holiday_country is None:
            if self.holiday_subdivision is not None:
                raise ValueError(
                    f"holiday subdivision {self.holiday_subdivision!r} given without a country"
                )
        else:
            _check_holiday_region(self.holiday_country, self.holiday_subdivision)
        # the memoised time helpers (journeys/timekeeping.py) hash a calendar several times per
        # due prompt: the fields' hash, worked out once (not a field: eq, repr, asdict ignore it)
        object.__setattr__(self, "_hash", hash((self.working_days, self.day_start, self.day_end, self.quiet,
                                                self.holiday_country, self.holiday_subdivision)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined, no-any-return]

    @staticmethod
    def from_definition(
        cal: Calendar,
        country: str | None = None,
        subdivision: str | None = None,
        *,
        days: tuple[int, ...] | None = None,
        start: time | None = None,
        end: time | None = None,
    ) -> WorkCalendar:
        """Journey rules plus a person's own holiday region, working days and hours, which win over
        the journey's.

        A subdivision belongs to a country: with another country overriding the journey's, the
        journey's subdivision is dropped; with the same country (or none), it is kept unless one
        is given. Own hours are clipped to the journey's personal bounds; when nothing of them is
        left (or the quiet hours would swallow them) the journey's hours stand, so a bad directory
        entry can delay nobody forever.
        """
        own_country = country.strip().upper() if country and country.strip() else None
        base_country, base_sub = cal.holidays.country, cal.holidays.subdivision
        if own_country is None or own_country == base_country:
            hol_country = base_country
            hol_sub = subdivision or base_sub
        else:
            hol_country, hol_sub = own_country, subdivision or None
        quiet: list[tuple[time, time]] = []
        for item in cal.quiet_hours:
            a, b = item.split("-")
            quiet.append((_parse_hhmm(a), _parse_hhmm(b)))
        day_start, day_end = _parse_hhmm(cal.working_hours.start), _parse_hhmm(cal.working_hours.end)
        working_days = frozenset(WEEKDAYS.index(name) for name in cal.working_days)
        if cal.personal_hours:
            if days:
                working_days = frozenset(d for d in days if 0 <= d <= 6) or working_days
            if start is not None and end is not None:
                lo = max(start, _parse_hhmm(cal.personal_bounds.start))
                hi = min(end, _parse_hhmm(cal.personal_bounds.end))
                if lo < hi and _open_ranges(lo, hi, tuple(quiet)):
                    day_start, day_end = lo, hi
        return WorkCalendar(
            working_days=working_days,
            day_start=day_start,
            day_end=day_end,
            quiet=tuple(quiet),
            holiday_country=hol_country,
            holiday_subdivision=hol_sub,
        )

    # -- dates -------------------------------------------------------------------------------

    def is_holiday(self, d: date) -> bool:
        if self.holiday_country is None:
            return False
        return d in _holiday_dates(self.holiday_country, self.holiday_subdivision, d.year)

    def is_working_day(self, d: date) -> bool:
        return d.weekday() in self.working_days and not self.is_holiday(d)

    def roll_forward(self, d: date) -> date:
        """Something due on a day off is due on the next working day, never earlier."""
        for _ in range(_SEARCH_DAYS):
            if self.is_working_day(d):
                return d
            d += _ONE_DAY
        raise ValueError(f"no working day within {_SEARCH_DAYS} days of {d}")  # pragma: no cover

    def add_working_days(self, d: date, n: int) -> date:
        """n > 0: the n-th working day after d; n < 0: the |n|-th before; 0: roll d forward."""
        if n == 0:
            return self.roll_forward(d)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        idle = 0
        while True:
            d += step
            if self.is_working_day(d):
                remaining -= 1
                idle = 0
                if remaining == 0:
                    return d
            else:
                idle += 1
                if idle > _SEARCH_DAYS:  # pragma: no cover - needs a calendar with no working day
                    raise ValueError(f"no working day within {_SEARCH_DAYS} days of {d}")

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days d satisfy a < d <= b; counted by weeks so long spans stay cheap."""
        if b <= a:
            return 0
        span = (b - a).days
        weeks, rest = divmod(span, 7)
        count = weeks * len(self.working_days)
        first_weekday = (a.weekday() + 1) % 7
        count += sum(1 for i in range(rest) if (first_weekday + i) % 7 in self.working_days)
        if self.holiday_country is not None:
            for year in range(a.year, b.year + 1):
                for h in _holiday_dates(self.holiday_country, self.holiday_subdivision, year):
                    if a < h <= b and h.weekday() in self.working_days:
                        count -= 1
        return count

    # -- instants ----------------------------------------------------------------------------

    def is_open(self, at: datetime, tz: ZoneInfo) -> bool:
        local = _as_utc(at).astimezone(tz)
        if not self.is_working_day(local.date()):
            return False
        wall = local.time()
        return any(
            start <= wall < end
            for start, end in _open_ranges(self.day_start, self.day_end, self.quiet)
        )

    def next_open(self, at: datetime, tz: ZoneInfo) -> datetime:
        """The earliest open instant at or after `at`: where a message that is due may go out."""
        at = _as_utc(at)
        if self.is_open(at, tz):
            return at
        # A fall-back can make later instants show an earlier local date, hence the day before.
        d = at.astimezone(tz).date() - _ONE_DAY
        best: datetime | None = None
        for _ in range(_SEARCH_DAYS):
            # Nothing open on local date d or later precedes d's day_start minus the widest offset.
            if best is not None and datetime.combine(d, self.day_start, UTC) - _MAX_OFFSET > best:
                return best
            if self.is_working_day(d):
                for start, end in _open_intervals(self, tz, d):
                    if end > at:
                        candidate = max(start, at)
                        if best is None or candidate < best:
                            best = candidate
                        break
            d += _ONE_DAY
        if best is not None:  # pragma: no cover
            return best
        raise ValueError(
            f"no open time within {_SEARCH_DAYS} days of {at.isoformat()}"
        )  # pragma: no cover

    def local_slot(self, d: date, t: time, tz: ZoneInfo) -> datetime:
        """One UTC instant for "local date d at t", moved forward to the next open time.

        fold=0 gives one answer for every (d, t): in a spring-forward gap the wall time is read
        with the offset from before the gap (02:30 becomes 03:30), and a repeated hour takes its
        first occurrence.
        """
        instant = datetime.combine(d, t.replace(tzinfo=None), tz).replace(fold=0).astimezone(UTC)
        return instant if self.is_open(instant, tz) else self.next_open(instant, tz)

    def next_working_morning(self, at: datetime, tz: ZoneInfo) -> datetime:
        """Where 'snooze' / 'remind me tomorrow' lands: the start of the next working day."""
        today = _as_utc(at).astimezone(tz).date()
        return self.local_slot(self.add_working_days(today, 1), self.day_start, tz)
