"""A notice that never expires says its day as read when it finally arrives.

Ben's Approve reaches Ana as "Ben approved your plan for tomorrow, Fri 16 Apr" when he presses it
on Thursday afternoon. If the platform (or the worker) is down until Friday morning, the same
notice, delivered then, must read "for today, Fri 16 Apr". The real service, SQLite store, scheduler
tick and dispatcher on a simulated clock; a platform that refuses every send stands in for the
downtime (tests/integration/test_send_time.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.clock import SimulatedClock
from journeys.text import plain
from ports.chat import InboundAction
from tests.integration.test_send_time import OutageChat, db, library, people, tick  # noqa: F401 (fixtures)
from tests.worlds import service_on

LONDON = ZoneInfo("Europe/London")


def _texts(chat: OutageChat, who: str, key_end: str) -> list[tuple[datetime, str]]:
    """(when, text) of each message whose delivery id ends with `key_end` that reached `who`."""
    texts = {d.delivery_id: plain(d.message.text) for d in chat.sent}
    return [(m.at, texts[m.key]) for m in chat.log if m.to == who and m.key.endswith(key_end)]


async def test_an_approval_delivered_a_day_late_says_today(db, library) -> None:  # noqa: F811
    chat = OutageChat()
    svc = await service_on(db, library, {"memory": chat}, SimulatedClock(datetime(2027, 4, 1, 10, tzinfo=UTC)))
    ids = await people(svc, chat, {"ana": ("Europe/London", "GB"), "ben": ("Europe/London", "GB")})
    res = await svc.enroll("active-listening", [ids["ana"]], ids["ben"], date(2027, 4, 12))
    eid = res.enrolled[0][1]
    at = datetime(2027, 4, 1, 12, tzinfo=LONDON)
    while at <= datetime(2027, 4, 14, 10, 30, tzinfo=LONDON):  # up to the plan card (Wed 14 Apr 10:00)
        await tick(svc, chat, at)
        at += timedelta(hours=1) if at.hour in range(8, 18) else timedelta(hours=4)
    await svc.handle_action(InboundAction("memory", "ana", "plan-1", f"{eid}.mtm-safe", values={
        "situation": "Weekly 1:1 with Sam, who has been quiet", "date": "2027-04-16", "behaviour": "paraphrase",
        "practice": "safe", "share": "yes"}))
    await svc.settle()
    await tick(svc, chat, datetime(2027, 4, 14, 11, 30, tzinfo=LONDON))  # the request reaches Ben
    chat.down = True  # down from Thursday afternoon until Friday 10:00
    await tick(svc, chat, datetime(2027, 4, 15, 15, 55, tzinfo=LONDON))
    await svc.handle_action(InboundAction("memory", "ben", "approve-1", f"{eid}.support-safe", "approve"))
    await svc.settle()
    at = datetime(2027, 4, 15, 16, tzinfo=LONDON)
    while at < datetime(2027, 4, 16, 10, tzinfo=LONDON):
        await tick(svc, chat, at)
        at += timedelta(minutes=30)
    assert not [m for m in chat.log if m.key.endswith("support-safe:notice")]  # nothing left meanwhile
    chat.down = False
    at = datetime(2027, 4, 16, 10, tzinfo=LONDON)
    while at <= datetime(2027, 4, 16, 10, 10, tzinfo=LONDON):
        await tick(svc, chat, at)
        at += timedelta(minutes=1)
    ((when, text),) = _texts(chat, "ana", "support-safe:notice")
    assert when.astimezone(LONDON).date() == date(2027, 4, 16)  # a day after Ben pressed it
    assert "Ben approved your plan for today, Fri 16 Apr. Go for it!" in text
    assert "tomorrow" not in text
