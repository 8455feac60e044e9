"""Success Case interviews on hand-built events: who is selected, which slots fit both people's
working hours, the guide, and self-reported vs verified figures with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from journeys.calendar import WorkCalendar
from journeys.evaluation.interviews import (
    HOLD,
    candidates,
    consent_event,
    guide,
    hold_until,
    invited_event,
    non_success_guide,
    propose_slots,
    ranking,
    recorded_event,
    reminder_at,
    swap_events,
    verdicts,
    verified,
)
from journeys.evaluation.scm_selection import Evidence
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


def barriers(eid: str, cls: str, minutes: int, named: tuple[str, ...]) -> JourneyEvent:
    return JourneyEvent("scm_classified", eid, T0 + timedelta(minutes=minutes), f"{eid}.scm",
                        {"classification": cls, "contact": False, "barriers": list(named)})


def test_success_cases_ranked_by_evidence_and_the_others_by_what_they_can_teach() -> None:
    """s1's story is tagged with a measured outcome: strongest, although it answered last; s3
    describes a concrete situation; s2 has neither. n2 tried without success and named a barrier."""
    events = [*cohort(), barriers("n4", "tried_no_success", 4, ("no_manager_support",)),
              barriers("n5", "not_applied", 6, ("no_time",))]
    evidence = {"s3": Evidence(situation=True), "s2": Evidence()}
    chosen = candidates(events, SETTINGS, measured={"fewer-escalations"}, evidence=evidence)
    success = [c for c in chosen if c.reason == "success"]
    assert [(c.enrollment_id, c.rank) for c in success] == [("s1", 1), ("s3", 2)]
    assert success[0].why == ("a result with a measure (fewer-escalations), no concrete situation, "
                              "agreed to be contacted")
    assert success[1].why == "no measured result, a concrete situation, agreed to be contacted"
    (sample,) = [c for c in chosen if c.reason == "sample"]
    assert (sample.enrollment_id, sample.why) == ("n4", ("tried and it did not work out; named a barrier: "
                                                         "no support from their manager"))
    ok, others = ranking(events, {"fewer-escalations"}, evidence)
    # tried with a barrier, tried without one, not applied with one, not applied, still waiting
    assert [r.enrollment_id for r in others] == ["n4", "n2", "n5", "n1", "n3"]
    assert "s4" not in {r.enrollment_id for r in ok}  # did not agree to be contacted
    assert all(c.status == "to_invite" for c in chosen)
    # the ranking does not depend on the order the events come in
    assert candidates(list(reversed(events)), SETTINGS, measured={"fewer-escalations"}, evidence=evidence) == chosen


def test_a_swap_puts_the_admins_choice_in_the_place_of_the_one_swapped_out() -> None:
    events = cohort()
    before = [c.enrollment_id for c in candidates(events, SETTINGS)]
    assert before[:2] == ["s3", "s2"] and "s1" not in before  # s1 ranks third
    out = "s3"
    later = T0 + timedelta(days=1)
    events += [invited_event(out, "admin", [later + timedelta(days=1)], later),
               *swap_events(out, "s1", "admin", later + timedelta(hours=1))]
    after = {c.enrollment_id: c for c in candidates(events, SETTINGS)}
    assert out not in after  # withdrawn, although it had been invited
    # s1 takes s3's place; s2 keeps its own, and no fourth success case fills the gap
    assert after["s1"].reason == "swapped" and after["s2"].reason == "success" and len(after) == len(before)
    # a late answer to the withdrawn request changes nothing
    events.append(consent_event(out, True, later + timedelta(hours=2), later + timedelta(days=1)))
    assert out not in {c.enrollment_id for c in candidates(events, SETTINGS)}


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
    assert "how many avoided escalations a month? (" in text and "350 GBP" in text
    # a separate guide for the others: what got in the way, what would have helped
    other = "\n".join(non_success_guide(journey))
    assert "What got in the way? Listen for: no suitable situation came up; no support from their manager" in other
    assert "What would have helped, and who could have given it?" in other
    assert "What is it worth" not in other and "What result" not in other


def test_held_slots_are_skipped_for_the_next_candidate_and_reminders_come_on_the_day() -> None:
    london = (cal(9, 17), ZoneInfo("Europe/London"))
    first = propose_slots(T0, SETTINGS, london, london)
    held = {first[0] + timedelta(minutes=15 * k) for k in range(2)}  # a 30-minute interview's quarter hours
    second = propose_slots(T0, SETTINGS, london, london, taken=held)
    assert first[0] not in second and second[0] == first[0] + timedelta(minutes=30)
    # one quarter hour overlapping the end is enough to move it
    overlap = propose_slots(T0, SETTINGS, london, london, taken={first[0] + timedelta(minutes=15)})
    assert overlap[0] == first[0] + timedelta(minutes=30)
    assert hold_until(T0, first[0]) == first[0]  # a time held until it comes, at most HOLD
    assert hold_until(T0, T0 + timedelta(days=9)) == T0 + HOLD
    slot = first[0]
    # on the day, in working hours: when that person's working day opens (09:00 London, 08:00 UTC in
    # summer), half an hour before an interview at 09:30
    assert reminder_at(second[0], london, T0) == second[0].replace(hour=8, minute=0)
    # an interview at the very start of the day (Tue 09:00): a reminder then would come with it, so
    # it comes in the afternoon of the working day before (Mon 15:00 London, 14:00 UTC)
    assert slot == datetime(2027, 5, 25, 8, tzinfo=UTC)
    assert reminder_at(slot, london, T0) == datetime(2027, 5, 24, 14, tzinfo=UTC)
    evening = datetime(2027, 5, 24, 19, tzinfo=UTC)  # booked after that afternoon: on the day after all
    assert reminder_at(slot, london, evening) == slot
    new_york = (cal(9, 17), ZoneInfo("America/New_York"))  # 09:00 there is 13:00 UTC
    assert reminder_at(slot + timedelta(hours=6), new_york, T0) == slot + timedelta(hours=5)
    late = second[0] - timedelta(minutes=10)  # booked that morning, after the day opened: at once
    assert reminder_at(second[0], london, late) == late


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
    from journeys.evaluation.interviews import (
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

    from journeys.evaluation.interviews import typed_consent

    slots = [datetime(2027, 6, 30, 9, tzinfo=UTC), datetime(2027, 7, 1, 9, tzinfo=UTC),
             datetime(2027, 7, 2, 9, tzinfo=UTC)]
    assert typed_consent("2", slots) == "slot:1" and typed_consent(" 1. ", slots) == "slot:0"
    assert typed_consent("4", slots) == "no" and typed_consent("No, thanks!", slots) == "no"
    assert typed_consent("5", slots) is None and typed_consent("0", slots) is None
    assert typed_consent("yes", slots) is None and typed_consent("sounds good", slots) is None
