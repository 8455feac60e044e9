"""Humane at send time (issue 16): nothing leaves outside its recipient's hours, even after an outage.

The engine and the dispatcher on a real SQLite file with an injected clock (each tick names its
instant). A platform that answers 503 stands in for an outage; what the person would notice is
when each message reaches them, in their own zone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.memory import RecordingChat
from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from journeys.messages import Message
from ports.chat import Address, DeliveryError, InboundAction, SentRef
from scheduler.delivery import Dispatcher
from store.db import Database
from store.models import OutboxRow, PersonRow
from store.uow import UnitOfWorkFactory
from tests.worlds import service_on

BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass
class Sent:
    at: datetime
    key: str
    to: str


class OutageChat(RecordingChat):
    """A platform that can be down (every send refused with 503 before acceptance); records when
    each message reached the person, on the test's clock."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.at = datetime(2000, 1, 1, tzinfo=UTC)
        self.log: list[Sent] = []

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef:
        if self.down:
            raise DeliveryError("retry", "service_unavailable")
        ref = await super().send(conversation_id, message, delivery_id, address=address)
        self.log.append(Sent(self.at, delivery_id, conversation_id.removeprefix("D-")))
        return ref


@pytest.fixture(scope="module")
def library():
    return load_library(default_library_path())


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await database.create_all()
    yield database
    await database.dispose()


async def tick(svc: BotService, chat: OutageChat, at: datetime) -> None:
    chat.at = at
    svc.clock.set(at.astimezone(UTC))
    await svc.tick(at)


async def people(svc: BotService, chat: OutageChat, who: dict[str, tuple[str, str | None]]) -> dict[str, str]:
    ids = {}
    for uid, (tz, country) in who.items():
        chat.add_user(uid, uid.title(), tz=tz)
        row = await svc.ensure_person("memory", uid, name=uid.title(), tz=tz)
        ids[uid] = row.id
        if country:
            async with svc.db.write() as s:
                (await s.get(PersonRow, row.id)).country = country
    return ids


async def test_outage_then_recovery_at_3am_sends_nothing_before_9_then_everything_in_order(db, library):
    """The issue's first scenario: Slack down from 13:35 Wednesday (Berlin), through Thursday and its
    night, as the manager's expectations card, a note of what Ana shared and the card's reminder fall
    due; healthy again at 03:00 Friday. Nothing is lost to the long outage, nothing reaches the manager at
    night, and at 09:00 their backlog goes out in the order it was queued, a minute apart."""
    chat = OutageChat()
    svc = await service_on(db, library, {"memory": chat}, SimulatedClock(datetime(2026, 11, 27, 10, tzinfo=UTC)))
    ids = await people(svc, chat, {"ana": ("Europe/Berlin", None), "ben": ("Europe/Berlin", None)})
    res = await svc.enroll("active-listening", [ids["ana"]], ids["ben"], date(2026, 12, 7))
    eid = res.enrolled[0][1]

    chat.down = True
    at = datetime(2026, 12, 2, 13, 35, tzinfo=BERLIN)
    while at < datetime(2026, 12, 4, 3, 0, tzinfo=BERLIN):  # a worker ticking through a 37 h outage
        await tick(svc, chat, at)
        if at == datetime(2026, 12, 2, 15, 5, tzinfo=BERLIN):  # Ana agrees to share (from an earlier card)
            await svc.handle_action(InboundAction("memory", "ana", "consent-1", f"{eid}.share-line-of-sight",
                                                  "yes"))
            await svc.handle_action(InboundAction("memory", "ana", "focus-1", f"{eid}.focus-situation",
                                                  "one-to-ones"))
        at += timedelta(minutes=15)
    assert chat.log == []
    async with db.read() as s:
        queued = (await s.execute(select(OutboxRow).where(OutboxRow.recipient_id == ids["ben"])
                                  .order_by(OutboxRow.id))).scalars().all()
    # none given up as failed; the card's reminder replaced the card still waiting (never both)
    replaced = [r for r in queued if r.state == "cancelled"]
    assert {r.state for r in queued} <= {"pending", "cancelled"} and all(r.error == "replaced by a newer one"
                                                                       for r in replaced)
    assert [r.key.rsplit(":", 1)[0] for r in replaced] == [r.key.rsplit(":", 1)[0] for r in queued
                                                          if r.key.endswith(".expectations:2")]
    order = [r.key for r in queued if r.state == "pending"]
    assert len(order) >= 2

    chat.down = False
    night = datetime(2026, 12, 4, 3, 0, tzinfo=BERLIN)
    await tick(svc, chat, night)
    await tick(svc, chat, datetime(2026, 12, 4, 8, 59, tzinfo=BERLIN))
    assert chat.log == []  # recovered at 03:00, but nobody is woken up

    at = datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)
    while at <= datetime(2026, 12, 4, 9, 10, tzinfo=BERLIN):
        await tick(svc, chat, at)
        at += timedelta(minutes=1)
    to_ben = [m for m in chat.log if m.to == "ben"]
    assert [m.key for m in to_ben] == order
    assert to_ben[0].at.astimezone(BERLIN).strftime("%H:%M") == "09:00"
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(to_ben)]
    assert all(g >= 60 for g in gaps), gaps  # spread, not a burst


