"""Ana (London) plans a safe-practice moment for Fri 16 Apr 2027 with Ben as her manager: the
journey lived from its enrollment to her plan, through the real service, SQLite store and
scheduler tick, on a platform that can be taken down (`OutageChat`). What the downtime tests build
on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from ports.chat import InboundAction
from tests.integration.test_send_time import OutageChat, people, tick
from tests.worlds import service_on

LONDON = ZoneInfo("Europe/London")


async def ana_plans_friday(db: Any, library: Any) -> tuple[BotService, OutageChat, str]:
    """The service, its platform and Ana's enrollment id, once her plan is saved (Wed 14 Apr)."""
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
    return svc, chat, eid
