"""Each audit rule catches a crafted bad transcript, and lets the right version of it through."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from journeys.definition import Journey
from journeys.messages import Button, Message
from journeys.progress import journey_weeks
from journeys.transcript import Action, Kind, Sent, Transcript, classify
from journeys.transcript_rules import (
    RULES,
    Breach,
    Rule,
    after_stop,
    after_the_end,
    before_phase_order,
    card_closed_when_done,
    check,
    compressed,
    describe_rules,
    echoed_numbering,
    honest_progress,
    lost_its_point,
    outside_hours,
    past_as_future,
    repeated_same_day,
    unfilled_placeholder,
    week_labels,
)

START = date(2026, 12, 7)  # a Monday
LONDON = ZoneInfo("Europe/London")


def at(day: date, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=LONDON).astimezone(UTC)


def sent(when: datetime, recipient: str, key: str, journey: Journey, *, text: str = "Hello", title: str = "T",
         context: str = "", role: str = "participant", about: str | None = None, buttons: bool = False,
         in_hours: bool = True, final: Message | None = None, prompt_id: str | None = None) -> Sent:
    kind = classify(key, journey)
    msg = Message(recipient, text, title=title, context=context, prompt_id=prompt_id or (
        f"{kind.enrollment_id}.{kind.step_id}" if kind.step_id else None),
        buttons=(Button("Yes", "yes"),) if buttons else ())
    return Sent(when, when.astimezone(LONDON), in_hours, recipient, role, kind, msg,  # type: ignore[arg-type]
                about if about is not None else (recipient if role == "participant" else None), final)


def transcript(journey: Journey, items: list[Sent], actions: list[Action] | None = None) -> Transcript:
    ex = journey.manager_support.expectations
    assert ex is not None
    return Transcript(journey, START, START + timedelta(days=7 * journey_weeks(journey)),
                      {"ana": "Ana Silva", "ben": "Ben Okafor", "lee": "Lee Park"}, {"ana"},
                      preparation=(ex.consent_step, *ex.shares), expectations_step=ex.step, sent=items,
                      actions=actions or [], personas={"ana": "participant", "ben": "manager", "lee": "leader"})


def names(found: list[Breach]) -> list[str]:
    return [b.rule for b in found]


def test_kinds_come_from_the_delivery_key(journey: Journey) -> None:
    assert classify("e1.focus-situation:1", journey) == Kind("step:focus-situation", "focus-situation", "question",
                                                             False, "e1")
    assert classify("e1.focus-situation:2", journey).reminder
    assert classify("e1.expectations:esc", journey).name == "escalation"
    assert classify("e1.expectations:leader", journey).name == "leader_escalation"
    assert classify("digest:p1:active-listening:2026-12-07", journey).name == "digest"
    assert classify("leader:p9:active-listening:2026-W50", journey).name == "leader_digest"
    assert classify("e1.mtm-safe:expired", journey).name == "notice:expired"


def test_outside_hours(journey: Journey) -> None:
    bad = transcript(journey, [sent(at(START, 22), "ana", "e1.kickoff:1", journey, in_hours=False)])
    assert names(list(outside_hours(bad))) == ["outside-hours"]
    assert not list(outside_hours(transcript(journey, [sent(at(START), "ana", "e1.kickoff:1", journey)])))


def test_next_week_on_the_start_day_and_next_working_day_after_it(journey: Journey) -> None:
    bad = transcript(journey, [
        sent(at(START, 9), "ben", "e1.expectations:2", journey, role="manager", about="ana",
             text="Friendly reminder: Ana starts a six-week Active Listening journey next week."),
        sent(at(START, 14), "ana", "e1.success-picture:2", journey, buttons=True,
             text="Friendly reminder: your journey starts on your next working day."),
        sent(at(START + timedelta(days=2)), "ben", "digest:b:j:x", journey, role="manager",
             text="*Ana Silva* — week 1 of 6\n  • upcoming moment: Mon 7 Dec — a call"),
    ])
    found = list(past_as_future(bad))
    details = [b.detail for b in found]
    assert any("next week" in d for d in details)
    assert any("next working day" in d for d in details)
    assert any("Mon 07 Dec as still to come" in d for d in details)
    # the same words on the Friday before the start are true
    good = transcript(journey, [
        sent(at(START - timedelta(days=7)), "ben", "e1.expectations:1", journey, role="manager", about="ana",
             text="Ana starts a six-week Active Listening journey next week."),
        sent(at(START - timedelta(days=3)), "ana", "e1.success-picture:1", journey, buttons=True,
             text="Your journey starts on your next working day."),
    ])
    assert not list(past_as_future(good))


def test_a_card_asking_for_something_before_the_start_after_it(journey: Journey) -> None:
    bad = transcript(journey, [sent(at(START + timedelta(days=1)), "ana", "e1.focus-situation:2", journey,
                                    buttons=True, text="Pick your focus before the start.")])
    assert names(list(past_as_future(bad))) == ["past-as-future"]


def test_two_messages_of_one_kind_the_same_day(journey: Journey) -> None:
    day = START - timedelta(days=5)
    bad = transcript(journey, [
        sent(at(day, 13, 30), "lee", "e1.expectations:leader", journey, role="leader", about="ana"),
        sent(at(day, 13, 30), "lee", "e2.expectations:leader", journey, role="leader", about="dev"),
    ])
    assert names(list(repeated_same_day(bad))) == ["repeated-same-day"]
    apart = transcript(journey, [
        sent(at(day, 13, 30), "lee", "e1.expectations:leader", journey, role="leader", about="ana"),
        sent(at(day + timedelta(days=1), 13, 30), "lee", "e2.expectations:leader", journey, role="leader",
             about="dev"),
    ])
    assert not list(repeated_same_day(apart))


def test_shared_notices_count_per_person(journey: Journey) -> None:
    day = START - timedelta(days=2)
    two_people = transcript(journey, [
        sent(at(day, 11), "ben", "e1.focus-situation:shared", journey, role="manager", about="ana"),
        sent(at(day, 15), "ben", "e2.focus-situation:shared", journey, role="manager", about="dev"),
    ])
    assert not list(repeated_same_day(two_people))
    one_person = transcript(journey, [
        sent(at(day, 11), "ben", "e1.focus-situation:shared", journey, role="manager", about="ana"),
        sent(at(day, 15), "ben", "e1.success-picture:shared", journey, role="manager", about="ana"),
    ])
    assert names(list(repeated_same_day(one_person))) == ["repeated-same-day"]


def test_compressed_steps_in_one_minute(journey: Journey) -> None:
    when = at(START - timedelta(days=3), 9)
    bad = transcript(journey, [sent(when, "ana", f"e1.{s}:1", journey, buttons=True)
                               for s in ("focus-situation", "share-line-of-sight", "success-picture")])
    assert names(list(compressed(bad))) == ["compressed"]
    spaced = transcript(journey, [sent(when + timedelta(hours=i), "ana", f"e1.{s}:1", journey, buttons=True)
                                  for i, s in enumerate(("focus-situation", "share-line-of-sight"))])
    assert not list(compressed(spaced))


def test_week_labels_that_disagree(journey: Journey) -> None:
    day = START + timedelta(days=16)  # week 3
    bad = transcript(journey, [
        sent(at(day, 13, 30), "ben", "e1.support-real:1", journey, role="manager", about="ana",
             context="Active Listening about Ana Silva · week 3 of 6"),
        sent(at(day, 13, 30), "ben", "digest:b:j:x", journey, role="manager", text="*Ana Silva* — week 4 of 6"),
    ])
    assert [b.detail for b in week_labels(bad)] == ["says 'week 4 of 6' on a day that is 'week 3 of 6'"]


def test_progress_counts_only_what_the_person_did(journey: Journey) -> None:
    day = START + timedelta(days=42)
    digest = sent(at(day, 9), "ben", "digest:b:j:x", journey, role="manager",
                  text="*Ana Silva* — after the end, 7 of 19 of their steps done")
    assert names(list(honest_progress(transcript(journey, [digest])))) == ["honest-progress"]
    did = [Action(at(START - timedelta(days=5 - i)), "ana", s) for i, s in enumerate(
        ("focus-situation", "share-line-of-sight", "success-picture", "mtm-safe", "reflect-safe", "mtm-real",
         "reflect-real"))]
    assert not list(honest_progress(transcript(journey, [digest], did)))


def test_nothing_after_the_end_but_survey_follow_up_and_closing(journey: Journey) -> None:
    end = START + timedelta(days=7 * journey_weeks(journey))
    bad = transcript(journey, [
        sent(at(end + timedelta(days=1), 9), "ben", "digest:b:j:x", journey, role="manager"),
        sent(at(end + timedelta(days=1), 10), "ben", "e1.listening-checkin:esc", journey, role="manager", about="ana"),
        sent(at(end + timedelta(days=2), 10), "ana", "e1.mtm-real:3", journey, buttons=True),
    ])
    assert names(list(after_the_end(bad))) == ["after-the-end"] * 3
    good = transcript(journey, [
        sent(at(end + timedelta(days=1)), "ana", "e1.success-case:2", journey, buttons=True),
        sent(at(end + timedelta(days=2)), "ana", "e1.~close:closing", journey),
        sent(at(end + timedelta(days=3)), "ben", "e1.success-case:esc", journey, role="manager", about="ana"),
    ])
    assert not list(after_the_end(good))


def test_nothing_that_has_lost_its_point(journey: Journey) -> None:
    card = sent(at(START - timedelta(days=5), 9, 30), "ben", "e1.expectations:1", journey, role="manager",
                about="ana", buttons=True)
    reminder = sent(at(START + timedelta(days=1), 9, 30), "ben", "e1.expectations:2", journey, role="manager",
                    about="ana", buttons=True)
    digest = sent(at(START + timedelta(days=42), 9), "ben", "digest:b:j:x", journey, role="manager",
                  text="*Ana Silva* — week 6 of 6\n  • waiting for you: Expectations conversation\n"
                       "  • ⚠️ no response to “Your focus” for 3+ working days")
    focus = sent(at(START - timedelta(days=3)), "ana", "e1.focus-situation:1", journey, buttons=True)
    found = list(lost_its_point(transcript(journey, [card, focus, reminder, digest])))
    assert [b.detail for b in found] == [
        "a reminder about expectations, due before the start, after it",
        "still lists “Expectations conversation”, due before the start",
        "still lists “Your focus”, due before the start"]
    # a late enrollment's card on the start day may be waiting that morning
    late = sent(at(START, 9), "ben", "e1.expectations:1", journey, role="manager", about="ana", buttons=True)
    same_day = sent(at(START, 9, 5), "ben", "digest:b:j:x", journey, role="manager",
                    text="*Ana Silva* — week 1 of 6\n  • waiting for you: Expectations conversation")
    assert not list(lost_its_point(transcript(journey, [late, same_day])))


def test_the_before_phase_in_order(journey: Journey) -> None:
    card = sent(at(START - timedelta(days=7), 9, 30), "ben", "e1.expectations:1", journey, role="manager",
                about="ana", buttons=True)
    prep = [sent(at(START - timedelta(days=6 - i)), "ana", f"e1.{s}:1", journey, buttons=True)
            for i, s in enumerate(("focus-situation", "share-line-of-sight", "success-picture"))]
    bad = list(before_phase_order(transcript(journey, [card, *prep])))
    assert names(bad) == ["before-phase-order"] and "focus-situation" in bad[0].detail
    later = sent(at(START - timedelta(days=2), 9, 30), "ben", "e1.expectations:1", journey, role="manager",
                 about="ana", buttons=True)
    assert not list(before_phase_order(transcript(journey, [*prep, later])))


def test_no_escalation_before_the_participant_prepared_unless_the_start_is_near(journey: Journey) -> None:
    early = sent(at(START - timedelta(days=5), 13, 30), "lee", "e1.expectations:leader", journey, role="leader",
                 about="ana")
    assert names(list(before_phase_order(transcript(journey, [early])))) == ["before-phase-order"]
    for days in (1, 3):  # Sunday, or the Friday before a Monday start: the start is near
        near = sent(at(START - timedelta(days=days), 13, 30), "lee", "e1.expectations:leader", journey,
                    role="leader", about="ana")
        assert not list(before_phase_order(transcript(journey, [near])))


def test_a_done_card_still_offering_its_buttons(journey: Journey) -> None:
    card = sent(at(START - timedelta(days=2)), "ben", "e1.expectations:1", journey, role="manager", about="ana",
                buttons=True)
    done = [Action(at(START - timedelta(days=2), 11), "ben", "expectations", None, "e1.expectations")]
    assert names(list(card_closed_when_done(transcript(journey, [card], done)))) == ["card-closed-when-done"]
    closed = sent(at(START - timedelta(days=2)), "ben", "e1.expectations:1", journey, role="manager", about="ana",
                  buttons=True, final=Message("ben", "Done by Ben", closed=True))
    assert not list(card_closed_when_done(transcript(journey, [closed], done)))


def test_stop_means_stop(journey: Journey) -> None:
    stopped = at(START + timedelta(days=1), 11)
    items = [
        sent(at(START + timedelta(days=2)), "ana", "e1.mtm-safe:1", journey, buttons=True),
        sent(at(START + timedelta(days=9)), "ben", "e1.mtm-safe:esc", journey, role="manager", about="ana"),
        sent(at(START + timedelta(days=14), 9), "ben", "digest:b:j:x", journey, role="manager",
             text="*Ana Silva* — week 3 of 6\n  • ⚠️ no response to “Plan a safe practice moment” for 3+ working days"),
        sent(at(START + timedelta(days=1), 12), "ben", "e1.~close:notice", journey, role="manager", about="ana",
             text="Ana stopped the journey."),
    ]
    t = transcript(journey, items)
    t.stopped["ana"] = stopped
    assert [b.detail for b in after_stop(t)] == [
        "sent to Ana Silva after they stopped", "escalation about Ana Silva after they stopped",
        "the digest still follows Ana Silva after they stopped"]


def test_unfilled_placeholder(journey: Journey) -> None:
    bad = transcript(journey, [sent(at(START), "ana", "e1.kickoff:1", journey, text="Welcome to Giving Feedback, {Name}.")])
    assert [b.detail for b in unfilled_placeholder(bad)] == ["shows {Name} unfilled"]


def test_echoed_numbering(journey: Journey) -> None:
    typed = [Action(at(START - timedelta(days=2)), "ana", text="1: 2")]
    bad = transcript(journey, [sent(at(START - timedelta(days=2), 11), "ben", "e1.success-picture:shared", journey,
                                    role="manager", about="ana", text="*Your picture of success:* “1: 2”")], typed)
    assert names(list(echoed_numbering(bad))) == ["echoed-numbering"]


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_is_written_down(rule: Rule) -> None:
    assert len((rule.__doc__ or "").split()) >= 12


def test_check_runs_every_rule_and_describes_them(journey: Journey) -> None:
    assert check(transcript(journey, [])) == []
    assert len(describe_rules()) == len(RULES)


def test_the_before_phase_in_order_for_everyone_on_a_grouped_card(journey: Journey) -> None:
    # Ben's card for Ana and Dev is keyed to Ana (prepared); Dev's picture of success came later
    ready = [sent(at(START - timedelta(days=6 - i)), "ana", f"e1.{s}:1", journey, buttons=True)
             for i, s in enumerate(("focus-situation", "share-line-of-sight", "success-picture"))]
    dev = [sent(at(START - timedelta(days=6 - i)), "dev", f"e2.{s}:1", journey, buttons=True, about="dev")
           for i, s in enumerate(("focus-situation", "share-line-of-sight"))]
    card = sent(at(START - timedelta(days=4), 14), "ben", "e1.expectations:1", journey, role="manager", about="ana",
                buttons=True, text="For 2 of your team: *Ana Silva* and *Dev Patel*. The same applies to each of them")
    dev_late = sent(at(START - timedelta(days=4), 15), "dev", "e2.success-picture:1", journey, buttons=True,
                    about="dev")
    t = transcript(journey, [*ready, *dev, card, dev_late])
    t.names["dev"] = "Dev Patel"
    t.participants.add("dev")
    bad = list(before_phase_order(t))
    assert names(bad) == ["before-phase-order"] and "Dev Patel" in bad[0].detail and "success-picture" in bad[0].detail
    t.sent = [*ready, *dev, dev_late, card]
    assert not list(before_phase_order(t))


def test_the_readers_today_and_tomorrow_are_called_so(journey: Journey) -> None:
    from journeys.transcript_rules import day_named_right
    fri = START + timedelta(days=4)  # Fri 11 Dec
    bad = transcript(journey, [
        sent(at(fri, 9), "ben", "e1.support-safe:expired-manager", journey, role="manager", about="ana",
             title="Ana's moment has come", text="Ana's moment that matters is on Fri 11 Dec, so the request closed."),
        sent(at(fri - timedelta(days=1)), "ben", "e1.support-safe:1", journey, role="manager", about="ana",
             buttons=True, text="*When:* Fri 11 Dec"),
    ])
    found = list(day_named_right(bad))
    assert [b.detail for b in found] == ["names Fri 11 Dec, the reader's today, by its date",
                                         "names Fri 11 Dec, the reader's tomorrow, by its date"]
    good = transcript(journey, [
        sent(at(fri, 9), "ben", "e1.support-safe:expired-manager", journey, role="manager", about="ana",
             title="Ana's moment is today", text="Ana's moment that matters is today, Fri 11 Dec, so it closed."),
        sent(at(fri - timedelta(days=1)), "ben", "e1.support-safe:1", journey, role="manager", about="ana",
             buttons=True, text="*When:* tomorrow, Fri 11 Dec"),
        sent(at(fri, 9), "ben", "digest:b:j:x", journey, role="manager", title="Your weekly digest · week of Mon 7 Dec",
             text="  • upcoming moment: Mon 14 Dec — a call"),
    ])
    assert not list(day_named_right(good))


def test_a_second_escalation_of_one_silence_says_since_when(journey: Journey) -> None:
    from journeys.transcript_rules import escalation_says_since
    first = sent(at(START + timedelta(days=10), 9), "ben", "e1.mtm-safe:esc", journey, role="manager", about="ana",
                 title="Ana may be stuck", text="Ana Silva has not responded to “Plan” for 6 working days.")
    again = sent(at(START + timedelta(days=24), 9), "ben", "e1.mtm-real:esc", journey, role="manager", about="ana",
                 title="Ana may be stuck", text="Ana Silva has not responded to “Plan a real one” for 6 working days.")
    found = list(escalation_says_since(transcript(journey, [first, again])))
    assert [b.rule for b in found] == ["escalation-says-since"] and "Thu 17 Dec" in found[0].detail
    said = sent(again.at, "ben", "e1.mtm-real:esc", journey, role="manager", about="ana", title="Still no answer from Ana",
                text="Still no answer from Ana since Mon 7 Dec (13 working days): 2 items waiting, now also “Plan”.")
    assert not list(escalation_says_since(transcript(journey, [first, said])))
    # she answered something in between: a new silence, told as new
    acted = [Action(at(START + timedelta(days=14)), "ana", "mtm-safe", prompt_id="e1.mtm-safe", button="x")]
    assert not list(escalation_says_since(transcript(journey, [first, again], acted)))


def test_a_day_word_glued_to_a_date_is_true_the_day_it_arrives(journey: Journey) -> None:
    """An approval written on Thursday ("for tomorrow, Fri 11 Dec") but delivered on Friday, a
    command's reply listing Friday's interview on Thursday by its date alone."""
    from journeys.transcript_rules import day_named_right
    fri = START + timedelta(days=4)  # Fri 11 Dec
    late = sent(at(fri, 10), "ana", "e1.support-safe:notice", journey, title="Your manager responded",
                text="Ben approved your plan for tomorrow, Fri 11 Dec. Go for it!")
    listing = sent(at(fri - timedelta(days=1), 9, 30), "ben", "reply:interviews", journey, role="manager",
                   text="Your interview calendar:\n  Fri 11 Dec 10:00 — Ana Silva, booked")
    found = list(day_named_right(transcript(journey, [late, listing])))
    assert [b.detail for b in found] == [
        "says tomorrow for Fri 11 Dec, which is not the reader's tomorrow the day they get it",
        "names Fri 11 Dec, the reader's tomorrow, by its date"]
    on_time = sent(at(fri, 10), "ana", "e1.support-safe:notice", journey, title="Your manager responded",
                   text="Ben approved your plan for today, Fri 11 Dec. Go for it!")
    listed = sent(at(fri - timedelta(days=1), 9, 30), "ben", "reply:interviews", journey, role="manager",
                  text="Your interview calendar:\n  tomorrow, Fri 11 Dec 10:00 — Ana Silva, booked")
    assert not list(day_named_right(transcript(journey, [on_time, listed])))


def test_two_messages_about_one_moment_at_one_time_are_one_too_many(journey: Journey) -> None:
    from journeys.transcript_rules import one_message_per_moment
    mon = START + timedelta(days=14)  # Mon 21 Dec
    expired = sent(at(mon, 9), "ana", "e1.support-safe:expired", journey, title="Your moment today",
                   text="Ben didn't get to your support request before your moment today, Mon 21 Dec.")
    nudge = sent(at(mon, 9), "ana", "e1.mtm-safe~day-of:1", journey, title="Your moment today",
                 text="Today is your moment that matters: a call")
    (b,) = one_message_per_moment(transcript(journey, [expired, nudge]))
    assert b.rule == "one-message-per-moment" and "notice:expired, then" in b.detail
    # the same moment later that day (news: the manager answered), or another moment: fine
    later = sent(at(mon, 15), "ana", "e1.support-safe:notice", journey, text="Ben approved your plan.")
    other = sent(at(mon, 9), "ana", "e1.mtm-real~day-of:1", journey, text="Today is your moment that matters: b")
    assert not list(one_message_per_moment(transcript(journey, [expired, later, other])))
