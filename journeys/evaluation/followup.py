"""The follow-up survey (`evaluation: follow_up`), compared with the first Success Case survey.

Business results often show only two or three months after the start; the follow-up asks the same
classification question then. Reports show both impact rates with their intervals and, for the
people who answered both, how many success cases were sustained, appeared or faded. Those
transition counts describe individuals' changes, so they stay hidden while fewer than `min_group`
people answered both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from journeys.evaluation.stats import mcnemar_exact
from journeys.evaluation.success_case import SCM_CLASSES, SUCCESS, Rate, wilson
from journeys.state import JourneyEvent

FOLLOW_UP = "scm_follow_up"


@dataclass(frozen=True)
class FollowUp:
    first: Rate  # the first survey's impact, of its respondents
    impact: Rate  # the follow-up's impact, of its respondents
    both: int  # answered both surveys
    sustained: int | None  # success in both; None: hidden (fewer than min_group answered both)
    new: int | None  # success only at the follow-up
    faded: int | None  # success only at the first survey

    @property
    def p_value(self) -> float | None:
        """Exact McNemar p for the same people's change between the surveys (None while hidden)."""
        return None if self.new is None or self.faded is None else mcnemar_exact(self.new, self.faded)


def follow_up(events: Iterable[JourneyEvent], min_group: int, enrollment_ids: Iterable[str] | None = None) -> FollowUp:
    wanted = None if enrollment_ids is None else set(enrollment_ids)
    first: dict[str, bool] = {}
    later: dict[str, bool] = {}
    for e in sorted(events, key=lambda ev: ev.at):
        if wanted is not None and e.enrollment_id not in wanted:
            continue
        cls = e.data.get("classification")
        if cls not in SCM_CLASSES:
            continue
        if e.kind == "scm_classified":
            first[e.enrollment_id] = cls == SUCCESS
        elif e.kind == FOLLOW_UP:
            later[e.enrollment_id] = cls == SUCCESS
    both = set(first) & set(later)
    shown = len(both) >= min_group
    return FollowUp(
        first=wilson(sum(first.values()), len(first)),
        impact=wilson(sum(later.values()), len(later)),
        both=len(both),
        sustained=sum(1 for k in both if first[k] and later[k]) if shown else None,
        new=sum(1 for k in both if later[k] and not first[k]) if shown else None,
        faded=sum(1 for k in both if first[k] and not later[k]) if shown else None,
    )


def _rate(r: Rate) -> str:
    def pct(x: float | None) -> str:
        return "–" if x is None else f"{round(x * 100)}%"
    return f"{pct(r.value)} ({r.count} of {r.total}, 95% CI {pct(r.low)}–{pct(r.high)})"


def follow_up_lines(f: FollowUp, min_group: int) -> list[str]:
    """Nothing before anyone answered the follow-up; then both rates and the transitions."""
    if not f.impact.total:
        return []
    lines = [f"Follow-up survey: impact {_rate(f.impact)}, against {_rate(f.first)} at the first survey."]
    if f.sustained is None:
        lines.append(f"Changes per person: hidden while fewer than {min_group} answered both surveys "
                     f"({f.both} so far).")
    else:
        lines.append(f"Of the {f.both} who answered both: {f.sustained} still success cases, {f.new} new, "
                     f"{f.faded} no longer.")
        p = f.p_value
        if p is not None and (f.new or f.faded):
            p_text = "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"
            verdict = "a change beyond chance" if p < 0.05 else "not distinguishable from no change"
            lines.append(f"For the same people, that is {verdict} (exact McNemar test, {p_text}).")
    return lines
