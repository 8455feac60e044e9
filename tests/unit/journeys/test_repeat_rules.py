"""The audit rules against saying the same thing again: a stuck report's nudge once per silence,
and one message per kind and minute. On crafted transcripts, like test_transcript_rules.py."""

from __future__ import annotations

from datetime import timedelta

from journeys.definition import Journey
from journeys.transcript import Transcript, classify
from journeys.transcript_rules import (
    one_per_minute,
    practice_as_chosen,
    reminded_ahead,
    stuck_nudge_once,
    time_listed_once,
)
from tests.unit.journeys.test_transcript_rules import START, at, names, sent, transcript

NUDGE = "Ana may be stuck. A two-minute check-in this week (what's getting in the way?) is the single biggest thing."


def digests(journey: Journey, *texts: str, every: int = 7) -> Transcript:
    return transcript(journey, [sent(at(START + timedelta(days=every * i), 9), "ben", f"digest:b:j:{i}", journey,
                                     role="manager", text=f"*Ana Silva* — week {i + 1} of 6\n{t}")
                                for i, t in enumerate(texts)])


def test_stuck_nudge_once_rule(journey: Journey) -> None:
    again = list(stuck_nudge_once(digests(journey, NUDGE, NUDGE)))
    assert names(again) == ["stuck-nudge-once"] and "Ana" in again[0].detail
    still = "Still no answer from Ana since Wed 9 Dec (8 working days). If you have not had that check-in yet, it helps."
    assert not list(stuck_nudge_once(digests(journey, NUDGE, "", still)))
    assert names(list(stuck_nudge_once(digests(journey, NUDGE, still)))) == ["stuck-nudge-once"]  # the week after: no
    vague = "Still no answer from Ana for weeks."
    assert names(list(stuck_nudge_once(digests(journey, NUDGE, "", vague)))) == ["stuck-nudge-once"]
    assert not list(stuck_nudge_once(digests(journey, NUDGE, NUDGE, every=14)))  # a fortnight apart is not the next week


def test_time_listed_once_rule(journey: Journey) -> None:
    def reply(text: str) -> Transcript:
        return transcript(journey, [sent(at(START + timedelta(days=30), 9, 30), "ben", "reply:interviews", journey,
                                         role="manager", text=text)])

    twice = ("1. Ana Silva — a concrete situation; asked, no answer yet; held: Mon 11 Jan 10:00, Tue 12 Jan 10:00\n"
             "Your interview calendar (your time):\n  Mon 11 Jan 10:00 — Ana Silva, held until then")
    found = list(time_listed_once(reply(twice)))
    assert names(found) == ["time-listed-once"] and "11 Jan 10:00" in found[0].detail
    once = ("1. Ana Silva — a concrete situation; asked, no answer yet; 2 times held (your calendar below)\n"
            "  Mon 11 Jan 10:00 — Ana Silva, held until Fri 8 Jan 09:30\n"
            "  Tue 12 Jan 10:00 — Ana Silva, held until Fri 8 Jan 09:30")  # one deadline for both holds
    assert not list(time_listed_once(reply(once)))


def test_one_per_minute_rule(journey: Journey) -> None:
    day = START + timedelta(days=30)
    three = [sent(at(day, 9), "lee", f"interview:e{i}:reminder:lee", journey, role="leader",
                  text=f"Today at 1{i}:00 (your time): Success Case interview with someone") for i in range(3)]
    found = list(one_per_minute(transcript(journey, three)))
    assert names(found) == ["one-per-minute"] * 2
    spread = [sent(at(day, 9 + i), "lee", f"interview:e{i}:consent", journey, role="leader") for i in range(3)]
    assert not list(one_per_minute(transcript(journey, spread)))
    # a different kind in the same minute is not the same thing said again
    other = sent(at(day, 9), "lee", "interview:e1:consent", journey, role="leader")
    assert not list(one_per_minute(transcript(journey, [three[0], other])))
    assert classify("interview:e1:reminder:lee", journey).name == "interview:reminder"


def test_reminded_ahead_rule(journey: Journey) -> None:
    day = START + timedelta(days=30)

    def reminder(hh: int, mm: int, text: str) -> Transcript:
        return transcript(journey, [sent(at(day, hh, mm), "ana", "interview:e1:reminder:ana", journey, text=text)])

    late = list(reminded_ahead(reminder(9, 0, "Today at 09:00 (your time): your 30-minute conversation with Lee.")))
    assert names(late) == ["reminded-ahead"] and "0 minutes" in late[0].detail
    agenda = "Your Success Case interviews today (30 min each, your time):\n• 09:10 Ana Silva: ask about it"
    assert names(list(reminded_ahead(reminder(9, 0, agenda)))) == ["reminded-ahead"]
    assert not list(reminded_ahead(reminder(9, 0, "Today at 10:00 (your time): your conversation with Lee.")))
    assert not list(reminded_ahead(reminder(15, 30, "Tomorrow at 09:00 (your time): your conversation with Lee.")))


def test_practice_as_chosen_rule(journey: Journey) -> None:
    def card(line: str) -> Transcript:
        return transcript(journey, [sent(at(START + timedelta(days=3)), "ben", "e1.support-safe:1", journey,
                                         role="manager", about="ana", text=f"Ana has planned a moment.\n{line}")])

    assert names(list(practice_as_chosen(card("*Practice:* a real, harder moment")))) == ["practice-as-chosen"]
    assert not list(practice_as_chosen(card("*Practice:* a real, harder moment (their choice; this step "
                                            "suggested safe practice)")))
    assert not list(practice_as_chosen(card("*Practice:* safe practice")))
