"""A senior leader's endorsement: the Endorse form of their kickoff brief (a Slack modal, Teams
card inputs), a reply to the brief, or a typed `endorse …`, saved for their people's welcome.

Only the leader the brief was sent to may use it: the form's id names them, and they must still
be a senior leader of someone in that journey (the people the brief goes to). Anyone else is
refused and nothing changes. What they typed is kept as their words, erased by `forget`, and
quoted inert; the audit log records only that they endorsed.
"""

from __future__ import annotations

from datetime import datetime

from journeys.definition import Journey
from journeys.endorsement import (
    SENTENCE,
    endorse_prompt_id,
    endorse_target,
    fields,
    saved_reply,
    sentence_of,
    typed_endorsement,
    welcome_step,
)
from journeys.messages import Message, Reply
from journeys.state import Endorsement, Outcome
from store.people import PersonRecord
from store.uow import AbstractUnitOfWork

NOT_YOURS = "Sorry, that was sent to someone else, so it can't act for you. Nothing was changed."
GONE = "That request is no longer open: you are no longer the senior leader of anyone in it. Nothing was saved."


async def leads(uow: AbstractUnitOfWork, person_id: str, journey_id: str) -> bool:
    """Whether the person gets the journey's leader brief: a manager below them has people in it."""
    below = await uow.people.reporting_to(person_id) | await uow.enrollments.participants_of(person_id)
    below.discard(person_id)
    return any(status != "unenrolled" for _, _, status in await uow.enrollments.under_managers(below, journey_id))


async def typed_endorse(uow: AbstractUnitOfWork, person: PersonRecord, text: str,
                        library: dict[str, Journey]) -> str | None:
    """The endorsement form a typed `endorse …` answers: the one journey the person leads that asks
    for it; None otherwise (the text goes to the conversation as usual)."""
    if typed_endorsement(text) is None:
        return None
    mine = [j.id for j in library.values() if welcome_step(j) is not None and await leads(uow, person.id, j.id)]
    return endorse_prompt_id(mine[0], person.id) if len(mine) == 1 else None


def form(journey: Journey, leader_id: str) -> Message:
    """The form alone (what a Slack modal opens)."""
    return Message(leader_id, f"Your endorsement of {journey.title}, quoted with your name in each participant's "
                              "welcome.", title="Endorse", journey_title=journey.title,
                   prompt_id=endorse_prompt_id(journey.id, leader_id), fields=fields(), form_label="Endorse",
                   audience="manager")


async def current_form(uow: AbstractUnitOfWork, library: dict[str, Journey], prompt_id: str,
                       person: PersonRecord | None) -> Message | None:
    """The form for its leader; PermissionError for anyone else; None when it no longer applies."""
    target = endorse_target(prompt_id)
    if target is None or person is None or person.id != target[1]:
        raise PermissionError(NOT_YOURS)
    journey = library.get(target[0])
    if journey is None or welcome_step(journey) is None or not await leads(uow, person.id, journey.id):
        return None
    return form(journey, person.id)


async def answer_endorsement(uow: AbstractUnitOfWork, person: PersonRecord, reply: Reply, now: datetime,
                             library: dict[str, Journey]) -> Outcome:
    target = endorse_target(reply.prompt_id)
    if target is None or target[1] != person.id:
        return Outcome(replies=[Message(person.id, NOT_YOURS)])
    journey = library.get(target[0])
    if journey is None or welcome_step(journey) is None or not await leads(uow, person.id, journey.id):
        return Outcome(replies=[Message(person.id, GONE)])
    said = typed_endorsement(reply.text)  # "endorse …" typed; a thread reply to the brief is the sentence
    raw = reply.values.get(SENTENCE) if reply.values else (said if said is not None else reply.text)
    try:
        sentence = sentence_of(raw)
    except ValueError as long:
        return Outcome(replies=[Message(person.id, str(long))])
    await uow.endorsements.record(person.id, journey.id, sentence, now)
    uow.audit.record(now, person.id, "endorse", person.id, {"journey": journey.id, "with_sentence": bool(sentence)})
    return Outcome(replies=[Message(person.id, saved_reply(journey, Endorsement(person.name or "", sentence)),
                                    title="Endorsement saved", journey_title=journey.title, audience="manager")])
