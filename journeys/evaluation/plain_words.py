"""Plain words first: the one sentence a busy reader takes from each figure, chosen by the statistics.

A sponsor or a line manager does not read "95% CI 12%–77%" or "Fisher's exact p = 0.08"; they read
whether it worked, whether it beat what training usually achieves (Brinkerhoff's studies put that
near one person in five turning training into a worthwhile result), and whether manager support
made a difference. Each sentence here is decided by the same interval the detailed line shows, so
the plain words never claim more than the statistics do: "clearly" only when the whole 95% interval
lies on one side. The interval and the test stay one column away (the CSV's `plain:` rows carry
them in `low`/`high`) or one click away (the dashboard's details).

Pure: reads an `Evaluation` (and an optional pooled factor comparison) and returns text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from journeys.evaluation.followup import FollowUp
from journeys.evaluation.stats import Difference, compare_to
from journeys.evaluation.success_case import (
    FACTOR_APPROVED,
    FACTOR_COACH,
    FACTOR_EXPECTATIONS,
    FACTOR_FAST,
    Evaluation,
    Factor,
    Rate,
    difference_words,
)

# "people with and without …": each manager-support factor as a reader says it
FACTOR_WORDS = {
    FACTOR_EXPECTATIONS: "an expectations conversation with their manager before the start",
    FACTOR_APPROVED: "a support request their manager approved",
    FACTOR_COACH: "a manager who chose to coach them",
    FACTOR_FAST: "a manager who answered support requests within a working day",
}

NO_ANSWERS = "No survey answers yet, so nothing to tell."
TOO_FEW = "Too few answers yet to tell ({k} of the {n} needed)."


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


def _points(x: float) -> str:
    return f"{round(abs(x) * 100)} points"


def rate_sentence(rate: Rate, answers: int, min_group: int, baseline: float) -> str:
    """Whether a rate of survey answers tells anything yet, and where its interval lies against the
    baseline: "clearly above/below" only when the whole 95% interval is on that side."""
    if answers == 0 or rate.value is None:
        return NO_ANSWERS
    if answers < min_group:
        return TOO_FEW.format(k=answers, n=min_group)
    said = f"{_pct(rate.value)} of those who answered reached a worthwhile result"
    if baseline <= 0 or rate.low is None or rate.high is None:
        return f"{said[0].upper()}{said[1:]}."
    usual = f"the {_pct(baseline)} usually seen"
    verdict = compare_to(rate.low, rate.high, baseline)
    if verdict == "above":
        return f"Clearly above {usual}: {said}."
    if verdict == "below":
        return f"Clearly below {usual}: {said}."
    return f"Too close to {usual} to call it better or worse yet: {said}."


def impact_sentence(ev: Evaluation) -> str:
    """The impact rate in one sentence (`rate_sentence` over the survey's respondents)."""
    return rate_sentence(ev.impact, ev.responded_scm, ev.min_group, ev.baseline)


def compare_sentence(d: Difference, better: str, worse: str, same: str) -> str:
    """`better`/`worse` (with `{points}`) only when the difference's interval excludes none, else `same`."""
    if not d.distinguishable:
        return same
    return (better if d.value > 0 else worse).format(points=_points(d.value))


def support_sentence(ev: Evaluation) -> str | None:
    """Supported against unsupported respondents (an expectations conversation and every support
    request answered); None before anyone answered the survey."""
    if ev.responded_scm == 0:
        return None
    d = ev.support_diff
    if d is None:
        if min(ev.lost.supported, ev.lost.unsupported) < ev.min_group:
            return ("Too few people on each side yet to tell whether manager support made a difference "
                    f"(each side needs {ev.min_group}).")
        return "Whether manager support made a difference is not shown: one side answered alike."
    return compare_sentence(d, "People their managers supported clearly did better: {points} more reached a result.",
                    "People their managers supported did clearly worse: {points} fewer reached a result.",
                    "No difference we can tell between supported and unsupported people.")


def factor_sentence(f: Factor, min_group: int) -> str:
    """One manager-support behaviour, with and without it."""
    what = FACTOR_WORDS.get(f.name, f.name.lower())
    if f.diff is None:
        if f.hidden_because == "unanimous":
            return f"With and without {what}: not shown, one side answered alike."
        return f"Too few people on each side yet to tell whether {what} made a difference (each side needs {min_group})."
    return compare_sentence(f.diff, f"People who had {what} clearly did better: {{points}} more reached a result.",
                    f"People who had {what} did clearly worse: {{points}} fewer reached a result.",
                    f"No difference we can tell between people with and without {what}.")


def strongest(factors: Sequence[Factor]) -> Factor | None:
    """The shown factor with the largest difference (ties: the first listed)."""
    shown = [f for f in factors if f.diff is not None]
    return max(shown, key=lambda f: abs(f.diff.value if f.diff else 0.0)) if shown else None


def follow_up_sentence(f: FollowUp, min_group: int) -> str | None:
    """Whether results lasted to the follow-up survey, for the people who answered both (the exact
    McNemar test decides "clearly"); None before anyone answered the follow-up."""
    if not f.impact.total:
        return None
    if f.sustained is None or f.new is None or f.faded is None:
        return (f"Too few people answered both surveys yet to tell whether results lasted ({f.both} of the "
                f"{min_group} needed).")
    counts = (f"{f.sustained} still success case{'s' if f.sustained != 1 else ''}, {f.new} new, {f.faded} no "
              f"longer, of {f.both} who answered both")
    if not f.new and not f.faded:
        return f"Results held at the follow-up: {counts}."
    p = f.p_value
    if p is not None and p < 0.05:
        return (f"Clearly {'more' if f.new > f.faded else 'fewer'} success cases at the follow-up than at the "
                f"first survey: {counts}.")
    return f"No change we can tell between the first survey and the follow-up: {counts}."


@dataclass(frozen=True)
class Pooled:
    """The manager-support comparison over every cohort of the journey on the same version, for a
    cohort too small to compare on its own (journeys/evaluation/pooling.py)."""

    factors: tuple[Factor, ...]
    cohorts: int  # cohorts pooled, this one included
    respondents: int  # survey answers pooled
    version: int
    left_out: int = 0  # cohorts of the journey on another version (other questions), not pooled
    min_group: int = 5

    @property
    def shown(self) -> bool:
        return any(f.diff is not None for f in self.factors)


def pooled_basis(p: Pooled) -> str:
    other = (f"; {p.left_out} cohort{'s' if p.left_out != 1 else ''} on another version of the journey left out"
             if p.left_out else "")
    return (f"pooled over {p.cohorts} cohorts of this journey (version {p.version}, {p.respondents} survey "
            f"answers{other}), because one cohort alone is too small to compare")


def headline(ev: Evaluation, pooled: Pooled | None = None, later: FollowUp | None = None) -> list[str]:
    """The report's and dashboard's opening sentences: the impact, whether it lasted (`later`: the
    follow-up survey), manager support, and the behaviour that mattered most (from this cohort, or
    pooled when this cohort is too small)."""
    lines = [impact_sentence(ev)]
    lasted = follow_up_sentence(later, ev.min_group) if later is not None else None
    if lasted:
        lines.append(lasted)
    support = support_sentence(ev)
    if support:
        lines.append(support)
    own = strongest(ev.factors)
    if own is not None:
        lines.append(factor_sentence(own, ev.min_group))
    elif pooled is not None and pooled.shown:
        best = strongest(pooled.factors)
        assert best is not None
        sentence = factor_sentence(best, pooled.min_group)
        lines.append(f"{sentence[:-1]} ({pooled_basis(pooled)}).")
    return lines


def impact_details(ev: Evaluation) -> str:
    """The statistics behind `impact_sentence`, for the details a reader opens."""
    i = ev.impact
    if i.value is None:
        return "No survey answers yet."
    text = (f"Impact rate {_pct(i.value)} ({i.count} of {i.total} who answered), 95% Wilson interval "
            f"{_pct(i.low)}–{_pct(i.high)}")
    if ev.baseline > 0:
        text += f"; the baseline is {_pct(ev.baseline)}, and \"clearly\" means the whole interval is on one side of it"
    return text + "."


def factor_details(f: Factor) -> str:
    """The counts, interval and test behind `factor_sentence`."""
    if f.diff is None:
        return f"{f.name}: {f.with_.total} with it, {f.without.total} without (rates hidden)."
    return (f"{f.name}: {_pct(f.with_.value)} with it ({f.with_.count} of {f.with_.total}) vs "
            f"{_pct(f.without.value)} without ({f.without.count} of {f.without.total}): {difference_words(f.diff)}.")


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.4f}"


