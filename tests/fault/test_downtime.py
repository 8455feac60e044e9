"""Downtime (issue 3): after an outage, overdue prompts are either sent once (still useful) or marked
`expired` under the step's `stale_after` policy — never a burst at 3 a.m., never silently dropped.

Real SQLite store, real scheduler pass (`BotService.tick`), the bundled active-listening journey
(why-it-matters has `stale_after: 2`, due Tue 6 Apr 2027 10:00 London for a 12 Apr start).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adapters.memory import RecordingChat
from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from journeys.messages import Message
from store.db import Database
from store.models import OutboxRow, PersonRow, PromptRow
from tests.fault.conftest import START
from tests.worlds import service_on

LONDON = ZoneInfo("Europe/London")


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


async def setup(tmp_path, n: int = 3) -> tuple[BotService, RecordingChat]:
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    chat = RecordingChat(platform="memory")
    created = london(2027, 3, 29, 9)
    async with db.write() as s:
        for i in range(n):
            chat.add_user(f"u{i}", f"Person {i}", tz="Europe/London")
            s.add(PersonRow(id=f"p{i}", platform="memory", platform_user_id=f"u{i}", name=f"Person {i}",
                            tz="Europe/London", created_at=created, greeted=True))
    svc = await service_on(db, load_library(default_library_path()), {"memory": chat}, SimulatedClock(created))
    await svc.enroll("active-listening", [f"p{i}" for i in range(n)], None, START)
    return svc, chat


async def prompts(svc: BotService) -> list[PromptRow]:
    async with svc.db.read() as s:
        return list((await s.execute(select(PromptRow))).scalars().all())


async def test_outage_overdue_prompts_expire_or_go_once_in_working_hours(tmp_path):
    svc, chat = await setup(tmp_path)
    try:
        # The bot was down from before the first due prompt until Friday 3 a.m.: nothing at 3 a.m.
        _, night = await svc.tick(london(2027, 4, 9, 3))
        assert night.sent == 0 and chat.sent == []
        # At 11:00 it catches up: why-it-matters (stale after 2 working days) expires, unsent.
        await svc.tick(london(2027, 4, 9, 11))
        rows = await prompts(svc)
        why = [p for p in rows if p.step_id == "why-it-matters"]
        assert why and all(p.status == "expired" and p.sent_at is None for p in why)
        sent_keys = [d.delivery_id for d in chat.sent]
        assert len(sent_keys) == len(set(sent_keys))  # each overdue prompt that is still useful: once
        overdue = [p for p in rows if p.due_at <= london(2027, 4, 9, 11) and p.status != "expired"]
        assert overdue  # something was still worth sending
        for p in overdue:
            assert p.sent_at is not None and p.deliveries == 1, (p.step_id, p.status, p.deliveries)
        # every due prompt reached a decision: sent or expired, none silently dropped
        assert all(p.status != "scheduled" for p in rows if p.due_at <= london(2027, 4, 9, 11))
        # another pass at the same instant (a restart) sends nothing again
        before = len(chat.sent)
        await svc.tick(london(2027, 4, 9, 11))
        assert len(chat.sent) == before
    finally:
        await svc.db.dispose()


async def test_outbox_row_that_turns_stale_while_waiting_is_expired_not_sent(tmp_path):
    svc, chat = await setup(tmp_path, n=2)
    due = london(2027, 4, 6, 10)
    try:
        async with svc.db.write() as s:
            s.add(OutboxRow(key="stale", recipient_id="p0", payload=Message("p0", "too late").to_json(),
                            state="pending", attempts=0, next_attempt_at=due, created_at=due,
                            stale_at=due + timedelta(days=1)))
            s.add(OutboxRow(key="fresh", recipient_id="p1", payload=Message("p1", "still useful").to_json(),
                            state="pending", attempts=0, next_attempt_at=due, created_at=due,
                            stale_at=due + timedelta(days=5)))
        r = await svc.dispatcher.deliver(due + timedelta(days=2))
        assert (r.sent, r.expired) == (1, 1)
        async with svc.db.read() as s:
            states = {o.key: o.state for o in (await s.execute(select(OutboxRow))).scalars().all()
                      if o.key in ("stale", "fresh")}
        assert states == {"stale": "expired", "fresh": "sent"}
        assert [d.delivery_id for d in chat.sent] == ["fresh"]
    finally:
        await svc.db.dispose()
