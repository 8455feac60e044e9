"""The leader's weekly digest says only what moved (journeys/evaluation/digest_news.py), the
audit rule that holds it to that, and the rules added with it: a line never says one time twice,
and a manager's card shows what their people agreed to share. On crafted transcripts, like
tests/unit/journeys/test_transcript_rules.py."""

from __future__ import annotations

from datetime import timedelta

from journeys.definition import Journey
from journeys.evaluation.accountability import organisation_figures
from journeys.evaluation.digest_news import news_only
from journeys.evaluation.value import leader_lines
from journeys.transcript import Action, Transcript
from journeys.transcript_rules import (
    describe_rules,
    digest_news_only,
    named_not_handled,
    shared_in_the_card,
    stuck_says_since,
    time_said_once,
    waiting_says_what,
)
from tests.unit.journeys.test_transcript_rules import START, at, names, sent, transcript

WAITING = "Waiting more than a working day for: Grace Liu (1). Ask them to answer: support matters."
ASK = "Ask your managers to answer support requests within a working day: support matters."


def test_a_line_said_last_week_is_not_said_again() -> None:
    last = ["Business goal: fewer escalations", "Impact: no Success Case survey answers yet.",
            "Support requests: managers answered 3 of 5 (60%)."]
    now = ["Business goal: fewer escalations", "Impact: no Success Case survey answers yet.",
           "Support requests: managers answered 6 of 9 (67%)."]
    assert news_only(now, last) == ["Support requests: managers answered 6 of 9 (67%)."]
    assert news_only(now, now) == []
    assert news_only(now, []) == now  # the first digest says everything


def test_waiting_managers_cleared_is_news_and_the_general_ask_is_not() -> None:
    assert news_only([ASK], [WAITING]) == [
        "Nothing waits more than a working day for a manager now: each item was answered or has lapsed."]
    assert news_only([WAITING], [ASK]) == [WAITING]  # a named manager is news


def test_the_value_line_says_when_it_will_come_and_when_interviews_begin(journey: Journey) -> None:
    f = organisation_figures([], {"m": ["e1"]})
    before = [x for x in leader_lines(journey, f, []) if x.startswith("Estimated value:")]
    during = [x for x in leader_lines(journey, f, [], interviewing=True) if x.startswith("Estimated value:")]
    assert before != during and "none yet" not in before[0] + during[0]
    assert "Success Case interviews" in before[0] and "5 success cases" in before[0]
    assert "have begun" in during[0]


def test_digest_news_only_rule(journey: Journey) -> None:
    week = [sent(at(START + timedelta(days=7 * n)), "lee", f"leader:l:j:W{n}", journey, role="leader",
                 text=text) for n, text in enumerate(["Impact: none yet.\nSupport: 1 of 5.",
                                                      "Impact: none yet.\nSupport: 2 of 5.",
                                                      "Support: 3 of 5."])]
    found = list(digest_news_only(transcript(journey, week)))
    assert names(found) == ["digest-news-only"] and "Impact: none yet." in found[0].message
    good = [week[0], week[2]]
    assert not list(digest_news_only(transcript(journey, good)))
    # a manager's digest is not the leader's: its own lines may stay
    manager = [sent(at(START + timedelta(days=7 * n)), "ben", f"digest:b:j:{n}", journey, role="manager",
                    text="Ana — stuck") for n in range(2)]
    assert not list(digest_news_only(transcript(journey, manager)))


def test_time_said_once_rule(journey: Journey) -> None:
    bad = transcript(journey, [sent(at(START), "lee", "leader:l:j:W1", journey, role="leader",
                                    text="Mon 28 Jun 09:00 — Fatima, held until Mon 28 Jun 09:00")])
    assert names(list(time_said_once(bad))) == ["time-said-once"]
    good = transcript(journey, [sent(at(START), "lee", "leader:l:j:W1", journey, role="leader",
                                     text="Mon 28 Jun 09:00 — Fatima, held until then\n"
                                          "Wed 30 Jun 09:00 — Eli, held until 08:30 that day")])
    assert not list(time_said_once(good))
    assert {"digest-news-only", "time-said-once"} <= {name for name, _ in describe_rules()}


def test_shared_in_the_card_rule(journey: Journey) -> None:
    ex = journey.manager_support.expectations
    assert ex is not None
    said = [Action(at(START - timedelta(days=6)), "ana", ex.consent_step, None, f"e1.{ex.consent_step}", "yes"),
            Action(at(START - timedelta(days=6), 11), "ana", ex.shares[0], None, f"e1.{ex.shares[0]}")]
    card = f"e1.{ex.step}:1"
    bare = sent(at(START - timedelta(days=5)), "ben", card, journey, role="manager", about="ana",
                text="For 2 of your team: *Ana Silva* and *Lee Park*. The same applies to each of them:")
    assert names(list(shared_in_the_card(transcript(journey, [bare], said)))) == ["shared-in-the-card"]
    shown = sent(at(START - timedelta(days=5)), "ben", card, journey, role="manager", about="ana",
                 text=bare.message.text + "\n\nWhat Ana shared with you for this conversation:\n*Ana's focus:* 1:1s")
    assert not list(shared_in_the_card(transcript(journey, [shown], said)))
    # a no to sharing, or a card sent before she answered, owes her manager nothing
    no = [Action(a.at, a.user, a.step_id, None, a.prompt_id, "no" if a.button else None) for a in said]
    assert not list(shared_in_the_card(transcript(journey, [bare], no)))
    early = sent(at(START - timedelta(days=7)), "ben", card, journey, role="manager", about="ana",
                 text=bare.message.text)
    assert not list(shared_in_the_card(transcript(journey, [early], said)))


def test_named_not_handled_rule(journey: Journey) -> None:
    bad = transcript(journey, [sent(at(START), "ben", "e1.~notes:form", journey, role="manager",
                                    text="Recorded: @ana's interview verified success case.")])
    assert names(list(named_not_handled(bad))) == ["named-not-handled"]
    good = transcript(journey, [sent(at(START), "ben", "e1.~notes:form", journey, role="manager",
                                     text="Recorded: Ana Silva's interview verified success case (@anabel wrote).")])
    assert not list(named_not_handled(good))


def test_waiting_says_what_rule(journey: Journey) -> None:
    def digest(line: str) -> Transcript:
        return transcript(journey, [sent(at(START), "lee", "leader:l:j:W1", journey, role="leader", text=line)])

    bad = digest("Waiting more than a working day for: Grace Liu (2). Ask them to answer.")
    assert names(list(waiting_says_what(bad))) == ["waiting-says-what"]
    assert not list(waiting_says_what(digest("Waiting more than a working day for: Grace Liu (2 expectations "
                                              "conversations). Ask them to answer.")))


def test_stuck_says_since_rule(journey: Journey) -> None:
    def digest(line: str) -> Transcript:
        return transcript(journey, [sent(at(START), "ben", "digest:b:j:1", journey, role="manager",
                                         text=f"*Ana Silva* — week 2 of 6\n{line}")])

    bad = digest("  • ⚠️ no response to “Plan a safe practice moment” for 3+ working days")
    assert names(list(stuck_says_since(bad))) == ["stuck-says-since"]
    assert not list(stuck_says_since(digest("  • ⚠️ no response to “Plan a safe practice moment” since "
                                            "Wed 9 Dec (3 working days)")))
