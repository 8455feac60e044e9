"""A notice that never expires says its day as read when it finally arrives.

Ben's Approve reaches Ana as "Ben approved your plan for tomorrow, Fri 16 Apr" when he presses it
on Thursday afternoon. If the platform (or the worker) is down until Friday morning, the same
notice, delivered then, must read "for today, Fri 16 Apr". The real service, SQLite store, scheduler
tick and dispatcher on a simulated clock; a platform that refuses every send stands in for the
downtime (tests/integration/test_send_time.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from journeys.text import plain
from ports.chat import InboundAction
from tests.integration.friday_moment import LONDON, ana_plans_friday
from tests.integration.test_send_time import OutageChat, db, library, tick  # noqa: F401 (fixtures)


def _texts(chat: OutageChat, who: str, key_end: str) -> list[tuple[datetime, str]]:
    """(when, text) of each message whose delivery id ends with `key_end` that reached `who`."""
    texts = {d.delivery_id: plain(d.message.text) for d in chat.sent}
    return [(m.at, texts[m.key]) for m in chat.log if m.to == who and m.key.endswith(key_end)]


async def test_an_approval_delivered_a_day_late_says_today(db, library) -> None:  # noqa: F811
    svc, chat, eid = await ana_plans_friday(db, library)
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
