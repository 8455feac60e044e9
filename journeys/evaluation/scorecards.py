"""Scorecards and recognition at the end of a journey: each manager's team against the cohort.

The Success Case Method finds that whether people apply training depends mostly on what happens
around them, above all their manager's support; so the results go back to the managers whose
support they measure, and the good work is named. At the end of a journey each manager receives
their team's figures next to the cohort's, with a line of recognition naming what they did; their
own manager receives the same for every manager below them.

Two kinds of figure, treated differently:

* what the manager did (expectations conversations held before the start, support requests
  answered and how fast, moments coached) is their own record: it is shown to them and to their
  own manager whatever the team's size, and the recognition line is drawn from it;
* what their people did (moments that matter practised) describes participants, so it follows
  the one minimum-group rule of every report (`success_case.hidden_because`: at least `min_group`
  people, and not all alike). When one cohort's team is too small, the manager's teams in every
  cohort of the same journey are pooled, and the card says so; below the minimum even pooled, the
  figure is named as too small. The cohort's figures follow the same rule over the same cohorts.

Pure: events in, figures and messages out (the scheduler, `scheduler/results.py`, loads).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from journeys.calendar import WorkCalendar
from journeys.definition import Journey
from journeys.evaluation.accountability import (
    format_hours,
    manager_follow_up,
    organisation_figures,
    request_steps,
)
from journeys.evaluation.success_case import hidden_because
from journeys.messages import Message
from journeys.state import JourneyEvent, Person
from journeys.text import typed


@dataclass(frozen=True)
class TeamFigures:
    """One group's figures (a manager's team, or the whole cohort)."""

    people: int
    expectations_held: int
    expectations_total: int  # 0: the journey has no expectations conversation
    requests: int  # decided support requests (answered, or waiting more than a working day)
    answered: int
    within_day: int
    median_hours: float | None
    coached: int  # support requests answered by coaching the moment
    followed_up: int  # moments that matter with a follow-up answer
    practised: int  # of those, the ones that happened
    people_practised: int  # people with at least one moment that happened


def _expectation_steps(journey: Journey) -> list[str]:
    e = journey.manager_support.expectations
    return [e.step] if e else [s.id for s in journey.steps if s.kind == "manager_task"]


def team_figures(journey: Journey, events: Iterable[JourneyEvent], enrollment_ids: Collection[str], *,
                 as_of: datetime, calendar: WorkCalendar, tz: ZoneInfo) -> TeamFigures:
    """The figures of these enrollments, from their events (working days in `calendar`)."""
    ids = set(enrollment_ids)
    chosen = [e for e in events if e.enrollment_id in ids]
    org = {"team": sorted(ids)}
    support = organisation_figures(chosen, org, steps=request_steps(journey), min_group=1, as_of=as_of,
                                   calendar=calendar, tz=tz)
    manager_steps = [s.id for s in journey.steps if s.kind in ("manager_task", "manager_request")]
    follow = manager_follow_up(chosen, org, steps=manager_steps, expectation_steps=_expectation_steps(journey),
                               min_group=1, as_of=as_of, calendar=calendar, tz=tz)
    happened: dict[tuple[str, str], bool] = {}
    coached = 0
    for e in sorted(chosen, key=lambda ev: ev.at):
        if e.kind == "mtm_followed_up" and e.data.get("mtm") and e.data.get("happened") in ("yes", "no"):
            happened[(e.enrollment_id, str(e.data["mtm"]))] = e.data.get("happened") == "yes"
        elif e.kind == "manager_coach":
            coached += 1
    has_expectations = journey.manager_support.expectations is not None or any(
        s.kind == "manager_task" for s in journey.steps)
    return TeamFigures(
        people=len(ids),
        expectations_held=follow.expectations_held or 0,
        expectations_total=len(ids) if has_expectations else 0,
        requests=support.requests,
        answered=support.answered or 0,
        within_day=support.within_day or 0,
        median_hours=support.median_response_hours,
        coached=coached,
        followed_up=len(happened),
        practised=sum(happened.values()),
        people_practised=len({eid for (eid, _), yes in happened.items() if yes}),
    )


@dataclass(frozen=True)
class Scope:
    """Which cohorts a manager's card covers: their latest cohort, or (`pooled`) every cohort of
    the journey they had people in, when only the pool reaches the minimum group."""

    cohorts: tuple[str, ...]
    pooled: bool


def choose_scope(team_by_cohort: Mapping[str, int], latest: str, min_group: int) -> Scope:
    """The latest cohort when the team there reaches `min_group`; else all of the manager's cohorts
    of the journey, when together they reach it; else the latest cohort (its people-figures hidden)."""
    if team_by_cohort.get(latest, 0) >= min_group or len(team_by_cohort) < 2:
        return Scope((latest,), False)
    if sum(team_by_cohort.values()) >= min_group:
        return Scope(tuple(sorted(team_by_cohort)), True)
    return Scope((latest,), False)


def practice_shown(f: TeamFigures, min_group: int) -> bool:
    """The people-figures may show: enough people, and neither the people nor the moments all alike."""
    return f.followed_up > 0 and not hidden_because(
        ((f.people_practised, f.people), (f.practised, f.followed_up)), min_group)


def _pct(k: int, n: int) -> str:
    return f"{round(100 * k / n)}%" if n else "–"


def recognition(f: TeamFigures, *, you: bool = True) -> str | None:
    """What the manager did that helped, named; None when there is nothing to name."""
    done: list[str] = []
    reports = "your reports" if you else "their reports"
    if f.expectations_total and f.expectations_held == f.expectations_total:
        whom = ({1: reports.replace("reports", "report"), 2: f"both of {reports}"}.get(f.expectations_total)
                or f"all {f.expectations_total} of {reports}")
        done.append(f"held the expectations conversation with {whom}")
    elif f.expectations_held:
        done.append(f"held the expectations conversation with {f.expectations_held} of {f.expectations_total} "
                    f"of {reports}")
    if f.requests and f.answered == f.requests:
        done.append("answered every support request" + (" within a working day" if f.within_day == f.answered
                                                         else ""))
    elif f.within_day and f.within_day == f.answered:
        done.append(f"answered {f.within_day} support request{'s' if f.within_day != 1 else ''} within a "
                    "working day")
    if f.coached:
        done.append(f"coached {f.coached} moment{'s' if f.coached != 1 else ''} that matter{'s' if f.coached == 1 else ''}")
    if not done:
        return None
    said = ", ".join(done[:-1]) + (" and " if len(done) > 1 else "") + done[-1]
    return ("you " if you else "") + said + "."


def missed(f: TeamFigures) -> str:
    """What support was left undone, in counts ("" when nothing was)."""
    parts = []
    if f.requests > f.answered:
        n = f.requests - f.answered
        parts.append(f"{n} support request{'s' if n != 1 else ''} went unanswered")
    if f.expectations_total > f.expectations_held:
        n = f.expectations_total - f.expectations_held
        parts.append(f"{n} expectations conversation{'s were' if n != 1 else ' was'} not held")
    return " and ".join(parts)


def _support_line(f: TeamFigures) -> str:
    if not f.requests:
        return "no support requests to answer"
    text = f"{f.answered} of {f.requests} support requests answered"
    if f.answered and f.median_hours is not None:
        text += f" (median {format_hours(f.median_hours)}; {f.within_day} within a working day)"
    return text


def _practice_line(f: TeamFigures, min_group: int) -> str:
    if not f.followed_up:
        return "moments practised: none followed up"
    if not practice_shown(f, min_group):
        why = "too small a group to show" if min(f.people, f.followed_up) < min_group else "not shown, all alike"
        return f"moments practised: {why} (the minimum is {min_group} people, so no one's answers can be told)"
    return (f"moments practised: {f.practised} of {f.followed_up} followed up ({_pct(f.practised, f.followed_up)}); "
            f"{f.people_practised} of {f.people} people practised at least once")


def _cohort_line(c: TeamFigures, min_group: int, label: str) -> str:
    if c.people < min_group:
        return f"{label}: too small a group to compare (fewer than {min_group} people)."
    parts = []
    if c.expectations_total:
        parts.append(f"expectations conversations {_pct(c.expectations_held, c.expectations_total)}")
    if c.requests:
        parts.append(f"support requests answered {_pct(c.answered, c.requests)}"
                     + (f", median {format_hours(c.median_hours)}" if c.median_hours is not None else ""))
    parts.append(_practice_line(c, min_group).replace("; ", ", ")
                 if practice_shown(c, min_group) else "moments practised: not shown")
    return f"{label} ({c.people} people): " + "; ".join(parts) + "."


def scope_words(scope: Scope) -> str:
    if not scope.pooled:
        return f"cohort {scope.cohorts[0]}"
    return (f"cohorts {', '.join(scope.cohorts[:-1])} and {scope.cohorts[-1]} together: one cohort alone is "
            "under the minimum group")


def manager_scorecard(journey: Journey, manager: Person, team: TeamFigures, cohort: TeamFigures, scope: Scope,
                      min_group: int) -> Message:
    """A manager's card: their team against the cohort, and what they did that helped."""
    lines = [(f"{journey.title} has ended for your {team.people} "
             f"{'person' if team.people == 1 else 'people'} ({scope_words(scope)}). What you did, and what they did:")]
    if team.expectations_total:
        lines.append(f"• Expectations conversations held before the start: {team.expectations_held} of "
                     f"{team.expectations_total}.")
    lines.append(f"• Support: {_support_line(team)}.")
    lines.append(f"• Your team's {_practice_line(team, min_group)}.")
    lines.append(_cohort_line(cohort, min_group, "The cohort"))
    said = recognition(team)
    if said:
        lines.append(f"Thank you: {said} That support is what most often decides whether training is used "
                     "at work.")
    else:
        lines.append(f"Next time: {missed(team) or 'an expectations conversation before the start and a quick answer to each support request'}"
                     " — that support is what helps most.")
    facts = [("People", str(team.people))]
    if team.expectations_total:
        facts.append(("Expectations conversations", f"{team.expectations_held} of {team.expectations_total}"))
    facts.append(("Requests answered", f"{team.answered} of {team.requests}" if team.requests else "none"))
    return Message(recipient_id=manager.id, title="Your team's results", text="\n".join(lines),
                   journey_title=journey.title, facts=tuple(facts), audience="manager",
                   context=f"{journey.title} · your scorecard at the end of the journey · people's own answers "
                           "are never shown")


