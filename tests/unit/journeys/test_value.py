"""Business value in the PPP's words, on hand-built events with known answers: the estimated value
of verified cases with its basis, what was lost as people and as value, and what stays hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journeys.evaluation.accountability import OrgFigures
from journeys.evaluation.interviews import Verdict, recorded_event, verified
from journeys.evaluation.stats import difference
from journeys.evaluation.success_case import Rate, evaluate, wilson
from journeys.evaluation.value import business_figures, leader_lines, money, ppp_lines
from journeys.loader import default_library_path, load_library
from journeys.state import JourneyEvent

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)
JOURNEY = load_library(default_library_path())["active-listening"]


def person(eid: str, cls: str, supported: bool, minute: int) -> list[JourneyEvent]:
    out = [JourneyEvent("enrolled", eid, T0)]
    if supported:
        out.append(JourneyEvent("manager_task_done", eid, T0 + timedelta(hours=1), None, {"before_start": True}))
    out.append(JourneyEvent("scm_classified", eid, T0 + timedelta(days=30, minutes=minute), f"{eid}.scm",
                            {"classification": cls, "contact": True}))
    return out


def cohort() -> list[JourneyEvent]:
    """Supported: 4 of 5 successes; unsupported: 1 of 5. At the supported rate (80%) the five
    unsupported would have given 4 success cases: 3 more than the 1 they gave."""
    events: list[JourneyEvent] = []
    for i, cls in enumerate(["success"] * 4 + ["not_applied"]):
        events += person(f"a{i}", cls, True, i)
    for i, cls in enumerate(["success"] + ["not_applied"] * 4):
        events += person(f"b{i}", cls, False, 10 + i)
    later = T0 + timedelta(days=40)
    events += [recorded_event("a0", "success", "fewer-escalations", 6, "lnd", later),
               recorded_event("a1", "success", "fewer-escalations", 4, "lnd", later),
               recorded_event("a2", "success", "early-concerns", None, "lnd", later),  # no measure
               recorded_event("b0", "applied_no_result", None, None, "lnd", later)]
    return events


def test_value_of_verified_cases_and_what_was_lost() -> None:
    events = cohort()
    ev = evaluate(events)
    assert ev.lost.extra_successes == 3 and not ev.lost.suppressed
    v, bv = business_figures(JOURNEY, ev, events, ev.enrollment_ids)
    assert (v.successes, v.confirmed, v.success_interviewed) == (3, 3, 4)  # b0 said success; not verified
    assert bv.verified_successes == 3 and bv.with_estimate == 2
    (row,) = bv.outcomes
    assert (row.outcome_id, row.units, row.value) == ("fewer-escalations", 10, 3500)
    assert bv.total == 3500 and bv.currency == "GBP"
    assert bv.lost_people == 3 and bv.lost_value == 3 * 3500 / 2  # average verified value per estimated case
    lines = ppp_lines(JOURNEY, ev, v, bv)
    assert lines[0] == f"Business goal: {JOURNEY.ppp.business_goal}"
    text = "\n".join(lines)
    assert ("Estimated value: £3,500 a month. Basis: the interviewers' estimates for 2 of 3 verified success "
            "cases") in text
    assert "10 avoided escalations a month × £350" in text
    # the journey states £900 per participant: 10 participants cost £9,000; a year of £3,500 a month
    assert bv.programme_cost == 9000 and bv.yearly == 42000
    assert ("Return: 4.7 : 1 over a year — £42,000 (£3,500 a month × 12) of verified value against a programme "
            "cost of £9,000 (10 participants × £900: workshop day, facilitator and participants' time).") in text
    # the verified rate is over the people interviewed (b0 said success; the interview did not confirm it)
    assert ("Impact — self-reported: 50% (5 of 10, 95% CI 24%–76%); verified in interviews: 3 of 4 interviewed "
            "were success cases (75%); 4 interviewed of 10 classified by the survey (3 of 4 self-reported success "
            "cases confirmed); 1 self-reported success case not interviewed yet.") in text
    assert ("What was lost: 4 of 5 people without manager support reached no worthwhile result; at the "
            "supported group's rate about 3 more would have been success cases, worth about £5,250 a month") in text
    assert "an association, not proof" in text and "caused" in text


def test_what_was_lost_is_hidden_with_the_comparison_it_rests_on() -> None:
    events = [e for e in cohort() if not e.enrollment_id.startswith("b") or e.enrollment_id in ("b0", "b1")]
    ev = evaluate(events)  # the unsupported group is down to 2: under min_group
    assert ev.lost.suppressed
    v, bv = business_figures(JOURNEY, ev, events, ev.enrollment_ids)
    assert bv.lost_people is None and bv.lost_value is None
    text = "\n".join(ppp_lines(JOURNEY, ev, v, bv))
    assert "What was lost: not shown" in text
    assert "2 of" not in text.split("What was lost")[1]  # no count of the hidden group


def test_no_interviews_yet_says_so_and_claims_no_value() -> None:
    events = [e for e in cohort() if not e.kind.startswith("interview")]
    ev = evaluate(events)
    v, bv = business_figures(JOURNEY, ev, events, ev.enrollment_ids)
    text = "\n".join(ppp_lines(JOURNEY, ev, v, bv))
    assert "verified: no interviews recorded yet" in text
    assert "Estimated value: none yet — no success case has been verified in an interview." in text
    assert bv.lost_people == 3 and bv.lost_value is None  # people lost, but no verified value to price them
    assert ("Return: not yet — no verified value to set against the programme's cost of £9,000 (10 participants "
            "× £900") in text


def test_without_a_cost_there_is_no_return_line_and_periods_mix_into_a_year() -> None:
    from dataclasses import replace

    from journeys.ppp import Measure

    j = JOURNEY.model_copy(update={"ppp": JOURNEY.ppp.model_copy(update={"cost": None})})
    events = cohort()
    ev = evaluate(events)
    v, bv = business_figures(j, ev, events, ev.enrollment_ids)
    assert bv.cost is None and bv.return_ratio is None
    text = "\n".join(ppp_lines(j, ev, v, bv))
    assert "Estimated value: £3,500 a month." in text and "Return" not in text
    # one outcome counted a month, another a quarter: the total is given a year
    row = replace(bv.outcomes[0], outcome_id="fewer-contacts", units=20, value_per_unit=15, period="quarter")
    both = replace(bv, outcomes=(bv.outcomes[0], row))
    assert both.period == "year" and both.total == 3500 * 12 + 20 * 15 * 4
    assert Measure.model_fields["period"].is_required()

def figures(with_: tuple[int, int], without: tuple[int, int], min_group: int = 5) -> OrgFigures:
    d = difference(*with_, *without)
    return OrgFigures(managers=2, participants=10, activity=True, min_group=min_group, requests=10, answered=8,
                      within_day=8, median_response_hours=2.0, respondents=10, impact=wilson(5, 10),
                      with_answers=wilson(*with_), without_answers=wilson(*without), difference=d.value,
                      comparison_shown=True, diff=d)


def verdict(i: int, units: float) -> Verdict:
    return Verdict(f"e{i}", "success", "fewer-escalations", units, T0 + timedelta(days=i))


def test_leader_value_moves_in_steps_of_min_group() -> None:
    f = figures((4, 5), (1, 5))
    four = [verdict(i, 1) for i in range(4)]
    assert "not shown yet — fewer than 5" in "\n".join(leader_lines(JOURNEY, f, four))
    five = [*four, verdict(4, 2)]
    six = [*five, verdict(5, 100)]  # a sixth estimate: the digest must not move by its value
    assert "Estimated value: £2,100 a month, from interviewers' estimates for 5 verified" in "\n".join(
        leader_lines(JOURNEY, f, five))
    assert leader_lines(JOURNEY, f, six) == leader_lines(JOURNEY, f, five)
    lost = next(line for line in leader_lines(JOURNEY, f, five) if line.startswith("What was lost"))
    assert "about 3 fewer success cases" in lost and money(3 * 420, "GBP") in lost


def test_leader_lost_line_hidden_with_the_comparison() -> None:
    hidden = OrgFigures(managers=2, participants=6, activity=True, min_group=5, requests=6, answered=6,
                        within_day=6, median_response_hours=1.0, respondents=6, impact=Rate(0, 6, None, None, None),
                        with_answers=Rate(0, 4, None, None, None), without_answers=Rate(0, 2, None, None, None),
                        difference=None, comparison_shown=False)
    lines = leader_lines(JOURNEY, hidden, [])
    assert lines[-1] == "What was lost: not shown while the comparison below is hidden."
    assert verified([], 0, 5).hidden_because == "small"
