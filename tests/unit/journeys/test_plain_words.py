"""Plain words first: the sentence a busy reader gets is chosen by the statistics, and changes
exactly where the interval crosses what it is compared with (unit tests at each boundary)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journeys.evaluation.plain_words import (
    NO_ANSWERS,
    compare_sentence,
    factor_sentence,
    headline,
    impact_sentence,
    plain_csv_rows,
    rate_sentence,
    support_sentence,
)
from journeys.evaluation.stats import difference
from journeys.evaluation.success_case import (
    FACTOR_EXPECTATIONS,
    Factor,
    Rate,
    evaluate,
    wilson,
)
from journeys.state import JourneyEvent

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)
BETTER, WORSE, SAME = "better by {points}", "worse by {points}", "same"


def people(*specs: tuple[str, bool]) -> list[JourneyEvent]:
    """One enrollment per (classification, had an expectations conversation before the start)."""
    events = []
    for n, (cls, talked) in enumerate(specs):
        eid = f"e{n}"
        events.append(JourneyEvent("enrolled", eid, T0))
        if talked:
            events.append(JourneyEvent("manager_task_done", eid, T0 + timedelta(hours=1), f"{eid}.x",
                                       {"before_start": True}))
        events.append(JourneyEvent("scm_classified", eid, T0 + timedelta(days=30, minutes=n), f"{eid}.scm",
                                   {"classification": cls}))
    return events


def test_no_answers_and_too_few_answers_say_so_instead_of_a_rate() -> None:
    assert rate_sentence(wilson(0, 0), 0, 5, 0.2) == NO_ANSWERS
    assert rate_sentence(wilson(3, 4), 4, 5, 0.2) == "Too few answers yet to tell (4 of the 5 needed)."
    # at the minimum group the statistics decide: 3 of 5 has its whole interval (23%–88%) above 20%
    assert rate_sentence(wilson(3, 5), 5, 5, 0.2).startswith("Clearly above the 20% usually seen: 60%")


def test_clearly_above_only_when_the_whole_interval_is_above_the_baseline() -> None:
    # 5 of 10: interval 24%–76%, above 20%; 4 of 10: 17%–69%, includes it
    assert rate_sentence(wilson(5, 10), 10, 5, 0.2) == (
        "Clearly above the 20% usually seen: 50% of those who answered reached a worthwhile result.")
    assert rate_sentence(wilson(4, 10), 10, 5, 0.2) == (
        "Too close to the 20% usually seen to call it better or worse yet: 40% of those who answered "
        "reached a worthwhile result.")


def test_clearly_below_only_when_the_whole_interval_is_below_the_baseline() -> None:
    # 0 of 20: interval 0%–16%, below 20%; 1 of 20: 1%–24%, includes it
    assert rate_sentence(wilson(0, 20), 20, 5, 0.2).startswith("Clearly below the 20% usually seen: 0%")
    assert rate_sentence(wilson(1, 20), 20, 5, 0.2).startswith("Too close to the 20% usually seen")


def test_without_a_baseline_only_the_rate_is_said() -> None:
    assert rate_sentence(wilson(5, 10), 10, 5, 0.0) == "50% of those who answered reached a worthwhile result."


def test_a_difference_gets_a_direction_only_when_its_interval_excludes_none() -> None:
    # 5 of 6 vs 1 of 6: +67 points, interval +11 to +86; 4 of 6 vs 1 of 6: interval −4 to +77
    assert compare_sentence(difference(5, 6, 1, 6), BETTER, WORSE, SAME) == "better by 67 points"
    assert compare_sentence(difference(4, 6, 1, 6), BETTER, WORSE, SAME) == "same"
    assert compare_sentence(difference(1, 6, 5, 6), BETTER, WORSE, SAME) == "worse by 67 points"


def test_factor_sentences_hidden_small_unanimous_and_shown() -> None:
    hidden = Rate(0, 3, None, None, None)
    small = Factor(FACTOR_EXPECTATIONS, hidden, hidden, None, True, None, "small")
    assert factor_sentence(small, 5) == (
        "Too few people on each side yet to tell whether an expectations conversation with their manager "
        "before the start made a difference (each side needs 5).")
    alike = Factor(FACTOR_EXPECTATIONS, hidden, hidden, None, True, None, "unanimous")
    assert "not shown, one side answered alike" in factor_sentence(alike, 5)
    d = difference(4, 6, 1, 6)
    same = Factor(FACTOR_EXPECTATIONS, wilson(4, 6), wilson(1, 6), d.value, False, d)
    assert factor_sentence(same, 5) == ("No difference we can tell between people with and without an "
                                        "expectations conversation with their manager before the start.")


def test_the_report_opening_for_a_cohort_whose_support_made_a_clear_difference() -> None:
    ev = evaluate(people(*[("success", True)] * 5, ("not_applied", True),
                         ("success", False), *[("not_applied", False)] * 5))
    assert impact_sentence(ev).startswith("Clearly above the 20% usually seen: 50%")  # 6 of 12: 25%–75%
    assert support_sentence(ev) == "People their managers supported clearly did better: 67 points more reached a result."
    assert headline(ev)[2] == ("People who had an expectations conversation with their manager before the start "
                               "clearly did better: 67 points more reached a result.")


def test_no_difference_we_can_tell_between_supported_and_unsupported_people() -> None:
    ev = evaluate(people(*[("success", True)] * 3, *[("not_applied", True)] * 3,
                         *[("success", False)] * 2, *[("not_applied", False)] * 4))
    assert support_sentence(ev) == "No difference we can tell between supported and unsupported people."
    small = evaluate(people(("success", True), ("not_applied", False)))
    assert support_sentence(small) == ("Too few people on each side yet to tell whether manager support made a "
                                       "difference (each side needs 5).")
    assert support_sentence(evaluate([])) is None


def test_the_csv_keeps_the_interval_one_column_away_from_the_sentence() -> None:
    ev = evaluate(people(*[("success", True)] * 5, ("not_applied", True),
                         ("success", False), *[("not_applied", False)] * 5))
    rows = {r[0]: r for r in plain_csv_rows(ev)}
    impact = rows["plain:impact"]
    assert impact[1] == impact_sentence(ev) and impact[2:4] == ["6", "12"]
    assert 0.2 < float(impact[4]) < float(impact[5])  # why it is "clearly above": the interval is above 20%
    support = rows["plain:support"]
    assert support[1].startswith("People their managers supported clearly did better")
    assert 0 < float(support[4]) < float(support[5])  # the difference's interval, above zero
    assert rows["plain:support:fisher_p"][1] == "0.0801"  # Fisher's exact p of 5 of 6 vs 1 of 6


def test_whether_results_lasted_is_said_by_the_exact_mcnemar_test() -> None:
    from journeys.evaluation.followup import FollowUp
    from journeys.evaluation.plain_words import follow_up_sentence

    def later(both: int, sustained: int | None, new: int | None, faded: int | None) -> FollowUp:
        return FollowUp(wilson(1, both), wilson(1, both), both, sustained, new, faded)

    assert follow_up_sentence(FollowUp(wilson(1, 5), wilson(0, 0), 0, None, None, None), 5) is None
    assert follow_up_sentence(later(4, None, None, None), 5) == (
        "Too few people answered both surveys yet to tell whether results lasted (4 of the 5 needed).")
    assert follow_up_sentence(later(5, 2, 0, 0), 5) == (
        "Results held at the follow-up: 2 still success cases, 0 new, 0 no longer, of 5 who answered both.")
    # 5 new, none faded: p = 0.0625, no change we can tell; 6 new: p = 0.031, clearly more
    assert follow_up_sentence(later(8, 1, 5, 0), 5).startswith(
        "No change we can tell between the first survey and the follow-up: 1 still success case, 5 new")
    assert follow_up_sentence(later(8, 1, 6, 0), 5).startswith("Clearly more success cases at the follow-up")
    assert follow_up_sentence(later(8, 1, 0, 6), 5).startswith("Clearly fewer success cases at the follow-up")