def leader_scorecard(journey: Journey, leader: Person, teams: Sequence[tuple[str, TeamFigures, Scope]],
                     cohort: TeamFigures, min_group: int) -> Message:
    """The scorecards of the managers below a leader (`teams`: manager name, figures, scope)."""
    lines = [(f"{journey.title} has ended for the {len(teams)} manager{'s' if len(teams) != 1 else ''} "
             "reporting to you. Each one's support, their team's practice, and what to thank them for:")]
    thanks = 0
    for name, f, scope in sorted(teams, key=lambda t: t[0]):
        who = typed(name)
        parts = []
        if f.expectations_total:
            parts.append(f"expectations conversations {f.expectations_held} of {f.expectations_total}")
        parts.append(_support_line(f))
        parts.append(_practice_line(f, min_group))
        lines.append(f"• {who} ({f.people} {'person' if f.people == 1 else 'people'}, {scope_words(scope)}): "
                     + "; ".join(parts) + ".")
        said = recognition(f, you=False)
        if said:
            thanks += 1
            lines.append(f"  Worth a word of thanks: {who} {said}")
        elif missed(f):
            lines.append(f"  Worth a conversation with {who}: {missed(f)}.")
    lines.append(_cohort_line(cohort, min_group, "The cohort"))
    return Message(recipient_id=leader.id, title="Your managers' results", text="\n".join(lines),
                   journey_title=journey.title, audience="manager",
                   facts=(("Managers", str(len(teams))), ("To thank", str(thanks))),
                   context=f"{journey.title} · the managers who report to you, at the end of the journey · "
                           "people's own answers are never shown")


def cohort_achievement(cohort: TeamFigures, min_group: int) -> str | None:
    """The closing message's line about what the cohort achieved: counts only, and only when the
    cohort reaches the minimum group and its figures are not all alike (else None)."""
    if not practice_shown(cohort, min_group):
        return None
    return (f"Together, your cohort of {cohort.people} practised {cohort.practised} moments that matter so far, "
            f"and {cohort.people_practised} of {cohort.people} people practised at least once.")
