"""The interviewer's calendar for Success Case interviews: times held for a candidate when they
are invited, booked by their answer, freed by a "no", a swap or the hold's expiry; and the
reminder both people get on the interview's day.

The database keeps the calendar (store/interview_slots.py: a unique row per quarter hour), so two
candidates can never hold or book the same time, even when two processes invite at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from journeys.calendar import WorkCalendar
from journeys.definition import Journey
from journeys.evaluation.interview_day import (
    DayInterview,
    day_message,
    told_in,
    told_now,
    when_words,
)
from journeys.evaluation.interview_day import topic as day_topic
from journeys.evaluation.interviews import (
    AHEAD,
    hold_until,
    propose_slots,
    reminder_at,
    self_reported,
)
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


async def interviewer_day(uow: AbstractUnitOfWork, interviewer_id: str, slot: datetime,
                          tz: ZoneInfo) -> tuple[list[DayInterview], frozenset[datetime]]:
    """Every interview booked on the interviewer's day of `slot` (their zone), with who and what
    they said in the survey; and the times a day message that already went named."""
    day = slot.astimezone(tz).date()
    held = await uow.interview_slots.calendar(interviewer_id, datetime.combine(day, time(0), tz))
    booked = [h for h in held if h.state == "booked" and h.slot_at.astimezone(tz).date() == day]
    owners = {eid: pid for eid, pid, _ in await uow.enrollments.people_of([h.enrollment_id for h in booked])}
    people = await uow.people.by_ids(list(owners.values()))
    events = await uow.events.of_enrollments(list(owners))
    names = {eid: people[pid].name or "" for eid, pid in owners.items() if pid in people}
    items = [DayInterview(h.slot_at, names.get(h.enrollment_id, ""), self_reported(events, h.enrollment_id))
             for h in booked]
    # what the day's messages that already went named: recalled, not told again
    rows = await uow.outbox.by_keys(reminder_key(h.enrollment_id, interviewer_id) for h in booked)
    told = [tuple(r.payload.get("told", ())) for r in rows.values() if r.state in ("sent", "sending")]
    return items, told_in(told, items)


def reminder_key(enrollment_id: str, who_id: str) -> str:
    return f"interview:{enrollment_id}:reminder:{who_id}"


def reminders(journey: Journey, enrollment_id: str, slot: datetime, now: datetime, *,
              participant: tuple[str, str, Who], interviewer: tuple[str, str, Who],
              day: list[DayInterview], cohort: str, told: frozenset[datetime] = frozenset()) -> list[Outgoing]:
    """The day's reminder to each of the two people, (id, name, calendar), in their own time;
    stale once the interview is over. The interviewer's names every interview of their `day`
    (this one included) in one message, which replaces the day's message still waiting; those a
    message that went named (`told`) are only recalled ("one more interview today …"). No reminder
    of an interview it would reach less than `AHEAD` before (booked the evening before it, at the
    start of the day)."""
    minutes = journey.interviews.minutes
    (pid, pname, pwho), (iid, iname, iwho) = participant, interviewer
    if not any(d.slot == slot for d in day):
        day = [*day, DayInterview(slot, pname, None)]
    # the day's not yet told, but those it is too late to remind of (booked after the afternoon
    # before, for the start of the day): the answer's notice, that morning, is their reminder
    slots = sorted(d.slot for d in day if d.slot not in told)
    while slots and reminder_at(slots[0], iwho, now) > slots[0] - AHEAD:
        slots.pop(0)
    texts: list[tuple[str, datetime, str, str, list[datetime], str | None]] = []
    named: tuple[str, ...] = ()  # the times the interviewer's message names with what to ask
    theirs = reminder_at(slot, pwho, now)
    if theirs <= slot - AHEAD or theirs <= now:  # booked on the day, in their hours: at once
        when = when_words(slot, theirs, pwho[1])
        texts.append((pid, theirs, f"Interview {when}", (
            f"{when[:1].upper()}{when[1:]} at {format_slot(slot, pwho[1])[-5:]} (your time): your {minutes}-minute "
            f"conversation with {typed(iname or 'L&D')} about how {journey.title} went for you."), [slot], None))
    if slots:
        mine = reminder_at(slots[0], iwho, now)
        shown = [d for d in day if d.slot in slots or d.slot in told]
        title, text = day_message(shown, iwho[1], minutes, cohort, mine, told)
        texts.append((iid, mine, title, text, slots, day_topic(iid, slot.astimezone(iwho[1]).date())))
        named = tuple(at.astimezone(UTC).isoformat() for at in told_now(shown, told))
    out = []
    for who_id, at, heading, body, slots, topic in texts:
        out.append(Outgoing(reminder_key(enrollment_id, who_id),
                            Message(who_id, body, title=heading, journey_title=journey.title,
                                    audience="admin" if who_id == iid else "participant",
                                    told=named if who_id == iid else ()),
                            stale_at_iso=(slots[-1] + timedelta(minutes=minutes)).isoformat(),
                            not_before_iso=at.isoformat() if at > now else None,
                            at_once=True, enrollment_id=enrollment_id, topic=topic))
    return out
