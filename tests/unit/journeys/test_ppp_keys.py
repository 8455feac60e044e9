"""The journey keys of issue 14: outcome measures, the scm_outcome survey role, interview settings.

Each bad value is reported by `hplj validate` at its file:line:col; plain-string outcomes stay valid.
"""

from __future__ import annotations

import pytest

from journeys.loader import JourneyFileError, load_journey_text
from journeys.ppp import Outcome, measured_outcomes

HEAD = """id: measured
title: Measured journey
version: 1
ppp:
  business_goal: Fewer escalated support calls
  outcomes:
    - Customers feel heard on the first call
    - id: fewer-escalations
      text: Fewer escalations
      measure:
        name: escalations a month
        unit: avoided escalation
        value_per_unit: 350
        currency: GBP
        direction: {direction}
        baseline: 40
        target: {target}
        period: month
  behaviours:
    - id: paraphrase
      text: Paraphrase the problem before proposing a fix
interviews: {interviews}
steps:
  - id: survey
    kind: survey
    evaluation: success_case
    when: start+20 10:00
    text: What changed?
    questions:
      - id: applied
        role: scm_classification
        answer: choice
        text: Did you use it?
        options:
          - {{value: success, label: "Yes, with a result"}}
          - {{value: applied_no_result, label: "Yes, no result yet"}}
          - {{value: tried_no_success, label: "Tried"}}
          - {{value: not_applied, label: "No"}}
      - id: outcome
        role: scm_outcome
        answer: {answer}
        text: Which result moved?
        options:
          - {{value: fewer-escalations, label: Fewer escalations}}
          - {{value: {option}, label: Something}}
"""


def text(direction: str = "decrease", target: str = "25", interviews: str = "{success_cases: 3}",
         answer: str = "choice", option: str = "other") -> str:
    return HEAD.format(direction=direction, target=target, interviews=interviews, answer=answer, option=option)


def errors(source: str) -> list[tuple[int, int, str]]:
    with pytest.raises(JourneyFileError) as exc:
        load_journey_text(source, "j.yml")
    return [(e.line, e.column, e.message) for e in exc.value.errors]


def test_measured_and_plain_outcomes_load_together() -> None:
    j = load_journey_text(text(), "j.yml")
    assert str(j.ppp.outcomes[0]) == "Customers feel heard on the first call" and j.ppp.outcomes[0].id is None
    o = measured_outcomes(j)["fewer-escalations"]
    assert isinstance(o, Outcome) and o.measure is not None
    assert (o.measure.value_per_unit, o.measure.currency, o.measure.direction) == (350, "GBP", "decrease")
    assert j.interviews.success_cases == 3 and j.interviews.non_success_sample == 2  # the default


@pytest.mark.parametrize("kwargs,line,col,words", [
    ({"direction": "down"}, 15, 20, "'increase' or 'decrease'"),
    ({"target": "50"}, 17, 17, "the target must be below the baseline (40)"),
    ({"direction": "increase"}, 17, 17, "the target must be above the baseline (40)"),
    ({"target": "-1"}, 17, 17, "greater than or equal to 0"),
    ({"interviews": "{success_cases: -1}"}, 22, 29, "greater than or equal to 0"),
    ({"interviews": "{minutes: 5}"}, 22, 23, "greater than or equal to 15"),
    ({"interviews": "{sample: 2}"}, 22, 14, "unknown key 'sample'"),
    ({"answer": "text"}, 41, 17, "an scm_outcome question must be a choice"),
    ({"option": "fewer-complaints"}, 45, 21, "'fewer-complaints' is not a ppp outcome id"),
])
def test_bad_values_are_reported_at_their_position(kwargs: dict[str, str], line: int, col: int, words: str) -> None:
    found = errors(text(**kwargs))
    assert any((ln, c) == (line, col) and words in m for ln, c, m in found), found


def test_a_bad_value_per_unit_and_currency() -> None:
    bad = text().replace("value_per_unit: 350", "value_per_unit: 0").replace("currency: GBP", "currency: pounds")
    found = errors(bad)
    assert (13, 25, "input should be greater than 0, got 0") in found
    assert (14, 19, "expected text matching ^[A-Z]{3}$, got 'pounds'") in found


