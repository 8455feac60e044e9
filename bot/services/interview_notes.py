"""The interview notes form: sent to the interviewer by `interview <user> notes`, opened as a Slack
modal or shown as Adaptive Card inputs on Teams, and saved here when submitted.

Only a journey admin may open or submit it (checked before anything is read or written); a bad
submission says what to change and saves nothing. The story's words are kept on the enrollment's
notes (erased by `forget`) only with the person's consent; codes and numbers go into the
`interview_recorded` event (journeys/evaluation/interview_notes.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from journeys.definition import Journey
from journeys.evaluation.interview_notes import (
    NOTES_KEY,
    NotesError,
    notes_enrollment,
    notes_event,
    notes_fields,
    notes_form,
    read_notes,
    saved_note,
    stored_story,
)
from journeys.forms import AnswerError, check_values
from journeys.messages import Message, Outgoing, Reply
from journeys.state import Outcome
from journeys.text import typed
from store.people import PersonRecord
from store.uow import AbstractUnitOfWork

GONE = "That interview is no longer on record (the person may have been removed). Nothing was saved."
ADMINS_ONLY = "Sorry, interview notes are for journey admins. Nothing was saved."


def send_form(journey: Journey, enrollment_id: str, interviewer_id: str, name: str, now: datetime) -> Outgoing:
    """The form, queued to the interviewer (a new one each time it is asked for)."""
    return Outgoing(f"interview:{enrollment_id}:notes:{interviewer_id}:{now:%Y%m%dT%H%M%S%f}",
                    notes_form(journey, enrollment_id, interviewer_id, typed(name)),
                    journey_id=journey.id, at_once=True, enrollment_id=enrollment_id)


async def current_form(uow: AbstractUnitOfWork, library: dict[str, Journey], prompt_id: str, recipient_id: str) -> Message | None:
    """The form as it is now (a Slack modal opens from it); None when its enrollment is gone."""
    eid = notes_enrollment(prompt_id) or ""
    row = await uow.enrollments.record(eid)
    journey = library.get(row.journey_id) if row is not None else None
    if row is None or journey is None:
        return None
    people = await uow.people.by_ids([row.person_id])
    who = people.get(row.person_id)
    return notes_form(journey, eid, recipient_id, typed(who.name if who else "") or "the participant")


async def answer_notes(uow: AbstractUnitOfWork, actor: PersonRecord, reply: Reply, now: datetime,
                       library: dict[str, Journey]) -> Outcome:
    """Save a submitted notes form (the caller has checked that `actor` is an admin)."""
    eid = notes_enrollment(reply.prompt_id) or ""
    row = await uow.enrollments.record(eid)
    journey = library.get(row.journey_id) if row is not None else None
    if row is None or journey is None:
        return Outcome(replies=[Message(actor.id, GONE, audience="admin")])
    try:
        values = check_values(notes_fields(journey), dict(reply.values), now.date())
        notes = read_notes(journey, values)
    except (AnswerError, NotesError) as bad:
        return Outcome(replies=[Message(actor.id, f"{bad} Nothing was saved yet: please send the form again.",
                                        audience="admin")])
    people = await uow.people.by_ids([row.person_id])
    who = people.get(row.person_id)
    name = typed(who.name if who else "") or "the participant"
    (state,) = (await uow.enrollments.states([eid])).values()
    # the form stays open: sent again, it corrects the record (the latest counts)
    out = Outcome(events=[notes_event(eid, notes, actor.id, now)],
                  enrollments=[replace(state, notes={**state.notes, NOTES_KEY: stored_story(notes, now)})],
                  replies=[Message(actor.id, saved_note(journey, notes, name), title="Interview notes",
                                   journey_title=journey.title, audience="admin")])
    uow.audit.record(now, actor.id, "interview_notes", row.person_id)
    return out
