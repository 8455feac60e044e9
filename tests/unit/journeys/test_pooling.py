"""Factor comparisons pooled over the cohorts of one journey (same version) when one cohort is too
small: two pilots of six reach five a side only together; another version is left out; a pooled
comparison that would reveal a small cohort by subtraction stays hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journeys.evaluation.plain_words import headline, pooled_basis
from journeys.evaluation.pooling import REVEALS_A_COHORT, pool_factors
from journeys.evaluation.success_case import FACTOR_EXPECTATIONS, evaluate
from journeys.state import JourneyEvent

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)


def cohort(name: str, specs: list[tuple[str, bool]]) -> tuple[list[str], list[JourneyEvent]]:
    """(enrollment ids, events): one person per (classification, expectations conversation held)."""
    ids, events = [], []
    for n, (cls, talked) in enumerate(specs):
        eid = f"{name}-{n}"
        ids.append(eid)
        events.append(JourneyEvent("enrolled", eid, T0))
        if talked:
            events.append(JourneyEvent("manager_task_done", eid, T0, f"{eid}.x", {"before_start": True}))
        events.append(JourneyEvent("scm_classified", eid, T0 + timedelta(days=30, minutes=n), f"{eid}.scm",
                                   {"classification": cls}))
    return ids, events


# each pilot: 3 with an expectations conversation (2 success cases), 3 without (none, then one)
SPRING = cohort("spring", [("success", True), ("success", True), ("not_applied", True),
                           ("not_applied", False), ("not_applied", False), ("not_applied", False)])
AUTUMN = cohort("autumn", [("success", True), ("success", True), ("success", True),
                           ("success", False), ("not_applied", False), ("not_applied", False)])
EVENTS = SPRING[1] + AUTUMN[1]


def expectations(pooled):  # type: ignore[no-untyped-def]
    return next(f for f in pooled.factors if f.name == FACTOR_EXPECTATIONS)


def test_two_small_cohorts_reach_the_minimum_group_only_when_pooled() -> None:
    alone = evaluate(SPRING[1], enrollment_ids=SPRING[0])
    assert expectations(alone).hidden_because == "small"  # 3 a side
    groups = {"spring": (1, SPRING[0]), "autumn": (1, AUTUMN[0])}
    pooled = pool_factors(EVENTS, groups, "spring", min_group=5)
    assert pooled is not None and (pooled.cohorts, pooled.respondents, pooled.left_out) == (2, 12, 0)
    f = expectations(pooled)
    assert (f.with_.count, f.with_.total, f.without.count, f.without.total) == (5, 6, 1, 6)
    assert f.diff is not None and f.diff.distinguishable
    lines = headline(alone, pooled)
    assert lines[-1] == (
        "People who had an expectations conversation with their manager before the start clearly did better: "
        "67 points more reached a result (pooled over 2 cohorts of this journey (version 1, 12 survey answers), "
        "because one cohort alone is too small to compare).")


def test_cohorts_on_another_version_are_left_out_and_counted() -> None:
    groups = {"spring": (1, SPRING[0]), "autumn": (2, AUTUMN[0])}
    assert pool_factors(EVENTS, groups, "spring", min_group=5) is None  # nothing on version 1 to pool with
    winter = cohort("winter", [("success", True)] * 2 + [("not_applied", True)] + [("not_applied", False)] * 2
                    + [("success", False)])
    groups = {"spring": (1, SPRING[0]), "autumn": (2, AUTUMN[0]), "winter": (1, winter[0])}
    pooled = pool_factors(EVENTS + winter[1], groups, "spring", min_group=5)
    assert pooled is not None and (pooled.cohorts, pooled.left_out) == (2, 1)
    assert "1 cohort on another version of the journey left out" in pooled_basis(pooled)
    mixed = {"spring": (None, SPRING[0]), "autumn": (None, AUTUMN[0])}  # each on several versions
    assert pool_factors(EVENTS, mixed, "spring", min_group=5) is None


def test_a_cohort_that_compares_on_its_own_is_not_pooled() -> None:
    big = cohort("big", [("success", True)] * 4 + [("not_applied", True)]
                 + [("success", False)] + [("not_applied", False)] * 4)
    alone = evaluate(big[1], enrollment_ids=big[0])
    assert all(f.hidden_because != "small" for f in alone.factors if f.name == FACTOR_EXPECTATIONS)
    groups = {"big": (1, big[0]), "spring": (1, SPRING[0])}
    # "big" shows its own expectations comparison (pooling it would only reveal spring by subtraction);
    # its other factors have nobody on either side, pooled or not
    pooled = pool_factors(big[1] + SPRING[1], groups, "big", min_group=5)
    assert pooled is not None and not pooled.shown
    assert headline(alone, pooled)[-1].startswith("No difference we can tell between people with and without an "
                                                  "expectations conversation")  # its own 4 of 5 vs 1 of 5


def test_pooling_never_reveals_a_small_cohort_by_subtraction() -> None:
    """big (5 a side, shown in its own report) + spring (3 a side): big's figures subtracted from the
    pooled ones would give spring's, so the pooled comparison stays hidden for spring."""
    big = cohort("big", [("success", True)] * 4 + [("not_applied", True)]
                 + [("success", False)] + [("not_applied", False)] * 4)
    groups = {"big": (1, big[0]), "spring": (1, SPRING[0])}
    pooled = pool_factors(big[1] + SPRING[1], groups, "spring", min_group=5)
    assert pooled is not None
    f = expectations(pooled)
    assert f.diff is None and f.hidden_because == REVEALS_A_COHORT
    assert not pooled.shown