def test_a_measure_needs_an_outcome_id() -> None:
    anonymous = text().replace("    - id: fewer-escalations\n      text: Fewer escalations", "    - text: Fewer escalations")
    assert any("an outcome with a measure needs an 'id'" in m for _, _, m in errors(anonymous))


def test_duplicate_outcome_ids() -> None:
    dup = text().replace("  behaviours:", "    - id: fewer-escalations\n      text: Again\n  behaviours:")
    assert any("duplicate outcome id 'fewer-escalations'" in m for _, _, m in errors(dup))


def test_the_sample_journey_declares_measures_and_tags_stories() -> None:
    from journeys.loader import default_library_path, load_library

    j = load_library(default_library_path())["active-listening"]
    assert {"fewer-escalations", "fewer-contacts"} <= {k for k, o in measured_outcomes(j).items() if o.measure}
    survey = j.step("success-case")
    assert any(q.role == "scm_outcome" for q in getattr(survey, "questions", []))


FOLLOW = """
  - id: later
    kind: survey
    evaluation: follow_up
    when: {when}
    text: Ten weeks on?
    questions:
""" + HEAD[HEAD.index("      - id: applied"):HEAD.index("      - id: outcome")]  # the same classification question


def test_a_follow_up_survey_about_ten_weeks_on_loads() -> None:
    j = load_journey_text(text() + FOLLOW.format(when="start+50 10:00"), "j.yml")
    assert j.step("later").evaluation == "follow_up"  # type: ignore[union-attr]


def test_a_follow_up_survey_too_early_is_reported_at_its_when() -> None:
    found = errors(text() + FOLLOW.format(when="start+10 10:00"))
    assert any(ln == 50 and c == 11 and "about 60-90 days after the start" in m for ln, c, m in found), found


def test_a_follow_up_needs_a_first_survey_and_comes_once() -> None:
    alone = text().replace("evaluation: success_case", "evaluation: follow_up").replace(
        "start+20 10:00", "start+45 10:00")
    assert any("needs an earlier success_case survey" in m for _, _, m in errors(alone))
    twice = text() + FOLLOW.format(when="start+50 10:00") + FOLLOW.format(when="start+55 10:00").replace(
        "id: later", "id: later2")
    assert any("at most one follow_up survey" in m for _, _, m in errors(twice))


def test_a_follow_up_survey_without_when_goes_about_ten_weeks_on() -> None:
    """Issue 14: the follow-up's default time is about 70 days after the start (50 working days)."""
    source = text() + FOLLOW.format(when="start+50 10:00").replace("    when: start+50 10:00\n", "")
    assert "when: start+50" not in source
    j = load_journey_text(source, "j.yml")
    assert j.step("later").when == "start+50 10:00"


def test_a_measure_needs_a_period_and_a_known_one() -> None:
    """Value is per period: a measure without one, or with an unknown one, is an error at its line."""
    missing = errors(text().replace("        period: month\n", ""))
    assert (10, 7, "missing required key 'period'") in missing
    wrong = errors(text().replace("period: month", "period: fortnight"))
    assert any((ln, c) == (18, 17) and "'week', 'month', 'quarter' or 'year'" in m for ln, c, m in wrong), wrong


def test_the_cost_per_participant_loads_and_must_share_the_outcomes_currency() -> None:
    with_cost = text().replace("  behaviours:", "  cost: {per_participant: 900, currency: GBP}\n  behaviours:")
    assert load_journey_text(with_cost, "j.yml").ppp.cost is not None
    other = errors(with_cost.replace("currency: GBP}", "currency: EUR}"))
    assert any(ln == 19 and "the cost is in EUR but outcome 'fewer-escalations' is valued in GBP" in m
               for ln, _, m in other), other
    free = errors(with_cost.replace("per_participant: 900", "per_participant: 0"))
    assert any(ln == 19 and "greater than 0" in m for ln, _, m in free), free


def test_survey_barriers_must_be_the_performance_system_barriers() -> None:
    survey = text() + """      - id: barriers
        role: scm_barriers
        answer: multi_choice
        text: What got in the way?
        options:
          - {value: no_time, label: No time}
          - {value: bad_weather, label: Rain}
"""
    found = errors(survey)
    assert any(ln == 52 and "'bad_weather' is not a barrier the reports know" in m for ln, _, m in found), found
