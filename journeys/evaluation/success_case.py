"""Impact evaluation by the Success Case Method, computed from stored events only.

Everything here is a pure function of a list of `JourneyEvent`s (no I/O, no clock), so the same
events always give the same report: the chat card, the CSV export and the dashboard all read one
`Evaluation`.

What is measured (ARCHITECTURE.md's glossary: the Success Case Method):

* completion: participants who answered the Success Case survey, of those enrolled;
* impact rate: success cases of the survey's respondents, with a 95% Wilson score interval;
* application rate: moments that matter (MTMs) followed up as happened, of those planned;
* response times: the median hours participants and managers took to answer;
* performance-system factors: for each manager-support behaviour the bot observes, the impact
  rate of respondents who got it against those who did not. When either group has fewer than
  `min_group` respondents both rates are hidden (a small group's rate, or the other group's rate
  next to the overall one, would expose individual answers); the group sizes stay visible;
* barriers reported by the non-success respondents, most frequent first;
* "what was lost": non-success respondents who had no manager support, and how many more success
  cases they would have produced at the supported group's success rate.

Counting rules, so that replayed or re-ordered events change nothing:

* events are read in `at` order; an enrollment's latest survey answer counts;
* MTMs are counted once per MTM id; an MTM's latest follow-up decides whether it happened, and
  follow-ups of MTMs with no `mtm_planned` event in the set are ignored (the rate stays <= 1);
* participants are the enrollments with an "enrolled" event, plus any enrollment that answered the
  survey (so completion never exceeds 100% when the event window is cut);
* "manager answered support requests within 1 working day" is approximated by 24 hours. It applies
  to enrollments that had at least one support request (a "sent" manager_request prompt, or an
  answer to one). An unanswered request counts as slow once more than 24 hours separate it from
  `as_of` (default: the latest event in the set), and as pending (not counted) before that.
  Request steps are recognised from answers of kind "manager_request" anywhere in the events; a
  caller that knows the journey can name them with `request_steps` so that never-answered requests
  of a step nobody answered are also seen.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from journeys.definition import CANT_LABELS
from journeys.evaluation.barriers import (
    BARRIER_LABELS,
    BARRIERS,
    BarrierCount,
    barrier_counts,
    barrier_line,
)
from journeys.evaluation.stats import Z95, Difference, compare_to, difference, wilson_bounds
from journeys.state import JourneyEvent

# The same values as journeys.definition (a test pins them); not imported, so that this module stays
# a pure, dependency-free reader of events.
SCM_CLASSES = ("success", "applied_no_result", "tried_no_success", "not_applied")
MANAGER_KINDS = ("manager_task", "manager_request")

DAY_S = 24 * 3600

SUCCESS = "success"
# The smallest group whose figures are shown (fewer answers could point at a person). The one
# default: settings (HPLJ_MIN_GROUP), reports, digests and the dashboard take it from here.
MIN_GROUP = 5

FACTOR_EXPECTATIONS = "Expectations conversation before the start"
FACTOR_APPROVED = "Support request approved"
FACTOR_COACH = "Manager chose to coach"
FACTOR_FAST = "Manager answered support requests within 1 working day"
FACTORS = (FACTOR_EXPECTATIONS, FACTOR_APPROVED, FACTOR_COACH, FACTOR_FAST)

CSV_HEADER = ["metric", "value", "count", "total", "low", "high"]
# What an admin may see per person, by name (docs/exports.md): progress, as on the dashboard, never
# a person's survey classification, barriers or their manager's support next to each other: those
# rows would rebuild every comparison the reports hide below the minimum group size.
PERSON_HEADER = ["enrollment_id", "name", "survey_answered", "mtms_planned", "mtms_followed_up", "mtms_happened"]


# --- rates ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rate:
    """`count` of `total`, with a 95% Wilson score interval; value/low/high are None when
    `total` is 0 or when the rate is hidden (a suppressed factor keeps only `total`)."""

    count: int
    total: int
    value: float | None
    low: float | None
    high: float | None


def wilson(count: int, total: int, z: float = Z95) -> Rate:
    """The Wilson score interval of a binomial proportion (well-behaved at 0, n and small n)."""
    if total < 0 or count < 0 or count > total:
        raise ValueError(f"invalid proportion {count}/{total}")
    if total == 0:
        return Rate(0, 0, None, None, None)
    low, high = wilson_bounds(count, total, z)
    return Rate(count, total, count / total, low, high)


def _hidden(total: int) -> Rate:
    return Rate(0, total, None, None, None)


# --- result types -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Factor:
    """Impact rate among survey respondents who got a manager-support behaviour vs who did not.

    When `suppressed`, `with_`/`without` carry only the group sizes (`total`); count and rates are
    hidden and `difference` is None.
    """

    name: str
    with_: Rate
    without: Rate
    difference: float | None  # with_.value - without.value (a fraction: 0.25 = 25 points)
    suppressed: bool
    diff: Difference | None = None  # the difference with its interval and Fisher's p; None when hidden
    hidden_because: str = ""  # "small": a group under min_group; "unanimous": a group answered alike


@dataclass(frozen=True)
class LostValue:
    """Success cases missing where manager support was missing.

    "Supported" = an expectations conversation before the start, and every decided support request
    answered (approved or coached) — at least one when there were requests. One click is not
    support. Every count here is hidden (`suppressed`) when either group is under min_group or
    answered unanimously, so the line cannot reveal what the comparison hides.
    """

    non_success_unsupported: int  # non-success respondents without manager support
    unsupported: int  # respondents without manager support
    supported: int  # respondents with manager support
    extra_successes: int | None  # rounded; None when a group is smaller than min_group
    suppressed: bool


@dataclass(frozen=True)
class Evaluation:
    participants: int
    completed: int  # enrollments that answered the Success Case survey
    completion: Rate
    responded_scm: int  # of those, with a valid classification (the impact denominator)
    classes: dict[str, int]
    impact: Rate
    application: Rate
    mtms_planned: int
    mtms_happened: int
    participant_response_hours: float | None  # median
    manager_response_hours: float | None  # median
    factors: list[Factor]
    barriers: list[tuple[str, int]]  # among non-success respondents, most frequent first
    non_success: int
    lost: LostValue
    success_story_enrollments: list[str]  # success cases who agreed to be contacted
    target: float
    baseline: float
    min_group: int
    vs_baseline: float | None  # impact / baseline (3.1 = "3.1x the baseline")
    vs_target: float | None  # impact - target (negative: below target)
    target_met: bool | None = None
    enrollment_ids: tuple[str, ...] = field(default=())  # the enrollments evaluated, sorted
    impact_enrolled: Rate = field(default_factory=lambda: Rate(0, 0, None, None, None))  # of all
    non_response: int = 0  # participants without a valid survey answer
    baseline_verdict: str | None = None  # impact interval vs baseline: above / below / not distinguishable
    mtms_followed_up: int = 0  # MTMs whose follow-up was answered: the application denominator
    requests_unanswered: int = 0  # support requests still unanswered a day after they were sent
    # why managers said "Can't this time" to a support request (a barrier in the performance
    # system, not the participant's), most frequent first
    manager_cant: list[tuple[str, int]] = field(default_factory=list)
    # the survey's barriers with declined and expired support requests counted as "no manager
    # support", each with who can remove it (journeys/evaluation/barriers.py)
    barrier_counts: list[BarrierCount] = field(default_factory=list)
    # supported against unsupported respondents (LostValue's groups), with its interval and Fisher's p;
    # None when hidden (a group under min_group or answering alike), like the lost-value line
    support_diff: Difference | None = None


# --- per-enrollment facts ---------------------------------------------------------------------

@dataclass
class _Person:
    enrolled: bool = False
    surveyed: bool = False
    classification: str | None = None
    barriers: tuple[str, ...] = ()
    contact: bool = False
    survey_at: datetime | None = None
    expectations: bool = False
    approved: bool = False
    coached: bool = False
    mtms: set[str] = field(default_factory=set)
    followed: set[str] = field(default_factory=set)  # MTMs whose follow-up was answered
    happened: set[str] = field(default_factory=set)
    fast: bool | None = None  # None: no (decided) support request
    unanswered: int = 0  # decided support requests never answered

    @property
    def responded(self) -> bool:
        return self.classification in SCM_CLASSES

    @property
    def success(self) -> bool:
        return self.classification == SUCCESS

    @property
    def supported(self) -> bool:
        answered_all = self.unanswered == 0 and (self.fast is None or self.approved or self.coached)
        return self.expectations and answered_all


def _select(events: Iterable[JourneyEvent], enrollment_ids: Collection[str] | None) -> list[JourneyEvent]:
    wanted = None if enrollment_ids is None else set(enrollment_ids)
    chosen = [e for e in events if wanted is None or e.enrollment_id in wanted]
    return sorted(chosen, key=lambda e: e.at)  # stable: ties keep their stored order


def _barrier_values(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        return ()
    return tuple(dict.fromkeys(str(b) for b in raw if b))


def _request_steps(events: list[JourneyEvent], request_steps: Collection[str]) -> set[str]:
    """The support-request steps: those the caller names, and any seen answered in the events."""
    steps = set(request_steps)
    for e in events:
        answer = e.kind == "answered" and e.data.get("kind") == "manager_request"
        if (answer or e.kind in ("manager_approved", "manager_coach")) and e.data.get("step"):
            steps.add(str(e.data["step"]))
    return steps


def _people(events: list[JourneyEvent], request_steps: Collection[str],
            as_of: datetime | None) -> dict[str, _Person]:
    people: dict[str, _Person] = {}
    planned: dict[str, set[str]] = {}
    followed: dict[tuple[str, str], bool] = {}
    steps = _request_steps(events, request_steps)
    sent: dict[str, dict[str, datetime]] = {}  # enrollment -> request prompt -> sent at
    answered: dict[str, dict[str, int]] = {}  # enrollment -> request prompt -> response seconds
    for e in events:
        p = people.setdefault(e.enrollment_id, _Person())
        d = e.data
        if e.kind == "enrolled":
            p.enrolled = True
        elif e.kind == "scm_classified":
            p.surveyed = True
            cls = d.get("classification")
            p.classification = str(cls) if cls is not None else None
            p.barriers = _barrier_values(d.get("barriers"))
            p.contact = d.get("contact") is True
            p.survey_at = e.at
        elif e.kind == "manager_task_done":
            p.expectations = p.expectations or d.get("before_start") is True
        elif e.kind in ("manager_approved", "manager_coach"):
            if e.kind == "manager_approved":
                p.approved = True
            else:
                p.coached = True
            key = e.prompt_id or f"{e.enrollment_id}:{d.get('step')}"
            if isinstance(d.get("response_s"), (int, float)):
                answered.setdefault(e.enrollment_id, {})[key] = int(d["response_s"])
        elif e.kind == "sent" and str(d.get("step")) in steps:
            key = e.prompt_id or f"{e.enrollment_id}:{d.get('step')}"
            sent.setdefault(e.enrollment_id, {}).setdefault(key, e.at)
        elif e.kind == "mtm_planned" and d.get("mtm"):
            planned.setdefault(e.enrollment_id, set()).add(str(d["mtm"]))
        elif e.kind == "mtm_followed_up" and d.get("mtm"):
            followed[(e.enrollment_id, str(d["mtm"]))] = d.get("happened") == "yes"
    for eid, mtms in planned.items():
        people[eid].mtms = mtms
        people[eid].followed = {m for m in mtms if (eid, m) in followed}
        people[eid].happened = {m for m in mtms if followed.get((eid, m))}
    now = as_of if as_of is not None else (events[-1].at if events else None)
    for eid in set(sent) | set(answered):
        verdicts: list[bool] = []
        done = answered.get(eid, {})
        verdicts.extend(secs <= DAY_S for secs in done.values())
        for key, at in sent.get(eid, {}).items():
            if key not in done and now is not None and (now - at).total_seconds() > DAY_S:
                verdicts.append(False)
                people[eid].unanswered += 1
        people[eid].fast = all(verdicts) if verdicts else None
    return people


def manager_cant_reasons(events: Iterable[JourneyEvent]) -> list[tuple[str, int]]:
    """Why managers could not back a moment ("Can't this time"), most frequent first: a barrier in
    the performance system, counted once per request from `manager_cant` events (choices only)."""
    reasons = {(e.enrollment_id, e.prompt_id): str(e.data.get("reason") or "other")
               for e in events if e.kind == "manager_cant"}
    return sorted(Counter(reasons.values()).items(), key=lambda kv: (-kv[1], kv[0]))


def _median_hours(values: list[float], never: int = 0) -> float | None:
    """The median response in hours, never-answered requests counted as the slowest answers.

    None when nothing was answered, or when half or more were never answered (the median is then
    "no answer", which a number of hours would hide).
    """
    if not values or never * 2 >= len(values) + never:
        return None
    ranked = sorted(values) + [math.inf] * never
    return statistics.median(ranked) / 3600


def hidden_because(groups: Sequence[tuple[int, int]], min_group: int) -> str:
    """Why a comparison of (successes, size) groups must stay hidden, or "" when it may show.

    Under min_group a rate exposes individuals; a unanimous group (none or all succeeded) tells
    the answer of every member, whatever its size.
    """
    if any(n < min_group for _, n in groups):
        return "small"
    if any(k in (0, n) for k, n in groups):
        return "unanimous"
    return ""


def _factor(name: str, respondents: list[_Person], flag: Callable[[_Person], bool | None],
            min_group: int) -> Factor:
    yes = [p for p in respondents if flag(p) is True]
    no = [p for p in respondents if flag(p) is False]
    k_yes, k_no = sum(p.success for p in yes), sum(p.success for p in no)
    why = hidden_because(((k_yes, len(yes)), (k_no, len(no))), min_group)
    if why:
        return Factor(name, _hidden(len(yes)), _hidden(len(no)), None, True, None, why)
    w, wo = wilson(k_yes, len(yes)), wilson(k_no, len(no))
    d = difference(k_yes, len(yes), k_no, len(no))
    return Factor(name, w, wo, d.value, False, d)


def evaluate(events: Iterable[JourneyEvent], *, enrollment_ids: Collection[str] | None = None,
             target: float = 0.8, baseline: float = 0.2, min_group: int = MIN_GROUP,
             request_steps: Collection[str] = (), as_of: datetime | None = None) -> Evaluation:
    """The Success Case evaluation of the given events (of `enrollment_ids` only, when given)."""
    selected = _select(events, enrollment_ids)
    people = _people(selected, request_steps, as_of)

    participants = sum(1 for p in people.values() if p.enrolled or p.surveyed)
    completed = sum(1 for p in people.values() if p.surveyed)
    respondents = [p for p in people.values() if p.responded]
    classes = {c: sum(1 for p in respondents if p.classification == c) for c in SCM_CLASSES}
    impact = wilson(classes[SUCCESS], len(respondents))

    planned = sum(len(p.mtms) for p in people.values())
    followed_up = sum(len(p.followed) for p in people.values())
    happened = sum(len(p.happened) for p in people.values())
    unanswered = sum(p.unanswered for p in people.values())

    part_s: list[float] = []
    mgr_s: list[float] = []
    for e in selected:
        secs = e.data.get("response_s")
        if e.kind == "answered" and isinstance(secs, (int, float)) and not isinstance(secs, bool):
            (mgr_s if e.data.get("kind") in MANAGER_KINDS else part_s).append(float(secs))

    flags: dict[str, Callable[[_Person], bool | None]] = {
        FACTOR_EXPECTATIONS: lambda p: p.expectations,
        FACTOR_APPROVED: lambda p: p.approved,
        FACTOR_COACH: lambda p: p.coached,
        FACTOR_FAST: lambda p: p.fast,
    }
    factors = [_factor(name, respondents, flags[name], min_group) for name in FACTORS]

    non_success = [p for p in respondents if not p.success]
    counts = Counter(b for p in non_success for b in p.barriers)
    order = {b: i for i, b in enumerate(BARRIERS)}
    barriers = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))

    supported = [p for p in respondents if p.supported]
    unsupported = [p for p in respondents if not p.supported]
    k_sup, k_unsup = sum(p.success for p in supported), sum(p.success for p in unsupported)
    lost_suppressed = bool(hidden_because(((k_sup, len(supported)), (k_unsup, len(unsupported))),
                                          min_group))
    extra: int | None = None
    support_diff: Difference | None = None
    if not lost_suppressed:
        support_diff = difference(k_sup, len(supported), k_unsup, len(unsupported))
        expected = k_sup / len(supported) * len(unsupported) - k_unsup
        extra = max(0, math.floor(expected + 0.5))
    lost = LostValue(
        non_success_unsupported=0 if lost_suppressed else len(unsupported) - k_unsup,
        unsupported=len(unsupported), supported=len(supported),
        extra_successes=extra, suppressed=lost_suppressed,
    )

    stories = sorted(
        ((p.survey_at, eid) for eid, p in people.items() if p.success and p.contact),
        key=lambda t: (t[0] or datetime.min, t[1]),
    )
    value = impact.value
    return Evaluation(
        participants=participants,
        completed=completed,
        completion=wilson(completed, participants),
        responded_scm=len(respondents),
        classes=classes,
        impact=impact,
        application=wilson(happened, followed_up),
        mtms_planned=planned,
        mtms_happened=happened,
        participant_response_hours=_median_hours(part_s),
        manager_response_hours=_median_hours(mgr_s, unanswered),
        factors=factors,
        barriers=barriers,
        non_success=len(non_success),
        lost=lost,
        success_story_enrollments=[eid for _, eid in stories],
        target=target,
        baseline=baseline,
        min_group=min_group,
        vs_baseline=value / baseline if value is not None and baseline > 0 else None,
        vs_target=value - target if value is not None else None,
        target_met=value >= target if value is not None else None,
        enrollment_ids=tuple(sorted(people)),
        impact_enrolled=wilson(classes[SUCCESS], participants),
        manager_cant=manager_cant_reasons(selected),
        non_response=participants - len(respondents),
        baseline_verdict=(compare_to(impact.low, impact.high, baseline)
                          if impact.low is not None and impact.high is not None else None),
        mtms_followed_up=followed_up,
        requests_unanswered=unanswered,
        barrier_counts=barrier_counts(barriers, selected, _request_steps(selected, request_steps)),
        support_diff=support_diff,
    )


# --- exports ----------------------------------------------------------------------------------

def _num(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _rate_row(metric: str, r: Rate) -> list[str]:
    return [metric, _num(r.value), str(r.count), str(r.total), _num(r.low), _num(r.high)]


def to_csv_rows(ev: Evaluation) -> list[list[str]]:
    """A flat metric,value,count,total,low,high table (header first) for CSV export.

    Rates are fractions (0.6154); empty cells mean "not applicable" or "hidden" (small groups).
    """
    rows: list[list[str]] = [list(CSV_HEADER)]
    rows.append(["participants", str(ev.participants), str(ev.participants), "", "", ""])
    rows.append(_rate_row("completion", ev.completion))
    rows.append(["survey_respondents", str(ev.responded_scm), str(ev.responded_scm),
                 str(ev.completed), "", ""])
    rows.append(_rate_row("impact_rate", ev.impact))
    rows.append(_rate_row("impact_rate_of_enrolled", ev.impact_enrolled))
    rows.append(["non_response", str(ev.non_response), str(ev.non_response), str(ev.participants), "", ""])
    for cls, n in ev.classes.items():
        rows.append(_rate_row(f"class:{cls}", wilson(n, ev.responded_scm)))
    rows.append(["baseline", _num(ev.baseline), "", "", "", ""])
    rows.append(["target", _num(ev.target), "", "", "", ""])
    rows.append(["impact_vs_baseline", _num(ev.vs_baseline), "", "", "", ""])
    rows.append(["impact_vs_target", _num(ev.vs_target), "", "", "", ""])
    rows.append(["impact_vs_baseline_verdict", ev.baseline_verdict or "", "", "", "", ""])
    rows.append(_rate_row("application_rate", ev.application))
    rows.append(["median_response_hours:participants", _num(ev.participant_response_hours, 2),
                 "", "", "", ""])
    rows.append(["median_response_hours:managers", _num(ev.manager_response_hours, 2),
                 "", "", "", ""])
    rows.append(["requests_never_answered", str(ev.requests_unanswered), "", "", "", ""])
    for f in ev.factors:
        for side, r in (("with", f.with_), ("without", f.without)):
            if f.suppressed:
                rows.append([f"factor:{f.name}:{side}", "", "", str(r.total), "", ""])
            else:
                rows.append(_rate_row(f"factor:{f.name}:{side}", r))
        d = f.diff
        rows.append([f"factor:{f.name}:difference", _num(f.difference), "", "",
                     _num(d.low if d else None), _num(d.high if d else None)])
        rows.append([f"factor:{f.name}:fisher_p", _num(d.p_value if d else None), "", "", "", ""])
    for b, n in ev.barriers:
        rows.append(_rate_row(f"barrier:{b}", wilson(n, ev.non_success)))
    for reason, n in ev.manager_cant:
        rows.append([f"manager_cant:{reason}", str(n), str(n), "", "", ""])
    for bc in ev.barrier_counts:  # with where each count comes from: survey, declined, expired, interviews
        rows.append([f"barrier_total:{bc.code}", str(bc.total), str(bc.survey), str(bc.declined), str(bc.expired),
                     str(bc.interview)])
    lost = ev.lost
    rows.append(["lost:non_success_without_support", str(lost.non_success_unsupported),
                 str(lost.non_success_unsupported), str(lost.unsupported), "", ""])
    rows.append(["lost:extra_success_cases",
                 "" if lost.extra_successes is None else str(lost.extra_successes), "", "", "", ""])
    rows.append(["success_stories_available", str(len(ev.success_story_enrollments)),
                 str(len(ev.success_story_enrollments)), "", "", ""])
    return rows


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading a caller-given name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _yes_no(flag: bool | None) -> str:
    return "" if flag is None else ("yes" if flag else "no")


def per_person_rows(events: Iterable[JourneyEvent], names: dict[str, str], *,
                    enrollment_ids: Collection[str] | None = None,
                    request_steps: Collection[str] = (),
                    as_of: datetime | None = None) -> list[list[str]]:
    """One row per enrollment (header first) for the admin CSV, sorted by name then id: progress
    only (see PERSON_HEADER). `names` maps enrollment ids to the display names the caller may show;
    unknown ids get "".
    """
    people = _people(_select(events, enrollment_ids), request_steps, as_of)
    rows: list[list[str]] = [list(PERSON_HEADER)]
    for eid in sorted(people, key=lambda i: (names.get(i, ""), i)):
        p = people[eid]
        rows.append([eid, _cell(names.get(eid, "")), _yes_no(p.surveyed), str(len(p.mtms)),
                     str(len(p.followed)), str(len(p.happened))])
    return rows


# --- the chat report card ---------------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


def _ci(r: Rate) -> str:
    return f"95% CI {round((r.low or 0) * 100)}–{round((r.high or 0) * 100)}%"


def _points(x: float) -> str:
    return f"{'+' if x >= 0 else '−'}{round(abs(x) * 100)}"


def _p_value(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def difference_words(d: Difference) -> str:
    """A group difference worded by its interval: a direction only when the interval has one."""
    interval = (f"95% CI {_points(d.low)} to {_points(d.high)} points, Fisher's exact "
                f"{_p_value(d.p_value)}")
    if d.distinguishable:
        return f"{_points(d.value)} points ({interval})"
    return f"not distinguishable from no difference ({interval})"


BASELINE_LABEL = "Brinkerhoff's rough {pct} baseline for training in general"


def baseline_words(ev: Evaluation) -> str | None:
    """The impact interval against the journey's baseline: only "above" when all of it is."""
    if ev.baseline <= 0 or ev.baseline_verdict is None:
        return None
    label = BASELINE_LABEL.format(pct=_pct(ev.baseline))
    return {"above": f"above {label} (the whole interval is above it)",
            "below": f"below {label} (the whole interval is below it)",
            }.get(ev.baseline_verdict, f"not distinguishable from {label} (the interval includes it)")


