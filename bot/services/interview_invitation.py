"""The Success Case interview invitation as the participant sees it: built when an interviewer
invites (bot/admin/interviews.py) and again, closed, when the participant answers
(bot/services/interview_consent.py); here so the service needs nothing from the admin layer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from journeys.definition import Journey
from journeys.evaluation.interviews import NO, consent_prompt_id
from journeys.messages import Button, Message
from journeys.text import typed
from journeys.timekeeping import format_slot
from store.people import PersonRecord


def invitation_message(journey: Journey, enrollment_id: str, person: PersonRecord, interviewer: str,
                       slots: Sequence[datetime], tz: ZoneInfo, *, note: str = "") -> Message:
    """The consent request: why, how long, that it is optional, and a button per proposed time
    (in the person's own time zone); closed, with `note`, once answered."""
    first = (person.name or "").split(" ")[0]
    text = (f"Hello {typed(first)}. {typed(interviewer or 'L&D')} from L&D would like a "
            f"{journey.interviews.minutes}-minute conversation about how {journey.title} went for you: what "
            "you used, what came of it, and what helped or got in the way. It is entirely up to you, and "
            "nothing you say is shown with your name. If you are happy to talk, pick a time (your time)"
            + ("" if slots else f"; none fits both calendars soon, so {typed(interviewer or 'L&D')} will suggest one")
            + ".")
    buttons = tuple(Button(f"Yes: {format_slot(s, tz)}", f"slot:{i}", "primary" if i == 0 else "default")
                    for i, s in enumerate(slots)) + (Button("No, thanks", NO),)
    return Message(recipient_id=person.id, title="Could we talk about your results?",
                   text=text + (f"\n{note}" if note else ""), journey_title=journey.title,
                   prompt_id=consent_prompt_id(enrollment_id), buttons=() if note else buttons, closed=bool(note),
                   context=f"{journey.title} · Success Case interview · optional")


def invite_key(enrollment_id: str) -> str:
    return f"interview:{enrollment_id}:invite"
