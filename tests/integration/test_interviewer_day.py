"""The interviewer's Success Case interviews, as they reach her: one message for the day's
interviews, one for the answers given while she was away; each time once in `interviews`.

The journey lived through the real service, SQLite store, scheduler tick and console adapter (the
simulation `hplj audit` runs), with Oli Ward in Paris interviewing people in London, New York and
Tokyo, who all answer the survey with a success story and take the first time offered (two of
them in their evening, at night in Paris).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from bot.devtools.simulation import Persona, Simulation
from bot.services import interview_calendar
from journeys.definition import Journey
from journeys.text import plain


def _cast() -> list[Persona]:
    return [
        Persona("max", "Max Turner", "Europe/London", "GB", "manager", "diligent", "manager"),
        Persona("dina", "Dina Lowe", "Europe/London", "GB", "participant", "diligent", "London",
                manager="max", story="success"),
        Persona("ada", "Ada Moss", "America/New_York", "US", "participant", "diligent", "New York",
                manager="max", story="success"),
        Persona("kai", "Kai Ito", "Asia/Tokyo", "JP", "participant", "diligent", "Tokyo", manager="max",
                story="success"),
        # two who answer late in their evening, in the night in Paris
        Persona("ned", "Ned Park", "America/New_York", "US", "participant", "diligent", "New York, evenings",
                manager="max", story="success", delay=timedelta(hours=10)),
        Persona("ivy", "Ivy Chen", "America/New_York", "US", "participant", "diligent", "New York, evenings",
                manager="max", story="success", delay=timedelta(hours=11)),
        Persona("oli", "Oli Ward", "Europe/Paris", "FR", "interviewer", "diligent", "interviewer"),
    ]


def test_one_message_per_day_and_per_opening_each_time_once(journey: Journey) -> None:
    t = asyncio.run(Simulation(journey, date(2027, 4, 12), _cast()).run())
    oli = [s for s in t.sent if s.recipient == "oli"]
    days = [s for s in oli if s.kind.name == "interview:reminder"]
    booked = {}  # name -> the Paris time of their interview, from the calendar Oli was shown
    replies = [plain(s.message.text) for s in oli if s.kind.name == "reply:interviews"]
    assert len(replies) == 2
    for line in replies[1].split("Your interview calendar")[1].splitlines():
        m = re.match(r"\s+(?:today, |tomorrow, )?\w{3} (\d+ \w{3}) (\d\d:\d\d) — (.+), booked$", line)
        if m:
            booked[m.group(3)] = (m.group(1), m.group(2))
    assert set(booked) == {"Dina Lowe", "Ada Moss", "Kai Ito", "Ned Park", "Ivy Chen"}
    # her calendar names her today and tomorrow (in Paris, when she asked) as such, the date beside
    asked = [s for s in oli if s.kind.name == "reply:interviews"]
    relative = 0
    for s, reply in zip(asked, replies, strict=True):
        for m in re.finditer(r"^\s+((?:today|tomorrow), )?\w{3} (\d+) (\w{3}) \d\d:\d\d — ", reply, re.MULTILINE):
            day = datetime.strptime(f"{m.group(2)} {m.group(3)} {s.local.year}", "%d %b %Y").date()
            want = {s.local.date(): "today, ", s.local.date() + timedelta(days=1): "tomorrow, "}.get(day)
            assert m.group(1) == want, (s.local, m.group(0))
            relative += want is not None
    assert relative >= 2  # the case is there: times held for tomorrow, then booked for today
    # each interview is named once, with what to ask, in a message for its day, at her time, at
    # least half an hour before it; a message recalls the day's others without telling them again
    said: Counter[str] = Counter()
    for s in days:
        text = plain(s.message.text)
        for name, (when, hour) in booked.items():
            if f"{hour} {name}: ask about" in text:
                said[name] += 1
                at = s.local.replace(day=int(when.split()[0]), hour=int(hour[:2]), minute=int(hour[3:]))
                assert at - s.local >= timedelta(minutes=30), (name, s.local)
        assert s.local.tzname() in ("CET", "CEST")
    assert said == Counter(dict.fromkeys(booked, 1)), said
    # nothing of one kind twice in the same minute; answers given overnight come as one message
    minutes = Counter((s.kind.name, s.local.strftime("%Y-%m-%d %H:%M")) for s in oli)
    assert max(minutes.values()) == 1, minutes
    answers = [s for s in oli if s.kind.name == "interview:consent"]
    assert sum(plain(s.message.text).count("agreed") for s in answers) == 5  # each answer told once
    night = [plain(s.message.text) for s in answers if "While you were away" in plain(s.message.text)]
    assert len(night) == 1 and "Ned Park: agreed" in night[0] and "Ivy Chen: agreed" in night[0]
    # the ranking does not list again the times the calendar lists
    for reply in replies:
        ranking = reply.split("Your interview calendar")[0]
        assert not re.search(r"\w{3} \d+ \w{3} \d\d:\d\d", ranking)


def test_two_answers_in_the_same_minute_of_her_hours_make_one_message(journey: Journey) -> None:
    """Dina and Eve, in London, answer Oli's request at the same minute of her working day."""
    cast = [
        Persona("max", "Max Turner", "Europe/London", "GB", "manager", "diligent", "manager"),
        Persona("dina", "Dina Lowe", "Europe/London", "GB", "participant", "diligent", "London",
                manager="max", story="success"),
        Persona("eve", "Eve Hart", "Europe/London", "GB", "participant", "diligent", "London",
                manager="max", story="success"),
        Persona("oli", "Oli Ward", "Europe/Paris", "FR", "interviewer", "diligent", "interviewer"),
    ]
    t = asyncio.run(Simulation(journey, date(2027, 4, 12), cast).run())
    invites = {s.message.prompt_id for s in t.sent if s.kind.name == "interview:invite"}
    answered = {a.user: a.at for a in t.actions if a.prompt_id in invites}
    assert set(answered) >= {"dina", "eve"} and answered["dina"] == answered["eve"]  # the same minute
    told = [s for s in t.sent if s.recipient == "oli" and s.kind.name == "interview:consent"]
    (one,) = told
    text = plain(one.message.text)
    assert plain(one.message.title) == "Interview answers"
    assert text.startswith("2 people answered your Success Case interview request:")  # not "while you were away"
    assert "Dina Lowe: agreed" in text and "Eve Hart: agreed" in text
    assert one.in_hours and timedelta(0) < one.at - answered["dina"] <= timedelta(minutes=1)


def test_what_the_day_message_told_is_known_whatever_its_wording(journey: Journey, monkeypatch) -> None:
    """The same journey with the day message worded otherwise (": ask them about" for ": ask
    about", as a later release might say it): what a delivered message told is read from the data
    it was sent with, so every interview is still named once with what to ask, and a message after
    one that went recalls the others by time and name only."""
    original = interview_calendar.day_message

    def reworded(*args: Any, **kwargs: Any) -> tuple[str, str]:
        title, text = original(*args, **kwargs)
        return title, text.replace(": ask about ", ": ask them about ")

    monkeypatch.setattr(interview_calendar, "day_message", reworded)
    t = asyncio.run(Simulation(journey, date(2027, 4, 12), _cast()).run())
    days = [plain(s.message.text) for s in t.sent if s.recipient == "oli" and s.kind.name == "interview:reminder"]
    asked = Counter(m.group(1) for text in days
                    for m in re.finditer(r"^• \d\d:\d\d (.+): ask them about ", text, re.MULTILINE))
    assert asked == Counter(dict.fromkeys(["Dina Lowe", "Ada Moss", "Kai Ito", "Ned Park", "Ivy Chen"], 1)), asked
    assert any(", as told before: " in text for text in days)  # the case is there: a day message went first
