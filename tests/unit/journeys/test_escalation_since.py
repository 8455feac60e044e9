"""`still_silent`: a later escalation belongs to the silence an earlier one told of only while the
participant has answered nothing since; an answer starts the count again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journeys.escalation_groups import still_silent
from journeys.state import PromptState
from tests.unit.journeys.test_engine import enrollment

T0 = datetime(2027, 4, 12, 14, tzinfo=UTC)


def prompt(n: int, *, escalated: bool = False, answered: bool = False, status: str = "open") -> PromptState:
    sent = T0 + timedelta(days=n)
    return PromptState(f"e1.s{n}", "e1", f"s{n}", "ana", "answered" if answered else status,  # type: ignore[arg-type]
                       sent, None, escalated=escalated, sent_at=sent,
                       answered_at=sent + timedelta(hours=1) if answered else None)


def test_the_first_escalation_of_a_silence_is_the_first() -> None:
    now = prompt(5, escalated=True)
    assert still_silent(enrollment(), now, [prompt(1), prompt(3), prompt(5)]) is None


def test_a_later_one_counts_from_the_first_unanswered_prompt_and_what_waits() -> None:
    now = prompt(5, escalated=True)
    still = still_silent(enrollment(), now, [prompt(0, answered=True), prompt(1, status="expired"),
                                             prompt(3, escalated=True), now])
    assert still is not None and still.since.id == "e1.s1" and still.waiting == 2  # s3 and s5; s1 closed


def test_an_answer_after_the_earlier_escalation_starts_a_new_silence() -> None:
    now = prompt(5, escalated=True)
    assert still_silent(enrollment(), now, [prompt(1, escalated=True), prompt(3, answered=True), now]) is None


def test_the_managers_own_prompts_do_not_count() -> None:
    now = prompt(5, escalated=True)
    theirs = PromptState("e1.m", "e1", "m", "ben", "open", T0, None, escalated=True, sent_at=T0)
    assert still_silent(enrollment(), now, [theirs, now]) is None
