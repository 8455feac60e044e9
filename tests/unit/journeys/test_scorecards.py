"""Scorecards and recognition at the end of a journey, on hand-built events with known answers.

Events mirror what the engine emits: an expectations conversation is a `manager_task_done` of the
`expectations` step before the start; a support request is a "sent" of a manager_request step and
its "answered" + "manager_approved"/"manager_coach"; a moment that matters is `mtm_planned` and its
`mtm_followed_up`. The minimum group is 5 (the default).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from journeys import timekeeping
from journeys.definition import Journey
from journeys.end_results import Team, leader_scorecard_decision, manager_end
from journeys.evaluation.scorecards import (
    choose_scope,
    cohort_achievement,
    recognition,
    team_figures,
)
from journeys.evaluation.success_case import MIN_GROUP
from journeys.state import JourneyEvent, Person
from journeys.text import plain

T0 = datetime(2027, 4, 12, 9, 0, tzinfo=UTC)  # a Monday: the start
NOW = datetime(2027, 6, 2, 9, 30, tzinfo=UTC)  # a Wednesday, in London working hours
BEN = Person("ben", "Ben Okafor", tz="Europe/London")
HANA = Person("hana", "Hana Kobayashi", tz="Europe/London")


class Log:
    def __init__(self) -> None:
        self.events: list[JourneyEvent] = []

    def add(self, event: str, eid: str, at: datetime, prompt: str | None = None, /, **data: Any) -> None:
        self.events.append(JourneyEvent(event, eid, at, prompt, data))

    def expectations(self, eid: str) -> None:
        self.add("manager_task_done", eid, T0 - timedelta(days=3), f"{eid}.expectations",
                 step="expectations", before_start=True)

    def request(self, eid: str, n: int, answered_after: timedelta | None, coach: bool = False) -> None:
        sent = T0 + timedelta(days=7 * n)
        prompt = f"{eid}.support-real~{n}"
        self.add("sent", eid, sent, prompt, step="support-real")
        if answered_after is not None:
            data = {"step": "support-real", "kind": "manager_request", "choice": "coach" if coach else "approve",
                    "response_s": int(answered_after.total_seconds())}
            self.add("answered", eid, sent + answered_after, prompt, **data)
            self.add("manager_coach" if coach else "manager_approved", eid, sent + answered_after, prompt, **data)

    def moment(self, eid: str, n: int, happened: bool) -> None:
        mtm = f"{eid}-m{n}"
        self.add("mtm_planned", eid, T0 + timedelta(days=n), None, mtm=mtm)
        self.add("mtm_followed_up", eid, T0 + timedelta(days=n + 5), None, mtm=mtm,
                 happened="yes" if happened else "no")


def supported_team(log: Log, ids: list[str], practised: list[bool]) -> None:
    """A manager who held every expectations conversation and answered each request in 2 hours."""
    for eid, did in zip(ids, practised, strict=True):
        log.expectations(eid)
        log.request(eid, 1, timedelta(hours=2))
        log.moment(eid, 1, did)


def figures(journey: Journey, log: Log, ids: list[str]) -> Any:
    return team_figures(journey, log.events, ids, as_of=NOW, calendar=timekeeping.calendar_for(journey, BEN),
                        tz=timekeeping.tz_of(journey, BEN))


def two_cohorts(log: Log, *, live: str = "completed") -> Team:
    """Ben: 3 people in spring (the latest cohort is summer), 2 in summer; 4 others in each cohort."""
    spring, summer = ["s1", "s2", "s3"], ["u1", "u2"]
    supported_team(log, spring, [True, False, True])
    supported_team(log, summer, [True, True])
    others = {"spring": [f"sp-o{i}" for i in range(4)], "summer": [f"su-o{i}" for i in range(4)]}
    for eid in others["spring"] + others["summer"]:
        log.moment(eid, 2, eid.endswith(("0", "1")))
    rows = [(e, "spring", "2027-01-11", "completed") for e in spring] + \
           [(e, "summer", "2027-04-12", "completed") for e in summer]
    cohorts = {"spring": [(e, "completed") for e in spring + others["spring"]],
               "summer": [(e, "completed") for e in summer + others["summer"][:-1]]
               + [(others["summer"][-1], live)]}
    return Team("ben", "Ben Okafor", rows, cohorts)


def test_team_figures_count_what_the_manager_and_the_team_did(journey: Journey) -> None:
    log = Log()
    supported_team(log, ["a", "b", "c"], [True, False, True])
    log.request("c", 2, None)  # left unanswered
    f = figures(journey, log, ["a", "b", "c"])
    assert (f.people, f.expectations_held, f.expectations_total) == (3, 3, 3)
    assert (f.requests, f.answered, f.within_day) == (4, 3, 3)
    assert f.median_hours == 2
    assert (f.followed_up, f.practised, f.people_practised) == (3, 2, 2)


def test_recognition_names_what_the_manager_did(journey: Journey) -> None:
    log = Log()
    supported_team(log, ["a", "b", "c", "d"], [True, True, False, True])
    f = figures(journey, log, ["a", "b", "c", "d"])
    assert recognition(f) == ("you held the expectations conversation with all 4 of your reports and answered "
                              "every support request within a working day.")
    assert recognition(f, you=False) == ("held the expectations conversation with all 4 of their reports and "
                                         "answered every support request within a working day.")


def test_no_recognition_for_support_that_did_not_happen(journey: Journey) -> None:
    log = Log()
    for eid in ("a", "b"):
        log.request(eid, 1, None)
    f = figures(journey, log, ["a", "b"])
    assert recognition(f) is None


def test_scope_pools_cohorts_only_when_one_is_too_small() -> None:
    assert choose_scope({"spring": 5, "summer": 2}, "spring", MIN_GROUP).cohorts == ("spring",)
    pooled = choose_scope({"spring": 3, "summer": 2}, "summer", MIN_GROUP)
    assert pooled.pooled and pooled.cohorts == ("spring", "summer")
    alone = choose_scope({"spring": 1, "summer": 2}, "summer", MIN_GROUP)
    assert not alone.pooled and alone.cohorts == ("summer",)


def test_a_team_under_the_minimum_reaches_it_only_pooled_across_two_cohorts(journey: Journey) -> None:
    log = Log()
    team = two_cohorts(log)
    decision = manager_end(journey, BEN, team, log.events, NOW, min_group=MIN_GROUP)
    assert decision.outgoing is not None and decision.next_at is None and not decision.drop
    text = plain(decision.outgoing.message.text)
    assert "5 people (cohorts spring and summer together: one cohort alone is under the minimum group)" in text
    # the pooled team: 4 of 5 practised; its moments show because the pool reaches 5
    assert "Your team's moments practised: 4 of 5 followed up (80%); 4 of 5 people practised at least once" in text
    assert "The cohort (13 people)" in text
    assert "Thank you: you held the expectations conversation with all 5 of your reports" in text
    assert decision.outgoing.delivery_key == "scorecard:ben:active-listening:summer"

    # the same summer team alone (a journey with only this cohort): its people-figures stay hidden
    alone = Team("ben", "Ben Okafor", [r for r in team.rows if r[1] == "summer"], {"summer": team.cohorts["summer"]})
    text = plain(manager_end(journey, BEN, alone, log.events, NOW, min_group=MIN_GROUP).outgoing.message.text)  # type: ignore[union-attr]
    assert "2 people (cohort summer)" in text
    assert "Your team's moments practised: too small a group to show (the minimum is 5 people" in text
    assert "4 of 5 followed up" not in text
    # what Ben did himself is his own record: shown whatever the size
    assert "Expectations conversations held before the start: 2 of 2." in text


def test_the_scorecard_waits_for_the_cohort_to_end_and_is_dropped_without_people(journey: Journey) -> None:
    log = Log()
    team = two_cohorts(log, live="active")
    wait = manager_end(journey, BEN, team, log.events, NOW, min_group=MIN_GROUP)
    assert wait.outgoing is None and wait.next_at is not None and wait.next_at > NOW
    local = wait.next_at.astimezone(timekeeping.tz_of(journey, BEN))
    assert local.weekday() < 5 and local.date() > NOW.date()  # the next working morning
    gone = manager_end(journey, BEN, Team("ben", "Ben Okafor", []), [], NOW, min_group=MIN_GROUP)
    assert gone.drop


def test_the_leader_gets_each_managers_scorecard_with_thanks_or_a_conversation(journey: Journey) -> None:
    log = Log()
    ben = two_cohorts(log)
    for eid in ("g1", "g2"):
        log.request(eid, 1, None)
        log.moment(eid, 1, False)
    grace = Team("grace", "Grace Liu", [(e, "summer", "2027-04-12", "completed") for e in ("g1", "g2")],
                 {"summer": ben.cohorts["summer"] + [("g1", "completed"), ("g2", "completed")]})
    decision = leader_scorecard_decision(journey, HANA, [ben, grace], log.events, NOW, min_group=MIN_GROUP)
    assert decision.outgoing is not None and decision.next_at is not None  # then the final digest, later
    text = plain(decision.outgoing.message.text)
    assert "• Ben Okafor (5 people, cohorts spring and summer together" in text
    assert "Worth a word of thanks: Ben Okafor held the expectations conversation with all 5 of their reports" in text
    assert "• Grace Liu (2 people, cohort summer)" in text
    assert "Worth a conversation with Grace Liu: 2 support requests went unanswered" in text
    assert "too small a group to show" in text  # Grace's 2 people: their practice stays hidden
    # a cohort still running: nothing yet, look again the next working morning
    ben_live = two_cohorts(Log(), live="active")
    assert leader_scorecard_decision(journey, HANA, [ben_live], log.events, NOW, min_group=MIN_GROUP).outgoing is None


def test_the_cohort_line_of_the_closing_message_is_counts_only_and_suppressed_below_the_minimum(
        journey: Journey) -> None:
    log = Log()
    supported_team(log, ["a", "b", "c", "d", "e"], [True, True, False, True, False])
    line = cohort_achievement(figures(journey, log, ["a", "b", "c", "d", "e"]), MIN_GROUP)
    assert line == ("Together, your cohort of 5 practised 3 moments that matter so far, and 3 of 5 people "
                    "practised at least once.")
    assert cohort_achievement(figures(journey, log, ["a", "b", "c", "d"]), MIN_GROUP) is None  # under 5
    everyone = Log()
    supported_team(everyone, ["a", "b", "c", "d", "e"], [True] * 5)  # all alike: each one's answer is told
    assert cohort_achievement(figures(journey, everyone, ["a", "b", "c", "d", "e"]), MIN_GROUP) is None
