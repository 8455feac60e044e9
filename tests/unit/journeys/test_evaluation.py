"""Success Case evaluation: every metric on hand-built event sets with known answers.

The events mirror what `journeys.engine` emits (kinds and data keys), built by the small helpers
below. Times advance one minute per event so that order is unambiguous.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeys import definition
from journeys.evaluation.success_case import (
    CSV_HEADER,
    FACTOR_APPROVED,
    FACTOR_COACH,
    FACTOR_EXPECTATIONS,
    FACTOR_FAST,
    MANAGER_KINDS,
    PERSON_HEADER,
    SCM_CLASSES,
    Evaluation,
    Factor,
    Rate,
    evaluate,
    per_person_rows,
    summary_lines,
    to_csv_rows,
    wilson,
)
from journeys.state import JourneyEvent

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
H = 3600


class Log:
    """Builds an event list the way the engine would emit it."""

    def __init__(self) -> None:
        self.events: list[JourneyEvent] = []
        self.now = T0

    def add(self, event: str, eid: str, prompt: str | None = None, /, *,
            at: datetime | None = None, **data: Any) -> None:
        self.now = at or self.now + timedelta(minutes=1)
        self.events.append(JourneyEvent(event, eid, self.now, prompt, data))

    def enrolled(self, eid: str) -> None:
        self.add("enrolled", eid, start="2025-03-10")

    def survey(self, eid: str, cls: str | None, barriers: tuple[str, ...] = (),
               contact: bool = False, response_s: int = 600) -> None:
        data: dict[str, Any] = {"step": "success-case", "kind": "survey", "response_s": response_s,
                                "classification": cls}
        if cls == "success":
            data["contact"] = contact
        else:
            data["barriers"] = list(barriers)
        self.add("scm_classified", eid, f"{eid}:success-case", **data)
        self.add("answered", eid, f"{eid}:success-case", **data)

    def task_done(self, eid: str, before_start: bool = True, response_s: int = 1800) -> None:
        p = f"{eid}:prep"
        self.add("answered", eid, p, step="prep", kind="manager_task", choice="done",
                 before_start=before_start, response_s=response_s)
        self.add("manager_task_done", eid, p, step="prep", before_start=before_start)

    def request_sent(self, eid: str, step: str = "support-1") -> None:
        self.add("sent", eid, f"{eid}:{step}", step=step)

    def manager_answer(self, eid: str, choice: str = "approve", response_s: int = 3600,
                       step: str = "support-1") -> None:
        p = f"{eid}:{step}"
        data: dict[str, Any] = {"step": step, "kind": "manager_request", "choice": choice, "mtm": f"{eid}:plan-1",
                "response_s": response_s}
        self.add("answered", eid, p, **data)
        self.add("manager_approved" if choice == "approve" else "manager_coach", eid, p, **data)

    def plan(self, eid: str, mtm: str) -> None:
        data: dict[str, Any] = {"step": mtm, "kind": "mtm_plan", "response_s": 120, "mtm": f"{eid}:{mtm}",
                "practice": "safe", "behaviour": "pause", "mtm_date": "2025-03-20"}
        self.add("answered", eid, f"{eid}:{mtm}", **data)
        self.add("mtm_planned", eid, f"{eid}:{mtm}", **data)

    def follow_up(self, eid: str, mtm: str, happened: str) -> None:
        data: dict[str, Any] = {"step": f"{mtm}-fu", "kind": "mtm_follow_up", "response_s": 300,
                "mtm": f"{eid}:{mtm}", "happened": happened, "rating": 4, "shared": False}
        self.add("answered", eid, f"{eid}:{mtm}-fu", **data)
        self.add("mtm_followed_up", eid, f"{eid}:{mtm}-fu", **data)


def factor(ev: Evaluation, name: str) -> Factor:
    return next(f for f in ev.factors if f.name == name)


# --- Wilson interval --------------------------------------------------------------------------

def test_wilson_8_of_13() -> None:
    r = wilson(8, 13)
    assert (r.count, r.total) == (8, 13)
    assert r.value == pytest.approx(8 / 13)
    assert r.low == pytest.approx(0.3553, abs=5e-4)
    assert r.high == pytest.approx(0.8230, abs=5e-4)


def test_wilson_1_of_10_matches_published_value() -> None:
    r = wilson(1, 10)
    assert r.low == pytest.approx(0.0179, abs=5e-4)
    assert r.high == pytest.approx(0.4042, abs=5e-4)


def test_wilson_zero_total_is_empty() -> None:
    assert wilson(0, 0) == Rate(0, 0, None, None, None)


def test_wilson_none_and_all() -> None:
    none = wilson(0, 5)
    assert (none.value, none.low) == (0.0, 0.0)
    assert none.high == pytest.approx(0.4345, abs=5e-4)
    every = wilson(5, 5)
    assert (every.value, every.high) == (1.0, 1.0)
    assert every.low == pytest.approx(0.5655, abs=5e-4)


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        wilson(3, 2)
    with pytest.raises(ValueError):
        wilson(-1, 2)


@given(st.integers(0, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_estimate(ct: tuple[int, int]) -> None:
    count, total = ct
    r = wilson(count, total)
    if total == 0:
        assert r.value is None
        return
    assert r.value is not None and r.low is not None and r.high is not None
    assert 0.0 <= r.low <= r.value <= r.high <= 1.0


def test_constants_match_the_journey_definition() -> None:
    assert SCM_CLASSES == definition.SCM_CLASSES
    assert MANAGER_KINDS == definition.MANAGER_KINDS


# --- empty and zero denominators --------------------------------------------------------------

def test_no_events_at_all() -> None:
    ev = evaluate([])
    assert (ev.participants, ev.completed, ev.responded_scm) == (0, 0, 0)
    for r in (ev.completion, ev.impact, ev.application):
        assert r == Rate(0, 0, None, None, None)
    assert ev.classes == dict.fromkeys(SCM_CLASSES, 0)
    assert ev.participant_response_hours is None and ev.manager_response_hours is None
    assert ev.barriers == [] and ev.success_story_enrollments == []
    assert all(f.suppressed and f.difference is None for f in ev.factors)
    assert ev.lost.non_success_unsupported == 0 and ev.lost.extra_successes is None
    assert ev.vs_baseline is None and ev.vs_target is None and ev.target_met is None
    rows = to_csv_rows(ev)
    assert rows[0] == CSV_HEADER and all(len(r) == len(CSV_HEADER) for r in rows)
    lines = summary_lines(ev, "Active listening")
    assert any("No survey answers yet" in line for line in lines)
    assert not any("Impact rate" in line for line in lines)


def test_enrolled_but_no_survey_answers() -> None:
    log = Log()
    for i in range(3):
        log.enrolled(f"e{i}")
    ev = evaluate(log.events)
    assert ev.participants == 3
    assert ev.completion.count == 0 and ev.completion.total == 3 and ev.completion.value == 0.0
    assert ev.impact.value is None
    assert "Survey answered by 0 of 3 participants (0%)." in summary_lines(ev, "J")


# --- impact, completion, classes, stories -----------------------------------------------------

def cohort_8_of_13() -> Log:
    """13 respondents (8 success), 2 more enrolled who never answered, 1 answer without a class."""
    log = Log()
    for i in range(16):
        log.enrolled(f"e{i:02}")
    for i in range(8):
        log.survey(f"e{i:02}", "success", contact=i in (2, 5))
    log.survey("e08", "applied_no_result", ("no_time", "no_manager_support"))
    log.survey("e09", "applied_no_result", ("no_time",))
    log.survey("e10", "tried_no_success", ("unclear_how", "no_manager_support"))
    log.survey("e11", "not_applied", ("no_opportunity", "no_time", "no_time"))
    log.survey("e12", "not_applied", ("other", "no_manager_support"))
    log.survey("e13", None)  # answered, but the classification is missing
    return log


def test_impact_completion_and_classes() -> None:
    ev = evaluate(cohort_8_of_13().events)
    assert ev.participants == 16
    assert ev.completed == 14
    assert (ev.completion.count, ev.completion.total) == (14, 16)
    assert ev.responded_scm == 13
    assert ev.classes == {"success": 8, "applied_no_result": 2, "tried_no_success": 1,
                          "not_applied": 2}
    assert (ev.impact.count, ev.impact.total) == (8, 13)
    assert ev.impact.low == pytest.approx(0.3553, abs=5e-4)
    assert ev.vs_baseline == pytest.approx((8 / 13) / 0.2)
    assert ev.vs_target == pytest.approx(8 / 13 - 0.8)
    assert ev.target_met is False
    assert ev.non_success == 5
    assert ev.success_story_enrollments == ["e02", "e05"]  # in answer order, contact == yes only


def test_barriers_most_frequent_first_among_non_success_only() -> None:
    log = cohort_8_of_13()
    # a success case's stray barrier must not count
    log.add("scm_classified", "e00", "e00:success-case", classification="success",
            barriers=["no_opportunity"], contact=False)
    ev = evaluate(log.events)
    # no_time 3 (e11 counted once), no_manager_support 3, then unclear_how / no_opportunity /
    # other with 1 each; ties follow the survey's option order
    assert ev.barriers == [("no_manager_support", 3), ("no_time", 3), ("no_opportunity", 1),
                           ("unclear_how", 1), ("other", 1)]
    assert ev.success_story_enrollments == ["e02", "e05"]


def test_latest_survey_answer_counts() -> None:
    log = Log()
    log.enrolled("a")
    log.survey("a", "not_applied", ("no_time",))
    log.survey("a", "success", contact=True)
    ev = evaluate(log.events)
    assert ev.classes["success"] == 1 and ev.responded_scm == 1 and ev.barriers == []
    assert ev.success_story_enrollments == ["a"]


def test_summary_headline_8_of_13() -> None:
    ev = evaluate(cohort_8_of_13().events)
    lines = summary_lines(ev, "Active listening")
    assert lines[0].startswith("Active listening")
    assert ("Impact rate 62% of those who answered (8 of 13, 95% CI 36–82%) — target 80% "
            "not reached.") in lines
    # non-response is shown: 16 enrolled, 13 usable answers
    assert (ev.impact_enrolled.count, ev.impact_enrolled.total) == (8, 16)
    assert ("Of everyone enrolled: 50% (8 of 16, 95% CI 28–72%), counting the 3 without a usable "
            "survey answer as not successful.") in lines
    # the interval 36–82% lies wholly above 20%: "above", never a bare multiple
    assert ev.baseline_verdict == "above"
    assert ("Impact is above Brinkerhoff's rough 20% baseline for training in general (the whole "
            "interval is above it).") in lines
    assert not any("×" in line for line in lines)
    top = next(line for line in lines if line.startswith("Top barriers"))
    assert top == ("Top barriers: no support from their manager (3), no time (other priorities came first) (3), "
                   "no suitable situation came up (1).")
    assert "2 success stories may be shared (authors agreed)." in lines


def test_target_reached_and_small_sample_note() -> None:
    log = Log()
    for eid in ("a", "b", "c"):
        log.enrolled(eid)
        log.survey(eid, "success")
    ev = evaluate(log.events, target=0.8)
    assert ev.target_met is True
    lines = summary_lines(ev, "J")
    assert any("target 80% reached" in line for line in lines)
    assert any("Fewer than 5 answers" in line for line in lines)


def test_zero_baseline_gives_no_multiple() -> None:
    ev = evaluate(cohort_8_of_13().events, baseline=0.0)
    assert ev.vs_baseline is None
    assert not any("baseline" in line for line in summary_lines(ev, "J"))


# --- enrollment filter ------------------------------------------------------------------------

def test_events_of_other_enrollments_are_filtered_out() -> None:
    log = cohort_8_of_13()
    log.enrolled("other-1")
    log.survey("other-1", "not_applied", ("no_time",))
    log.plan("other-1", "plan-1")
    wanted = [f"e{i:02}" for i in range(16)]
    ev = evaluate(log.events, enrollment_ids=wanted)
    assert ev.participants == 16 and ev.responded_scm == 13 and ev.mtms_planned == 0
    assert "other-1" not in ev.enrollment_ids
    everyone = evaluate(log.events)
    assert everyone.participants == 17 and everyone.responded_scm == 14
    only = evaluate(log.events, enrollment_ids={"e00", "e08"})
    assert (only.impact.count, only.impact.total) == (1, 2)
    assert evaluate(log.events, enrollment_ids=[]).participants == 0


def test_result_does_not_depend_on_event_order() -> None:
    log = cohort_8_of_13()
    log.task_done("e00")
    log.request_sent("e01")
    log.manager_answer("e01", "coach", response_s=2 * H)
    log.plan("e01", "plan-1")
    log.follow_up("e01", "plan-1", "yes")
    shuffled = list(log.events)
    random.Random(7).shuffle(shuffled)
    assert evaluate(shuffled) == evaluate(log.events)


# --- application rate -------------------------------------------------------------------------

def test_application_rate() -> None:
    log = Log()
    log.enrolled("a")
    log.enrolled("b")
    log.plan("a", "plan-1")
    log.plan("a", "plan-1")  # a retried decision: same MTM id, counted once
    log.plan("a", "plan-2")
    log.plan("b", "plan-1")
    log.follow_up("a", "plan-1", "no")
    log.follow_up("a", "plan-1", "yes")  # the latest follow-up decides
    log.follow_up("a", "plan-2", "no")
    # b's MTM was not followed up yet; a follow-up of an MTM never planned is ignored
    log.follow_up("b", "plan-9", "yes")
    ev = evaluate(log.events)
    assert (ev.mtms_planned, ev.mtms_happened) == (3, 1)
    # b's unanswered follow-up is not counted as "did not happen"
    assert (ev.application.count, ev.application.total) == (1, 2)
    assert ev.application.value == pytest.approx(1 / 2)
    assert ("Moments that matter: 3 planned; of the 2 followed up, 1 happened (50%, 95% CI 9–91%); "
            "1 without a follow-up answer (not counted).") in summary_lines(ev, "J")


def test_application_without_plans_is_none() -> None:
    log = Log()
    log.enrolled("a")
    log.follow_up("a", "plan-1", "yes")
    ev = evaluate(log.events)
    assert ev.application == Rate(0, 0, None, None, None)
    assert not any("Moments that matter" in line for line in summary_lines(ev, "J"))


# --- response times ---------------------------------------------------------------------------

def test_median_response_times() -> None:
    log = Log()
    log.enrolled("a")
    for secs in (H, 2 * H, 10 * H):
        log.add("answered", "a", None, step="q", kind="question", response_s=secs)
    log.task_done("a", response_s=H // 2)
    log.manager_answer("a", response_s=3 * H // 2)
    log.add("answered", "a", None, step="q2", kind="question")  # no response time: ignored
    ev = evaluate(log.events)
    assert ev.participant_response_hours == pytest.approx(2.0)
    assert ev.manager_response_hours == pytest.approx(1.0)  # median of 0.5 h and 1.5 h


def test_response_times_none_when_nobody_answered() -> None:
    log = Log()
    log.enrolled("a")
    log.add("answered", "a", None, step="q", kind="question", response_s=H)
    ev = evaluate(log.events)
    assert ev.participant_response_hours == pytest.approx(1.0)
    assert ev.manager_response_hours is None


# --- performance-system factors ---------------------------------------------------------------

def supported_cohort(with_n: int = 6, without_n: int = 6) -> Log:
    """`with_n` respondents whose manager held the expectations conversation before the start
    (all but one success), `without_n` without it (only the first a success)."""
    log = Log()
    for i in range(with_n):
        eid = f"w{i}"
        log.enrolled(eid)
        log.task_done(eid, before_start=True)
        log.survey(eid, "success" if i < with_n - 1 else "not_applied", ("no_time",))
    for i in range(without_n):
        eid = f"n{i}"
        log.enrolled(eid)
        if i == 1:
            log.task_done(eid, before_start=False)  # done, but after the start: not the factor
        log.survey(eid, "success" if i == 0 else "not_applied", ("no_manager_support",))
    return log


def test_expectations_factor_numbers() -> None:
    ev = evaluate(supported_cohort().events)
    f = factor(ev, FACTOR_EXPECTATIONS)
    assert not f.suppressed
    assert (f.with_.count, f.with_.total) == (5, 6)
    assert (f.without.count, f.without.total) == (1, 6)
    assert f.with_.value == pytest.approx(5 / 6)
    assert f.without.value == pytest.approx(1 / 6)
    assert f.difference == pytest.approx(4 / 6)
    assert f.with_.low == pytest.approx(wilson(5, 6).low)
    # nobody approved: the "with" group is empty, so the comparison is suppressed
    approved = factor(ev, FACTOR_APPROVED)
    assert approved.suppressed and (approved.with_.total, approved.without.total) == (0, 12)
    lines = summary_lines(ev, "J")
    # 5/6 vs 1/6: Newcombe's interval excludes 0, so a direction is stated, with Fisher's p
    assert f.diff is not None and f.diff.distinguishable
    assert f.diff.p_value == pytest.approx(0.0801, abs=1e-4)
    assert ("Manager support — Expectations conversation before the start: 83% impact with it "
            "(5 of 6) vs 17% without (1 of 6): +67 points (95% CI +11 to +86 points, Fisher's "
            "exact p = 0.08).") in lines


def test_small_group_is_suppressed_but_sizes_kept() -> None:
    ev = evaluate(supported_cohort(with_n=6, without_n=4).events)
    f = factor(ev, FACTOR_EXPECTATIONS)
    assert f.suppressed and f.difference is None
    assert (f.with_.total, f.without.total) == (6, 4)
    for r in (f.with_, f.without):
        assert r.count == 0 and r.value is None and r.low is None and r.high is None
    # a lower threshold shows it
    shown = factor(evaluate(supported_cohort(6, 4).events, min_group=4), FACTOR_EXPECTATIONS)
    assert not shown.suppressed and shown.difference == pytest.approx(5 / 6 - 1 / 4)
    lines = summary_lines(ev, "J")
    assert "Manager-support comparison hidden: groups smaller than 5." in lines
    assert not any(line.startswith("Manager support —") for line in lines)
    rows = {r[0]: r for r in to_csv_rows(ev)}
    assert rows[f"factor:{FACTOR_EXPECTATIONS}:with"] == [
        f"factor:{FACTOR_EXPECTATIONS}:with", "", "", "6", "", ""]
    assert rows[f"factor:{FACTOR_EXPECTATIONS}:difference"][1] == ""


def test_approved_coach_and_fast_factors() -> None:
    log = Log()
    # five enrollments whose manager approved within an hour: 4 success
    for i in range(5):
        eid = f"f{i}"
        log.enrolled(eid)
        log.request_sent(eid)
        log.manager_answer(eid, "approve", response_s=H)
        log.survey(eid, "success" if i < 4 else "tried_no_success", ("unclear_how",))
    # five who got a coaching answer after two days: 2 success
    for i in range(5):
        eid = f"s{i}"
        log.enrolled(eid)
        log.request_sent(eid)
        log.manager_answer(eid, "coach", response_s=48 * H)
        log.survey(eid, "success" if i < 2 else "not_applied", ("no_time",))
    # two whose request was never answered (slow once 24 h passed), one whose is still pending
    for eid in ("u0", "u1"):
        log.enrolled(eid)
        log.request_sent(eid)
        log.survey(eid, "not_applied", ("no_manager_support",))
    log.add("enrolled", "p0", at=log.now + timedelta(hours=30), start="2025-03-10")
    log.request_sent("p0")
    log.survey("p0", "success")
    # one with no request at all
    log.enrolled("x0")
    log.survey("x0", "not_applied", ("no_opportunity",))
    ev = evaluate(log.events)
    assert ev.responded_scm == 14

    approved = factor(ev, FACTOR_APPROVED)
    assert (approved.with_.count, approved.with_.total) == (4, 5)
    assert (approved.without.count, approved.without.total) == (3, 9)
    assert approved.difference == pytest.approx(4 / 5 - 3 / 9)

    coach = factor(ev, FACTOR_COACH)
    assert (coach.with_.count, coach.with_.total) == (2, 5)
    assert (coach.without.count, coach.without.total) == (5, 9)
    assert coach.difference == pytest.approx(2 / 5 - 5 / 9)

    fast = factor(ev, FACTOR_FAST)  # only enrollments with a decided request: f*, s*, u*
    assert (fast.with_.count, fast.with_.total) == (4, 5)
    assert (fast.without.count, fast.without.total) == (2, 7)
    assert fast.difference == pytest.approx(4 / 5 - 2 / 7)

    # judged at a moment before the unanswered requests were 24 h old, u* are pending too
    early = evaluate(log.events, as_of=log.events[0].at + timedelta(hours=1))
    assert factor(early, FACTOR_FAST).without.total == 5
    # the strongest difference is the fast-response one
    strongest = next(line for line in summary_lines(ev, "J") if line.startswith("Manager support"))
    assert strongest.startswith(f"Manager support — {FACTOR_FAST}: 80% impact with it (4 of 5)")
    # 4/5 vs 2/7 (Fisher p = 0.24): the interval includes no difference, so no direction is claimed
    assert strongest.endswith("vs 29% without (2 of 7): not distinguishable from no difference "
                              "(95% CI −4 to +78 points, Fisher's exact p = 0.24).")


def test_request_steps_named_by_the_caller() -> None:
    log = Log()
    for i in range(5):
        log.enrolled(f"a{i}")
        log.request_sent(f"a{i}", step="ask-boss")  # nobody ever answered this step
        log.survey(f"a{i}", "not_applied", ("no_manager_support",))
    log.add("reminded", "a0", "a0:ask-boss", at=log.now + timedelta(days=3), n=1)
    assert factor(evaluate(log.events), FACTOR_FAST).without.total == 0
    named = evaluate(log.events, request_steps={"ask-boss"})
    assert factor(named, FACTOR_FAST).without.total == 5


# --- what was lost ----------------------------------------------------------------------------

def test_lost_value() -> None:
    ev = evaluate(supported_cohort().events)
    lost = ev.lost
    assert (lost.supported, lost.unsupported) == (6, 6)
    assert lost.non_success_unsupported == 5
    # supported success rate 5/6 applied to 6 unsupported = 5 expected, 1 observed -> 4 more
    assert lost.extra_successes == 4 and not lost.suppressed
    assert ("What was lost: 5 of 6 participants without manager support did not reach a "
            "worthwhile result; at the supported group's success rate about 4 more would have "
            "been success cases (an association, not proof that support caused it).") in summary_lines(ev, "J")


def test_one_click_is_not_manager_support() -> None:
    log = supported_cohort()
    log.manager_answer("n2", "coach")  # coached, but no expectations conversation before the start
    log.manager_answer("n3", "approve")
    log.request_sent("w1")  # expectations held, but this request was never answered
    lost = evaluate(log.events, as_of=T0 + timedelta(days=3)).lost
    assert (lost.supported, lost.unsupported) == (5, 7)


def test_what_was_lost_never_reveals_a_hidden_comparison() -> None:
    log = supported_cohort(6, 4)  # 4 < min_group: the comparison is hidden
    ev = evaluate(log.events)
    lost = ev.lost
    assert lost.suppressed and lost.extra_successes is None and lost.non_success_unsupported == 0
    lines = summary_lines(ev, "J")
    assert "Manager-support comparison hidden: groups smaller than 5." in lines
    assert not any(line.startswith("What was lost") for line in lines)


def test_unanimous_group_is_hidden() -> None:
    log = Log()
    for i in range(6):  # all six with an expectations conversation succeeded
        log.enrolled(f"w{i}")
        log.task_done(f"w{i}")
        log.survey(f"w{i}", "success")
    for i in range(6):
        log.enrolled(f"n{i}")
        log.survey(f"n{i}", "success" if i < 2 else "not_applied")
    ev = evaluate(log.events)
    f = factor(ev, FACTOR_EXPECTATIONS)
    assert f.suppressed and f.hidden_because == "unanimous" and f.with_.value is None
    assert ev.lost.suppressed
    lines = summary_lines(ev, "J")
    assert ("Manager-support comparison hidden: groups smaller than 5; or a group answered "
            "unanimously, which would reveal each member's answer.") in lines
    assert not any("impact with it" in line or line.startswith("What was lost") for line in lines)


def test_lost_value_never_negative() -> None:
    log = Log()
    for i in range(5):
        log.enrolled(f"s{i}")
        log.task_done(f"s{i}")
        log.survey(f"s{i}", "success" if i == 0 else "not_applied", ("no_time",))
    for i in range(5):
        log.enrolled(f"u{i}")
        log.survey(f"u{i}", "success" if i else "not_applied")
    lost = evaluate(log.events).lost
    assert not lost.suppressed
    assert lost.extra_successes == 0 and lost.non_success_unsupported == 1


# --- exports ----------------------------------------------------------------------------------

def test_csv_rows() -> None:
    log = supported_cohort()
    log.plan("w0", "plan-1")
    log.follow_up("w0", "plan-1", "yes")
    ev = evaluate(log.events)
    rows = to_csv_rows(ev)
    assert rows[0] == CSV_HEADER == ["metric", "value", "count", "total", "low", "high"]
    assert all(len(r) == 6 and all(isinstance(c, str) for c in r) for r in rows)
    by = {r[0]: r for r in rows}
    imp = wilson(6, 12)
    assert by["impact_rate"] == ["impact_rate", "0.5000", "6", "12", f"{imp.low:.4f}",
                                 f"{imp.high:.4f}"]
    assert by["participants"][1] == "12"
    assert by["application_rate"][1:4] == ["1.0000", "1", "1"]
    assert by["class:not_applied"][2:4] == ["6", "12"]
    assert by["barrier:no_manager_support"][2:4] == ["5", "6"]
    assert by[f"factor:{FACTOR_EXPECTATIONS}:difference"] == [
        f"factor:{FACTOR_EXPECTATIONS}:difference", "0.6667", "", "", "0.1055", "0.8599"]
    assert by[f"factor:{FACTOR_EXPECTATIONS}:fisher_p"][1] == "0.0801"
    assert by["impact_vs_baseline_verdict"][1] == "above"
    assert by["lost:extra_success_cases"][1] == "4"
    assert by["median_response_hours:managers"][1] == "0.50"
    assert len({r[0] for r in rows}) == len(rows)  # metric names are unique


def test_per_person_rows() -> None:
    log = supported_cohort(with_n=1, without_n=2)
    log.plan("w0", "plan-1")
    log.plan("w0", "plan-2")
    log.follow_up("w0", "plan-1", "yes")
    log.request_sent("n0")
    log.manager_answer("n0", "coach", response_s=30 * H)
    log.enrolled("zz")
    rows = per_person_rows(log.events, {"w0": "Ann", "n0": "=cmd()", "n1": "Bo"})
    assert rows[0] == PERSON_HEADER
    assert [r[0] for r in rows[1:]] == ["zz", "n0", "w0", "n1"]  # by name ("", "'=cmd()", ...)
    by = {r[0]: r for r in rows[1:]}
    # progress only: no classification, barriers or manager support next to a name (docs/exports.md)
    assert by["w0"] == ["w0", "Ann", "yes", "2", "1", "1"]
    assert by["n0"] == ["n0", "'=cmd()", "yes", "0", "0", "0"]
    assert by["n1"] == ["n1", "Bo", "yes", "0", "0", "0"]
    assert by["zz"] == ["zz", "", "no", "0", "0", "0"]
    assert not {"classification", "barriers", "manager_coached"} & set(PERSON_HEADER)
    only = per_person_rows(log.events, {}, enrollment_ids=["w0"])
    assert [r[0] for r in only[1:]] == ["w0"]


def test_managers_cant_this_time_reasons_are_a_barrier_in_the_report() -> None:
    """Issue 13: "Can't this time" with a reason is counted per request, shown in the summary and
    in the CSV, with no names."""
    from datetime import UTC, datetime

    from journeys.evaluation.success_case import evaluate, summary_lines, to_csv_rows
    from journeys.state import JourneyEvent

    at = datetime(2027, 4, 20, 9, tzinfo=UTC)
    events = [JourneyEvent("enrolled", e, at) for e in ("e1", "e2", "e3")]
    events += [JourneyEvent("manager_cant", "e1", at, "e1.support-safe", {"reason": "no_time"}),
               JourneyEvent("manager_cant", "e1", at, "e1.support-safe", {"reason": "no_time"}),  # same request
               JourneyEvent("manager_cant", "e2", at, "e2.support-safe", {"reason": "no_time"}),
               JourneyEvent("manager_cant", "e3", at, "e3.support-real", {"reason": "away"})]
    ev = evaluate(events)
    assert ev.manager_cant == [("no_time", 2), ("away", 1)]
    text = "\n".join(summary_lines(ev, "Active Listening"))
    assert 'Managers said "can\'t this time" to 3 support requests: no time, other priorities (2), ' \
           "away or off that day (1)." in text
    # each declined request is a manager-support barrier, with who can remove it
    assert ("• No support from their manager: 3 (3 support requests declined) — who can remove it: their "
            "managers, with their own managers holding them to it.") in text
    rows = to_csv_rows(ev)
    assert ["manager_cant:no_time", "2", "2", "", "", ""] in rows
