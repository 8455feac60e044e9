""""What to change" and plain words first, end to end through the console on a real SQLite file.

Three cohorts of the bundled journey are stored as events: two small pilots on version 1 (each 3 a
side of the expectations conversation, so only pooled do they reach five a side) and one on version
2 (left out of the pooling). The L&D admin reads the draft, replaces it with her own text (typed,
hostile on purpose), and the report, its CSV and the dashboard show it inert; a stranger is refused.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.memory import RecordingChat
from bot.app.service import BotService
from bot.dashboard.links import Claims
from bot.dashboard.page import render_dashboard
from bot.dashboard.view import cohort_view
from bot.services.clock import SimulatedClock
from bot.services.reports import cohort_recommendations
from journeys.loader import default_library_path, load_library
from journeys.text import TYPED_OPEN, plain
from store.db import Database
from store.models import EnrollmentRow, EventRow

NOW = datetime(2027, 11, 1, 12, tzinfo=UTC)
START = date(2027, 4, 12)
# cohort -> (journey version, [(classification, expectations conversation held, survey barriers)])
PILOT = [("success", True, ()), ("success", True, ()), ("not_applied", True, ("no_time",)),
         ("not_applied", False, ("no_time", "no_manager_support")), ("not_applied", False, ("no_opportunity",)),
         ("tried_no_success", False, ("no_time",))]
COHORTS = {
    "spring": (1, PILOT),
    "autumn": (1, [("success", True, ()), ("success", True, ()), ("success", True, ()),
                   ("success", False, ()), ("not_applied", False, ("no_time",)), ("not_applied", False, ())]),
    "winter": (2, PILOT),
}
HOSTILE = "=HYPERLINK(\"http://x\") <!channel> <script>alert(1)</script> *now*\nSecond: hold 1:1s, weekly; 3 expired"


@pytest.fixture
async def svc(tmp_path):
    path = tmp_path / "bot.db"
    db = Database(f"sqlite:///{path}")
    await db.create_all()
    service = BotService(db, load_library(default_library_path()), {"console": RecordingChat(platform="console")},
                         SimulatedClock(NOW), bootstrap_admins={"admin"})
    manager = (await service.ensure_person("console", "max", name="Max Bauer", tz="Europe/London")).id
    await service.ensure_person("console", "eve", name="Eve Stranger", tz="Europe/London")
    created = datetime.combine(START, datetime.min.time(), UTC) - timedelta(days=7)
    async with db.write() as s:
        for c, (cohort, (version, people)) in enumerate(COHORTS.items()):
            for i, (cls, talked, barriers) in enumerate(people):
                pid = (await service.ensure_person("console", f"{cohort}{i}", name=f"Person {cohort} {i}",
                                                   tz="Europe/London")).id
                eid = f"{cohort}-{i}"
                s.add(EnrollmentRow(id=eid, journey_id="active-listening", journey_version=version, person_id=pid,
                                    manager_id=manager, start=START, events={}, status="completed", cohort=cohort,
                                    created_at=created + timedelta(days=c)))
                s.add(EventRow(kind="enrolled", enrollment_id=eid, at=created, data={}))
                if talked:
                    s.add(EventRow(kind="manager_task_done", enrollment_id=eid, prompt_id=f"{eid}.expectations",
                                   at=created + timedelta(days=1), data={"before_start": True, "step": "expectations"}))
                s.add(EventRow(kind="scm_classified", enrollment_id=eid, at=created + timedelta(days=40, minutes=i),
                               data={"classification": cls, "barriers": list(barriers)}))
        s.add(EventRow(kind="manager_cant", enrollment_id="spring-3", prompt_id="spring-3.support-real",
                       at=created + timedelta(days=20), data={"reason": "no_time", "step": "support-real"}))
        s.add(EventRow(kind="expired", enrollment_id="spring-4", prompt_id="spring-4.support-real",
                       at=created + timedelta(days=21), data={"step": "support-real"}))
    service.db_path = path  # type: ignore[attr-defined]
    yield service
    await db.dispose()


async def say(svc: BotService, text: str, user: str = "admin", key: list[int] = [0]):  # noqa: B006
    key[0] += 1
    result = await svc.handle_command("console", user, text, f"k{key[0]}")
    assert len(result.replies) == 1
    return result.replies[0]


def snapshot(svc: BotService) -> dict[str, list[str]]:
    con = sqlite3.connect(svc.db_path)  # type: ignore[attr-defined]
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {t: sorted(map(repr, con.execute(f'select * from "{t}"'))) for t in tables}
    finally:
        con.close()


async def test_the_draft_cites_counts_and_the_report_leads_with_plain_words(svc):
    m = await say(svc, "report spring recommendations")
    text = plain(m.text)
    assert text.startswith("What to change (drafted from the evidence; the L&D lead may edit it):")
    assert ("• Remove “no time (other priorities came first)” (3: 3 in the survey) — their managers and senior "
            "leaders, by making room for it among the priorities.") in text
    assert ("• Remove “no support from their manager” (3: 1 in the survey, 1 support request declined, 1 support "
            "request expired unanswered)") in text
    assert "Manager requests: 1 support request expired unanswered and 1 was declined (no time, other priorities 1)." in text
    # pooled with autumn (same version), not winter: 5 of 6 with the conversation against 1 of 6 without
    assert ("Make an expectations conversation with their manager before the start the rule for every participant: "
            "83% reached a result with it (5 of 6) against 17% without (1 of 6); pooled over 2 cohorts of this "
            "journey (version 1, 12 survey answers; 1 cohort on another version of the journey left out)") in text

    report = plain((await say(svc, "report spring")).text).splitlines()
    assert report[0] == "Active Listening — cohort spring"
    assert report[1].startswith("Business goal: ")  # the PPP first, then plain words before any figure
    report = report[1:]
    assert report[1] == "Too close to the 20% usually seen to call it better or worse yet: 33% of those who answered " \
                        "reached a worthwhile result."  # 2 of 6: interval 10%–70%
    assert report[2].startswith("Too few people on each side yet to tell whether manager support made a difference")
    assert report[3].startswith("People who had an expectations conversation with their manager before the start "
                                "clearly did better: 67 points more reached a result (pooled over 2 cohorts")
    assert "What to change (drafted from the evidence; the L&D lead may edit it):" in report


async def test_set_replaces_the_draft_everywhere_inert_and_reset_brings_it_back(svc):
    await say(svc, "report spring recommendations")  # the admin is stored on her first command
    before = snapshot(svc)
    refused = await say(svc, f"report spring recommendations set {HOSTILE}", user="eve")
    assert refused.title == "Not allowed" and "for journey admins" in refused.text
    unknown = await say(svc, "report nope recommendations set Something")
    assert unknown.title == "`report` not done"
    assert unknown.text == "`report nope recommendations`: unknown cohort 'nope' (see `status` for the cohorts)"
    empty = await say(svc, "report spring recommendations set")
    assert empty.title == "Command not understood" and "missing the text after `set`" in empty.text
    assert snapshot(svc) == before  # nothing changed by a refusal or an error

    saved = await say(svc, f"report spring recommendations set {HOSTILE}")
    assert saved.text.startswith("✅ Saved: cohort spring's report and dashboard now show your text instead of the draft.")
    assert TYPED_OPEN in saved.text  # the admin's words are marked typed: every renderer shows them inert
    lines = plain(saved.text).splitlines()
    assert lines[1] == "What to change (edited by the L&D lead):"
    assert lines[2:] == ["• =HYPERLINK(\"http://x\") <!channel> <script>alert(1)</script> *now*",
                         "• Second: hold 1:1s, weekly; 3 expired"]
    rec = await cohort_recommendations(svc, "spring")
    assert rec is not None and rec.edited and rec.draft[0].startswith("Remove “no support")  # the draft is kept too

    report = await say(svc, "report spring")
    assert plain(report.text).splitlines()[-2:] == lines[2:]
    assert "• " + TYPED_OPEN in report.text
    attachment = (await say(svc, "report spring csv")).attachment_text
    rows = {r[0]: r for r in csv.reader(io.StringIO(attachment)) if r}
    assert rows["recommendation:1"][1:3] == ["'=HYPERLINK(\"http://x\") <!channel> <script>alert(1)</script> *now*",
                                             "edited"]
    assert rows["recommendation:2"][1] == "Second: hold 1:1s, weekly; 3 expired"
    assert rows["plain:impact"][1].startswith("Too close to the 20% usually seen") and rows["plain:impact"][4]
    assert rows["pooled:cohorts"][1:3] == ["2", "12"]

    page = render_dashboard(await cohort_view(svc, "spring", NOW), ["spring"], {},
                            Claims("admin", "*", NOW + timedelta(hours=1), None), NOW)
    section = page[page.index('id="h-change"'):]
    assert "edited by the L&amp;D lead" in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "<script>alert" not in page
    plain_words = page[page.index('id="h-plain"'):page.index('class="kpis"')]
    assert "Too close to the 20% usually seen" in plain_words
    assert "<details><summary>The intervals and tests behind these sentences</summary>" in plain_words
    assert "95% Wilson interval 10%–70%" in plain_words
    assert ("Manager support, pooled over 2 cohorts of this journey (version 1, 12 survey answers; 1 cohort on "
            "another version of the journey left out)") in plain_words
    assert "Pooled — Expectations conversation before the start: 83% with it (5 of 6) vs 17% without (1 of 6)" \
        in plain_words  # the pooled counts and test, one click away

    async with svc.uow.read() as uow:
        audit = await uow.audit.latest(5)
    assert [a.action for a in audit if a.action.startswith("recommendations")] == ["recommendations_set"]
    assert not any("HYPERLINK" in repr(a) for a in audit)  # the audit keeps ids, never the text

    back = await say(svc, "report spring recommendations reset")
    assert plain(back.text).splitlines()[1] == "What to change (drafted from the evidence; the L&D lead may edit it):"
    again = await say(svc, "report spring recommendations reset")
    assert again.text == "Cohort spring already shows the draft. Nothing changed."
