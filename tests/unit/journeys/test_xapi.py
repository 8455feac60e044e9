"""xAPI export: pseudonymous actors, the documented verbs, stable ids, no person's words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from journeys.evaluation.xapi import VERBS, Learner, pseudonym, statements
from journeys.state import JourneyEvent

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)
HOME = "https://hplj.example.org/"


def cohort() -> list[JourneyEvent]:
    return [
        JourneyEvent("enrolled", "e1", T0, data={"start": "2027-05-10"}),
        JourneyEvent("sent", "e1", T0 + timedelta(hours=1), "e1.los", {"step": "los"}),
        JourneyEvent("mtm_planned", "e1", T0 + timedelta(days=3), "e1.plan", {"step": "mtm-safe", "mtm": "m1"}),
        JourneyEvent("mtm_followed_up", "e1", T0 + timedelta(days=6), "e1.f", {"step": "reflect-safe", "mtm": "m1",
                                                                               "happened": "yes"}),
        JourneyEvent("mtm_planned", "e1", T0 + timedelta(days=7), "e1.plan2", {"step": "mtm-real", "mtm": "m2"}),
        JourneyEvent("mtm_followed_up", "e1", T0 + timedelta(days=9), "e1.f2", {"step": "reflect-real", "mtm": "m2",
                                                                                "happened": "no"}),
        JourneyEvent("scm_classified", "e1", T0 + timedelta(days=30), "e1.scm", {"classification": "success"}),
        JourneyEvent("enrolled", "other", T0, data={}),
    ]


def export(**kw: Any) -> list[dict[str, Any]]:
    learners = kw.pop("learners", {"e1": Learner(pseudonym("p_ana", b"k"))})
    key = kw.pop("key", b"k")
    return statements(cohort(), journey_id="active-listening", journey_title="Active Listening",
                      home_page=HOME, learners=learners, key=key, **kw)


def test_the_journey_as_statements_with_the_documented_verbs() -> None:
    sts = export()
    verbs = [s["verb"]["display"]["en-GB"] for s in sts]
    assert verbs == ["registered", "planned", "practised", "reflected", "planned", "reflected", "completed"]
    assert {s["verb"]["id"] for s in sts} <= {iri for iri, _ in VERBS.values()}
    done = sts[-1]
    assert done["result"]["success"] is True and done["object"]["id"].endswith("/journeys/active-listening")
    # every statement names the enrollment as its registration and has a UTC timestamp
    assert len({s["context"]["registration"] for s in sts}) == 1
    assert all(s["timestamp"].endswith("Z") and s["version"] == "1.0.3" for s in sts)
    # a moment's activity sits under its journey
    planned = sts[1]
    assert planned["context"]["contextActivities"]["parent"][0]["id"] == HOME.rstrip("/") + \
        "/xapi/journeys/active-listening"


def test_actors_are_pseudonymous_unless_identified() -> None:
    sts = export()
    actor = sts[0]["actor"]
    assert actor["account"] == {"homePage": HOME.rstrip("/"), "name": pseudonym("p_ana", b"k")}
    assert "p_ana" not in json.dumps(sts)
    assert pseudonym("p_ana", b"k") != pseudonym("p_ana", b"other key")
    named = export(learners={"e1": Learner("x", email="ana@example.org")})
    assert named[0]["actor"] == {"objectType": "Agent", "mbox": "mailto:ana@example.org"}


def test_other_enrollments_are_left_out_and_ids_are_stable() -> None:
    first, again = export(), export()
    assert [s["id"] for s in first] == [s["id"] for s in again]
    assert len({s["id"] for s in first}) == len(first)
    assert len(first) == 7  # "other" has no learner record: not exported


def test_no_identifier_carries_or_derives_from_a_raw_enrollment_id_and_there_is_no_keyless_export() -> None:
    import uuid

    import pytest

    from journeys.evaluation.xapi import _NAMESPACE

    sts = export()

    def strings(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [s for v in [*node.keys(), *node.values()] for s in strings(v)]
        if isinstance(node, list):
            return [s for v in node for s in strings(v)]
        return [node] if isinstance(node, str) else []

    segments = {seg for s in strings(sts) for seg in s.replace(":", "/").split("/")}
    assert not segments & {"e1", "m1", "e1.plan", "e1.f"}  # no raw enrollment, moment or prompt id
    assert all(s["context"]["registration"] != str(uuid.uuid5(_NAMESPACE, "e1")) for s in sts)
    other = export(key=b"another key")
    assert {s["context"]["registration"] for s in sts}.isdisjoint(s["context"]["registration"] for s in other)
    assert {s["id"] for s in sts}.isdisjoint(s["id"] for s in other)
    with pytest.raises(ValueError):
        export(key=b"")
    with pytest.raises(ValueError):
        pseudonym("p_ana", b"")
