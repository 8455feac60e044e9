"""The audit's rules for the end-of-journey results (issue 21): the leader's final digest comes
last, each manager gets one scorecard after their people's closings, and a closing message names
nobody else. On crafted transcripts, like tests/unit/journeys/test_transcript_rules.py."""

from __future__ import annotations

from datetime import timedelta

from journeys.definition import Journey
from journeys.progress import journey_weeks
from journeys.transcript import classify
from journeys.transcript_rules import (
    closing_names_nobody_else,
    final_digest_last,
    scorecard_at_the_end,
)
from tests.unit.journeys.test_transcript_rules import START, at, names, sent, transcript


def test_results_kinds_come_from_the_delivery_key(journey: Journey) -> None:
    assert classify("scorecard:p1:active-listening:spring", journey).name == "scorecard"
    assert classify("final-digest:p9:active-listening:spring", journey).name == "final_digest"


def test_the_final_digest_comes_after_the_follow_up_and_the_closings(journey: Journey) -> None:
    end = START + timedelta(days=7 * journey_weeks(journey))
    final = sent(at(end + timedelta(days=40)), "lee", "final-digest:l:j:c", journey, role="leader")
    bad = transcript(journey, [
        final,
        sent(at(end + timedelta(days=41)), "ana", "e1.follow-up:1", journey, buttons=True),
        sent(at(end + timedelta(days=42)), "ana", "e1.~close:closing", journey),
        sent(at(end + timedelta(days=43)), "lee", "leader:l:j:2027-W12", journey, role="leader"),
    ])
    assert names(list(final_digest_last(bad))) == ["final-digest-last"] * 3
    good = transcript(journey, [
        sent(at(end + timedelta(days=2)), "ana", "e1.~close:closing", journey),
        sent(at(end + timedelta(days=20)), "ana", "e1.follow-up:1", journey, buttons=True),
        sent(at(end + timedelta(days=22)), "lee", "leader:l:j:2027-W12", journey, role="leader"),
        final,
    ])
    assert not list(final_digest_last(good))


def test_one_scorecard_per_manager_after_their_peoples_closings(journey: Journey) -> None:
    end = START + timedelta(days=7 * journey_weeks(journey))
    request = sent(at(START + timedelta(days=3)), "ben", "e1.support-safe:1", journey, role="manager", about="ana",
                   buttons=True)
    closing = sent(at(end + timedelta(days=2)), "ana", "e1.~close:closing", journey)
    early = sent(at(end + timedelta(days=1)), "ben", "scorecard:b:j:c", journey, role="manager")
    late = sent(at(end + timedelta(days=3)), "ben", "scorecard:b:j:c", journey, role="manager")
    assert names(list(scorecard_at_the_end(transcript(journey, [request, early, closing])))) == [
        "scorecard-at-the-end"]
    assert names(list(scorecard_at_the_end(transcript(journey, [request, closing, late, late])))) == [
        "scorecard-at-the-end"]
    missing = list(scorecard_at_the_end(transcript(journey, [request, closing])))
    assert names(missing) == ["scorecard-at-the-end"] and "never got a scorecard" in missing[0].detail
    assert not list(scorecard_at_the_end(transcript(journey, [request, closing, late])))


def test_a_closing_message_names_nobody_else(journey: Journey) -> None:
    end = START + timedelta(days=7 * journey_weeks(journey))
    t = transcript(journey, [sent(at(end), "ana", "e1.~close:closing", journey,
                                  text="That's the end, Ana Silva. Lee Park practised twice.")])
    t.participants.add("lee")
    assert names(list(closing_names_nobody_else(t))) == ["closing-names-nobody-else"]
    ok = transcript(journey, [sent(at(end), "ana", "e1.~close:closing", journey,
                                   text="That's the end, Ana Silva. Together, your cohort of 5 practised 6 moments.")])
    ok.participants.add("lee")
    assert not list(closing_names_nobody_else(ok))
