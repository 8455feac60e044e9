"""The senior-leader accountability digest: how the managers of a leader's organisation answered
their people's support requests, and what difference it made to impact.

A senior leader is a manager's manager. Their organisation, for one journey, is the managers who
report to them and those managers' participants; the caller (the scheduler) finds the people and
hands over the stored events of those participants' enrollments. Everything here is a pure
function of those events (no I/O, no clock), like `journeys.evaluation.success_case`.

What is reported, always aggregated over the whole organisation:

* support requests (prompts of `manager_request` steps) the managers answered, of those that are
  decided: answered, or still unanswered more than one working day after they were sent. A request
  sent less than one working day ago and not answered yet is pending and not counted;
* how fast: the median response time in hours, and how many were answered within one working day
  (the same or the next working day in the leader's calendar, so a Friday request answered on
  Monday counts as within one working day);
* the impact rate of the organisation's survey respondents, and the difference support made: the
  impact rate of respondents whose support requests were all answered against those with at least
  one request left unanswered (respondents without any decided request are in neither group).

No individual answer may be exposed, so every figure has a minimum group size (`min_group`, the
same setting the cohort reports use): request counts need at least `min_group` decided requests,
response times at least `min_group` answered requests, the impact rate at least `min_group`
survey respondents, and the comparison at least `min_group` respondents on each side. Below the
minimum the digest says the group is too small instead of showing numbers.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from journeys import timekeeping
from journeys.calendar import WorkCalendar
from journeys.definition import Journey
from journeys.evaluation.plain_words import compare_sentence, rate_sentence
from journeys.evaluation.stats import Difference, difference
from journeys.evaluation.success_case import (
    DAY_S,
    MIN_GROUP,
    SCM_CLASSES,
    SUCCESS,
    Rate,
    hidden_because,
    wilson,
)
from journeys.messages import Message
from journeys.state import JourneyEvent, Person
from journeys.text import typed

REQUEST_KIND = "manager_request"
_ANSWER_KINDS = ("manager_approved", "manager_coach")
_DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
              "sat": "Saturday", "sun": "Sunday"}


def request_steps(journey: Journey) -> tuple[str, ...]:
    """The ids of the journey's support-request steps (the prompts managers answer)."""
    return tuple(s.id for s in journey.steps if s.kind == REQUEST_KIND)


@dataclass(frozen=True)
class OrgFigures:
    """One organisation's aggregates. Hidden figures are None (or a `Rate` without a value)."""

    managers: int  # managers with participants in the journey
    participants: int  # their participants' enrollments
    activity: bool  # anything was sent to anyone in the organisation yet
    min_group: int
    requests: int  # decided support requests: answered + unanswered after one working day
    answered: int | None  # None: fewer than min_group decided requests
    within_day: int | None  # answered within one working day; None: fewer than min_group answered
    median_response_hours: float | None  # None: fewer than min_group answered (or none)
    respondents: int  # survey respondents with a valid classification
    impact: Rate  # hidden (value None) below min_group respondents
    with_answers: Rate  # respondents whose requests were all answered; hidden when too small
    without_answers: Rate  # respondents with at least one request left unanswered
    difference: float | None  # with_answers - without_answers; None when hidden
    comparison_shown: bool
    diff: Difference | None = None  # the difference with its interval and Fisher's p; None when hidden
    impact_basis: int = 0  # the earliest survey answers the impact rate is computed from


@dataclass
class _Request:
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    response_s: float | None = None


@dataclass
class _Participant:
    classification: str | None = None
    classified: int = -1  # position of the first survey answer among the events (ties broken by it)
    requests: dict[str, _Request] | None = None


def _hidden(total: int) -> Rate:
    return Rate(0, total, None, None, None)


