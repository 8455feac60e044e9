"""The interviewer's calendar for Success Case interviews: times held for a candidate when they
are invited, booked by their answer, freed by a "no", a swap or the hold's expiry; and the
reminder both people get on the interview's day.

The database keeps the calendar (store/interview_slots.py: a unique row per quarter hour), so two
candidates can never hold or book the same time, even when two processes invite at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from journeys.calendar import WorkCalendar
from journeys.definition import Journey
from journeys.evaluation.interviews import hold_until, propose_slots, reminder_at
from journeys.messages import Message, Outgoing
from journeys.text import typed
from journeys.timekeeping import format_slot
from store.uow import AbstractUnitOfWork

Who = tuple[WorkCalendar, ZoneInfo]


async def hold_times(uow: AbstractUnitOfWork, journey: Journey, interviewer_id: str, enrollment_id: str,
                     person: Who, interviewer: Who, now: datetime) -> list[datetime]:
    """Propose times clear of the interviewer's held and booked ones and hold them for this
    candidate; a time another process took a moment ago is skipped (the database refuses it)."""
    taken = await uow.interview_slots.taken(interviewer_id, now)
    slots = propose_slots(now, journey.interviews, person, interviewer, taken=taken)
    return await uow.interview_slots.hold(interviewer_id, enrollment_id, slots, journey.interviews.minutes,
                                          lambda slot: hold_until(now, slot), now)


def reminders(journey: Journey, enrollment_id: str, slot: datetime, now: datetime, *,
              participant: tuple[str, str, Who], interviewer: tuple[str, str, Who]) -> list[Outgoing]:
    """The day's reminder to each of the two people, (id, name, calendar), in their own time;
    stale once the interview is over."""
    minutes = journey.interviews.minutes
    (pid, pname, pwho), (iid, iname, iwho) = participant, interviewer
    texts = (
        (pid, pwho, (f"Today at {format_slot(slot, pwho[1])[-5:]} (your time): your {minutes}-minute conversation "
                     f"with {typed(iname or 'L&D')} about how {journey.title} went for you.")),
        (iid, iwho, (f"Today at {format_slot(slot, iwho[1])[-5:]} (your time): Success Case interview with "
                     f"{typed(pname or 'a participant')} ({minutes} min). The guides: `interviews <cohort>`; "
                     "afterwards `interview` and their name with `notes` records what you found.")),
    )
    out = []
    for who_id, who, text in texts:
        at = reminder_at(slot, who, now)
        out.append(Outgoing(f"interview:{enrollment_id}:reminder:{who_id}",
                            Message(who_id, text, title="Interview today", journey_title=journey.title,
                                    audience="admin" if who_id == iid else "participant"),
                            stale_at_iso=(slot + timedelta(minutes=minutes)).isoformat(),
                            not_before_iso=at.isoformat() if at > now else None,
                            at_once=True, enrollment_id=enrollment_id))
    return out
