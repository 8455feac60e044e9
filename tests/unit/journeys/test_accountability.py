"""The senior-leader accountability digest on hand-built event sets with known answers.

Events mirror what `journeys.engine` emits for support requests ("sent" of a manager_request step,
then "answered" + "manager_approved"/"manager_coach" with `response_s`) and for the Success Case
survey ("scm_classified"). The calendar is Monday to Friday without holidays; T0 is a Monday.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from journeys.calendar import WorkCalendar
from journeys.evaluation.accountability import (
    OrgFigures,
    build_accountability_digest,
    format_hours,
    organisation_figures,
    request_steps,
    summary,
)
from journeys.evaluation.success_case import wilson
from journeys.state import JourneyEvent, Person

T0 = datetime(2027, 4, 5, 9, 0, tzinfo=UTC)  # Monday
CAL = WorkCalendar(frozenset(range(5)), time(9), time(17, 30))
STEP = "support-real"


class Log:
    def __init__(self) -> None:
        self.events: list[JourneyEvent] = []

    def add(self, event: str, eid: str, at: datetime, prompt: str | None = None, /, **data: Any) -> None:
        self.events.append(JourneyEvent(event, eid, at, prompt, data))

    def started(self, eid: str, at: datetime = T0) -> None:
        self.add("enrolled", eid, at - timedelta(days=7))
        self.add("sent", eid, at, f"{eid}.why-it-matters", step="why-it-matters")

    def request(self, eid: str, sent: datetime, answered: datetime | None = None, step: str = STEP,
                choice: str = "approve") -> None:
        prompt = f"{eid}.{step}"
        self.add("sent", eid, sent, prompt, step=step)
        if answered is not None:
            data = {"step": step, "kind": "manager_request", "choice": choice,
                    "response_s": int((answered - sent).total_seconds())}
            self.add("answered", eid, answered, prompt, **data)
            self.add("manager_approved" if choice == "approve" else "manager_coach", eid, answered, prompt, **data)

    def survey(self, eid: str, classification: str, at: datetime) -> None:
        self.add("scm_classified", eid, at, f"{eid}.success-case", step="success-case", kind="survey",
                 classification=classification, response_s=600)


def figures(log: Log, org: dict[str, list[str]], **kw: Any) -> OrgFigures:
    kw.setdefault("steps", (STEP,))
    kw.setdefault("calendar", CAL)
    kw.setdefault("tz", UTC)
    return organisation_figures(log.events, org, **kw)


LATER = T0 + timedelta(days=30)


def comparison_org(answered_n: int, answered_successes: int, unanswered_n: int,
                   unanswered_successes: int, no_request_n: int = 0) -> tuple[Log, dict[str, list[str]]]:
    """Manager "m1" answers every request within 2 hours, manager "m2" never answers."""
    log = Log()
    org: dict[str, list[str]] = {"m1": [], "m2": [], "m3": []}
    for i in range(answered_n):
        eid = f"a{i}"
        org["m1"].append(eid)
        log.started(eid)
        log.request(eid, T0 + timedelta(hours=1), T0 + timedelta(hours=3))
        log.survey(eid, "success" if i < answered_successes else "not_applied", LATER)
    for i in range(unanswered_n):
        eid = f"u{i}"
        org["m2"].append(eid)
        log.started(eid)
        log.request(eid, T0 + timedelta(hours=1))
        log.survey(eid, "success" if i < unanswered_successes else "tried_no_success", LATER)
    for i in range(no_request_n):
        eid = f"n{i}"
        org["m3"].append(eid)
        log.started(eid)
        log.survey(eid, "success", LATER)
    return log, org


# --- the figures ------------------------------------------------------------------------------

def test_request_steps_of_the_sample_journey(journey: Any) -> None:
    assert request_steps(journey) == ("support-safe", "support-real")


def test_answered_requests_count_and_median_response_time() -> None:
    log = Log()
    org = {"m1": ["a", "b", "c"], "m2": ["d", "e", "f"]}
    # response hours: 1, 2, 3, 4 and 50 (Mon 10:00 -> Wed 12:00, two working days later)
    hours = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 50}
    for eid, h in hours.items():
        sent = T0 + timedelta(hours=1)
        log.request(eid, sent, sent + timedelta(hours=h))
    log.request("f", T0 + timedelta(hours=1))  # never answered, long overdue by the end
    f = figures(log, org, as_of=T0 + timedelta(days=9))
    assert (f.managers, f.participants) == (2, 6)
    assert (f.requests, f.answered) == (6, 5)
    assert f.median_response_hours == pytest.approx(3.0)
    assert f.within_day == 4  # the 50-hour answer came two working days later
    assert f.activity


def test_friday_request_answered_on_monday_is_within_one_working_day() -> None:
    friday = T0 + timedelta(days=4, hours=6)  # Fri 15:00
    log = Log()
    org = {"m1": [f"p{i}" for i in range(5)]}
    for i in range(5):
        # Friday -> Monday is one working day (66 hours on the clock); Friday -> Tuesday is two
        log.request(f"p{i}", friday, friday + timedelta(days=3 if i < 3 else 4))
    f = figures(log, org, as_of=friday + timedelta(days=10))
    assert f.answered == 5 and f.within_day == 3
    # without a calendar the same answers are judged by 24 hours: none is within a day
    assert organisation_figures(log.events, org, steps=(STEP,), as_of=friday + timedelta(days=10)).within_day == 0


def test_unanswered_request_counts_only_after_one_working_day() -> None:
    friday = T0 + timedelta(days=4, hours=6)
    log = Log()
    eids = [f"p{i}" for i in range(6)]
    for eid in eids[:5]:
        log.request(eid, T0, T0 + timedelta(hours=1))
    log.request("p5", friday)  # unanswered, sent Friday afternoon
    monday = friday + timedelta(days=3)
    on_monday = figures(log, {"m": eids}, as_of=monday)
    assert (on_monday.requests, on_monday.answered) == (5, 5)  # still pending: one working day
    on_tuesday = figures(log, {"m": eids}, as_of=monday + timedelta(days=1))
    assert (on_tuesday.requests, on_tuesday.answered) == (6, 5)


def test_impact_difference_between_answered_and_unanswered() -> None:
    log, org = comparison_org(answered_n=6, answered_successes=4, unanswered_n=5, unanswered_successes=1,
                              no_request_n=2)
    f = figures(log, org, as_of=LATER)
    assert f.comparison_shown
    assert (f.with_answers.count, f.with_answers.total) == (4, 6)
    assert (f.without_answers.count, f.without_answers.total) == (1, 5)
    assert f.difference == pytest.approx(4 / 6 - 1 / 5)
    # the overall rate includes respondents who never needed a request, and moves in steps of
    # min_group answers: the earliest 10 of 13 count, the latest 3 wait for two more
    assert f.respondents == 13
    assert f.impact == wilson(5, 10) and f.impact_basis == 10


def test_comparison_below_the_minimum_group_is_hidden() -> None:
    log, org = comparison_org(answered_n=6, answered_successes=4, unanswered_n=4, unanswered_successes=1)
    f = figures(log, org, as_of=LATER)
    assert not f.comparison_shown and f.difference is None
    assert f.with_answers.value is None and f.without_answers.value is None
    assert f.impact == wilson(5, 10)  # the organisation as a whole is big enough


def test_a_smaller_minimum_shows_what_the_default_hides() -> None:
    log, org = comparison_org(answered_n=6, answered_successes=4, unanswered_n=4, unanswered_successes=1)
    f = figures(log, org, as_of=LATER, min_group=3)
    assert f.comparison_shown and f.without_answers == wilson(1, 4)


def test_few_requests_hide_counts_and_times() -> None:
    log = Log()
    org = {"m1": ["a", "b"], "m2": ["c"]}
    log.request("a", T0, T0 + timedelta(hours=2))
    log.request("b", T0, T0 + timedelta(hours=5))
    log.request("c", T0)
    f = figures(log, org, as_of=T0 + timedelta(days=7))
    assert f.requests == 3
    assert f.answered is None and f.within_day is None and f.median_response_hours is None


def test_enough_requests_but_few_answers_hide_only_the_times() -> None:
    log = Log()
    eids = [f"p{i}" for i in range(6)]
    for i, eid in enumerate(eids):
        log.request(eid, T0, T0 + timedelta(hours=2) if i < 2 else None)
    f = figures(log, {"m": eids}, as_of=T0 + timedelta(days=7))
    assert (f.requests, f.answered) == (6, 2)
    assert f.median_response_hours is None and f.within_day is None


def test_zero_denominators() -> None:
    empty = organisation_figures([], {})
    assert (empty.managers, empty.participants, empty.requests, empty.respondents) == (0, 0, 0, 0)
    assert empty.answered is None and empty.impact.value is None and not empty.activity
    idle = organisation_figures([], {"m1": ["a"], "m2": []})
    assert (idle.managers, idle.participants) == (1, 1)  # a manager without participants is not counted
    assert idle.impact.total == 0 and idle.difference is None
    with pytest.raises(ValueError):
        organisation_figures([], {}, min_group=0)


def test_people_in_two_organisations() -> None:
    """Manager m2 reports (on paper) to both leaders: each leader's figures hold exactly their own
    managers' participants, and m2's people count in both."""
    log = Log()
    people = {"m1": ["a1", "a2"], "m2": ["b1", "b2", "b3"], "m3": ["c1"]}
    answered_hours = {"a1": 1, "a2": 1, "b1": 2, "b2": 2, "b3": 2, "c1": 9}
    for eid, h in answered_hours.items():
        log.request(eid, T0, T0 + timedelta(hours=h))
    log.request("c1", T0 + timedelta(days=1), step="support-safe")  # c1's second request: unanswered
    org_a = {"m1": people["m1"], "m2": people["m2"]}
    org_b = {"m2": people["m2"], "m3": people["m3"]}
    a = figures(log, org_a, as_of=T0 + timedelta(days=7), steps=(STEP, "support-safe"))
    b = figures(log, org_b, as_of=T0 + timedelta(days=7), steps=(STEP, "support-safe"), min_group=3)
    assert (a.managers, a.participants, a.requests, a.answered) == (2, 5, 5, 5)
    assert a.median_response_hours == pytest.approx(2.0)
    assert (b.managers, b.participants, b.requests, b.answered) == (2, 4, 5, 4)
    assert b.median_response_hours == pytest.approx(2.0)
    # one enrollment listed under two managers of one organisation counts once
    twice = figures(log, {"m1": ["a1", "a2"], "m9": ["a1"]}, as_of=T0 + timedelta(days=7), min_group=1)
    assert (twice.participants, twice.requests) == (2, 2)


def test_events_outside_the_organisation_are_ignored() -> None:
    log, org = comparison_org(answered_n=5, answered_successes=5, unanswered_n=5, unanswered_successes=0)
    outsider = Log()
    outsider.request("x", T0, T0 + timedelta(hours=80))
    outsider.survey("x", "not_applied", LATER)
    mine = figures(log, org, as_of=LATER)
    mixed = organisation_figures(log.events + outsider.events, org, steps=(STEP,), as_of=LATER,
                                 calendar=CAL, tz=UTC)
    assert mine == mixed


def test_answers_are_recognised_without_being_told_the_steps() -> None:
    log = Log()
    eids = [f"p{i}" for i in range(5)]
    for eid in eids:
        log.request(eid, T0, T0 + timedelta(hours=1), step="custom-request")
    f = organisation_figures(log.events, {"m": eids}, as_of=T0 + timedelta(days=3))
    assert (f.requests, f.answered) == (5, 5)


# --- the message ------------------------------------------------------------------------------

LEADER = Person("L1", "Sara Mensah", "Europe/London")


def test_digest_reports_the_difference_in_business_language(journey: Any) -> None:
    log, org = comparison_org(answered_n=6, answered_successes=4, unanswered_n=5, unanswered_successes=1)
    f = figures(log, org, as_of=LATER)
    msg = build_accountability_digest(journey, LEADER, f, LATER)
    assert msg is not None
    assert msg.recipient_id == "L1" and msg.audience == "manager"
    assert msg.title.startswith("Manager support in your organisation · week of Mon 3 May")
    text = msg.text
    assert "2 managers reporting to you have 11 people in Active Listening." in text
    assert "Support requests: managers answered 6 of 11 (55%). Median response time 2 hours; " \
           "6 of 6 answered within one working day." in text
    # plain words first: 5 of 10 against the 20% baseline, the interval (24%-76%) is all above it
    assert ("Clearly above the 20% usually seen: 50% of those who answered reached a worthwhile result.\n"
            "Impact rate 50% (5 of 10 applied it") in text and "the journey's target is 80%" in text
    assert ("The 1 latest answer will count once 5 more have come in, so no single answer can be "
            "worked out from two digests.") in text
    # 4 of 6 vs 1 of 5: the interval includes no difference, so no direction is claimed
    assert ("Difference support made: none we can tell yet: 67% where managers answered every support request "
            "(4 of 6) against 20% where a request went unanswered (1 of 5).") in text
    assert "95% CI" not in text and "Fisher" not in text  # the statistics stay in the report's CSV
    assert "Ask your managers to answer support requests within a working day" in text
    assert dict(msg.facts)["Support requests answered"] == "6 of 11"
    # never a person's id or name
    assert not any(eid in text for eid in ("a0", "u0", "m1", "m2"))


def test_digest_below_the_minimum_says_too_small_instead_of_numbers(journey: Any) -> None:
    log, org = comparison_org(answered_n=2, answered_successes=1, unanswered_n=2, unanswered_successes=0)
    f = figures(log, org, as_of=LATER)
    msg = build_accountability_digest(journey, LEADER, f, LATER)
    assert msg is not None
    lines = msg.text.splitlines()
    assert lines[1] == ("Support requests: too small a group to report yet (fewer than 5), so individual "
                        "answers stay private.")
    assert lines[2] == "Impact: too small a group to report (fewer than 5 survey answers so far)."
    assert lines[3].startswith("Difference support made: too small a group to compare")
    assert "%" not in msg.text  # no rate of any kind
    assert dict(msg.facts)["Support requests answered"] == "too small a group"
    assert "Ask your managers" not in msg.text  # the unanswered request is not revealed


def test_no_digest_for_an_empty_or_idle_organisation(journey: Any) -> None:
    assert build_accountability_digest(journey, LEADER, organisation_figures([], {}), T0) is None
    idle = organisation_figures([JourneyEvent("enrolled", "a", T0, None, {})], {"m": ["a"]})
    assert build_accountability_digest(journey, LEADER, idle, T0) is None
    log = Log()
    log.started("a")
    started = figures(log, {"m": ["a"]}, as_of=T0 + timedelta(hours=1))
    msg = build_accountability_digest(journey, LEADER, started, T0 + timedelta(hours=1))
    assert msg is not None
    assert "Support requests: none answered or waiting more than a working day yet." in msg.text
    assert "Impact: no Success Case survey answers yet." in msg.text
    assert "Difference support made" not in msg.text


def test_format_hours() -> None:
    assert format_hours(0.25) == "15 minutes"
    assert format_hours(1 / 60) == "1 minute"  # one, not "1 minutes"
    assert format_hours(1.0) == "1 hour"
    assert format_hours(2.5) == "2.5 hours"
    assert format_hours(30) == "30 hours"
    assert format_hours(60) == "2.5 days"


def test_two_weekly_digests_cannot_be_differenced_to_one_answer(journey: Any) -> None:
    """Week 1 has 10 survey answers, week 2 one more: the figures must not move, or the leader
    could tell that one person's answer from the change."""
    log, org = comparison_org(answered_n=5, answered_successes=3, unanswered_n=5, unanswered_successes=1)
    week1 = figures(log, org, as_of=LATER)
    eid = "late"
    org["m1"].append(eid)
    log.started(eid)
    log.survey(eid, "success", LATER + timedelta(days=7))
    week2 = figures(log, org, as_of=LATER + timedelta(days=7))
    assert week2.respondents == week1.respondents + 1
    assert week2.impact == week1.impact == wilson(4, 10)
    text1 = "\n".join(summary(week1, "J", 0.8))
    text2 = "\n".join(summary(week2, "J", 0.8))
    impact1 = next(line for line in text1.splitlines() if line.startswith("Impact rate"))
    assert impact1 in text2


def test_a_unanimous_organisation_hides_its_impact_rate(journey: Any) -> None:
    log, org = comparison_org(answered_n=3, answered_successes=0, unanswered_n=2, unanswered_successes=0)
    f = figures(log, org, as_of=LATER)
    assert f.respondents == 5 and f.impact.value is None
    text = "\n".join(summary(f, "J", 0.8))
    assert "Impact rate" not in text and "0 of 5 applied" not in text
    assert "Impact: not shown, because the answers so far are all alike" in text