def organisation_figures(events: Iterable[JourneyEvent], org: Mapping[str, Collection[str]], *,
                         steps: Collection[str] = (), min_group: int = MIN_GROUP, as_of: datetime | None = None,
                         calendar: WorkCalendar | None = None, tz: ZoneInfo | None = None) -> OrgFigures:
    """The organisation's figures from the events of its participants' enrollments.

    `org` maps each manager who reports to the leader to their participants' enrollment ids (a
    manager without any is not counted; an enrollment listed twice counts once). `steps` names
    the journey's support-request steps (answers of kind "manager_request" are recognised anyway).
    `as_of` (default: the latest event) decides which unanswered requests are overdue. With
    `calendar` and `tz`, "within one working day" counts working days in that calendar; without,
    it is 24 hours.
    """
    if min_group < 1:
        raise ValueError(f"min_group must be at least 1, got {min_group}")
    enrollments = {eid for ids in org.values() for eid in ids}
    managers = sum(1 for ids in org.values() if ids)
    chosen = sorted((e for e in events if e.enrollment_id in enrollments), key=lambda e: e.at)
    known_steps = set(steps)
    for e in chosen:
        if ((e.kind == "answered" and e.data.get("kind") == REQUEST_KIND) or e.kind in _ANSWER_KINDS) \
                and e.data.get("step"):
            known_steps.add(str(e.data["step"]))

    people: dict[str, _Participant] = {eid: _Participant() for eid in enrollments}
    activity = False
    for order, e in enumerate(chosen):
        p = people[e.enrollment_id]
        d = e.data
        if e.kind == "sent":
            activity = True
        if e.kind == "scm_classified":
            cls = d.get("classification")
            p.classification = str(cls) if cls is not None else None
            if p.classified < 0:
                p.classified = order
            continue
        is_request_sent = e.kind == "sent" and str(d.get("step")) in known_steps
        is_answer = (e.kind == "answered" and d.get("kind") == REQUEST_KIND) or e.kind in _ANSWER_KINDS
        if not (is_request_sent or is_answer):
            continue
        key = e.prompt_id or f"{e.enrollment_id}:{d.get('step')}"
        if p.requests is None:
            p.requests = {}
        r = p.requests.setdefault(key, _Request())
        if is_request_sent:
            if r.sent_at is None:
                r.sent_at = e.at
        elif r.answered_at is None:  # the first answer counts (an "answered" and its manager_* twin)
            r.answered_at = e.at
            secs = d.get("response_s")
            if isinstance(secs, (int, float)) and not isinstance(secs, bool):
                r.response_s = float(secs)
            elif r.sent_at is not None:
                r.response_s = (e.at - r.sent_at).total_seconds()

    now = as_of if as_of is not None else (chosen[-1].at if chosen else None)

    def working_days(a: datetime, b: datetime) -> int | None:
        if calendar is None or tz is None:
            return None
        return calendar.working_days_between(timekeeping.local_date(a, tz), timekeeping.local_date(b, tz))

    def within_one_day(r: _Request) -> bool:
        if r.sent_at is not None and r.answered_at is not None:
            days = working_days(r.sent_at, r.answered_at)
            if days is not None:
                return days <= 1
        return r.response_s is not None and r.response_s <= DAY_S

    def overdue(r: _Request) -> bool:
        if r.sent_at is None or now is None:
            return False
        days = working_days(r.sent_at, now)
        if days is not None:
            return days > 1
        return (now - r.sent_at) > timedelta(seconds=DAY_S)

    answered: list[_Request] = []
    unanswered = 0
    with_group: list[_Participant] = []
    without_group: list[_Participant] = []
    for p in people.values():
        decided_answered = [r for r in (p.requests or {}).values() if r.answered_at is not None]
        decided_missing = [r for r in (p.requests or {}).values() if r.answered_at is None and overdue(r)]
        answered.extend(decided_answered)
        unanswered += len(decided_missing)
        if p.classification in SCM_CLASSES:
            if decided_missing:
                without_group.append(p)
            elif decided_answered:
                with_group.append(p)

    requests = len(answered) + unanswered
    times = [r.response_s for r in answered if r.response_s is not None]
    show_times = len(answered) >= min_group and bool(times)
    respondents = [p for p in people.values() if p.classification in SCM_CLASSES]
    # Weekly digests are cumulative: were the rate recomputed at every new answer, two digests a
    # week apart would tell the answer of the one person who answered in between. So the rate
    # moves in steps of min_group answers: it uses the earliest whole multiple of min_group.
    basis = sorted(respondents, key=lambda p: p.classified)
    basis = basis[:len(basis) - len(basis) % min_group]
    successes = sum(1 for p in basis if p.classification == SUCCESS)
    impact = (wilson(successes, len(basis))
              if basis and not hidden_because(((successes, len(basis)),), min_group)
              else _hidden(len(respondents)))
    k_with = sum(1 for p in with_group if p.classification == SUCCESS)
    k_without = sum(1 for p in without_group if p.classification == SUCCESS)
    shown = not hidden_because(((k_with, len(with_group)), (k_without, len(without_group))), min_group)
    gap: Difference | None = None
    if shown:
        w, wo = wilson(k_with, len(with_group)), wilson(k_without, len(without_group))
        gap = difference(k_with, len(with_group), k_without, len(without_group))
    else:
        w, wo = _hidden(len(with_group)), _hidden(len(without_group))
    return OrgFigures(
        managers=managers,
        participants=len(enrollments),
        activity=activity,
        min_group=min_group,
        requests=requests,
        answered=len(answered) if requests >= min_group else None,
        within_day=sum(1 for r in answered if within_one_day(r)) if show_times else None,
        median_response_hours=statistics.median(times) / 3600 if show_times else None,
        respondents=len(respondents),
        impact=impact,
        with_answers=w,
        without_answers=wo,
        difference=gap.value if gap else None,
        comparison_shown=shown,
        diff=gap,
        impact_basis=len(basis) if impact.value is not None else 0,
    )


