"""Admin commands end to end through the console platform, on a real SQLite file.

BotService with a RecordingChat registered as "console", a simulated clock and the bundled
library; commands go through `BotService.handle_command` exactly as `hplj chat` sends them.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.memory import RecordingChat
from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from bot.services.reports import cohort_evaluation
from journeys.text import plain
from ports.chat import InboundAction
from tests.conftest import Someone

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 3, 29, 8, tzinfo=UTC)  # a Monday
START = date(2027, 4, 12)
COHORT = "spring-leads"

# the person who gets forgotten: every identifier distinctive enough to search raw bytes for
QUINN_ID = "u-quokka-5521"
QUINN_EMAIL = "quinn.quokkason@example.org"
SECRET = "ZEBRA-7431"


def london(m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2027, m, d, hh, mm, tzinfo=LONDON).astimezone(UTC)


class World:
    def __init__(self, svc: BotService, chat: RecordingChat, path: Path, clock: SimulatedClock) -> None:
        self.svc, self.chat, self.path, self.clock = svc, chat, path, clock
        self.n = 0

    async def cmd(self, text: str, user: str = "admin"):
        self.n += 1
        result = await self.svc.handle_command("console", user, text, f"k{self.n}")
        assert len(result.replies) == 1
        return result.replies[0]

    async def text(self, text: str, user: str = "admin") -> str:
        m = await self.cmd(text, user)
        return plain(f"{m.title}\n{m.text}")  # as the console shows it (typed spans, mentions as @id)

    def counts(self) -> dict[str, int]:
        con = sqlite3.connect(self.path)
        try:
            tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
            return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}
        finally:
            con.close()

    def snapshot(self) -> dict[str, list[tuple]]:
        con = sqlite3.connect(self.path)
        try:
            tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
            return {t: sorted(map(repr, con.execute(f'select * from "{t}"'))) for t in tables}  # type: ignore[misc]
        finally:
            con.close()


@pytest.fixture
async def world(make_world):
    w = await make_world(NOW, [Someone(uid, name, email=QUINN_EMAIL if uid == QUINN_ID else f"{uid}@example.com")
                               for uid, name in (("ana", "Ana Silva"), ("bo", "Bo Berg"), ("ben", "Ben Okafor"),
                                                 ("eve", "Eve Non-admin"), (QUINN_ID, "Quinn Quokkason"))],
                         platform="console", admins={"admin"})
    return World(w.service, w.chat, w.path, w.clock)


async def enroll(w: World, who: str = "@ana @bo") -> str:
    return await w.text(f"enroll active-listening {who} manager @ben start {START.isoformat()} cohort {COHORT}")


# --------------------------------------------------------------------------- happy paths


async def test_help_and_journeys(world):
    text = await world.text("help")
    assert "enroll <journey-id>" in text and "forget <user>" in text
    assert "Example" in await world.text("help enroll")
    await enroll(world)
    text = await world.text("journeys")
    assert "`active-listening` — Active Listening (version 1): 2 active enrollments" in text


async def test_enroll_reports_what_changed_and_is_idempotent(world):
    text = await enroll(world)
    assert "Enrolled 2 in Active Listening starting 2027-04-12: Ana Silva, Bo Berg." in text
    assert f"Cohort: `{COHORT}`" in text and "Prompts scheduled:" in text
    before = world.counts()
    text = await enroll(world)
    assert "Nobody new was enrolled." in text
    assert "Ana Silva already enrolled since 2027-04-12" in text and "Bo Berg already enrolled since 2027-04-12" in text
    after = world.counts()
    assert before["enrollments"] == after["enrollments"] and before["prompts"] == after["prompts"]


async def test_enroll_by_email_default_start_and_new_console_names(world):
    m = await world.cmd("enroll active-listening ana@example.com @newbie manager BEN@example.com")
    assert "Enrolled 2" in m.text and "Ana Silva" in m.text and "newbie" in m.text
    facts = dict(m.facts)
    start = date.fromisoformat(facts["Start"])
    assert start >= NOW.date() + timedelta(days=7) and start.weekday() < 5
    assert facts["Cohort"] == f"active-listening-{start.isoformat()}"


async def test_enroll_large_cohort_is_summarised(world):
    users = " ".join(f"@p{i:03d}" for i in range(30))
    text = await world.text(f"enroll active-listening {users} manager @ben start {START.isoformat()}")
    assert "Enrolled 30" in text and "and 10 more" in text
    assert "p029" not in text


async def test_enroll_errors_name_the_argument_and_change_nothing(world):
    await world.text("journeys")  # the acting admin is stored on their first command
    before = world.snapshot()
    cases = {
        "enroll listening @ana manager @ben": "unknown journey 'listening' (known journeys: active-listening)",
        "enroll active-listening @ana manager ghost@example.com": "no console user has the e-mail ghost@example.com",
        "enroll active-listening @ana manager @ana": "the manager can't also be a participant",
        "enroll active-listening ana@example.com manager @ana": "the manager can't also be a participant",
        "enroll active-listening @ana manager @ben start 2027-03-01": "start 2027-03-01 is more than 7 days in the past",
        "enroll active-listening @ana manager @ben event party 2027-04-20":
            "unknown event 'party' for journey active-listening (expected: workshop)",
        "enroll active-listening @ana manager @ben start 2027-02-30": "'start 2027-02-30' is not a date",
    }
    for command, expected in cases.items():
        text = await world.text(command)
        assert expected in text, (command, text)
    assert world.snapshot() == before


async def test_unknown_user_errors(world):
    assert "unknown user @U999" in await world.text("status <user:U999>")  # the grammar's user reference
    assert "unknown user @nobody" in await world.text("pause @nobody")
    assert "no console user has the e-mail who@example.com" in await world.text("export who@example.com")


async def test_status_overview_person_and_cohort(world):
    await enroll(world)
    text = await world.text("status")
    assert COHORT in text and "active-listening" in text and "failed deliveries" in text
    text = await world.text("status @ana")
    assert "Ana Silva" in text and "active, cohort `spring-leads`" in text
    assert "Next: Expectations conversation" not in text  # that one is the manager's
    assert "(Ana's time, Europe/London)" in text and "Reminders sent: 0" in text and "Failed deliveries: none" in text
    # a failed delivery shows with its reason
    from ports.chat import DeliveryError

    world.chat.fail_next.append(DeliveryError("permanent", "channel_not_found"))
    at = london(4, 6, 10, 5)  # why-it-matters, start-4
    world.clock.set(at)
    world.chat.profiles.pop("ana")  # open_dm fails: user_not_found
    await world.svc.tick(at)
    text = await world.text("status @ana")
    assert "Failed deliveries (" in text and "user_not_found" in text
    text = await world.text("status spring-leads")
    assert "```" in text and "Ana Silva" in text and "Bo Berg" in text and "last response" in text
    assert "unknown cohort 'nope'" in await world.text("status nope")


async def test_status_cohort_flags_stuck_people(world):
    await enroll(world)
    at = london(4, 9, 14, 5)  # focus-situation (start-3) and success-picture (start-1) are out
    world.clock.set(at)
    await world.svc.tick(at)
    later = london(4, 15, 11, 0)  # 3+ working days after focus-situation was sent
    world.clock.set(later)
    text = await world.text(f"status {COHORT}")
    assert "STUCK" in text, text


async def test_pause_then_resume_shifts_the_schedule(world):
    await enroll(world)
    import sqlite3 as _s

    def due(step: str) -> str:
        con = _s.connect(world.path)
        try:
            return con.execute("select p.due_at from prompts p join enrollments e on e.id = p.enrollment_id "
                               "join people h on h.id = e.person_id where h.platform_user_id='ana' and p.step_id=?",
                               (step,)).fetchone()[0]
        finally:
            con.close()

    before = due("kickoff")
    text = await world.text("pause @ana")
    assert "Paused Ana Silva in Active Listening" in text
    assert "paused" in await world.text("status @ana")
    assert "no active enrollment to pause" in await world.text("pause @ana")
    world.clock.set(NOW + timedelta(days=7))  # a week (5 working days) on leave
    text = await world.text("resume @ana")
    assert "the schedule moved 5 working days" in text and "next prompt" in text
    after = due("kickoff")
    assert datetime.fromisoformat(after) - datetime.fromisoformat(before) == timedelta(days=7)
    assert "no paused enrollment to resume" in await world.text("resume @ana")
    audit = await world.text("audit 5")
    assert "pause" in audit and "resume" in audit


async def test_unenroll(world):
    await enroll(world)
    assert "unknown journey 'other'" in await world.text("unenroll @ana other")
    text = await world.text("unenroll @ana active-listening")
    assert "Unenrolled Ana Silva from active-listening" in text
    assert "no active or paused enrollment" in await world.text("unenroll @ana")
    con = sqlite3.connect(world.path)
    statuses = con.execute("select p.status, count(*) from prompts p join enrollments e on e.id=p.enrollment_id "
                           "join people h on h.id=e.person_id where h.platform_user_id='ana' group by p.status").fetchall()
    con.close()
    assert dict(statuses).keys() <= {"cancelled", "answered", "done", "expired"}


async def test_export(world):
    await enroll(world)
    m = await world.cmd("export @ana")
    assert m.attachment_name.startswith("export-p_") and m.attachment_name.endswith(".json")
    data = json.loads(m.attachment_text)
    assert data["person"]["name"] == "Ana Silva" and data["person"]["email"] == "ana@example.com"
    assert len(data["enrollments"]) == 1 and data["prompts"] and any(a["action"] == "enroll" for a in data["audit"])


async def test_report_and_csv(world):
    await enroll(world)
    text = await world.text(f"report {COHORT}")
    assert f"cohort {COHORT}" in text
    m = await world.cmd(f"report {COHORT} csv")
    assert m.attachment_name == f"report-{COHORT}.csv"
    rows = list(csv.reader(io.StringIO(m.attachment_text)))
    assert rows[0][:2] == ["metric", "value"] and [] in rows
    assert any("Ana Silva" in r for r in rows)
    assert "unknown cohort 'nope'" in await world.text("report nope")


async def test_dashboard_link_or_not_configured(world):
    m = await world.cmd("dashboard")
    assert "/dashboard?" in m.text or "not configured" in m.text, m.text
    if "/dashboard?" in m.text:
        assert m.links and "/dashboard?" in m.links[0].url


async def test_admins_and_audit(world):
    assert "Bootstrap admins (HPLJ_ADMINS): admin" in await world.text("admins list")
    assert "Sorry, `journeys` is for journey admins" in await world.text("journeys", user="ana")
    assert "Ana Silva is now a journey admin" in await world.text("admins add @ana")
    assert "already an admin" in await world.text("admins add @ana")
    assert "Active Listening" in await world.text("journeys", user="ana")
    assert "Ana Silva (console ana)" in await world.text("admins list")
    # ana is the only admin row: she can't remove herself
    assert "you are the last admin" in await world.text("admins remove @ana", user="ana")
    assert "Ben Okafor is now a journey admin" in await world.text("admins add @ben", user="ana")
    assert "Ana Silva is no longer a journey admin" in await world.text("admins remove @ana", user="ana")
    assert "is not an admin" in await world.text("admins remove @bo")
    text = await world.text("audit")
    assert "admin_grant" in text and "admin_revoke" in text
    assert "Ana" not in text  # ids only, no names


async def test_parse_errors_are_answered(world):
    assert "unknown command 'enrol' — did you mean 'enroll'?" in await world.text("enrol @ana")
    assert "`audit`:" in await world.text("audit lots")


# --------------------------------------------------------------------------- authorization

ADMIN_COMMANDS = [
    "journeys",
    f"enroll active-listening @ana manager @ben start {START.isoformat()}",
    "status", "status @ana", f"status {COHORT}",
    f"report {COHORT}", f"report {COHORT} csv",
    "pause @ana", "resume @ana", "unenroll @ana", "forget @ana", "export @ana",
    "dashboard", "admins", "admins add @eve", "admins remove @admin", "audit 5",
    "enroll nonsense",  # a malformed admin command is refused too, not explained
]


async def test_non_admin_is_refused_everything_and_nothing_changes(world, caplog):
    await enroll(world)
    await world.text("pause @bo")
    before = world.snapshot()
    caplog.set_level(logging.INFO, logger="hplj.audit")
    for command in ADMIN_COMMANDS:
        for who in ("eve", "stranger"):
            m = await world.cmd(command, user=who)
            name = command.split()[0]
            assert m.text == f"Sorry, `{name}` is for journey admins. Ask an admin to run `admins add @{who}`.", m.text
            assert not m.attachment_text
    assert world.snapshot() == before
    denials = [r for r in caplog.records if r.name == "hplj.audit"]
    assert len(denials) == 2 * len(ADMIN_COMMANDS)
    for r in denials:
        msg = r.getMessage()
        assert "platform=console" in msg and "eve" not in msg and "ana" not in msg and "stranger" not in msg
    # help is for everyone, and shows a non-admin what they may do, not the admin commands
    shown = await world.text("help", user="eve")
    assert "`status`" in shown and "Admin commands" not in shown and "enroll" not in shown
    assert world.snapshot() == before


# --------------------------------------------------------------------------- the forget proof


async def test_forget_leaves_no_trace_but_keeps_anonymous_counts(world):
    svc = world.svc
    text = await enroll(world, f"@ana @{QUINN_ID}")
    assert "Enrolled 2" in text
    # Quinn also manages someone and is an admin: every role leaves traces to remove
    await world.text(f"enroll active-listening @bo manager {QUINN_EMAIL} start {START.isoformat()} cohort other")
    await world.text(f"admins add @{QUINN_ID}")
    quinn_pid = json.loads((await world.cmd(f"export @{QUINN_ID}")).attachment_text)["person"]["id"]

    at = london(4, 9, 14, 5)  # success-picture (start-1 14:00) has gone out
    world.clock.set(at)
    await svc.tick(at)
    eid = json.loads((await world.cmd(f"export @{QUINN_ID}")).attachment_text)["enrollments"][0]["id"]
    prompt_id = f"{eid}.success-picture"
    msg = await svc.prompt_message(prompt_id)
    assert msg is not None and msg.fields
    result = await svc.handle_action(InboundAction(
        "console", QUINN_ID, key=f"{QUINN_ID}-answer", prompt_id=prompt_id,
        values={msg.fields[0].id: f"Customers calm down faster {SECRET}"}))
    assert result is not None
    await svc.settle()
    assert SECRET in (await world.cmd(f"export {QUINN_EMAIL}")).attachment_text
    ev_before, _ = await cohort_evaluation(svc, COHORT)
    assert ev_before is not None and ev_before.participants == 2

    text = await world.text(f"forget @{QUINN_ID}")
    assert "Forgot" in text
    assert "unknown user" in await world.text(f"status @{QUINN_ID}")
    ev_after, _ = await cohort_evaluation(svc, COHORT)
    assert ev_after is not None and ev_after.participants == 2  # still counted, anonymously
    assert "forget" in await world.text("audit 1")
    assert "Ana Silva" in await world.text(f"status {COHORT}")  # the others are untouched
    assert "(forgotten)" in await world.text(f"status {COHORT}")

    await svc.settle()
    await svc.db.dispose()
    needles = [SECRET, QUINN_ID, quinn_pid, QUINN_EMAIL, eid]
    for f in (world.path, Path(f"{world.path}-wal")):
        if f.exists():
            raw = f.read_bytes()
            for needle in needles:
                assert needle.encode() not in raw, (f.name, needle)
                assert needle.upper().encode() not in raw.upper(), (f.name, needle)
    con = sqlite3.connect(world.path)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        assert {"people", "prompts", "mtms", "outbox", "journey_events", "audit", "inbound"} <= set(tables)
        for table in tables:
            for row in con.execute(f'select * from "{table}"'):
                dumped = repr(row)
                for needle in needles:
                    assert needle not in dumped, (table, needle, dumped)
        assert con.execute("select count(*) from journey_events where enrollment_id like 'anon-%'").fetchone()[0] > 0
    finally:
        con.close()


async def test_enroll_refuses_a_manager_link_that_closes_a_circle_and_changes_nothing(world):
    """Issue 23, item 2, in chat: with Ana enrolled under Ben, enrolling Ben under Ana would put Ana
    above her own manager (an escalation about a peer could then reach her): refused with the circle
    named, nothing stored; the straight enrollment still works afterwards."""
    await enroll(world, "@ana")
    before = world.snapshot()
    text = await world.text(f"enroll active-listening @ben manager @ana start {START.isoformat()}")
    assert "managers would go round in a circle" in text and "Nobody was enrolled" in text, text
    assert world.snapshot() == before
    assert "Enrolled 1 in Active Listening" in await enroll(world, "@bo")
