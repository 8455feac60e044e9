"""Business value in the Program Performance Path's words: the opening of every report.

The estimated value is what interviews verified, never what the survey claims: for each verified
success case with a value estimate, its units times the outcome's `value_per_unit`. "What was
lost" is the evaluation's extra success cases (at the supported group's rate) as people, and as
value at the average verified value per success case. Both are associations, never proof of
cause, and both disappear whenever the evaluation hides the comparison they rest on.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from journeys.definition import Journey
from journeys.evaluation.accountability import OrgFigures
from journeys.evaluation.interviews import Verdict, Verified, verdicts, verified
from journeys.evaluation.success_case import SUCCESS, Evaluation, Rate
from journeys.ppp import PER_YEAR, Cost, measured_outcomes, outcome_text, units
from journeys.state import JourneyEvent

SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€"}


def money(amount: float, currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    digits = f"{amount:,.0f}"
    return f"{symbol}{digits}" if symbol else f"{digits} {currency}"


@dataclass(frozen=True)
class OutcomeValue:
    outcome_id: str
    text: str
    unit: str
    currency: str
    value_per_unit: float
    cases: int  # verified success cases with an estimate for this outcome
    units: float  # per `period`
    period: str = "year"

    @property
    def value(self) -> float:
        """Value per `period`."""
        return self.units * self.value_per_unit

    def per(self, period: str) -> float:
        return self.value * PER_YEAR[self.period] / PER_YEAR[period]


@dataclass(frozen=True)
class BusinessValue:
    goal: str
    outcomes: tuple[OutcomeValue, ...]
    verified_successes: int
    with_estimate: int
    lost_people: int | None  # None: hidden with the comparison it comes from
    lost_value: float | None
    currency: str | None  # None: no value, or outcomes in several currencies (no total)
    cost: Cost | None = None
    participants: int = 0

    @property
    def period(self) -> str:
        """The outcomes' common period; "year" when they differ (each converted to a year)."""
        periods = {o.period for o in self.outcomes}
        return next(iter(periods)) if len(periods) == 1 else "year"

    @property
    def total(self) -> float | None:
        """Estimated value per `period`."""
        return sum(o.per(self.period) for o in self.outcomes) if self.currency and self.outcomes else None

    @property
    def yearly(self) -> float | None:
        total = self.total
        return None if total is None else total * PER_YEAR[self.period]

    @property
    def programme_cost(self) -> float | None:
        """Cost per participant × participants, when the journey states a cost."""
        return self.cost.per_participant * self.participants if self.cost and self.participants else None

    @property
    def return_ratio(self) -> float | None:
        """A year of the verified value ÷ the programme's cost (None without a cost or a value, or
        when they are in different currencies)."""
        cost, yearly = self.programme_cost, self.yearly
        if cost is None or yearly is None or self.cost is None or self.cost.currency != self.currency:
            return None
        return yearly / cost


def business_value(journey: Journey, ev: Evaluation, found: Sequence[Verdict]) -> BusinessValue:
    measured = measured_outcomes(journey)
    per: dict[str, tuple[int, float]] = {}
    successes = [v for v in found if v.classification == SUCCESS]
    estimated = 0
    for v in successes:
        oid = v.outcome or ""
        o = measured.get(oid)
        if o is None or o.measure is None or v.units is None or v.units <= 0:
            continue
        cases, units = per.get(oid, (0, 0.0))
        per[oid] = (cases + 1, units + v.units)
        estimated += 1
    rows = []
    for oid, (cases, units) in per.items():
        m = measured[oid].measure
        assert m is not None
        rows.append(OutcomeValue(oid, measured[oid].text, m.unit, m.currency, m.value_per_unit, cases, units,
                                 m.period))
    currencies = {r.currency for r in rows}
    currency = next(iter(currencies)) if len(currencies) == 1 else None
    lost_people = None if ev.lost.suppressed else (ev.lost.extra_successes or 0)
    bv = BusinessValue(journey.ppp.business_goal, tuple(rows), len(successes), estimated, None, None, currency,
                       journey.ppp.cost, ev.participants)
    total = bv.total
    lost_value = None
    if lost_people is not None and total is not None and estimated:
        lost_value = lost_people * total / estimated  # per period, at the average verified value
    return replace(bv, lost_people=lost_people, lost_value=lost_value)