@dataclass(frozen=True)
class ManagerFollowUp:
    """Who to follow up with, by name: the leader's managers are accountable to them."""

    overdue: dict[str, int]  # manager id -> their support requests and tasks waiting > 1 working day
    open: dict[str, int]  # manager id -> waiting, not yet overdue
    expectations_held: int | None  # expectations conversations held before the start; None: too small
    expectations_total: int  # enrollments that have one
    # (manager id, overdue) -> what waits ("support request", ...) -> how many
    what: dict[tuple[str, bool], dict[str, int]] = field(default_factory=dict)


_WHAT = {"expectations": "expectations conversation", "request": "support request", "task": "task"}


def manager_follow_up(events: Iterable[JourneyEvent], org: Mapping[str, Collection[str]], *,
                      steps: Collection[str], expectation_steps: Collection[str], min_group: int,
                      as_of: datetime, calendar: WorkCalendar, tz: ZoneInfo,
                      requests: Collection[str] = ()) -> ManagerFollowUp:
    """Open and overdue manager items per manager, and the expectations conversations held in time.

    `steps`: every manager step (requests and tasks); an item is closed by any answer or expiry.
    `requests`: those that are support requests, so the digest can say what waits (a support
    request, an expectations conversation, another task)."""
    manager_of = {eid: mid for mid, ids in org.items() for eid in ids}
    sent: dict[str, tuple[str, datetime]] = {}
    kind_of: dict[str, str] = {}
    closed: set[str] = set()
    held: set[str] = set()
    for e in sorted((e for e in events if e.enrollment_id in manager_of), key=lambda e: e.at):
        key = e.prompt_id or ""
        if e.kind == "sent" and str(e.data.get("step")) in steps and key:
            sent.setdefault(key, (e.enrollment_id, e.at))
            step = str(e.data.get("step"))
            kind_of.setdefault(key, "expectations" if step in expectation_steps else
                               "request" if step in requests else "task")
        elif e.kind in ("answered", "expired", "cancelled", "manager_task_done") and key:
            closed.add(key)
        if e.kind == "manager_task_done" and e.data.get("before_start") is True \
                and str(e.data.get("step")) in expectation_steps:
            held.add(e.enrollment_id)
    overdue: dict[str, int] = {}
    waiting: dict[str, int] = {}
    what: dict[tuple[str, bool], dict[str, int]] = {}
    today = timekeeping.local_date(as_of, tz)
    for key, (eid, at) in sent.items():
        if key in closed:
            continue
        late = calendar.working_days_between(timekeeping.local_date(at, tz), today) > 1
        bucket = overdue if late else waiting
        bucket[manager_of[eid]] = bucket.get(manager_of[eid], 0) + 1
        kinds = what.setdefault((manager_of[eid], late), {})
        kinds[kind_of[key]] = kinds.get(kind_of[key], 0) + 1
    total = len(manager_of) if expectation_steps else 0
    return ManagerFollowUp(overdue, waiting, len(held) if total >= min_group else None, total, what)


