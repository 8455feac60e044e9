"""The cohort report on stored events: a support request no manager of the cohort ever answered
still counts against "answered within 1 working day" (the report knows the journey's request
steps), and only success cases who agreed to be contacted are told as stories, without names.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.memory import RecordingChat
from bot.services.clock import SimulatedClock
from bot.services.reports import cohort_evaluation, cohort_report_lines
from journeys.evaluation.success_case import FACTOR_FAST
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.models import EnrollmentRow, EventRow, PromptRow
from tests.worlds import service_on

NOW = datetime(2027, 5, 20, 12, tzinfo=UTC)
SENT = NOW - timedelta(days=6)
COHORT = "quiet-managers"


@pytest.fixture
async def svc(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    service = await service_on(db, load_library(default_library_path()), {"console": RecordingChat(platform="console")},
                               SimulatedClock(NOW), admins={"admin"})
    ids = {}
    for uid, name in (("mia", "Mia Roth"), ("noor", "Noor Haddad"), ("olu", "Olu Adeyemi"), ("max", "Max Bauer")):
        ids[uid] = (await service.ensure_person("console", uid, name=name, tz="Europe/London")).id
    stories = {
        "mia": ("I let Max finish before answering; Mia's team noticed.", "Two escalations avoided.", True),
        "noor": ("I paraphrased the complaint first.", "Resolved in one call.", False),
    }
    async with db.write() as s:
        for uid in ("mia", "noor", "olu"):
            eid = f"e-{uid}"
            s.add(EnrollmentRow(id=eid, journey_id="active-listening", journey_version=1, person_id=ids[uid],
                                manager_id=ids["max"], start=date(2027, 4, 12), events={}, status="active",
                                cohort=COHORT, created_at=SENT - timedelta(days=30)))
            s.add(EventRow(kind="enrolled", enrollment_id=eid, at=SENT - timedelta(days=30), data={}))
            # the support request went out and Max never answered it
            s.add(EventRow(kind="sent", enrollment_id=eid, prompt_id=f"{eid}.support-safe", at=SENT,
                           data={"step": "support-safe"}))
        await s.flush()
        for uid, (did, result, contact) in stories.items():
            eid = f"e-{uid}"
            answers = {"applied": "success", "what-did-you-do": did, "result": result,
                       "contact": "yes" if contact else "no"}
            s.add(PromptRow(id=f"{eid}.success-case", enrollment_id=eid, step_id="success-case",
                            recipient_id=ids[uid], status="answered", due_at=SENT, next_at=None, answers=answers,
                            sent_at=SENT, answered_at=SENT + timedelta(hours=1)))
            s.add(EventRow(kind="scm_classified", enrollment_id=eid, prompt_id=f"{eid}.success-case",
                           at=SENT + timedelta(hours=uid == "noor"),
                           data={"step": "success-case", "kind": "survey", "classification": "success",
                                 "contact": contact}))
    yield service
    await db.dispose()


async def test_never_answered_requests_count_as_slow(svc):
    ev, _ = await cohort_evaluation(svc, COHORT)
    assert ev is not None
    fast = next(f for f in ev.factors if f.name == FACTOR_FAST)
    assert (fast.with_.total, fast.without.total) == (0, 2)  # the two survey respondents
    result = await svc.handle_command("console", "admin", f"report {COHORT} csv", "k1")
    rows = list(csv.reader(io.StringIO(result.replies[0].attachment_text)))
    metrics = {r[0]: r for r in rows if r}
    # the CSV says it in aggregate: both respondents are in the "without" group of the factor
    assert metrics[f"factor:{FACTOR_FAST}:without"][3] == "2"
    assert int(metrics["requests_never_answered"][1]) >= 2
    # per person, progress only: no one's manager support next to their name (docs/exports.md)
    header = rows.index(["enrollment_id", "name", "survey_answered", "mtms_planned", "mtms_followed_up",
                         "mtms_happened"])
    assert len([r for r in rows[header + 1:] if r]) == 3


async def test_only_agreed_stories_are_told_without_names(svc):
    lines = await cohort_report_lines(svc, COHORT)
    stories = [line for line in lines if line.startswith("Self-reported story")]
    assert stories == [("Self-reported story 1 (survey, not verified): “I let [name] finish before answering; [name]'s team noticed.” "
                        "Result: “Two escalations avoided.”")]
    assert "1 success story may be shared (authors agreed)." in lines
    assert not any("Resolved in one call" in line for line in lines)
