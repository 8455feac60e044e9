"""Cohort exports for the L&D ecosystem: the evaluation CSV and xAPI statements (docs/exports.md).

The CSV is the aggregate evaluation (with verified impact and value) followed by per-person
progress rows; the xAPI file holds one statement per learning record, actors pseudonymised with a
keyed hash unless the deployment sets HPLJ_XAPI_IDENTIFY=1.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from bot.services.host import Services
from bot.services.plain_report import cohort_pooled
from bot.services.recommendations import csv_rows as recommendation_rows
from bot.services.recommendations import recommendations_for
from bot.services.reports import cohort_events
from journeys.definition import Journey
from journeys.evaluation.accountability import request_steps
from journeys.evaluation.plain_words import plain_csv_rows
from journeys.evaluation.success_case import Evaluation, per_person_rows, to_csv_rows
from journeys.evaluation.value import business_figures, value_csv_rows
from journeys.evaluation.xapi import Learner, pseudonym, statements


async def evaluation_csv(service: Services, cohort: str, ev: Evaluation, now: datetime) -> str:
    ids, events, journey_id = await cohort_events(service, cohort)
    journey = service.library.get(journey_id or "")
    async with service.uow.read() as uow:
        who = await uow.views.participant_names(ids)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerows(to_csv_rows(ev))
    if journey is not None:
        writer.writerows(value_csv_rows(*business_figures(journey, ev, events, ids)))
    pooled = await cohort_pooled(service, cohort, ev)
    writer.writerows(plain_csv_rows(ev, pooled))  # plain words, the statistics beside them
    writer.writerows(recommendation_rows(await recommendations_for(service, cohort, ev, pooled)))
    writer.writerow([])
    writer.writerows(per_person_rows(events, who, enrollment_ids=ids, as_of=now,
                                     request_steps=request_steps(journey) if journey else ()))
    return buf.getvalue()


NO_XAPI_KEY = ("`report`: the xAPI export needs HPLJ_XAPI_KEY (or HPLJ_DASHBOARD_SECRET) set, so that its "
               "pseudonyms cannot be recomputed by anyone without it; nothing was exported.")


def xapi_key(service: Services) -> bytes | None:
    """The key of every pseudonym and identifier in the xAPI file; None when none is configured
    (a key in the code would let anyone recompute them, so there is no fallback)."""
    s = service.settings
    key = (getattr(s, "xapi_key", "") or getattr(s, "dashboard_secret", "") or "") if s is not None else ""
    return key.strip().encode() or None


async def xapi_json(service: Services, cohort: str, journey: Journey, key: bytes) -> tuple[str, int]:
    """The cohort's statements as a JSON array, and how many there are."""
    ids, events, _ = await cohort_events(service, cohort)
    async with service.uow.read() as uow:
        owners = {eid: pid for eid, pid, _ in await uow.enrollments.people_of(ids)}
        people = await uow.people.by_ids(owners.values())
    identify = bool(service.settings and getattr(service.settings, "xapi_identify", False))
    learners = {}
    for eid, pid in owners.items():
        email = people[pid].email if identify and pid in people else None
        learners[eid] = Learner(pseudonym(pid, key), email or None)
    home = (service.settings.public_url if service.settings is not None else "") or "http://localhost:3978"
    sts = statements(events, journey_id=journey.id, journey_title=journey.title, home_page=home,
                     learners=learners, key=key, step_title=lambda s: _title(journey, s))
    return json.dumps(sts, indent=2, ensure_ascii=False) + "\n", len(sts)


def _title(journey: Journey, step_id: str) -> str:
    try:
        return journey.step(step_id).title or step_id
    except KeyError:
        return step_id
