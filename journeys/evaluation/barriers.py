"""Barriers in the performance system: one vocabulary for the survey, "Can't this time" and reports.

Brinkerhoff's finding is that most people who do not apply a programme were stopped by the system
around them (no chance to use it, other priorities, a manager who did not back them, nothing that
rewards it, not knowing how, a tool or process in the way), not by the training. Each barrier here
says who can remove it, so every report line about a barrier names someone who can act.

Counting (`barrier_counts`, pure over events): the survey's barriers of non-success respondents,
plus, as "no manager support", every support request a manager declined ("Can't this time") or let
expire. A manager's own "Can't this time" reason is kept apart (`journeys.evaluation.success_case.manager_cant`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from journeys.state import JourneyEvent

NO_MANAGER_SUPPORT = "no_manager_support"


@dataclass(frozen=True)
class Barrier:
    code: str
    label: str  # as a report names it
    owner: str  # who can remove it


BARRIER_LIST: tuple[Barrier, ...] = (
    Barrier("no_opportunity", "no suitable situation came up",
            "their managers, by planning a real moment to use it"),
    Barrier(NO_MANAGER_SUPPORT, "no support from their manager",
            "their managers, with their own managers holding them to it"),
    Barrier("no_time", "no time (other priorities came first)",
            "their managers and senior leaders, by making room for it among the priorities"),
    Barrier("no_incentive", "nothing rewards or recognises it",
            "senior leaders and HR, by aligning goals, reviews and recognition"),
    Barrier("unclear_how", "unclear how to apply it",
            "L&D and the facilitator, with practice and job aids"),
    Barrier("tools_process", "a tool or process got in the way",
            "the owners of that process or tool"),
    Barrier("other", "something else", "L&D, who can ask what it was"),
)
BARRIERS: tuple[str, ...] = tuple(b.code for b in BARRIER_LIST)
BY_CODE = {b.code: b for b in BARRIER_LIST}
BARRIER_LABELS = {b.code: b.label for b in BARRIER_LIST}


def owner(code: str) -> str:
    return BY_CODE[code].owner if code in BY_CODE else BY_CODE["other"].owner


@dataclass(frozen=True)
class BarrierCount:
    """One barrier's count, with where the count comes from (a line cites its count)."""

    code: str
    survey: int  # non-success respondents who named it
    declined: int = 0  # support requests a manager answered "Can't this time"
    expired: int = 0  # support requests nobody answered before the moment
    interview: int = 0  # interviews whose notes name it (journeys/evaluation/interview_notes.py)

    @property
    def total(self) -> int:
        return self.survey + self.declined + self.expired + self.interview

    @property
    def label(self) -> str:
        return BARRIER_LABELS.get(self.code, self.code)

    @property
    def owner(self) -> str:
        return owner(self.code)


def barrier_counts(survey: Iterable[tuple[str, int]], events: Iterable[JourneyEvent],
                   request_steps: Collection[str]) -> list[BarrierCount]:
    """The survey's barrier counts with the declined and expired support requests added to "no
    manager support"; most frequent first, ties in the vocabulary's order."""
    events = list(events)
    declined = {(e.enrollment_id, e.prompt_id) for e in events if e.kind == "manager_cant"}
    expired = {(e.enrollment_id, e.prompt_id) for e in events
               if e.kind == "expired" and str(e.data.get("step")) in request_steps} - declined
    counts = dict(survey)
    named: dict[str, tuple[str, ...]] = {}  # the latest interview notes of each enrollment
    for e in sorted(events, key=lambda ev: ev.at):
        if e.kind == "interview_recorded" and e.data.get("notes") is True:
            raw = e.data.get("barriers")
            named[e.enrollment_id] = tuple(dict.fromkeys(str(b) for b in raw)) if isinstance(raw, list) else ()
    heard = Counter(b for codes in named.values() for b in codes)
    rows = [BarrierCount(c, counts.get(c, 0), interview=heard.get(c, 0))
            for c in dict.fromkeys([*counts, *heard]) if c != NO_MANAGER_SUPPORT]
    support = BarrierCount(NO_MANAGER_SUPPORT, counts.get(NO_MANAGER_SUPPORT, 0), len(declined), len(expired),
                           heard.get(NO_MANAGER_SUPPORT, 0))
    if support.total:
        rows.append(support)
    order = {b: i for i, b in enumerate(BARRIERS)}
    return sorted(rows, key=lambda r: (-r.total, order.get(r.code, len(order)), r.code))


def barrier_sources(b: BarrierCount) -> list[str]:
    """Where a barrier's count comes from: "1 in the survey", "2 support requests declined", …"""
    parts = [f"{b.survey} in the survey"] if b.survey else []
    if b.declined:
        parts.append(f"{b.declined} support request{'s' if b.declined != 1 else ''} declined")
    if b.expired:
        parts.append(f"{b.expired} support request{'s' if b.expired != 1 else ''} expired unanswered")
    if b.interview:
        parts.append(f"{b.interview} named in interview{'s' if b.interview != 1 else ''}")
    return parts


def barrier_line(b: BarrierCount) -> str:
    """'No support from their manager: 3 (1 in the survey, 1 request declined, 1 expired) — who can
    remove it: their managers, …'."""
    parts = barrier_sources(b)
    basis = f" ({', '.join(parts)})" if len(parts) > 1 or not b.survey else ""
    return f"{b.label[0].upper()}{b.label[1:]}: {b.total}{basis} — who can remove it: {b.owner}."
