"""Whom to interview, as the Success Case Method picks them (Brinkerhoff), with the reason.

Success cases are ranked by how strong their evidence is: a result with a measure (a story tagged
with a measured PPP outcome, or a result that gives a number) beats one without, a concrete
situation beats a vague one; only those who agreed to be contacted are candidates. Non-success
cases are ranked by how much they can teach about the performance system: someone who tried,
did not succeed and named a barrier first, then those who did not apply it (with a barrier before
without), then those still waiting for a result. Ties keep a stable order that does not depend on
names or survey times (a hash of the enrollment id).

Pure: it reads booleans about the survey's answers (`Evidence`, worked out by the caller), never
the text itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from journeys.evaluation.barriers import BARRIER_LABELS

SUCCESS = "success"
TEACHING_ORDER = ("tried_no_success", "not_applied", "applied_no_result")


@dataclass(frozen=True)
class Evidence:
    """What a survey answer offers an interviewer (booleans only)."""

    situation: bool = False  # the evidence answer describes a concrete situation
    counted: bool = False  # the result answer gives a number


@dataclass(frozen=True)
class Surveyed:
    enrollment_id: str
    classification: str
    contact: bool
    outcome: str | None  # the PPP outcome the story was tagged with
    barriers: tuple[str, ...]


@dataclass(frozen=True)
class Ranked:
    enrollment_id: str
    group: str  # "success" | "non_success"
    rank: int  # 1 = the strongest (success) or most instructive (non-success)
    score: int
    why: str


def stable_key(enrollment_id: str) -> str:
    """A stable, unbiased tie-break (not by name, not by survey time)."""
    return hashlib.sha256(enrollment_id.encode()).hexdigest()


def success_score(s: Surveyed, ev: Evidence, measured: Collection[str]) -> tuple[int, str]:
    """(score, reason): 2 for a result with a measure, 1 for a concrete situation; the reason says
    what is there and what is missing."""
    measure = s.outcome in measured if s.outcome else False
    with_measure = measure or ev.counted
    parts = [("a result with a measure" + (f" ({s.outcome})" if measure else ", a number"))
             if with_measure else "no measured result",
             "a concrete situation" if ev.situation else "no concrete situation",
             "agreed to be contacted"]
    return 2 * with_measure + ev.situation, ", ".join(parts)


def teaching_score(s: Surveyed) -> tuple[int, str]:
    """(score, reason): higher teaches more (tried with a barrier = 5 … waiting for a result = 0)."""
    group = TEACHING_ORDER.index(s.classification) if s.classification in TEACHING_ORDER else len(TEACHING_ORDER)
    score = 2 * (len(TEACHING_ORDER) - group) - (0 if s.barriers else 1)
    said = {"tried_no_success": "tried and it did not work out", "not_applied": "did not apply it",
            "applied_no_result": "applied it, no result yet"}.get(s.classification, s.classification)
    named = "; ".join(BARRIER_LABELS.get(b, b) for b in s.barriers)
    word = "barriers" if len(s.barriers) > 1 else "a barrier"
    return score, said + (f"; named {word}: {named}" if named else "; named no barrier")


def rank(surveyed: Sequence[Surveyed], evidence: Mapping[str, Evidence],
         measured: Collection[str]) -> tuple[list[Ranked], list[Ranked]]:
    """(success cases who agreed to be contacted, non-success cases), each best first."""
    success: list[tuple[int, str, str, str]] = []
    others: list[tuple[int, int, str, str, str]] = []
    for s in surveyed:
        if s.classification == SUCCESS:
            if s.contact:
                score, why = success_score(s, evidence.get(s.enrollment_id, Evidence()), measured)
                success.append((-score, stable_key(s.enrollment_id), s.enrollment_id, why))
        elif s.classification:
            score, why = teaching_score(s)
            others.append((-score, -len(s.barriers), stable_key(s.enrollment_id), s.enrollment_id, why))
    success.sort()
    others.sort()
    return ([Ranked(eid, "success", i, -neg, why) for i, (neg, _, eid, why) in enumerate(success, 1)],
            [Ranked(eid, "non_success", i, -neg, why) for i, (neg, _, _, eid, why) in enumerate(others, 1)])
