"""Manager-support comparisons pooled over the cohorts of one journey, for a cohort too small alone.

A pilot of six people never has five on each side of a comparison, so on its own it never learns
whether an expectations conversation or a fast answer to a support request made a difference. The
cohorts of the same journey ran the same steps and asked the same survey questions, so their
answers can be counted together, but only when they are on the same version of the journey (a
new version may have other steps or questions: its cohorts are left out and counted as such).

Privacy: a pooled comparison is shown only when its groups reach the minimum group, like any
other, and only when no cohort whose own comparison is visible could be subtracted from it to leave
a small or unanimous rest (that subtraction would reveal the small cohort the pooling serves).

Pure: events and the cohorts' enrollment ids in, a `Pooled` comparison out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from journeys.evaluation.plain_words import Pooled
from journeys.evaluation.success_case import Evaluation, Factor, Rate, evaluate
from journeys.state import JourneyEvent

REVEALS_A_COHORT = "cohort"  # Factor.hidden_because: subtracting a visible cohort would leave a small rest


def pool_factors(events: Iterable[JourneyEvent], cohorts: Mapping[str, tuple[int | None, Collection[str]]],
                 cohort: str, *, min_group: int, request_steps: Collection[str] = (),
                 as_of: datetime | None = None) -> Pooled | None:
    """The factor comparison of every cohort of `cohort`'s journey on its version, or None when
    `cohort` can compare on its own, has no version, or has no other cohort to pool with.

    `cohorts` maps each cohort of the journey to (its journey version, None when its enrollments
    are on different versions; its enrollment ids).
    """
    events = list(events)
    version, own_ids = cohorts[cohort]

    def ev(ids: Collection[str]) -> Evaluation:
        return evaluate(events, enrollment_ids=ids, min_group=min_group, request_steps=request_steps, as_of=as_of)

    own = ev(own_ids)
    if version is None or not own.responded_scm or not any(f.hidden_because == "small" for f in own.factors):
        return None
    same = {c: set(ids) for c, (v, ids) in cohorts.items() if v == version}
    if len(same) < 2:
        return None
    everyone = set().union(*same.values())
    pooled = ev(everyone)
    visible = {c: (own if c == cohort else ev(ids)) for c, ids in same.items()}  # this one too: its report shows it
    factors: list[Factor] = []
    for k, f in enumerate(pooled.factors):
        if f.diff is not None and any(
                other.factors[k].diff is not None and ev(everyone - same[c]).factors[k].hidden_because
                for c, other in visible.items()):
            f = Factor(f.name, _hidden(f.with_.total), _hidden(f.without.total), None, True, None, REVEALS_A_COHORT)
        factors.append(f)
    return Pooled(tuple(factors), len(same), pooled.responded_scm, version,
                  left_out=len(cohorts) - len(same), min_group=min_group)


def _hidden(total: int) -> Rate:
    return Rate(0, total, None, None, None)
