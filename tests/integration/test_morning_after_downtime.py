"""The moment's morning is one message even when the worker was down overnight.

Ana (London) plans her moment for Fri 16 Apr 2027 and asks Ben for support; Ben never answers. The
request expires at midnight before Friday and the day-of nudge is due at 09:00. With the worker
down from Thursday evening, both are due in the first pass after it comes back, in whatever order
the store hands them over. Ana must still get one "Your moment today": her plan, then the news that
Ben didn't get to the request, with the fallback. The real service, SQLite store, scheduler tick and
dispatcher on a simulated clock.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest

from bot.devtools.simulation import Persona, Simulation
from journeys.text import plain
from journeys.transcript_rules import check, one_message_per_moment
from tests.integration.friday_moment import LONDON, ana_plans_friday
from tests.integration.test_send_time import OutageChat, db, library, tick  # noqa: F401 (fixtures)


@pytest.mark.parametrize("back_at", [datetime(2027, 4, 16, 9, 0, tzinfo=LONDON),
                                     datetime(2027, 4, 16, 10, 30, tzinfo=LONDON)])
async def test_after_a_night_down_the_moments_morning_is_one_message(db, library, back_at) -> None:  # noqa: F811
    svc, chat, _ = await ana_plans_friday(db, library)
    at = datetime(2027, 4, 14, 11, 30, tzinfo=LONDON)
    while at <= datetime(2027, 4, 15, 20, tzinfo=LONDON):  # the request reaches Ben; he never answers
        await tick(svc, chat, at)
        at += timedelta(hours=1)
    # the worker is down from Thursday 20:00 until `back_at`: no pass in between
    at = back_at
    while at <= back_at + timedelta(minutes=10):
        await tick(svc, chat, at)
        at += timedelta(minutes=1)
    texts = {d.delivery_id: d.message for d in chat.sent}
    friday = [texts[m.key] for m in chat.log
              if m.to == "ana" and m.at.astimezone(LONDON).date() == date(2027, 4, 16)]
    (morning,) = friday
    text = plain(morning.text)
    assert plain(morning.title) == "Your moment today"
    assert text.index("Today is your moment that matters: Weekly 1:1 with Sam") < text.index(
        "Ben didn't get to your support request before your moment today. That's OK, and your plan still stands:")
    assert text.endswith("I'll ask you how it went afterwards.")


def test_the_audit_rule_sees_one_message_on_the_morning_after_a_night_down(library) -> None:  # noqa: F811
    """The same through the simulation `hplj audit` runs: Ada (New York) and Sol, her manager, who
    never answers. The bot is down from the evening before her moment until 10:30 on its day; the
    `one-message-per-moment` rule finds nothing, and her morning brings one "Your moment today"
    (her first moment's; her second has its morning as usual)."""
    cast = [Persona("sol", "Sol Ortega", "America/New_York", "US", "manager", "ignores", "silent manager"),
            Persona("ada", "Ada Moss", "America/New_York", "US", "participant", "diligent", "participant",
                    manager="sol")]
    journey = library["active-listening"]
    lived = asyncio.run(Simulation(journey, date(2026, 12, 14), cast).run())
    morning = next(s for s in lived.sent if s.recipient == "ada" and plain(s.message.title) == "Your moment today")
    down = (morning.at - timedelta(hours=12), morning.at + timedelta(minutes=90))
    t = asyncio.run(Simulation(journey, date(2026, 12, 14), cast, down=down).run())
    assert check(t, [one_message_per_moment]) == []
    after = [s for s in t.sent if s.recipient == "ada" and down[1] <= s.at < down[1] + timedelta(hours=1)]
    (one,) = after
    assert plain(one.message.title) == "Your moment today"
    assert "Sol didn't get to your support request before your moment today." in plain(one.message.text)
