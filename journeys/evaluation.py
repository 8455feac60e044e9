"""Impact evaluation by the Success Case Method, computed from stored events only.

Everything here is a pure function of a list of `JourneyEvent`s (no I/O, no clock), so the same
events always give the same report: the chat card, the CSV export and the dashboard all read one
`Evaluation`.

What is measured (see DESIGN.md §1 and issue 7):

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

from journeys.state import JourneyEvent

# The same values as journeys.definition (a test pins them); not imported, so that this module stays
# a pure, dependency-free reader of events.
SCM_CLASSES = ("success", "applied_no_result", "tried_no_success", "not_applied")
MANAGER_KINDS = ("manager_task", "manager_request")

Z95 = 1.959964
DAY_S = 24 * 3600

SUCCESS = "success"
BARRIERS = ("no_opportunity", "no_manager_support", "no_time", "unclear_how", "other")
BARRIER_LABELS = {
    "no_opportunity": "no suitable situation came up",
    "no_manager_support": "no support from their manager",
    "no_time": "no time",
    "unclear_how": "unclear how to apply it",
    "other": "something else",
}

FACTOR_EXPECTATIONS = "Expectations conversation before the start"
FACTOR_APPROVED = "Support request approved"
FACTOR_COACH = "Manager chose to coach"
FACTOR_FAST = "Manager answered support requests within 1 working day"
FACTORS = (FACTOR_EXPECTATIONS, FACTOR_APPROVED, FACTOR_COACH, FACTOR_FAST)

CSV_HEADER = ["metric", "value", "count", "total", "low", "high"]
PERSON_HEADER = [
    "enrollment_id", "name", "classification", "barriers", "mtms_planned", "mtms_happened",
    "expectations_before_start", "request_approved", "manager_coached", "requests_within_1_day",
]


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
    p = count / total
    z2 = z * z
    denom = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == total else min(1.0, centre + half)
    return Rate(count, total, p, low, high)


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


@dataclass(frozen=True)
class LostValue:
    """Success cases missing where manager support was missing.

    "Supported" = expectations conversation before the start, or any approved / coach response.
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
    happened: set[str] = field(default_factory=set)
    fast: bool | None = None  # None: no (decided) support request

    @property
    def responded(self) -> bool:
        return self.classification in SCM_CLASSES

    @property
    def success(self) -> bool:
        return self.classification == SUCCESS

    @property
    def supported(self) -> bool:
        return self.expectations or self.approved or self.coached


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


def _people(events: list[JourneyEvent], request_steps: Collection[str],
            as_of: datetime | None) -> dict[str, _Person]:
    people: dict[str, _Person] = {}
    planned: dict[str, set[str]] = {}
    followed: dict[tuple[str, str], bool] = {}
    steps = set(request_steps)
    for e in events:
        answer = e.kind == "answered" and e.data.get("kind") == "manager_request"
        if (answer or e.kind in ("manager_approved", "manager_coach")) and e.data.get("step"):
            steps.add(str(e.data["step"]))
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
        people[eid].happened = {m for m in mtms if followed.get((eid, m))}
    now = as_of if as_of is not None else (events[-1].at if events else None)
    for eid in set(sent) | set(answered):
        verdicts: list[bool] = []
        done = answered.get(eid, {})
        verdicts.extend(secs <= DAY_S for secs in done.values())
        for key, at in sent.get(eid, {}).items():
            if key not in done and now is not None and (now - at).total_seconds() > DAY_S:
                verdicts.append(False)
        people[eid].fast = all(verdicts) if verdicts else None
    return people


def _median_hours(values: list[float]) -> float | None:
    return statistics.median(values) / 3600 if values else None


def _factor(name: str, respondents: list[_Person], flag: Callable[[_Person], bool | None],
            min_group: int) -> Factor:
    yes = [p for p in respondents if flag(p) is True]
    no = [p for p in respondents if flag(p) is False]
    if len(yes) < min_group or len(no) < min_group:
        return Factor(name, _hidden(len(yes)), _hidden(len(no)), None, True)
    w = wilson(sum(p.success for p in yes), len(yes))
    wo = wilson(sum(p.success for p in no), len(no))
    diff = w.value - wo.value if w.value is not None and wo.value is not None else None
    return Factor(name, w, wo, diff, False)


