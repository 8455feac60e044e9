"""`status <user>` and `resume` name the admin's own today and tomorrow; times stay the person's.

The admin (London) reads when Ana (New York) gets her next prompt. The reply is for the admin, who
acts on it in their day: "tomorrow" and "today" are theirs; the hour is Ana's, labelled so. Through
`BotService.handle_command` on the console platform and a real SQLite file.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from journeys.text import plain
from tests.conftest import Someone

LONDON = ZoneInfo("Europe/London")
NEXT = re.compile(r"• Next: .+? (today, |tomorrow, |on )(\w{3} \d+ \w{3}), (\d\d:\d\d) \(Ana's time, America/New_York\)")


async def _text(w, line: str, n: list[int]) -> str:
    n[0] += 1
    (reply,) = (await w.service.handle_command("console", "admin", line, f"k{n[0]}")).replies
    return plain(f"{reply.title}\n{reply.text}")


async def test_status_and_resume_say_today_and_tomorrow_for_the_admin(make_world) -> None:
    w = await make_world(datetime(2027, 3, 29, 8, tzinfo=UTC),
                         [Someone("admin", "Alex Admin", tz="Europe/London"),
                          Someone("ana", "Ana Silva", tz="America/New_York"),
                          Someone("ben", "Ben Okafor", tz="America/New_York")],
                         platform="console", admins={"admin"})
    n = [0]
    await _text(w, "enroll active-listening @ana manager @ben start 2027-04-12 cohort c1", n)
    m = NEXT.search(await _text(w, "status @ana", n))
    assert m is not None and m.group(1) == "on "  # two weeks ahead
    day = datetime.strptime(f"{m.group(2)} 2027", "%a %d %b %Y").date()
    # the admin's afternoon the day before: "tomorrow", with Ana's time and zone
    w.clock.set(datetime.combine(day - timedelta(days=1), datetime.min.time(), LONDON).replace(hour=15)
                .astimezone(UTC))
    m = NEXT.search(await _text(w, "status @ana", n))
    assert m is not None and m.group(1) == "tomorrow, " and m.group(2) == f"{day:%a} {day.day} {day:%b}", m
    # early on that day in London (still the night before in New York): "today", for the admin
    w.clock.set(datetime.combine(day, datetime.min.time(), LONDON).replace(hour=4).astimezone(UTC))
    m = NEXT.search(await _text(w, "status @ana", n))
    assert m is not None and m.group(1) == "today, ", m
    # paused, then resumed the next day: the reply says when the next prompt comes, the same way
    assert "Paused Ana Silva" in await _text(w, "pause @ana", n)
    w.clock.set(w.clock.now() + timedelta(days=1))
    text = await _text(w, "resume @ana", n)
    r = re.search(r"next prompt (today, |tomorrow, |on )(\w{3} \d+ \w{3}), \d\d:\d\d \(Ana's time, "
                  r"America/New_York\)", text)
    assert r is not None, text
    shown = datetime.strptime(f"{r.group(2)} 2027", "%a %d %b %Y").date()
    today: date = w.clock.now().astimezone(LONDON).date()
    assert r.group(1) == {today: "today, ", today + timedelta(days=1): "tomorrow, "}.get(shown, "on ")