def follow_up_lines(f: ManagerFollowUp, names: Mapping[str, str], min_group: int) -> list[str]:
    """The digest's named lines: whom to ask about what, and the expectations conversations."""
    lines: list[str] = []
    if f.expectations_total:
        lines.append(f"Expectations conversations held before the start: {f.expectations_held} of "
                     f"{f.expectations_total}." if f.expectations_held is not None else
                     f"Expectations conversations held before the start: too small a group to report "
                     f"(fewer than {min_group}).")

    def items(m: str, n: int, late: bool) -> str:
        """'2 expectations conversations', '1 support request, 1 task'; the bare count when unknown."""
        kinds = f.what.get((m, late))
        if not kinds:
            return str(n)
        return ", ".join(_plural(k, _WHAT[w]) for w, k in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))

    def who(counts: dict[str, int], late: bool) -> str:
        return ", ".join(f"{typed(names.get(m, 'a manager'))} ({items(m, n, late)})" for m, n in
                         sorted(counts.items(), key=lambda kv: (-kv[1], names.get(kv[0], ""))))
    if f.overdue:
        lines.append(f"Waiting more than a working day for: {who(f.overdue, True)}. Ask them to answer: manager "
                     "support is the largest single factor in whether learning is applied on the job.")
    if f.open:
        lines.append(f"Newly waiting (under a working day): {who(f.open, False)}.")
    return lines


# --- the message ------------------------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


