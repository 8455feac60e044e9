"""The follow-up survey compared with the first, on hand-built events with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journeys.evaluation.followup import follow_up, follow_up_lines
from journeys.state import JourneyEvent

T0 = datetime(2027, 5, 24, 9, tzinfo=UTC)


def answers(first: dict[str, str], later: dict[str, str]) -> list[JourneyEvent]:
    out = [JourneyEvent("scm_classified", k, T0, None, {"classification": v}) for k, v in first.items()]
    out += [JourneyEvent("scm_follow_up", k, T0 + timedelta(days=30), None, {"classification": v})
            for k, v in later.items()]
    return out


FIRST = {"a": "success", "b": "success", "c": "not_applied", "d": "applied_no_result", "e": "not_applied",
         "f": "success"}
LATER = {"a": "success", "b": "applied_no_result", "c": "success", "d": "success", "e": "not_applied"}


def test_both_rates_and_who_changed() -> None:
    f = follow_up(answers(FIRST, LATER), min_group=5)
    assert (f.first.count, f.first.total) == (3, 6)
    assert (f.impact.count, f.impact.total) == (3, 5)
    assert (f.both, f.sustained, f.new, f.faded) == (5, 1, 2, 1)
    lines = follow_up_lines(f, 5)
    assert lines == [
        ("Follow-up survey: impact 60% (3 of 5, 95% CI 23%–88%), against 50% (3 of 6, 95% CI 19%–81%) at the "
         "first survey."),
        "Of the 5 who answered both: 1 still success cases, 2 new, 1 no longer.",
        "For the same people, that is not distinguishable from no change (exact McNemar test, p = 1.00).",
    ]


def test_a_change_beyond_chance_is_worded_so() -> None:
    """Ten people who became success cases and none who stopped: exact McNemar p = 2/1024."""
    first = {f"p{i}": "not_applied" for i in range(12)}
    later = {**{f"p{i}": "success" for i in range(10)}, "p10": "not_applied", "p11": "not_applied"}
    f = follow_up(answers(first, later), min_group=5)
    assert (f.new, f.faded) == (10, 0) and f.p_value == 2 / 1024
    assert follow_up_lines(f, 5)[-1] == ("For the same people, that is a change beyond chance (exact McNemar test, "
                                         "p = 0.002).")


def test_changes_per_person_hidden_below_min_group() -> None:
    f = follow_up(answers(FIRST, {"a": "success", "c": "success"}), min_group=5)
    assert f.sustained is None and f.new is None and f.faded is None
    assert follow_up_lines(f, 5)[1] == "Changes per person: hidden while fewer than 5 answered both surveys (2 so far)."


def test_nothing_before_the_follow_up_is_answered() -> None:
    assert follow_up_lines(follow_up(answers(FIRST, {}), 5), 5) == []
