"""Journey events as xAPI 1.0.3 statements, for a Learning Record Store or an L&D data warehouse.

A pure function of the stored events and a key, like `journeys.evaluation.success_case`: the same events and
key always give the same statements, with the same ids, so a re-export never duplicates a
statement in an LRS. Events hold no free text (see `JourneyEvent`), so no statement carries a
person's words.

Actors are pseudonymous by default: an xAPI account on the bot's home page whose name the caller
derives (a keyed hash of the person's id); only a caller configured to identify people passes an
e-mail, which becomes an `mbox`. Every other identifier is keyed the same way, so nothing in the
file can be joined to the bot's own ids (the enrollment ids of the evaluation CSV, for one): the
statement id, the registration (one per enrollment) and each moment's IRI are HMAC-SHA256 of the
key over the enrollment and event, never the raw ids.

Verbs (ADL's where one exists, the project's own IRIs otherwise; see `VERBS`):
registered (enrolled), planned (a moment that matters), practised (a moment that happened),
reflected (a moment's follow-up answered), completed (the Success Case survey answered; the
result's `success` is true for a success case).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from journeys.state import JourneyEvent

XAPI_VERSION = "1.0.3"
HPLJ_VERBS = "https://hplj-bot.dev/xapi/verbs/"
VERBS: dict[str, tuple[str, str]] = {  # name -> (IRI, display)
    "registered": ("http://adlnet.gov/expapi/verbs/registered", "registered"),
    "planned": (HPLJ_VERBS + "planned", "planned"),
    "practised": (HPLJ_VERBS + "practised", "practised"),
    "reflected": (HPLJ_VERBS + "reflected", "reflected"),
    "completed": ("http://adlnet.gov/expapi/verbs/completed", "completed"),
}
_NAMESPACE = uuid.UUID("6f1c3c52-3b7e-4c55-9d0e-5b1a2f8e7d41")  # this exporter's statement ids


@dataclass(frozen=True)
class Learner:
    """Who an enrollment belongs to: the pseudonym always, the e-mail only when identified."""

    pseudonym: str
    email: str | None = None


def pseudonym(person_id: str, key: bytes) -> str:
    """A stable pseudonym of a person id, keyed so it cannot be reversed by hashing known ids."""
    if not key:
        raise ValueError("a pseudonym needs a key")
    return hmac.new(key, person_id.encode(), hashlib.sha256).hexdigest()[:32]


def _keyed(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 of `key` over the parts (kept apart by a separator no id contains)."""
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def _actor(learner: Learner, home_page: str) -> dict[str, Any]:
    if learner.email:
        return {"objectType": "Agent", "mbox": f"mailto:{learner.email}"}
    return {"objectType": "Agent", "account": {"homePage": home_page, "name": learner.pseudonym}}


def _verb(name: str) -> dict[str, Any]:
    iri, display = VERBS[name]
    return {"id": iri, "display": {"en-GB": display}}


def _activity(iri: str, name: str, kind: str) -> dict[str, Any]:
    return {"objectType": "Activity", "id": iri,
            "definition": {"name": {"en-GB": name}, "type": f"http://adlnet.gov/expapi/activities/{kind}"}}


def _timestamp(e: JourneyEvent) -> str:
    return e.at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def statements(events: Iterable[JourneyEvent], *, journey_id: str, journey_title: str, home_page: str,
               learners: Mapping[str, Learner], key: bytes,
               step_title: Callable[[str], str] = lambda step: step) -> list[dict[str, Any]]:
    """xAPI statements for the events of the enrollments in `learners` (others are left out).

    `home_page` is the bot's public URL (the IRI base of activities and pseudonymous accounts);
    `key` keys every identifier derived from an enrollment (never empty); `step_title` names a
    step for an activity's display name.
    """
    if not key:
        raise ValueError("the xAPI export needs a key")
    base = home_page.rstrip("/")
    journey_iri = f"{base}/xapi/journeys/{journey_id}"
    journey = _activity(journey_iri, journey_title, "course")
    out: list[dict[str, Any]] = []
    for e in sorted(events, key=lambda ev: ev.at):
        learner = learners.get(e.enrollment_id)
        if learner is None:
            continue
        for verb, obj, result in _facts(e, journey, journey_iri, step_title, key):
            seed = _keyed(key, "statement", e.enrollment_id, e.kind, e.prompt_id or "", e.at.isoformat(), verb,
                          obj["id"])
            st: dict[str, Any] = {
                "id": str(uuid.uuid5(_NAMESPACE, seed)),
                "version": XAPI_VERSION,
                "actor": _actor(learner, base),
                "verb": _verb(verb),
                "object": obj,
                "timestamp": _timestamp(e),
                "context": {"registration": str(uuid.uuid5(_NAMESPACE, _keyed(key, "registration",
                                                                              e.enrollment_id))),
                            "contextActivities": {"parent": [{"id": journey_iri, "objectType": "Activity"}]},
                            "platform": "hplj-bot"},
            }
            if obj["id"] == journey_iri:
                del st["context"]["contextActivities"]
            if result is not None:
                st["result"] = result
            out.append(st)
    return out


def _facts(e: JourneyEvent, journey: dict[str, Any], journey_iri: str, step_title: Callable[[str], str],
           key: bytes) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(verb, object, result) for one event; most events are not learning records and give none."""
    d = e.data
    if e.kind == "enrolled":
        return [("registered", journey, None)]
    if e.kind in ("mtm_planned", "mtm_followed_up") and d.get("mtm"):
        step = str(d.get("step") or "moment")
        moment_id = _keyed(key, "moment", e.enrollment_id, str(d["mtm"]))[:32]
        moment = _activity(f"{journey_iri}/moments/{moment_id}", step_title(step), "interaction")
        if e.kind == "mtm_planned":
            return [("planned", moment, None)]
        happened = d.get("happened") == "yes"
        facts: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        if happened:
            facts.append(("practised", moment, {"completion": True}))
        facts.append(("reflected", moment, {"response": str(d.get("happened") or "")}))
        return facts
    if e.kind == "scm_classified" and d.get("classification"):
        cls = str(d["classification"])
        return [("completed", journey, {"completion": True, "success": cls == "success",
                                        "extensions": {HPLJ_VERBS.replace("verbs/", "extensions/")
                                                       + "scm-classification": cls}})]
    return []
