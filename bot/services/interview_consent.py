"""A candidate's answer to the Success Case interview consent request (its buttons).

The request is not a journey step, so the inbound handler routes its buttons here
(`journeys.evaluation.interviews.consent_enrollment`): only the enrollment's participant may answer, once; the
answer is an event, the request closes in place, and the interviewer hears of it in their own
working hours.
"""

from __future__ import annotations

from datetime import datetime

from bot.services.interview_answers import answers_notice
from bot.services.interview_calendar import interviewer_day, reminders
from bot.services.interview_invitation import invitation_message, invite_key
from journeys import timekeeping
from journeys.definition import Journey
from journeys.evaluation.interview_day import Answer
from journeys.evaluation.interviews import (
    INVITED,
    consent_choice,
    consent_enrollment,
    consent_event,
    consent_prompt_id,
    consent_status,
    invited_slots,
    may_be_consent,
    typed_consent,
)
from journeys.messages import Message, Outgoing, Reply
from journeys.state import CardChange, Outcome
from journeys.text import typed
from journeys.timekeeping import format_slot
from store.people import PersonRecord
from store.uow import AbstractUnitOfWork

GONE = "That request is no longer open. Thank you all the same."
NOT_YOURS = "Sorry, that was sent to someone else, so it can't act for you. Nothing was changed."
TAKEN = ("Sorry, the times proposed to you were no longer held (the request waited too long), so nothing was "
         "booked. L&D will suggest another time.")
ASK_AGAIN = ("About the interview: reply with the number of the time that suits you (1 to {n}), or {no} "
             "(or “no”) if you'd rather not. Nothing was saved yet.")


async def typed_invitation(uow: AbstractUnitOfWork, person: PersonRecord, text: str) -> str | None:
    """The consent request a typed message answers: the person's one open invitation, when the
    text reads as an answer to it ("2", "no"); None otherwise (the journey's prompts get it)."""
    if not may_be_consent(text):
        return None
    ids = await uow.enrollments.ids_involving(person.id)
    if not ids:
        return None
    events = await uow.events.of_enrollments(ids)
    invited = []
    for eid in ids:
        if consent_status(events, eid) == "invited":
            row = await uow.enrollments.record(eid)
            if row is not None and row.person_id == person.id:
                invited.append(eid)
    if len(invited) != 1 or typed_consent(text, invited_slots(events, invited[0])) is None:
        return None
    if any(p.status == "open" for p in await uow.prompts.of_enrollments(ids, recipient_id=person.id)):
        return None  # "2" may answer a journey question: the conversation asks which when unsure
    return consent_prompt_id(invited[0])


async def answer_consent(uow: AbstractUnitOfWork, person: PersonRecord, reply: Reply, now: datetime,
                         library: dict[str, Journey], default_tz: str) -> Outcome:
    eid = consent_enrollment(reply.prompt_id) or ""
    row = await uow.enrollments.record(eid)
    if row is None or row.person_id != person.id:
        return Outcome(replies=[Message(person.id, NOT_YOURS if row is not None else GONE)])
    journey = library.get(row.journey_id)
    events = await uow.events.of_enrollments([eid])
    slots = invited_slots(events, eid)
    if reply.button is None and consent_status(events, eid) == "invited" and \
            typed_consent(reply.text or "", slots) is None:
        return Outcome(replies=[Message(person.id, ASK_AGAIN.format(n=len(slots), no=len(slots) + 1))])
    choice = consent_choice(reply.button or typed_consent(reply.text or "", slots) or "", slots)
    if journey is None or choice is None or consent_status(events, eid) != "invited":
        return Outcome(replies=[Message(person.id, GONE)])
    agreed, slot = choice
    if slot is not None and slot <= now:
        return Outcome(replies=[Message(person.id, "That time has already passed: please pick a later one, or "
                                                   "“No, thanks”.")])
    inviter = next((str(e.data.get("interviewer")) for e in reversed(events) if e.kind == INVITED), "")
    if slot is not None and not await uow.interview_slots.book(eid, slot, now):
        # the hold expired and the time may be someone else's now: nothing is saved
        return Outcome(replies=[Message(person.id, TAKEN)])
    if not agreed:
        await uow.interview_slots.release(eid)
    people = await uow.people.by_ids([inviter])
    tz = timekeeping.tz_of(journey, uow.people.state(person))
    when = format_slot(slot, tz) if slot else ""
    interviewer = people.get(inviter)
    note = (f"✅ Thank you: {typed(interviewer.name) if interviewer else 'L&D'} will call you on {when} (your time)."
            if agreed else "✅ Thank you for letting us know. Nothing more will be asked about this.")
    closed = invitation_message(journey, eid, person, interviewer.name if interviewer else "", slots, tz, note=note)
    out = Outcome(events=[consent_event(eid, agreed, now, slot)],
                  card=CardChange(Outgoing(invite_key(eid) + ":u1", closed, replaces_key=invite_key(eid),
                                           journey_id=journey.id, at_once=True)))
    if interviewer is not None:
        out.outgoing.append(await answers_notice(uow, journey, row.cohort, interviewer, eid,
                                                 Answer(person.name or "", agreed, slot), now))
    if agreed and slot is not None and interviewer is not None:  # on the day, both are reminded
        me = uow.people.state(person)
        them = uow.people.state(interviewer)
        ihours = (timekeeping.calendar_for(journey, them), timekeeping.tz_of(journey, them))
        day, told = await interviewer_day(uow, interviewer.id, slot, ihours[1])
        out.outgoing += reminders(journey, eid, slot, now,
                                  participant=(person.id, person.name or "", (timekeeping.calendar_for(journey, me), tz)),
                                  interviewer=(interviewer.id, interviewer.name or "", ihours), day=day,
                                  cohort=row.cohort, told=told)
    if reply.button is None:  # typed: the request's card closes later, so say at once what was saved
        out.replies.append(Message(person.id, note))
    return out
