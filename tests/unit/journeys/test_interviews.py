"""Success Case interviews on hand-built events: who is selected, which slots fit both people's
working hours, the guide, and self-reported vs verified figures with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from journeys.calendar import WorkCalendar
from journeys.interviews import (
    candidates,
    consent_event,
    guide,
    invited_event,
    propose_slots,
    recorded_event,
    verdicts,
    verified,
)
from journeys.loader import default_library_path, load_library
from journeys.ppp import InterviewSettings
from journeys.state import JourneyEvent

T0 = datetime(2027, 5, 24, 9, tzinfo=UTC)  # a Monday
SETTINGS = InterviewSettings(success_cases=2, non_success_sample=1)


def survey(eid: str, cls: str, minutes: int, contact: bool = False, outcome: str | None = None) -> JourneyEvent:
    data: dict[str, object] = {"classification": cls, "contact": contact}
    if outcome:
        data["outcome"] = outcome
    return JourneyEvent("scm_classified", eid, T0 + timedelta(minutes=minutes), f"{eid}.scm", data)


def cohort() -> list[JourneyEvent]:
    return [
        survey("s1", "success", 30, contact=True, outcome="fewer-escalations"),
        survey("s2", "success", 10, contact=True),
        survey("s3", "success", 20, contact=True),
        survey("s4", "success", 5, contact=False),  # did not agree to be contacted: never selected
        survey("n1", "not_applied", 1),
        survey("n2", "tried_no_success", 2),
        survey("n3", "applied_no_result", 3),
    ]


def test_success_cases_who_agreed_earliest_first_then_a_sample_of_the_others() -> None:
    chosen = candidates(cohort(), SETTINGS)
    assert [c.enrollment_id for c in chosen if c.reason == "success"] == ["s2", "s3"]
    sample = [c for c in chosen if c.reason == "sample"]
    assert len(sample) == 1 and sample[0].self_reported in ("not_applied", "tried_no_success", "applied_no_result")
    assert all(c.status == "to_invite" for c in chosen)
    # the sample does not depend on the order the events come in
    assert candidates(list(reversed(cohort())), SETTINGS) == chosen


def test_selection_is_stable_once_people_were_invited_and_tracks_their_answers() -> None:
    later = T0 + timedelta(days=1)
    events = [*cohort(), invited_event("s1", "admin", [], later), consent_event("s2", False, later),
              invited_event("s3", "admin", [later], later), consent_event("s3", True, later + timedelta(hours=1)),
              recorded_event("s3", "success", "fewer-escalations", 4, "admin", later + timedelta(days=1))]
    by_id = {c.enrollment_id: c for c in candidates(events, SETTINGS)}
    # s1 was invited although it is the third success case: it stays in the list
    assert {"s1", "s2", "s3"} <= set(by_id)
    assert (by_id["s1"].status, by_id["s2"].status, by_id["s3"].status) == ("invited", "declined", "interviewed")
    assert by_id["s3"].verdict is not None and by_id["s3"].verdict.units == 4
    assert by_id["s1"].outcome == "fewer-escalations"


def cal(start: int, end: int) -> WorkCalendar:
    return WorkCalendar(frozenset(range(5)), time(start), time(end), ((time(12), time(13)),))


def test_slots_fit_both_working_days_across_time_zones() -> None:
    london = (cal(9, 17), ZoneInfo("Europe/London"))
    new_york = (cal(9, 17), ZoneInfo("America/New_York"))
    now = datetime(2027, 5, 28, 15, tzinfo=UTC)  # a Friday afternoon
    slots = propose_slots(now, InterviewSettings(minutes=30), new_york, london)
    assert len(slots) == 3
    for s in slots:
        ny, ldn = s.astimezone(new_york[1]), s.astimezone(london[1])
        assert ny.weekday() < 5 and ldn.weekday() < 5
        assert time(9) <= ny.time() and (ny + timedelta(minutes=30)).time() <= time(17)
        assert time(9) <= ldn.time() and (ldn + timedelta(minutes=30)).time() <= time(17)
    # the overlap is 09:00-12:00 in New York (14:00-17:00 in London): the first Monday slot is 09:00 NY
    assert slots[0] == datetime(2027, 5, 31, 13, tzinfo=UTC)
    assert len({s.date() for s in slots}) == 3  # one a day


def test_no_slot_when_working_hours_never_overlap() -> None:
    tokyo = (cal(9, 17), ZoneInfo("Asia/Tokyo"))
    la = (cal(9, 17), ZoneInfo("America/Los_Angeles"))
    assert propose_slots(T0, InterviewSettings(minutes=60, within_days=5), tokyo, la) == []


def test_slots_avoid_quiet_hours_inside_the_interview() -> None:
    london = (cal(11, 17), ZoneInfo("Europe/London"))
    slots = propose_slots(datetime(2027, 5, 24, 8, tzinfo=UTC), InterviewSettings(minutes=90), london, london)
    # 11:00 + 90 min would run into the 12:00-13:00 quiet hour: the first fit is 13:00 local
    assert slots[0].astimezone(london[1]).time() == time(13)


def test_the_guide_is_built_from_the_journeys_ppp() -> None:
    journey = load_library(default_library_path())["active-listening"]
    (first,) = [c for c in candidates(cohort(), SETTINGS) if c.enrollment_id == "s2"]
    lines = guide(journey, first)
    text = "\n".join(lines)
    for b in journey.ppp.behaviours:
        assert b.text in text
    assert journey.ppp.business_goal in text
    for question in ("What did you use", "What result", "What helped", "What got in the way", "What is it worth"):
        assert question in text
    assert "how many avoided escalations? (" in text and "350 GBP" in text


def test_verified_next_to_self_reported_with_known_answers() -> None:
    later = T0 + timedelta(days=3)
    events = [*cohort(),
              recorded_event("s2", "success", "fewer-escalations", 6, "admin", later),
              recorded_event("s3", "applied_no_result", None, None, "admin", later),
              recorded_event("n1", "success", "fewer-contacts", 10, "admin", later),
              # an interviewer's correction: the latest recording counts
              recorded_event("s3", "success", None, None, "admin", later + timedelta(hours=1))]
    v = verified(events, respondents=7, min_group=5)
    assert (v.interviewed, v.success_interviewed, v.confirmed, v.found) == (3, 2, 2, 1)
    assert v.successes == 3 and v.not_interviewed == 2  # s1 and s4 said success, not interviewed
    assert (v.impact.count, v.impact.total) == (3, 7) and v.hidden_because == ""
    assert round(v.impact.low or 0, 4) == 0.1582 and round(v.impact.high or 0, 4) == 0.7495  # Wilson 3/7
    assert [x.enrollment_id for x in verdicts(events)] == ["n1", "s2", "s3"]
    # a group of respondents under min_group hides the verified rate's use in a leader's digest
    assert verified(events, respondents=4, min_group=5).hidden_because == "small"


def test_consent_buttons_map_to_a_slot_or_a_refusal() -> None:
    from journeys.interviews import (
        consent_choice,
        consent_enrollment,
        consent_prompt_id,
        consent_status,
    )

    slots = [T0 + timedelta(days=1), T0 + timedelta(days=2)]
    assert consent_enrollment(consent_prompt_id("e_1")) == "e_1"
    assert consent_enrollment("e_1.success-case") is None and consent_enrollment(None) is None
    assert consent_choice("slot:1", slots) == (True, slots[1])
    assert consent_choice("no", slots) == (False, None)
    assert consent_choice("slot:2", slots) is None and consent_choice("slot:x", slots) is None
    events = [*cohort(), invited_event("s2", "lnd", slots, T0), consent_event("s2", True, T0, slots[1])]
    assert consent_status(events, "s2") == "agreed" and consent_status(events, "s3") == "to_invite"
    (s2,) = [c for c in candidates(events, SETTINGS) if c.enrollment_id == "s2"]
    assert s2.slots == (slots[1],)  # the booked time replaces the proposals


def test_a_typed_consent_answer_reads_as_its_button() -> None:
    """Issue 14: "2" picks the second time, the number after the times or "no" declines; "yes"
    alone names no time, so it is not taken as consent."""
    from datetime import UTC, datetime

    from journeys.interviews import typed_consent

    slots = [datetime(2027, 6, 30, 9, tzinfo=UTC), datetime(2027, 7, 1, 9, tzinfo=UTC),
             datetime(2027, 7, 2, 9, tzinfo=UTC)]
    assert typed_consent("2", slots) == "slot:1" and typed_consent(" 1. ", slots) == "slot:0"
    assert typed_consent("4", slots) == "no" and typed_consent("No, thanks!", slots) == "no"
    assert typed_consent("5", slots) is None and typed_consent("0", slots) is None
    assert typed_consent("yes", slots) is None and typed_consent("sounds good", slots) is None
