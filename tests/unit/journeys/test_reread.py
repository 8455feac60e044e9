"""Day words re-read at delivery (journeys/reread.py): a notice written for one day and delivered
on another says each day as its reader reads it then."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from journeys import reread
from journeys.evaluation.interview_day import Answer, answers_message
from journeys.messages import Message
from journeys.text import plain

PARIS = ZoneInfo("Europe/Paris")
THU, FRI = date(2027, 1, 28), date(2027, 1, 29)


def _consent(answers: list[Answer], written: datetime) -> Message:
    """The interviewer's notice as bot/services/interview_answers.py marks it."""
    title, text = answers_message(answers, PARIS, written, away=False)
    form = reread.SLOT if len(answers) == 1 else reread.SLOT_BARE
    return reread.dated(Message("oli", text, title=title), [(form, a.slot.isoformat()) for a in answers if a.slot],
                        written.astimezone(PARIS).date(), PARIS)


def test_a_consent_delivered_a_day_late_says_today_then_on_its_date():
    slot = datetime(2027, 1, 29, 10, tzinfo=PARIS)
    msg = _consent([Answer("Dina Lowe", True, slot)], datetime(2027, 1, 28, 16, tzinfo=PARIS))
    assert "agreed to a Success Case interview tomorrow at 10:00 (your time)" in msg.text
    assert reread.reread(msg, datetime(2027, 1, 28, 17, tzinfo=PARIS)) == msg  # on time: as written
    friday = reread.reread(msg, datetime(2027, 1, 29, 9, tzinfo=PARIS).astimezone(UTC))
    assert "agreed to a Success Case interview today at 10:00 (your time)" in friday.text
    monday = reread.reread(msg, datetime(2027, 2, 1, 9, tzinfo=PARIS))
    assert "agreed to a Success Case interview on Fri 29 Jan 10:00 (your time)" in monday.text


def test_several_answers_each_reread_and_a_coach_notice_loses_its_on():
    a, b = datetime(2027, 1, 29, 10, tzinfo=PARIS), datetime(2027, 2, 1, 15, tzinfo=PARIS)
    msg = _consent([Answer("Dina Lowe", True, a), Answer("Ada Moss", True, b)], datetime(2027, 1, 28, 16, tzinfo=PARIS))
    late = plain(reread.reread(msg, datetime(2027, 1, 29, 9, tzinfo=PARIS)).text)
    assert "• Dina Lowe: agreed, today at 10:00 (your time)" in late
    assert "• Ada Moss: agreed, Mon 1 Feb 15:00 (your time)" in late
    coach = reread.dated(Message("ana", "Ben would like to coach you before your moment on Fri 29 Jan. Expect a chat."),
                         [(reread.ON, FRI.isoformat())], date(2027, 1, 27), PARIS)
    assert reread.reread(coach, datetime(2027, 1, 28, 9, tzinfo=PARIS)).text.startswith(
        "Ben would like to coach you before your moment tomorrow, Fri 29 Jan.")
    assert reread.reread(coach, datetime(2027, 1, 29, 9, tzinfo=PARIS)).text.startswith(
        "Ben would like to coach you before your moment today, Fri 29 Jan.")


def test_a_marked_message_survives_the_outbox_json():
    msg = reread.dated(Message("ana", "for tomorrow, Fri 29 Jan"), [(reread.DAY, FRI.isoformat())], THU, PARIS)
    back = Message.from_json(msg.to_json())
    assert back == msg
    assert reread.reread(back, datetime(2027, 1, 29, 9, tzinfo=PARIS)).text == "for today, Fri 29 Jan"