PERIOD_WORDS = {"week": "a week", "month": "a month", "quarter": "a quarter", "year": "a year"}


def return_line(bv: BusinessValue) -> str | None:
    """The return (a year of verified value ÷ the programme's cost), with its basis; None when the
    journey states no cost. Without a verified value, says what the cost is waiting for."""
    if bv.cost is None or not bv.participants:
        return None
    c = bv.cost
    basis = (f"{money(bv.programme_cost or 0, c.currency)} ({bv.participants} participant"
             f"{'s' if bv.participants != 1 else ''} × {money(c.per_participant, c.currency)}"
             + (f": {c.covers}" if c.covers else "") + ")")
    ratio = bv.return_ratio
    if ratio is None or bv.yearly is None or bv.currency is None:
        return f"Return: not yet — no verified value to set against the programme's cost of {basis}."
    per = PERIOD_WORDS[bv.period]
    over = ("" if bv.period == "year" else
            f" ({money(bv.total or 0, bv.currency)} {per} × {PER_YEAR[bv.period]})")
    return (f"Return: {ratio:.1f} : 1 over a year — {money(bv.yearly, bv.currency)}{over} of verified value "
            f"against a programme cost of {basis}. Counts only interviewed success cases, so a floor, "
            "and assumes the value holds for the year.")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


def _rate(r: Rate) -> str:
    return f"{_pct(r.value)} ({r.count} of {r.total}, 95% CI {_pct(r.low)}–{_pct(r.high)})"


def impact_side_by_side(ev: Evaluation, v: Verified) -> str:
    """Self-reported and verified impact on one line: the verified rate is over the people
    interviewed, with how many were interviewed of how many the survey classified."""
    head = f"Impact — self-reported: {_rate(ev.impact)}"
    if v.interviewed == 0:
        return head + "; verified: no interviews recorded yet."
    n = v.interviewed
    text = (f"{head}; verified in interviews: {v.successes} of {n} interviewed "
            f"{'were success cases' if v.successes != 1 else 'was a success case'} ({_pct(v.successes / n)}); "
            f"{n} interviewed of {ev.responded_scm} classified by the survey "
            f"({v.confirmed} of {v.success_interviewed} self-reported success cases confirmed")
    if v.found:
        text += f", {v.found} more found among the others"
    text += ")"
    if v.not_interviewed:
        text += (f"; {v.not_interviewed} self-reported success case{'s' if v.not_interviewed != 1 else ''} "
                 "not interviewed yet")
    return text + "."