def evaluate(events: Iterable[JourneyEvent], *, enrollment_ids: Collection[str] | None = None,
             target: float = 0.8, baseline: float = 0.2, min_group: int = 5,
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
    happened = sum(len(p.happened) for p in people.values())

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
    lost_suppressed = len(supported) < min_group or len(unsupported) < min_group
    extra: int | None = None
    if not lost_suppressed:
        rate = sum(p.success for p in supported) / len(supported)
        expected = rate * len(unsupported) - sum(p.success for p in unsupported)
        extra = max(0, math.floor(expected + 0.5))
    lost = LostValue(
        non_success_unsupported=sum(1 for p in unsupported if not p.success),
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
        application=wilson(happened, planned),
        mtms_planned=planned,
        mtms_happened=happened,
        participant_response_hours=_median_hours(part_s),
        manager_response_hours=_median_hours(mgr_s),
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
    for cls, n in ev.classes.items():
        rows.append(_rate_row(f"class:{cls}", wilson(n, ev.responded_scm)))
    rows.append(["baseline", _num(ev.baseline), "", "", "", ""])
    rows.append(["target", _num(ev.target), "", "", "", ""])
    rows.append(["impact_vs_baseline", _num(ev.vs_baseline), "", "", "", ""])
    rows.append(["impact_vs_target", _num(ev.vs_target), "", "", "", ""])
    rows.append(_rate_row("application_rate", ev.application))
    rows.append(["median_response_hours:participants", _num(ev.participant_response_hours, 2),
                 "", "", "", ""])
    rows.append(["median_response_hours:managers", _num(ev.manager_response_hours, 2),
                 "", "", "", ""])
    for f in ev.factors:
        for side, r in (("with", f.with_), ("without", f.without)):
            if f.suppressed:
                rows.append([f"factor:{f.name}:{side}", "", "", str(r.total), "", ""])
            else:
                rows.append(_rate_row(f"factor:{f.name}:{side}", r))
        rows.append([f"factor:{f.name}:difference", _num(f.difference), "", "", "", ""])
    for b, n in ev.barriers:
        rows.append(_rate_row(f"barrier:{b}", wilson(n, ev.non_success)))
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
    """One row per enrollment (header first) for the admin CSV, sorted by name then id.

    `names` maps enrollment ids to the display names the caller may show; unknown ids get "".
    """
    people = _people(_select(events, enrollment_ids), request_steps, as_of)
    rows: list[list[str]] = [list(PERSON_HEADER)]
    for eid in sorted(people, key=lambda i: (names.get(i, ""), i)):
        p = people[eid]
        rows.append([
            eid, _cell(names.get(eid, "")), p.classification or "", ";".join(p.barriers),
            str(len(p.mtms)), str(len(p.happened)), _yes_no(p.expectations),
            _yes_no(p.approved), _yes_no(p.coached), _yes_no(p.fast),
        ])
    return rows


# --- the chat report card ---------------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


def _ci(r: Rate) -> str:
    return f"95% CI {round((r.low or 0) * 100)}–{round((r.high or 0) * 100)}%"


def _hours(h: float) -> str:
    if h < 1:
        return f"{max(1, round(h * 60))} min"
    return (f"{h:.1f}".removesuffix(".0") if h < 10 else str(round(h))) + " h"


def summary_lines(ev: Evaluation, journey_title: str,
                  stories: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Concise business-language lines for a chat report card.

    `stories` are up to two anonymised success stories, (what they did, what resulted), of success
    cases who agreed to be contacted; the caller picks them (the events hold no free text) and
    leaves them out where answer texts must not appear (the dashboard).
    """
    lines = [f"{journey_title}: Success Case evaluation"]
    n = ev.participants
    lines.append(f"Survey answered by {ev.completed} of {n} participant{'s' if n != 1 else ''}"
                 + (f" ({_pct(ev.completion.value)})" if n else "") + ".")
    if ev.responded_scm == 0:
        lines.append("No survey answers yet, so there is no impact rate to report.")
    else:
        i = ev.impact
        head = f"Impact rate {_pct(i.value)} ({i.count} of {i.total}, {_ci(i)})"
        tail = []
        if ev.vs_baseline is not None:
            tail.append(f"{ev.vs_baseline:.1f}× the {_pct(ev.baseline)} industry baseline")
        tail.append(f"target {_pct(ev.target)}" + (" reached" if ev.target_met else ""))
        lines.append(head + " — " + ", ".join(tail))
        if ev.responded_scm < ev.min_group:
            lines.append(f"Fewer than {ev.min_group} answers: read the rate as an early signal.")
    if ev.mtms_planned:
        a = ev.application
        lines.append(f"Moments that matter: {a.count} of {a.total} planned happened "
                     f"({_pct(a.value)}).")
    times = [f"{who} {_hours(h)}" for who, h in (("participants", ev.participant_response_hours),
                                                  ("managers", ev.manager_response_hours)) if h is not None]
    if times:
        lines.append(f"Median response time: {', '.join(times)}.")
    if ev.barriers:
        top = ", ".join(f"{BARRIER_LABELS.get(b, b)} ({c})" for b, c in ev.barriers[:3])
        lines.append(f"Top barriers: {top}.")
    shown = [f for f in ev.factors if not f.suppressed and f.difference is not None]
    if shown:
        f = max(shown, key=lambda x: abs(x.difference or 0.0))  # ties: the first listed
        d = f.difference or 0.0
        lines.append(
            f"Manager support — {f.name}: {_pct(f.with_.value)} impact with it "
            f"({f.with_.count} of {f.with_.total}) vs {_pct(f.without.value)} without "
            f"({f.without.count} of {f.without.total}), {'+' if d >= 0 else '−'}"
            f"{round(abs(d) * 100)} points.")
    elif ev.responded_scm and ev.factors:
        lines.append(f"Manager-support comparison hidden: groups smaller than {ev.min_group}.")
    lost = ev.lost
    if lost.non_success_unsupported:
        who = (f"{lost.non_success_unsupported} participant"
               f"{'s' if lost.non_success_unsupported != 1 else ''}")
        text = f"What was lost: {who} without manager support did not reach a worthwhile result"
        if lost.extra_successes:
            text += (f"; at the supported group's success rate, about {lost.extra_successes} more "
                     f"would be success case{'s' if lost.extra_successes != 1 else ''}")
        lines.append(text + ".")
    if ev.success_story_enrollments:
        k = len(ev.success_story_enrollments)
        lines.append(f"{k} success stor{'ies' if k != 1 else 'y'} may be shared (authors agreed).")
    for k, (did, result) in enumerate([st for st in stories if st[0] or st[1]][:2], start=1):
        text = f"Success story {k}: “{did}”" if did else f"Success story {k}:"
        lines.append(text + (f" Result: “{result}”" if result else ""))
    return lines