async def seed_row(db: Database, tz: str, country: str | None, keys: list[str], due: datetime) -> None:
    async with db.write() as s:
        s.add(PersonRow(id="p1", platform="memory", platform_user_id="ana", name="Ana", tz=tz, country=country,
                        dm_id="D-ana", created_at=due, greeted=True))
        for k in keys:
            s.add(OutboxRow(key=k, recipient_id="p1", payload=Message("p1", f"text {k}").to_json(),
                            state="pending", attempts=0, next_attempt_at=due, created_at=due,
                            journey_id="active-listening"))


async def deliver_at(disp: Dispatcher, chat: OutageChat, at: datetime) -> int:
    chat.at = at
    return (await disp.deliver(at)).sent


@pytest.mark.parametrize(("night", "first_open_utc"), [
    # spring forward: 02:00 -> 03:00 on Sunday 29 March 2026; Monday 09:00 is 07:00 UTC (CEST)
    (datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    # fall back: 03:00 -> 02:00 on Sunday 25 October 2026; Monday 09:00 is 08:00 UTC (CET)
    (datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
])
async def test_a_backlog_recovered_on_a_dst_night_waits_for_nine_in_the_new_offset(db, library, night,
                                                                                  first_open_utc):
    chat = OutageChat()
    await seed_row(db, "Europe/Berlin", "DE", ["a", "b"], night - timedelta(hours=10))
    disp = Dispatcher(UnitOfWorkFactory(db), {"memory": chat}, library=library)
    assert await deliver_at(disp, chat, night) == 0
    assert await deliver_at(disp, chat, first_open_utc - timedelta(minutes=1)) == 0
    assert await deliver_at(disp, chat, first_open_utc) == 1
    assert await deliver_at(disp, chat, first_open_utc + timedelta(minutes=1)) == 1
    assert [(m.key, m.at.astimezone(BERLIN).strftime("%a %H:%M")) for m in chat.log] == [
        ("a", "Mon 09:00"), ("b", "Mon 09:01")]


async def test_a_holiday_on_the_recovery_day_holds_the_backlog_to_the_next_working_day(db, library):
    """Ascension Day (Thursday 6 May 2027) is a public holiday in Germany: the participant's own
    holiday country counts, not the journey's (England)."""
    chat = OutageChat()
    await seed_row(db, "Europe/Berlin", "DE", ["a"], datetime(2027, 5, 5, 16, tzinfo=BERLIN))
    disp = Dispatcher(UnitOfWorkFactory(db), {"memory": chat}, library=library)
    for hour in (3, 9, 11, 15):
        assert await deliver_at(disp, chat, datetime(2027, 5, 6, hour, tzinfo=BERLIN)) == 0
    assert await deliver_at(disp, chat, datetime(2027, 5, 7, 9, 0, tzinfo=BERLIN)) == 1
    async with db.read() as s:
        row = (await s.execute(select(OutboxRow))).scalar_one()
    assert row.state == "sent" and row.attempts == 1  # the holds were no attempts, and no failure


async def test_rows_waiting_for_hours_still_expire_when_stale(db, library):
    chat = OutageChat()
    await seed_row(db, "Europe/Berlin", None, ["a"], datetime(2027, 5, 4, 16, tzinfo=BERLIN))
    async with db.write() as s:
        (await s.execute(select(OutboxRow))).scalar_one().stale_at = datetime(2027, 5, 7, 8, tzinfo=BERLIN)
    disp = Dispatcher(UnitOfWorkFactory(db), {"memory": chat}, library=library)
    res = await disp.deliver(datetime(2027, 5, 6, 22, tzinfo=BERLIN))  # next open: Friday 09:00, past stale
    assert (res.sent, res.expired) == (0, 1)
    assert chat.log == []


async def test_a_participants_click_at_1725_reaches_a_manager_in_tokyo_only_in_tokyo_hours(db, library):
    """Ana (London) plans her moment at 17:25 her time: her own card closes at once. The support
    request for Ben (Tokyo) waits for his morning; Slack is down then until 18:30 Tokyo, and when it
    is back the request waits for his next morning instead of arriving at 18:30."""
    chat = OutageChat()
    clock = SimulatedClock(datetime(2027, 4, 5, 8, tzinfo=UTC))
    svc = await service_on(db, library, {"memory": chat}, clock)
    ids = await people(svc, chat, {"ana": ("Europe/London", None), "ben": ("Asia/Tokyo", None)})
    res = await svc.enroll("active-listening", [ids["ana"]], ids["ben"], date(2027, 4, 12))
    eid = res.enrolled[0][1]
    await tick(svc, chat, datetime(2027, 4, 14, 10, 0, tzinfo=LONDON))  # mtm-safe reaches Ana
    plan = next(d for d in chat.sent if d.delivery_id.startswith(f"{eid}.mtm-safe:"))

    click = datetime(2027, 4, 14, 17, 25, tzinfo=LONDON)
    clock.set(click)
    chat.at = click
    result = await svc.handle_action(InboundAction("memory", "ana", "plan-1", f"{eid}.mtm-safe", values={
        "situation": "Weekly 1:1 with Sam", "date": "2027-04-20", "behaviour": "paraphrase",
        "practice": "safe", "share": "yes"}))
    await svc.settle()
    await svc.drain(click)
    assert result.replies  # the answer to her own click, at once
    assert plan.updates and plan.current.closed  # her card closed at once, after hours or not

    request = f"{eid}.support-safe"
    await tick(svc, chat, datetime(2027, 4, 14, 17, 30, tzinfo=LONDON))
    assert not [m for m in chat.log if m.key.startswith(request)]  # 01:30 in Tokyo
    chat.down = True
    await tick(svc, chat, datetime(2027, 4, 15, 9, 0, tzinfo=TOKYO))  # queued in his hours, refused
    chat.down = False
    await tick(svc, chat, datetime(2027, 4, 15, 18, 30, tzinfo=TOKYO))  # back after his day ended
    await tick(svc, chat, datetime(2027, 4, 16, 8, 59, tzinfo=TOKYO))
    assert not [m for m in chat.log if m.key.startswith(request)]
    await tick(svc, chat, datetime(2027, 4, 16, 9, 0, tzinfo=TOKYO))
    got = [m for m in chat.log if m.key.startswith(request)]
    print("KEYS", [(m.key, m.at) for m in got])
    print("BEN", [(m.key, m.at) for m in chat.log if m.to == "ben"])
    print("KEYS", [(m.key, m.at) for m in got])
    (sent,) = got
    assert sent.at.astimezone(TOKYO).strftime("%a %H:%M") == "Fri 09:00"


async def test_a_newer_digest_replaces_one_still_waiting(db, library):
    from journeys.messages import Outgoing
    from journeys.state import Outcome
    from store.outcomes import OutcomesRepository

    t = datetime(2027, 5, 3, 9, tzinfo=UTC)
    async with db.write() as s:
        for day in ("2027-05-03", "2027-05-10"):
            await OutcomesRepository(s).queue(Outcome(outgoing=[Outgoing(f"digest:m1:j:{day}", Message("m1", day),
                                                               journey_id="j", topic="digest:m1:j")]), t)
        await OutcomesRepository(s).queue(Outcome(outgoing=[Outgoing("digest:m1:j:2027-05-10", Message("m1", "again"),
                                                           journey_id="j", topic="digest:m1:j")]), t)
    async with db.read() as s:
        rows = {r.key: r.state for r in (await s.execute(select(OutboxRow))).scalars()}
    assert rows == {"digest:m1:j:2027-05-03": "cancelled", "digest:m1:j:2027-05-10": "pending"}