def ppp_lines(journey: Journey, ev: Evaluation, v: Verified, bv: BusinessValue) -> list[str]:
    """The report's opening: the business goal, the outcomes and their measures, the verified value
    with its basis, and what was lost as people and as value."""
    lines = [f"Business goal: {bv.goal}"]
    outs = []
    for o in journey.ppp.outcomes:
        text = outcome_text(o)
        m = o.measure if o.id is not None else None
        if m is not None:
            levels = ", ".join(x for x in (f"baseline {m.baseline:g}" if m.baseline is not None else "",
                                           f"target {m.target:g}" if m.target is not None else "") if x)
            text += f" (measure: {m.name}{'; ' + levels if levels else ''})"
        outs.append(text)
    lines.append("Outcomes: " + "; ".join(outs) + ".")
    lines.append(impact_side_by_side(ev, v))
    if bv.outcomes:
        parts = [f"{units(o.units, o.unit)} {PERIOD_WORDS[o.period]} × {money(o.value_per_unit, o.currency)} "
                 f"({o.text.lower()}, {o.cases} case{'s' if o.cases != 1 else ''})" for o in bv.outcomes]
        total = (f"{money(bv.total, bv.currency)} {PERIOD_WORDS[bv.period]}" if bv.total is not None and bv.currency
                 else "no single total")
        lines.append(f"Estimated value: {total}. Basis: the interviewers' estimates for {bv.with_estimate} of "
                     f"{bv.verified_successes} verified success case{'s' if bv.verified_successes != 1 else ''}: "
                     + "; ".join(parts) + ". An estimate from interviews, not a measured total.")
    elif bv.verified_successes:
        lines.append(f"Estimated value: none yet — {bv.verified_successes} verified success "
                     f"case{'s' if bv.verified_successes != 1 else ''}, but no value estimate in a measured "
                     "outcome's unit.")
    else:
        lines.append("Estimated value: none yet — no success case has been verified in an interview.")
    ret = return_line(bv)
    if ret:
        lines.append(ret)
    lost = ev.lost
    if bv.lost_people is None:
        lines.append(f"What was lost: not shown — the comparison with and without manager support is "
                     f"hidden (a group under {ev.min_group}, or one that answered alike).")
    elif bv.lost_people:
        value = (f", worth about {money(bv.lost_value, bv.currency)} {PERIOD_WORDS[bv.period]} at the average "
                 "verified value per success case" if bv.lost_value is not None and bv.currency else "")
        lines.append(f"What was lost: {lost.non_success_unsupported} of {lost.unsupported} people without "
                     f"manager support reached no worthwhile result; at the supported group's rate about "
                     f"{bv.lost_people} more would have been success cases{value} — an association, "
                     "not proof that support caused it.")
    else:
        lines.append("What was lost: no fewer success cases without manager support than with it.")
    return lines


def business_figures(journey: Journey, ev: Evaluation, events: Iterable[JourneyEvent],
                     enrollment_ids: Collection[str]) -> tuple[Verified, BusinessValue]:
    """What interviews verified and what it is worth, for one cohort's events."""
    chosen = [e for e in events if e.enrollment_id in set(enrollment_ids)]
    v = verified(chosen, ev.responded_scm, ev.min_group)
    return v, business_value(journey, ev, verdicts(chosen))


def _valued(journey: Journey, found: Sequence[Verdict]) -> list[tuple[Verdict, float, str]]:
    """Verified success cases with an estimate in a measured outcome: (verdict, value, currency),
    the value per the period of the journey's measured outcomes (`_period`)."""
    measured = measured_outcomes(journey)
    period = _period(journey)
    out = []
    for v in sorted(found, key=lambda x: (x.at, x.enrollment_id)):
        o = measured.get(v.outcome or "")
        if v.classification == SUCCESS and o is not None and o.measure is not None and v.units:
            m = o.measure
            out.append((v, v.units * m.value_per_unit * PER_YEAR[m.period] / PER_YEAR[period], m.currency))
    return out


def _period(journey: Journey) -> str:
    """The measured outcomes' common period ("year" when they differ)."""
    periods = {o.measure.period for o in measured_outcomes(journey).values() if o.measure is not None}
    return next(iter(periods)) if len(periods) == 1 else "year"


