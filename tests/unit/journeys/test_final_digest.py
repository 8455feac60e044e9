"""The senior leader's final digest: it waits for the follow-up survey and the interviews, never
goes before them, and carries the value, the return, the verified stories and the recommendations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journeys import timekeeping
from journeys.definition import Journey
from journeys.evaluation.final_digest import (
    INTERVIEW_WAIT_DAYS,
    REVIEW_DAYS,
    TEXT_BUDGET,
    Progress,
    final_digest,
    final_digest_due,
    follow_up_waiting,
    interview_progress,
    interviews_settled_at,
    settled_at,
)
from journeys.evaluation.followup import FOLLOW_UP, follow_up
from journeys.evaluation.interviews import HOLD, consent_event, invited_event, recorded_event
from journeys.evaluation.success_case import evaluate
from journeys.evaluation.value import business_figures
from journeys.state import JourneyEvent, Person
from journeys.text import plain

HANA = Person("hana", "Hana Kobayashi", tz="Europe/London")
SETTLED = datetime(2027, 6, 24, 10, 30, tzinfo=UTC)  # a Thursday: the last follow-up answer
NOW = datetime(2027, 6, 29, 8, 0, tzinfo=UTC)  # the Tuesday after, 09:00 in London


def cal_tz(journey: Journey) -> tuple:  # type: ignore[type-arg]
    return timekeeping.calendar_for(journey, HANA), timekeeping.tz_of(journey, HANA)


def test_interviews_are_pending_until_answered_recorded_or_the_hold_lapses() -> None:
    t = SETTLED
    slot = t + timedelta(days=4)
    events = [invited_event("a", "lena", [slot], t), invited_event("b", "lena", [slot], t),
              invited_event("c", "lena", [slot], t), invited_event("d", "lena", [slot], t),
              consent_event("b", True, t + timedelta(hours=1), slot),
              consent_event("c", True, t + timedelta(hours=1), slot),
              recorded_event("c", "success", None, None, "lena", slot + timedelta(hours=1)),
              consent_event("d", False, t + timedelta(hours=1))]
    # a: asked, no answer yet; b: agreed, not recorded; c: recorded; d: declined
    assert interview_progress(events, t + timedelta(days=1)) == (4, 2)
    # once a's times are no longer held, only b's agreed interview is still waited for
    assert interview_progress(events, t + HOLD + timedelta(minutes=1)) == (4, 1)
    assert interview_progress([], t) == (0, 0)


def test_settled_is_the_last_completion_or_follow_up_answer() -> None:
    events = [JourneyEvent("completed", "a", SETTLED - timedelta(days=30), "a.~close", {}),
              JourneyEvent("answered", "a", SETTLED, "a.follow-up", {"step": "follow-up"}),
              JourneyEvent("answered", "a", SETTLED + timedelta(days=1), "a.other", {"step": "other"})]
    assert settled_at(events, ["follow-up"]) == SETTLED
    assert settled_at([], ["follow-up"]) is None


def test_the_final_digest_never_goes_before_the_journey_and_the_follow_up_have_ended(journey: Journey) -> None:
    cal, tz = cal_tz(journey)
    for p in (Progress(False, 0, SETTLED, 3, 0),  # someone is still in the journey
              Progress(True, 2, SETTLED, 3, 0),  # two follow-up surveys still open
              Progress(True, 0, None, 3, 0)):
        due = final_digest_due(p, NOW, cal, tz)
        assert due is not None and due > NOW
        assert due == cal.next_working_morning(NOW, tz)


def test_the_final_digest_goes_once_every_interview_is_settled(journey: Journey) -> None:
    cal, tz = cal_tz(journey)
    assert final_digest_due(Progress(True, 0, SETTLED, 4, 0), NOW, cal, tz) is None


def test_the_l_and_d_lead_has_two_working_days_to_edit_what_to_change_first(journey: Journey) -> None:
    cal, tz = cal_tz(journey)
    unedited = Progress(True, 0, SETTLED, 4, 0, reviewed=False)
    deadline = cal.local_slot(cal.add_working_days(SETTLED.astimezone(tz).date(), REVIEW_DAYS), cal.day_start, tz)
    due = final_digest_due(unedited, SETTLED, cal, tz)
    assert due is not None and SETTLED < due <= deadline  # waits for the lead's edit ...
    assert final_digest_due(unedited, deadline, cal, tz) is None  # ... but goes with the draft after
    assert final_digest_due(Progress(True, 0, SETTLED, 4, 0, reviewed=True), SETTLED, cal, tz) is None  # edited
    # counted from the last interview when that came after the follow-up survey closed
    later = SETTLED + timedelta(days=7)
    waiting = Progress(True, 0, SETTLED, 4, 0, reviewed=False, interviews_done_at=later)
    assert final_digest_due(waiting, deadline, cal, tz) is not None
    assert final_digest_due(waiting, later, cal, tz) is not None


def test_interviews_are_settled_when_the_last_is_recorded_or_its_invitation_lapses() -> None:
    assert interviews_settled_at([]) is None
    recorded = [invited_event("a", "ll", [SETTLED], SETTLED),
                recorded_event("a", "success", None, None, "ll", SETTLED + timedelta(days=3))]
    assert interviews_settled_at(recorded) == SETTLED + timedelta(days=3)
    lapsing = [*recorded, invited_event("b", "ll", [SETTLED], SETTLED + timedelta(days=1))]
    assert interviews_settled_at(lapsing) == max(SETTLED + timedelta(days=3), SETTLED + timedelta(days=1) + HOLD)


def test_the_final_digest_waits_for_interviews_but_not_for_ever(journey: Journey) -> None:
    cal, tz = cal_tz(journey)
    deadline = cal.local_slot(cal.add_working_days(SETTLED.astimezone(tz).date(), INTERVIEW_WAIT_DAYS),
                              cal.day_start, tz)
    for pending in (Progress(True, 0, SETTLED, 4, 1), Progress(True, 0, SETTLED, 0, 0)):  # one pending; none run
        due = final_digest_due(pending, NOW, cal, tz)
        assert due is not None and NOW < due <= deadline
        assert final_digest_due(pending, deadline, cal, tz) is None
    # the day before the deadline it still waits, and looks again no later than the deadline
    before = deadline - timedelta(days=1)
    due = final_digest_due(Progress(True, 0, SETTLED, 0, 0), before, cal, tz)
    assert due is not None and due <= deadline


def _events(journey: Journey) -> list[JourneyEvent]:
    t = SETTLED - timedelta(days=40)
    out: list[JourneyEvent] = []
    for i, cls in enumerate(["success", "success", "not_applied", "tried_no_success", "applied_no_result"]):
        eid = f"e{i}"
        out.append(JourneyEvent("scm_classified", eid, t + timedelta(hours=i), f"{eid}.success-case",
                                {"classification": cls, "step": "success-case", "contact": True}))
        out.append(JourneyEvent(FOLLOW_UP, eid, SETTLED, f"{eid}.follow-up",
                                {"classification": "success" if i < 3 else cls, "step": "follow-up"}))
    out.append(recorded_event("e0", "success", "fewer-escalations", 6, "lena", SETTLED + timedelta(days=2)))
    return out


def test_the_message_has_value_return_stories_and_recommendations(journey: Journey) -> None:
    events = _events(journey)
    ids = [f"e{i}" for i in range(5)]
    ev = evaluate(events, enrollment_ids=ids, min_group=5)
    verified, value = business_figures(journey, ev, events, ids)
    story = "Verified story 1 (interview notes, evidence seen): Situation: “A renewal call”"
    msg = final_digest(journey, HANA, ev=ev, verified=verified, value=value, later=follow_up(events, 5, ids),
                       stories=[story], recommendations=["Ask managers to answer requests within a day (3 expired)."],
                       progress=Progress(True, 0, SETTLED, 1, 0), cohorts=["spring"])
    text = plain(msg.text)
    assert msg.recipient_id == "hana" and msg.title == "The results of Active Listening"
    assert "Estimated value: £2,100 a month." in text
    assert "Return: 5.6 : 1 over a year" in text
    assert f"• {story}" in text
    assert "Follow-up survey: impact 60% (3 of 5" in text
    assert "What to change:\n• Ask managers to answer requests within a day (3 expired)." in text
    assert ("Return over a year", "5.6 : 1") in msg.facts
    # without recommendations yet there is no empty section; without interviews it says so
    bare = plain(final_digest(journey, HANA, ev=ev, verified=verified, value=value, later=follow_up(events, 5, ids),
                              stories=[], recommendations=[], progress=Progress(True, 0, SETTLED, 0, 0),
                              cohorts=["spring"]).text)
    assert "What to change" not in bare
    assert "Interviews: none were recorded in time for this digest" in bare


def test_an_unanswered_follow_up_stops_being_waited_for_when_its_window_closes(journey: Journey) -> None:
    """A follow-up survey stays open for a late answer, but the final digest waits for it only
    `ending.survey_open_days` working days."""
    cal, tz = cal_tz(journey)
    sent = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)  # a Monday
    closes = cal.local_slot(cal.add_working_days(sent.astimezone(tz).date(), journey.ending.survey_open_days),
                            cal.day_start, tz)
    prompts = [("open", sent), ("answered", sent), ("expired", sent)]
    assert follow_up_waiting(prompts, closes - timedelta(hours=1), cal, tz, journey.ending.survey_open_days) == (1, None)
    assert follow_up_waiting(prompts, closes, cal, tz, journey.ending.survey_open_days) == (0, closes)
    assert follow_up_waiting([("scheduled", None)], closes, cal, tz, 10) == (1, None)


def test_long_stories_give_way_so_the_digest_fits_one_slack_section(journey: Journey) -> None:
    events = _events(journey)
    ids = [f"e{i}" for i in range(5)]
    ev = evaluate(events, enrollment_ids=ids, min_group=5)
    verified, value = business_figures(journey, ev, events, ids)
    stories = [f"Verified story {k} (interview notes, evidence seen): " + "Situation: “a long call” " * 30
               for k in range(1, 4)]
    msg = final_digest(journey, HANA, ev=ev, verified=verified, value=value, later=follow_up(events, 5, ids),
                       stories=stories, recommendations=["Answer every request within a working day (3 expired)."],
                       progress=Progress(True, 0, SETTLED, 1, 0), cohorts=["spring"])
    assert len(msg.text) <= TEXT_BUDGET
    assert "Verified story 1" in msg.text and "Verified story 3" not in msg.text
    assert "more verified stories in the cohort's report." in msg.text or "1 more verified story" in msg.text
    assert "What to change:" in msg.text and "Follow-up survey" in msg.text  # what matters is never cut
