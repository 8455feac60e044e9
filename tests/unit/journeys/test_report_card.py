"""The chat report card (`summary_lines`): response times and the two success stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from journeys.evaluation.success_case import evaluate, summary_lines
from journeys.state import JourneyEvent

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)


def event(name: str, eid: str, minutes: int, /, **data: Any) -> JourneyEvent:
    return JourneyEvent(name, eid, T0 + timedelta(minutes=minutes), f"{eid}.x", data)


def cohort() -> list[JourneyEvent]:
    events = []
    for i, (eid, secs) in enumerate((("a", 1800), ("b", 3 * 3600), ("c", 30 * 3600))):
        events.append(event("enrolled", eid, i))
        events.append(event("answered", eid, 10 + i, step="q", kind="question", response_s=secs))
        events.append(event("answered", eid, 20 + i, step="support-real", kind="manager_request",
                            choice="approve", response_s=secs * 2))
        events.append(event("scm_classified", eid, 30 + i, classification="success", contact=True))
    return events


def test_median_response_times_of_participants_and_managers() -> None:
    lines = summary_lines(evaluate(cohort()), "J")
    assert "Median response time: participants 3 h, managers 6 h." in lines


def test_short_response_times_read_in_minutes() -> None:
    events = [event("answered", "a", 1, kind="question", response_s=900)]
    assert "Median response time: participants 15 min." in summary_lines(evaluate(events), "J")


def test_no_response_time_line_without_answers() -> None:
    assert not any(line.startswith("Median response time") for line in summary_lines(evaluate([]), "J"))


def test_at_most_two_stories_follow_the_count() -> None:
    ev = evaluate(cohort())
    stories = [("Paraphrased first.", "No escalation."), ("", ""), ("Paused.", ""), ("Third.", "Never shown.")]
    lines = summary_lines(ev, "J", stories)
    at = lines.index("3 success stories may be shared (authors agreed).")
    assert lines[at + 1:] == ["Self-reported story 1 (survey, not verified): “Paraphrased first.” Result: “No escalation.”",
                              "Self-reported story 2 (survey, not verified): “Paused.”"]


def test_no_stories_by_default() -> None:
    assert not any(line.startswith("Self-reported story") for line in summary_lines(evaluate(cohort()), "J"))


def test_never_answered_requests_count_in_the_managers_median() -> None:
    events = cohort()  # managers answered in 1 h, 6 h and 60 h
    for eid in ("d", "e"):  # two more requests that nobody ever answered
        events.append(event("enrolled", eid, 5))
        events.append(JourneyEvent("sent", eid, T0, f"{eid}.req", {"step": "support-real"}))
    later = T0 + timedelta(days=4)
    ev = evaluate(events, as_of=later)
    assert ev.requests_unanswered == 2
    # 1 h, 6 h, 60 h, never, never: the median is the slowest answered one, not 6 h
    assert ev.manager_response_hours == 60
    line = next(x for x in summary_lines(ev, "J") if x.startswith("Median response time"))
    assert line == ("Median response time: participants 3 h, managers 60 h "
                    "(2 support requests never answered, counted as the slowest).")
    events.append(JourneyEvent("sent", "f", T0, "f.req", {"step": "support-real"}))
    line = next(x for x in summary_lines(evaluate(events, as_of=later), "J")
                if x.startswith("Median response time"))
    assert "managers: half or more of their support requests never answered" in line