def leader_lines(journey: Journey, f: OrgFigures, found: Sequence[Verdict], interviewing: bool = False) -> list[str]:
    """The senior-leader digest's opening: the business goal, the verified value and what was lost.

    A leader sees sums only, and only of whole multiples of min_group estimates (the earliest ones):
    like the digest's impact rate, the value then cannot be differenced between two weekly digests
    into one person's estimate. "What was lost" rests on the digest's own with/without comparison,
    so it is shown exactly when that comparison is.
    """
    n = f.min_group
    lines = [f"Business goal: {journey.ppp.business_goal}"]
    valued = _valued(journey, found)
    basis = valued[:len(valued) - len(valued) % n]
    currencies = {c for _, _, c in basis}
    average: float | None = None
    if basis and len(currencies) == 1:
        total = sum(x for _, x, _ in basis)
        average = total / len(basis)
        currency = next(iter(currencies))
        lines.append(f"Estimated value: {money(total, currency)} {PERIOD_WORDS[_period(journey)]}, from "
                     f"interviewers' estimates for {len(basis)} "
                     "verified success cases (units of the journey's measured outcomes × their value per unit); "
                     "an estimate, not a measured total.")
    elif valued:
        lines.append(f"Estimated value: not shown yet — fewer than {n} verified success cases with an estimate, "
                     "so no one's estimate could be worked out.")
    elif interviewing:
        lines.append(f"Estimated value: the Success Case interviews have begun; the value will be shown here once "
                     f"{n} success cases have been verified with an estimate.")
    else:
        lines.append(f"Estimated value: it comes from the Success Case interviews held after the journey's "
                     f"survey, and will be shown here once {n} success cases have been verified with an "
                     "estimate.")
    rate = f.with_answers.value
    if f.diff is not None and rate is not None:
        wo = f.without_answers
        extra = max(0, math.floor(rate * wo.total - wo.count + 0.5))
        worth = (f", worth about {money(extra * average, next(iter(currencies)))} {PERIOD_WORDS[_period(journey)]}"
                 if extra and average is not None else "")
        lines.append(f"What was lost: where a support request went unanswered, about {extra} fewer success "
                     f"cases than at the rate where every request was answered{worth} — an association, "
                     "not proof of cause.")
    elif f.respondents:
        lines.append("What was lost: not shown while the comparison below is hidden.")
    return lines


def value_csv_rows(v: Verified, bv: BusinessValue) -> list[list[str]]:
    """The evaluation CSV's verified and value rows (columns metric,value,count,total,low,high)."""

    def num(x: float | None, digits: int = 4) -> str:
        return "" if x is None else f"{x:.{digits}f}"

    i = v.impact
    rows = [["interviews", str(v.interviewed), str(v.interviewed), "", "", ""],
            ["impact_rate_verified", num(i.value), str(i.count), str(i.total), num(i.low), num(i.high)],
            ["verified_of_interviewed", num(v.successes / v.interviewed if v.interviewed else None), str(v.successes),
             str(v.interviewed), "", ""],
            ["self_reported_success_confirmed", str(v.confirmed), str(v.confirmed), str(v.success_interviewed),
             "", ""],
            ["self_reported_success_not_interviewed", str(v.not_interviewed), "", "", "", ""]]
    for o in bv.outcomes:
        rows.append([f"units:{o.outcome_id}", f"{o.units:g}", str(o.cases), "", "", ""])
        rows.append([f"value:{o.outcome_id}:{o.currency}", num(o.value, 2), str(o.cases), "", "", ""])
    if bv.total is not None and bv.currency:
        rows.append([f"value_total:{bv.currency}", num(bv.total, 2), str(bv.with_estimate),
                     str(bv.verified_successes), "", ""])
        rows.append([f"value_per_period:{bv.period}:{bv.currency}", num(bv.total, 2), str(bv.with_estimate),
                     str(bv.verified_successes), "", ""])
    if bv.programme_cost is not None and bv.cost is not None:
        rows.append([f"programme_cost:{bv.cost.currency}", num(bv.programme_cost, 2), str(bv.participants), "",
                     "", ""])
    if bv.return_ratio is not None:
        rows.append(["return_per_year", num(bv.return_ratio, 2), "", "", "", ""])
    lost_value = num(bv.lost_value, 2) if bv.lost_value is not None else ""
    rows.append([f"lost:value{':' + bv.currency if bv.currency else ''}", lost_value, "", "", "", ""])
    return rows
