"""Replies to a person's own commands name their today and tomorrow as such (`status`, `snooze`),
worked out in their zone at the moment the reply is made, the date kept beside the word.

Ana in London plans her moment for Fri 16 Apr 2027 (journeys/ engine API: `handle_text`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from journeys.conversation import handle_text
from journeys.messages import Reply
from journeys.person_view import PersonView
from journeys.relative import their_time_words
from journeys.text import plain
from tests.unit.journeys.test_engine import ANA, enrollment, london, planned


def _status(journey, ana, mtm, prompts, now) -> str:
    e = enrollment(person=ana)
    view = PersonView(ana, {journey.id: journey}, [e], prompts, {mtm.id: mtm})
    (reply,) = handle_text(view, Reply(ana.id, "k-status", text="status"), now).replies
    return plain(reply.text)


def test_status_says_tomorrow_and_today_for_the_moment_and_the_next_step(journey):
    out, _ = planned(journey, enrollment(), date(2027, 4, 16))  # Fri 16 Apr
    mtm, prompts = out.mtms[0], out.prompts
    eve = _status(journey, ANA, mtm, prompts, london(2027, 4, 15, 16))  # Thu afternoon
    assert "moment that matters: tomorrow, Fri 16 Apr — Weekly 1:1 with Sam" in eve
    assert "• next: your plan on the morning of your moment — tomorrow, Fri 16 Apr, 09:00 (Europe/London)" in eve
    day = _status(journey, ANA, mtm, prompts, london(2027, 4, 16, 10))
    assert "moment that matters: today, Fri 16 Apr" in day
    week_before = _status(journey, ANA, mtm, prompts, london(2027, 4, 14, 12))
    assert "moment that matters: Fri 16 Apr — " in week_before  # two days ahead: the date alone


def test_the_readers_own_zone_decides_what_tomorrow_is(journey):
    """At 16:00 London on Thu 15 Apr it is already Fri 16 Apr, 00:00 in Tokyo."""
    out, _ = planned(journey, enrollment(), date(2027, 4, 16))
    tokyo = replace(ANA, tz="Asia/Tokyo")
    mtm = out.mtms[0]
    text = _status(journey, tokyo, mtm, out.prompts, london(2027, 4, 15, 16))
    assert "moment that matters: today, Fri 16 Apr" in text


def test_snooze_says_until_tomorrow(journey):
    out, at = planned(journey, enrollment(), date(2027, 4, 23))
    opened = [p.with_(status="open", sent_at=at) if p.step_id == "support-safe" else p for p in out.prompts]
    view = PersonView(replace(ANA), {journey.id: journey}, [enrollment()],
                      [p.with_(recipient_id="ana") for p in opened if p.step_id == "support-safe"])
    res = handle_text(view, Reply("ana", "k-snooze", text="snooze"), london(2027, 4, 14, 15))  # Wed
    assert "until tomorrow, Thu 15 Apr, 09:00 (Europe/London)." in plain(res.replies[-1].text)



def test_a_time_of_someone_elses_names_the_readers_day_and_keeps_their_hour() -> None:
    """An admin reads Ana's (New York) next prompt: the date and hour are Ana's, labelled so; the
    word says which date that is for the admin, on the admin's own day."""
    ny = ZoneInfo("America/New_York")
    at = datetime(2027, 4, 9, 14, tzinfo=UTC)  # Fri 10:00 in New York
    assert their_time_words(at, ny, "Ana's", date(2027, 4, 8)) == \
        "tomorrow, Fri 9 Apr, 10:00 (Ana's time, America/New_York)"
    assert their_time_words(at, ny, "Ana's", date(2027, 4, 9)).startswith("today, Fri 9 Apr, 10:00")
    assert their_time_words(at, ny, "Ana's", date(2027, 4, 1)) == "on Fri 9 Apr, 10:00 (Ana's time, America/New_York)"