HIDDEN_WORDS = {
    "small": "groups smaller than {n}",
    "unanimous": "a group answered unanimously, which would reveal each member's answer",
}


def _hours(h: float) -> str:
    if h < 1:
        return f"{max(1, round(h * 60))} min"
    return (f"{h:.1f}".removesuffix(".0") if h < 10 else str(round(h))) + " h"


def summary_lines(ev: Evaluation, journey_title: str,
                  stories: Sequence[tuple[str, str]] = (), *, lost_line: bool = True) -> list[str]:
    """Concise business-language lines for a chat report card.

    `stories` are up to two anonymised success stories, (what they did, what resulted), of success
    cases who agreed to be contacted; the caller picks them (the events hold no free text) and
    leaves them out where answer texts must not appear (the dashboard). `lost_line=False` leaves
    "what was lost" to a caller that words it in the PPP's value (`journeys.evaluation.value`).
    """
    lines = [f"{journey_title}: Success Case evaluation"]
    n = ev.participants
    lines.append(f"Survey answered by {ev.completed} of {n} participant{'s' if n != 1 else ''}"
                 + (f" ({_pct(ev.completion.value)})" if n else "") + ".")
    if ev.responded_scm == 0:
        lines.append("No survey answers yet, so there is no impact rate to report.")
    else:
        i = ev.impact
        head = f"Impact rate {_pct(i.value)} of those who answered ({i.count} of {i.total}, {_ci(i)})"
        tail = [f"target {_pct(ev.target)}" + (" reached" if ev.target_met else " not reached")]
        lines.append(head + " — " + ", ".join(tail) + ".")
        if ev.non_response:
            e = ev.impact_enrolled
            lines.append(f"Of everyone enrolled: {_pct(e.value)} ({e.count} of {e.total}, {_ci(e)}), "
                         f"counting the {ev.non_response} without a usable survey answer as not "
                         "successful.")
        versus = baseline_words(ev)
        if versus:
            lines.append(f"Impact is {versus}.")
        if ev.responded_scm < ev.min_group:
            lines.append(f"Fewer than {ev.min_group} answers: read the rate as an early signal.")
    if ev.mtms_planned:
        a = ev.application
        text = f"Moments that matter: {ev.mtms_planned} planned"
        if a.total:
            text += f"; of the {a.total} followed up, {a.count} happened ({_pct(a.value)}, {_ci(a)})"
        waiting = ev.mtms_planned - ev.mtms_followed_up
        if waiting:
            text += f"; {waiting} without a follow-up answer (not counted)"
        lines.append(text + ".")
    times = [f"{who} {_hours(h)}" for who, h in (("participants", ev.participant_response_hours),
                                                  ("managers", ev.manager_response_hours)) if h is not None]
    if ev.requests_unanswered:
        k = ev.requests_unanswered
        never = f"{k} support request{'s' if k != 1 else ''} never answered"
        times.append(f"({never}, counted as the slowest)" if ev.manager_response_hours is not None
                     else f"managers: half or more of their support requests never answered ({never})")
    if times:
        lines.append(f"Median response time: {', '.join(times)}.".replace(", (", " ("))
    if ev.barriers:
        top = ", ".join(f"{BARRIER_LABELS.get(b, b)} ({c})" for b, c in ev.barriers[:3])
        lines.append(f"Top barriers: {top}.")
    if ev.barrier_counts:
        lines.append("Barriers in the performance system, and who can remove them:")
        lines += [f"• {barrier_line(b)}" for b in ev.barrier_counts]
    if ev.manager_cant:
        why = ", ".join(f"{CANT_LABELS.get(r, r)} ({n})" for r, n in ev.manager_cant)
        total = sum(n for _, n in ev.manager_cant)
        lines.append(f"Managers said \"can't this time\" to {total} support request{'s' if total != 1 else ''}: {why}.")
    shown = [(f, f.diff) for f in ev.factors if f.diff is not None]
    if shown:
        f, d = max(shown, key=lambda x: abs(x[1].value))  # ties: the first listed
        lines.append(
            f"Manager support — {f.name}: {_pct(f.with_.value)} impact with it "
            f"({f.with_.count} of {f.with_.total}) vs {_pct(f.without.value)} without "
            f"({f.without.count} of {f.without.total}): {difference_words(d)}.")
    elif ev.responded_scm and ev.factors:
        reasons = [HIDDEN_WORDS[why].format(n=ev.min_group) for why in HIDDEN_WORDS
                   if any(f.hidden_because == why for f in ev.factors)]
        lines.append("Manager-support comparison hidden: " + "; or ".join(reasons) + ".")
    lost = ev.lost
    if lost_line and not lost.suppressed and lost.non_success_unsupported:
        text = (f"What was lost: {lost.non_success_unsupported} of {lost.unsupported} participants "
                "without manager support did not reach a worthwhile result")
        if lost.extra_successes:
            text += (f"; at the supported group's success rate about {lost.extra_successes} more "
                     f"would have been success case{'s' if lost.extra_successes != 1 else ''}"
                     " (an association, not proof that support caused it)")
        lines.append(text + ".")
    if ev.success_story_enrollments:
        k = len(ev.success_story_enrollments)
        lines.append(f"{k} success stor{'ies' if k != 1 else 'y'} may be shared (authors agreed).")
    for k, (did, result) in enumerate([st for st in stories if st[0] or st[1]][:2], start=1):
        label = f"Self-reported story {k} (survey, not verified)"
        text = f"{label}: “{did}”" if did else f"{label}:"
        lines.append(text + (f" Result: “{result}”" if result else ""))
    return lines
