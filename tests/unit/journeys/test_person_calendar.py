"""Per-person calendars: a person's own working days, hours, zone and holiday region decide every
delivery, within the bounds the journey sets. Engine API only (schedule, fire), across zones, DST
and public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from journeys import engine, timekeeping
from journeys.calendar import WorkCalendar
from journeys.definition import Calendar
from journeys.loader import default_library_path, load_library
from journeys.state import EnrollmentState, Person, PromptState

START = date(2027, 4, 12)  # a Monday
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
BEN = Person("ben", "Ben Okafor", "Europe/London")


@pytest.fixture(scope="module")
def journey():
    return load_library(default_library_path())["active-listening"]


def bounded(journey, **calendar):
    """The sample journey with its calendar changed (e.g. personal bounds)."""
    cal = journey.calendar.model_copy(update=calendar)
    return journey.model_copy(update={"calendar": cal})


def enroll(person: Person, manager: Person | None = BEN, start: date = START) -> EnrollmentState:
    return EnrollmentState("e1", "active-listening", person, manager, start)


def scheduled(journey, e: EnrollmentState) -> dict[str, PromptState]:
    out = engine.schedule_enrollment(journey, e, datetime(2027, 3, 1, tzinfo=UTC))
    return {p.step_id: p for p in out.prompts}


def local(tz: ZoneInfo, y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=tz).astimezone(UTC)


def test_own_late_hours_move_prompts_into_them(journey):
    # Ana works 13:00-21:00 in New York: the 09:30 kickoff waits for 13:00 her time, not London's.
    ana = Person("ana", "Ana", "America/New_York", work_start=time(13), work_end=time(21))
    ps = scheduled(journey, enroll(ana))
    assert ps["kickoff"].due_at == local(NY, 2027, 4, 12, 13)
    assert ps["why-it-matters"].due_at == local(NY, 2027, 4, 2, 13)
    # the manager's card (the journey's 14:00 London) waits for her picture-of-success question,
    # 13:00 New York (18:00 London): an hour after it, his day has ended, so his next morning
    assert ps["success-picture"].due_at == local(NY, 2027, 4, 7, 13)
    assert ps["expectations"].due_at == local(LONDON, 2027, 4, 8, 9)


def test_fire_outside_own_hours_waits_for_them_even_inside_the_journeys(journey):
    ana = Person("ana", "Ana", "Europe/London", work_start=time(13), work_end=time(17))
    e = enroll(ana)
    p = scheduled(journey, e)["kickoff"]
    early = local(LONDON, 2027, 4, 12, 10)  # inside the journey's 09:00-17:30, outside Ana's day
    out = engine.fire(journey, e, p.with_(next_at=early, due_at=early), None, early)
    assert not out.outgoing
    (deferred,) = out.prompts
    assert deferred.next_at == local(LONDON, 2027, 4, 12, 13)
    at = deferred.next_at
    sent = engine.fire(journey, e, deferred, None, at)
    assert [o.message.recipient_id for o in sent.outgoing] == ["ana"]


def test_journey_bounds_clip_own_hours(journey):
    # Ana starts at 06:00, but this journey never writes before 08:00 nor after 18:00.
    j = bounded(journey, personal_bounds=journey.calendar.personal_bounds.model_copy(
        update={"start": "08:00", "end": "18:00"}))
    ana = Person("ana", "Ana", "Europe/London", work_start=time(6), work_end=time(14))
    cal = timekeeping.calendar_for(j, ana)
    assert (cal.day_start, cal.day_end) == (time(8), time(14))
    e = enroll(ana)
    p = scheduled(j, e)["kickoff"]
    dawn = local(LONDON, 2027, 4, 13, 6, 30)
    out = engine.fire(j, e, p.with_(next_at=dawn), None, dawn)
    assert not out.outgoing and out.prompts[0].next_at == local(LONDON, 2027, 4, 13, 8)


def test_own_hours_outside_the_bounds_fall_back_to_the_journeys(journey):
    j = bounded(journey, personal_bounds=journey.calendar.personal_bounds.model_copy(
        update={"start": "08:00", "end": "18:00"}))
    night = Person("ana", "Ana", "Europe/London", work_start=time(19), work_end=time(23))
    cal = timekeeping.calendar_for(j, night)
    assert (cal.day_start, cal.day_end) == (time(9), time(17, 30))


def test_a_journey_can_ignore_own_hours(journey):
    j = bounded(journey, personal_hours=False)
    ana = Person("ana", "Ana", "Europe/London", work_days=(6,), work_start=time(13), work_end=time(17))
    assert scheduled(j, enroll(ana))["kickoff"].due_at == local(LONDON, 2027, 4, 12, 9, 30)


def test_own_working_week_sunday_to_thursday(journey):
    # Noa works Sun-Thu in Jerusalem: nothing lands on her Friday or Saturday.
    jer = ZoneInfo("Asia/Jerusalem")
    noa = Person("noa", "Noa", "Asia/Jerusalem", work_days=(6, 0, 1, 2, 3))
    ps = scheduled(journey, enroll(noa))
    for p in ps.values():
        if p.recipient_id == "noa":
            assert p.due_at.astimezone(jer).weekday() in (6, 0, 1, 2, 3), p.step_id
    # 'start-3 10:00' counts back over her Sunday and Thursday, never her Friday: Wed 7 Apr
    assert ps["success-picture"].due_at == local(jer, 2027, 4, 7, 10)


def test_own_hours_across_the_us_dst_change(journey):
    # US clocks go forward on Sun 14 Mar 2027; Europe's on 28 Mar. Ana (New York, 07:00-15:00):
    # her 07:00 is 12:00 UTC before the change and 11:00 UTC after, while London's 09:00 moves later.
    ana = Person("ana", "Ana", "America/New_York", work_start=time(7), work_end=time(15))
    cal = timekeeping.calendar_for(journey, ana)
    friday_night = datetime(2027, 3, 12, 23, tzinfo=UTC)
    assert cal.next_open(friday_night, NY) == datetime(2027, 3, 15, 11, tzinfo=UTC)  # Mon, EDT
    thursday_night = datetime(2027, 3, 11, 23, tzinfo=UTC)
    assert cal.next_open(thursday_night, NY) == datetime(2027, 3, 12, 12, tzinfo=UTC)  # Fri, EST
    # 12:00-13:00 London quiet hours stay quiet on her own wall clock
    assert not cal.is_open(local(NY, 2027, 3, 15, 12, 30), NY)


def test_own_holiday_region_with_own_hours(journey):
    # Thanksgiving (Thu 25 Nov 2027) is a US holiday, not an English one: a US participant with her
    # own hours gets nothing that day; the step lands on Friday inside her hours.
    ana = Person("ana", "Ana", "America/New_York", "US", None, work_start=time(10), work_end=time(18))
    ps = scheduled(journey, enroll(ana, start=date(2027, 11, 25)))
    assert ps["kickoff"].due_at == local(NY, 2027, 11, 26, 10)
    uk = Person("uk", "Uma", "Europe/London", work_start=time(10), work_end=time(18))
    assert scheduled(journey, enroll(uk, start=date(2027, 11, 25)))["kickoff"].due_at == local(
        LONDON, 2027, 11, 25, 10)


def test_calendar_from_definition_keeps_quiet_hours_and_rejects_nothing_silently():
    cal = Calendar(working_hours={"start": "09:00", "end": "17:00"}, quiet_hours=["12:00-13:00"])
    # own hours wholly inside the quiet range would never open: the journey's hours stand
    wc = WorkCalendar.from_definition(cal, start=time(12), end=time(13))
    assert (wc.day_start, wc.day_end) == (time(9), time(17))
    wc = WorkCalendar.from_definition(cal, days=(5, 6), start=time(11), end=time(15))
    assert wc.working_days == frozenset({5, 6}) and wc.quiet == ((time(12), time(13)),)
