"""One manager card per task and day: three reports' expectations tasks, due at the same minute,
reach Ben as one card naming each of them, with a Done button per report. Pure, `now` passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime

from journeys import engine
from journeys.manager_card import group_manager_cards, regrouped_card
from journeys.messages import Reply
from journeys.state import EnrollmentState, Outcome, Person
from journeys.text import plain

START = date(2027, 4, 12)
BEN = Person("ben", "Ben Okafor", "Europe/London")
REPORTS = [Person("ana", "Ana Silva", "Europe/London"), Person("chen", "Chen Wei", "Asia/Singapore"),
           Person("fatima", "Fatima Zahra", "Europe/Berlin", country="DE")]


def one_pass(journey, reports=REPORTS):
    """What one tick decides for the reports' expectations tasks (all due Mon 5 Apr, 09:30 London)."""
    enrollments = {f"e{i}": EnrollmentState(f"e{i}", journey.id, p, BEN, START) for i, p in enumerate(reports)}
    combined = Outcome()
    for e in enrollments.values():
        p = next(p for p in engine.schedule_enrollment(journey, e, datetime(2027, 3, 1, tzinfo=UTC)).prompts
                 if p.step_id == "expectations")
        combined.extend(engine.fire(journey, e, p, None, p.due_at))
    group_manager_cards({journey.id: journey}, enrollments, combined)
    return enrollments, combined


def test_three_reports_one_card_each_by_name(journey):
    _, out = one_pass(journey)
    (card,) = out.outgoing
    text = plain(card.message.text)
    assert card.message.recipient_id == "ben" and card.message.title == "Expectations conversation"
    assert text.startswith("For 3 of your team: *Ana Silva*, *Chen Wei* and *Fatima Zahra*.")
    assert "Your team member's six-week Active Listening journey starts" in text and "{" not in text
    assert [plain(b.label) for b in card.message.buttons] == ["Done: Ana", "Done: Chen", "Done: Fatima",
                                                              "I need a guide"]
    assert [b.prompt_id for b in card.message.buttons][:3] == ["e0.expectations", "e1.expectations",
                                                               "e2.expectations"]
    # each report's prompt points at the grouped card: their Done updates it
    assert all(p.status == "open" and p.last_delivery_key == card.delivery_key for p in out.prompts)


def test_done_for_one_report_answers_only_theirs_and_leaves_the_card(journey):
    enrollments, out = one_pass(journey)
    (card,) = out.outgoing
    chen = next(b for b in card.message.buttons if plain(b.label) == "Done: Chen")
    prompt = next(p for p in out.prompts if p.id == chen.prompt_id)
    res = engine.answer(journey, enrollments["e1"], prompt, None, Reply("ben", "k", chen.prompt_id, button="done"),
                        prompt.due_at)
    (asked,) = res.prompts  # the expectations task's Done asks what was agreed (journeys/expectations.py)
    assert asked.id == "e1.expectations" and asked.status == "open"
    assert plain(res.replies[0].text).startswith("Almost done: what did you and Chen agree?")
    res = engine.answer(journey, enrollments["e1"], asked, None,
                        Reply("ben", "k2", chen.prompt_id, button="done", values={"agreed": "One safe 1:1 first"}),
                        prompt.due_at)
    (answered,) = res.prompts
    assert answered.id == "e1.expectations" and answered.status == "answered"
    # the engine closes the card it knows; the grouped card is rewritten for all (regrouped_card)
    assert res.card is not None and res.card.update.replaces_key == card.delivery_key
    assert plain(res.replies[0].text) == "Thanks, saved what you and Chen agreed. I'll remind Chen of it along the way."


def test_the_grouped_card_shows_who_is_done_and_closes_when_everyone_is(journey):
    enrollments, out = one_pass(journey)
    (card,) = out.outgoing
    prompts = {p.id: p for p in out.prompts}
    members = lambda: [(prompts[f"e{i}.expectations"], enrollments[f"e{i}"]) for i in range(3)]
    at = datetime(2027, 4, 6, 14, 30, tzinfo=UTC)  # Tue 6 Apr, 15:30 in London
    prompts["e1.expectations"] = prompts["e1.expectations"].with_(status="answered", answered_at=at)
    partly = regrouped_card(journey, card.message, members(), at)
    assert not partly.closed
    assert [plain(b.label) for b in partly.buttons] == ["Done: Ana", "Done: Fatima", "I need a guide"]
    assert partly.buttons[-1].prompt_id == "e0.expectations"  # the guide answers through an open prompt
    assert plain(partly.text).endswith("Done so far (what you agreed with each is saved):\n"
                                       "• Chen Wei, Tue 6 Apr, 15:30 (Europe/London)")
    for i in (0, 2):
        prompts[f"e{i}.expectations"] = prompts[f"e{i}.expectations"].with_(status="answered", answered_at=at)
    done = regrouped_card(journey, card.message, members(), at)
    assert done.closed and done.buttons == ()
    text = plain(done.text)
    assert text.startswith("For 3 of your team:") and text.count("Done for all 3") == 1
    assert "• Ana Silva, Tue 6 Apr" in text and "• Fatima Zahra, Tue 6 Apr" in text


def test_a_single_report_gets_the_usual_card_with_their_name_in_the_text(journey):
    _, out = one_pass(journey, REPORTS[:1])
    (card,) = out.outgoing
    assert plain(card.message.text).startswith("Ana's six-week Active Listening journey starts")
    assert [b.value for b in card.message.buttons] == ["done", "tomorrow", "guide"]
    assert out.prompts[0].last_delivery_key == card.delivery_key
