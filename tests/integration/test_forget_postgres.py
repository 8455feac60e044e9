"""The forget proof on a real PostgreSQL server: after `forget`, no table holds the person's text or ids.

Also runs the Alembic migrations on PostgreSQL, and checks that a cohort report still counts the
forgotten person as an anonymous number.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import asyncpg

from adapters.memory import RecordingChat
from bot.services.clock import SimulatedClock
from bot.services.reports import cohort_evaluation
from journeys.loader import default_library_path, load_library
from ports.chat import InboundAction
from store.db import Database
from tests.integration.pg import libpq_url
from tests.worlds import service_on

SECRET = "OKAPI-5519"
START = date(2027, 4, 12)
LONDON = ZoneInfo("Europe/London")


async def test_forget_leaves_no_trace_in_any_postgres_table(postgres_db: Database) -> None:
    db, url = postgres_db, libpq_url(postgres_db)
    clock = SimulatedClock(datetime(2027, 4, 1, 9, tzinfo=LONDON))
    chat = RecordingChat(platform="console")
    svc = await service_on(db, load_library(default_library_path()), {"console": chat}, clock, admins={"admin"})
    for uid, name in (("ana", "Ana Silva"), ("ben", "Ben Okafor"), ("qzx-walrus", "Quentin Walrusson")):
        chat.add_user(uid, name, email=f"{uid}@example.com", tz="Europe/London")
        await svc.ensure_person("console", uid, name=name, email=f"{uid}@example.com", tz="Europe/London")

    async def cmd(text: str) -> str:
        res = await svc.handle_command("console", "admin", text, uuid.uuid4().hex)
        return "\n".join(f"{m.title}\n{m.text}\n{m.attachment_text}" for m in res.replies)

    assert "Enrolled 2" in await cmd(f"enroll active-listening @ana @qzx-walrus manager @ben start {START} cohort pg")
    export = json.loads((await svc.handle_command("console", "admin", "export @qzx-walrus", "x1")).replies[0]
                        .attachment_text)
    pid, eid = export["person"]["id"], export["enrollments"][0]["id"]

    at = datetime(2027, 4, 9, 14, 5, tzinfo=LONDON).astimezone(UTC)  # success-picture has gone out
    clock.set(at)
    await svc.tick(at)
    prompt_id = f"{eid}.success-picture"
    msg = await svc.prompt_message(prompt_id)
    assert msg is not None and msg.fields
    await svc.handle_action(InboundAction("console", "qzx-walrus", "ans-1", prompt_id,
                                          values={msg.fields[0].id: f"Calmer customers {SECRET}"}))
    await svc.settle()
    before, _ = await cohort_evaluation(svc, "pg")
    assert before is not None and before.participants == 2

    assert "Forgot" in await cmd("forget @qzx-walrus")
    after, _ = await cohort_evaluation(svc, "pg")
    assert after is not None and after.participants == 2  # an anonymous number now
    await svc.settle()

    needles = [SECRET, "qzx-walrus", pid, eid, "Walrusson"]
    conn = await asyncpg.connect(url)
    try:
        tables = [r["tablename"] for r in await conn.fetch("select tablename from pg_tables where schemaname='public'")]
        assert {"people", "prompts", "mtms", "outbox", "journey_events", "audit", "inbound"} <= set(tables)
        for table in tables:
            rows = await conn.fetch(f'select t::text as row from "{table}" t')
            for r in rows:
                for needle in needles:
                    assert needle.lower() not in r["row"].lower(), (table, needle)
        assert await conn.fetchval("select count(*) from journey_events where enrollment_id like 'anon-%'") > 0
    finally:
        await conn.close()
