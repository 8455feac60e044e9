"""The audit rules against saying the same thing again: a stuck report's nudge once per silence,
and one message per kind and minute. On crafted transcripts, like test_transcript_rules.py."""

from __future__ import annotations

from datetime import timedelta

from journeys.definition import Journey
from journeys.transcript import Transcript
from journeys.transcript_rules import stuck_nudge_once
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
