"""Barriers of the performance system: survey answers, declined and expired support requests
counted together as the barriers the method names, each line saying who can remove it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journeys.evaluation.barriers import BARRIERS, barrier_counts, barrier_line, owner
from journeys.evaluation.success_case import evaluate, summary_lines
from journeys.state import JourneyEvent

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)


def survey(eid: str, cls: str, barriers: tuple[str, ...], minute: int = 0) -> list[JourneyEvent]:
    return [JourneyEvent("enrolled", eid, T0),
            JourneyEvent("scm_classified", eid, T0 + timedelta(days=30, minutes=minute), f"{eid}.scm",
                         {"classification": cls, "barriers": list(barriers)})]


def test_every_barrier_the_method_names_is_offered_with_an_owner() -> None:
    assert set(BARRIERS) >= {"no_opportunity", "no_time", "no_manager_support", "no_incentive", "unclear_how",
                             "tools_process"}
    assert "senior leaders" in owner("no_incentive") and "L&D" in owner("unclear_how")
    assert owner("unheard-of") == owner("other")


def test_declined_and_expired_requests_count_as_manager_support_barriers() -> None:
    events = [*survey("a", "not_applied", ("no_manager_support", "no_time")),
              *survey("b", "tried_no_success", ("no_incentive",), 1),
              *survey("c", "success", ("no_time",), 2)]  # a success case's barriers are not counted
    events += [JourneyEvent("manager_cant", "b", T0, "b.support-safe", {"reason": "no_time"}),
               JourneyEvent("manager_cant", "b", T0, "b.support-safe", {"reason": "no_time"}),  # same request
               JourneyEvent("expired", "c", T0, "c.support-real", {"step": "support-real"}),
               JourneyEvent("expired", "c", T0, "c.mtm-real", {"step": "mtm-real"})]  # not a request
    ev = evaluate(events, request_steps=("support-safe", "support-real"))
    first, *rest = ev.barrier_counts
    assert (first.code, first.survey, first.declined, first.expired, first.total) == ("no_manager_support", 1, 1, 1, 3)
    assert [(b.code, b.total) for b in rest] == [("no_time", 1), ("no_incentive", 1)]
    assert barrier_line(first) == (
        "No support from their manager: 3 (1 in the survey, 1 support request declined, 1 support request expired "
        "unanswered) — who can remove it: their managers, with their own managers holding them to it.")
    text = "\n".join(summary_lines(ev, "Active Listening"))
    assert "Barriers in the performance system, and who can remove them:" in text
    assert ("• Nothing rewards or recognises it: 1 — who can remove it: senior leaders and HR, by aligning goals, "
            "reviews and recognition.") in text


def test_no_barriers_no_section() -> None:
    assert barrier_counts([], [], ()) == []
    ev = evaluate(survey("a", "success", ()))
    assert not any("who can remove" in line for line in summary_lines(ev, "J"))