def plain_csv_rows(ev: Evaluation, pooled: Pooled | None = None) -> list[list[str]]:
    """`plain:` rows for the evaluation CSV: the sentence in `value`, the interval in `low`/`high`
    (and Fisher's p on the row after), so the statistics are one column away."""
    i = ev.impact
    rows = [["plain:impact", impact_sentence(ev), str(i.count), str(i.total), _num(i.low), _num(i.high)]]
    support = support_sentence(ev)
    if support is not None:
        d = ev.support_diff
        rows.append(["plain:support", support, str(ev.lost.supported), str(ev.lost.unsupported),
                     _num(d.low if d else None), _num(d.high if d else None)])
        rows.append(["plain:support:fisher_p", _num(d.p_value if d else None), "", "", "", ""])
    if pooled is not None:
        rows.append(["pooled:cohorts", str(pooled.cohorts), str(pooled.respondents), "", "", ""])
        for f in pooled.factors:
            d = f.diff
            rows.append([f"pooled:factor:{f.name}", factor_sentence(f, pooled.min_group), str(f.with_.total),
                         str(f.without.total), _num(d.low if d else None), _num(d.high if d else None)])
            rows.append([f"pooled:factor:{f.name}:fisher_p", _num(d.p_value if d else None), "", "", "", ""])
    return rows