def format_hours(hours: float) -> str:
    """A response time people read at a glance: minutes, hours, or days beyond two days."""
    if hours < 1:
        minutes = max(1, round(hours * 60))
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if hours < 10:
        return f"{hours:.1f}".removesuffix(".0") + (" hour" if round(hours, 1) == 1 else " hours")
    if hours < 48:
        return f"{round(hours)} hours"
    return f"{hours / 24:.1f} days"


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def summary(figures: OrgFigures, journey_title: str, target: float, named: bool = False,
            baseline: float = 0.0) -> list[str]:
    """The digest's lines in business language; hidden figures are named as too small. A shown
    rate or difference leads with its plain sentence (journeys/evaluation/plain_words.py); the
    interval and test are left to the report's CSV and the dashboard."""
    f = figures
    n = f.min_group
    verb = "has" if f.managers == 1 else "have"
    people = _plural(f.participants, "person", "people")
    lines = [f"{_plural(f.managers, 'manager')} reporting to you {verb} {people} in {journey_title}."]
    if f.requests == 0:
        lines.append("Support requests: none answered or waiting more than a working day yet.")
    elif f.answered is None:
        lines.append(f"Support requests: too small a group to report yet (fewer than {n}), so individual "
                     "answers stay private.")
    else:
        text = (f"Support requests: managers answered {f.answered} of {f.requests} "
                f"({_pct(f.answered / f.requests)}).")
        if f.median_response_hours is not None and f.within_day is not None:
            text += (f" Median response time {format_hours(f.median_response_hours)}; {f.within_day} of "
                     f"{f.answered} answered within one working day.")
        elif f.answered:
            text += f" Response times: too small a group to report (fewer than {n} answered)."
        lines.append(text)
    if f.respondents == 0:
        lines.append("Impact: no Success Case survey answers yet.")
    elif f.impact.value is None and f.respondents < n:
        lines.append(f"Impact: too small a group to report (fewer than {n} survey answers so far).")
    elif f.impact.value is None:
        lines.append("Impact: not shown, because the answers so far are all alike and would reveal "
                     "each person's answer.")
    else:
        i = f.impact
        later = f.respondents - f.impact_basis
        lines.append(rate_sentence(i, i.total, n, baseline))
        lines.append(f"Impact rate {_pct(i.value)} ({i.count} of {i.total} applied it with a worthwhile "
                     f"result); the journey's target is {_pct(target)}."
                     + (f" The {_plural(later, 'latest answer')} will count once {n} more have come in, "
                        "so no single answer can be worked out from two digests." if later else ""))
    if f.diff is not None:
        w, wo = f.with_answers, f.without_answers
        groups = (f"{_pct(w.value)} where managers answered every support request ({w.count} of {w.total}) "
                  f"against {_pct(wo.value)} where a request went unanswered ({wo.count} of {wo.total})")
        lines.append("Difference support made: " + compare_sentence(
            f.diff, f"a clear one, {{points}} more reached a worthwhile result: {groups}.",
            f"people whose managers answered did clearly worse, by {{points}}: {groups}.",
            f"none we can tell yet: {groups}."))
    elif f.respondents and min(f.with_answers.total, f.without_answers.total) < n:
        lines.append(f"Difference support made: too small a group to compare (each side needs at least {n} "
                     "survey answers).")
    elif f.respondents:
        lines.append("Difference support made: not shown, because one side's answers are all alike and "
                     "would reveal each person's answer.")
    if f.answered is not None and f.answered < f.requests and not named:
        lines.append("Ask your managers to answer support requests within a working day: manager support "
                     "is the largest single factor in whether learning is applied on the job.")
    return lines


def build_accountability_digest(journey: Journey, leader: Person, figures: OrgFigures,
                                now: datetime, follow_up: ManagerFollowUp | None = None,
                                names: Mapping[str, str] | None = None,
                                opening: Sequence[str] = ()) -> Message | None:
    """The weekly message to a senior leader; None when nobody below them has participants in the
    journey or nothing has been sent to anyone yet (no digest of zeros). `opening` lines (the PPP's
    business goal and value, `journeys.evaluation.value.leader_lines`) come first."""
    if figures.managers == 0 or figures.participants == 0 or not figures.activity:
        return None
    tz = timekeeping.tz_of(journey, leader)
    today = timekeeping.local_date(now, tz)
    week = today - timedelta(days=today.weekday())
    f = figures
    answered = ("too small a group" if f.answered is None and f.requests else
                "–" if f.answered is None else f"{f.answered} of {f.requests}")
    median = "–" if f.median_response_hours is None else format_hours(f.median_response_hours)
    day = _DAY_NAMES.get(journey.manager_digest.day, "week") if journey.manager_digest else "week"
    return Message(
        recipient_id=leader.id,
        title=f"Manager support in your organisation · week of {timekeeping.format_day(week)}",
        text="\n".join([*opening,
                         *summary(figures, journey.title, journey.target_impact_rate,
                                  bool(follow_up and follow_up.overdue), journey.baseline_impact_rate),
                         *(follow_up_lines(follow_up, names or {}, f.min_group) if follow_up else [])]),
        journey_title=journey.title,
        facts=(("Managers", str(f.managers)), ("People in the journey", str(f.participants)),
               ("Support requests answered", answered), ("Median response time", median)),
        context=(f"{journey.title} · about the managers who report to you, never about one person's "
                 f"answers · sent every {day}"),
        audience="manager",
    )
