"""Inbound handling: a verified click, form or typed message -> the engine -> one unit of work.

Each inbound action runs in one write transaction: the idempotency key is recorded first (a
retried request changes nothing), then the engine's decision is saved with its outbox rows.
Delivery happens after, outside the request (`on_queued` wakes the delivery loop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.services.clock import Clock
from bot.services.endorsements import answer_endorsement, typed_endorse
from bot.services.endorsements import current_form as endorsement_form
from bot.services.grouped_cards import regroup
from bot.services.interview_consent import answer_consent, typed_invitation
from bot.services.interview_notes import ADMINS_ONLY, answer_notes, current_form
from bot.services.people import PeopleDirectory
from journeys import engine, rendering
from journeys.conversation import handle_text, status_message
from journeys.definition import Journey
from journeys.endorsement import endorse_target
from journeys.evaluation.interview_notes import notes_enrollment
from journeys.evaluation.interviews import consent_enrollment
from journeys.messages import Message, Reply
from journeys.person_view import PersonView
from journeys.state import Outcome
from ports.chat import HandlerResult, InboundAction
from store.people import PersonRecord
from store.uow import AbstractUnitOfWork, Conflict, UnitsOfWork

log = logging.getLogger("hplj.bot")

PROMPT_GONE = "That prompt is no longer available. Type `status` to see what's open."
NOT_YOURS = "Sorry, that was sent to someone else, so it can't act for you. Nothing was changed."


class InboundHandler:
    def __init__(self, uow: UnitsOfWork, library: dict[str, Journey], clock: Clock, people: PeopleDirectory,
                 *, default_tz: str = "UTC", on_queued: Callable[[], None] = lambda: None) -> None:
        self.uow = uow
        self.library = library
        self.clock = clock
        self.people = people
        self.default_tz = default_tz
        self.on_queued = on_queued

    async def handle_action(self, action: InboundAction) -> HandlerResult:
        """One write transaction: the person (only written when new or changed), the idempotency
        key, the engine's decision with its outbox rows. A button or form answer loads only its
        prompt, that prompt's enrollment (with the two people) and its MTM; typed text loads the
        person's whole view, since it is routed to one of their open prompts."""
        profile = action.profile
        now = self.clock.now()
        reply = Reply("", action.key, action.prompt_id, action.button,
                      {k: v for k, v in action.values.items() if not k.startswith("_")}, action.text)
        name, email, tz = (profile.name, profile.email, profile.tz) if profile else (None, None, None)
        # interview notes are for admins only: checked before anything is read or written
        notes_form = notes_enrollment(reply.prompt_id) is not None
        if notes_form and not await self.people.is_admin(action.platform, action.user_id):
            return HandlerResult(replies=(Message(action.user_id, ADMINS_ONLY, audience="admin"),))
        try:
            async with self.uow(urgent=True) as uow:
                person, _ = await uow.people.upsert(action.platform, action.user_id, now, name=name,
                                                    email=email, tz=tz)
                if not await uow.inbound.claim(f"{action.platform}:{action.key}", person.id, now):
                    log.info("duplicate inbound %s ignored", action.key)
                    return HandlerResult()
                reply = replace(reply, person_id=person.id)
                if reply.prompt_id is None and action.reply_to:
                    # a thread reply / Teams Reply: only the prompt it answers, never a guess
                    reply = replace(reply, prompt_id=await uow.outbox.prompt_replied_to(person.id, action.reply_to))
                if reply.prompt_id is None and reply.text and reply.button is None:
                    # "endorse …" from a senior leader, or "2" / "no" to the Success Case interview
                    # request (neither is a journey prompt)
                    reply = replace(reply, prompt_id=await typed_endorse(uow, person, reply.text, self.library)
                                    or await typed_invitation(uow, person, reply.text))
                if notes_form:
                    outcome = await answer_notes(uow, person, reply, now, self.library)
                elif endorse_target(reply.prompt_id) is not None:
                    outcome = await answer_endorsement(uow, person, reply, now, self.library)
                elif consent_enrollment(reply.prompt_id) is not None and (reply.button is not None or reply.text):
                    outcome = await answer_consent(uow, person, reply, now, self.library, self.default_tz)
                elif reply.prompt_id is not None and (reply.button is not None or reply.values):
                    outcome = await self._answer_prompt(uow, person, reply, now)
                else:
                    view = await self.person_view(uow, person)
                    outcome = await self._decide(uow, view, reply, now)
                await regroup(uow, self.library, outcome, now)  # a grouped manager card speaks for all
                updated = outcome.take_card() if action.refresh_in_place else None
                await uow.save(outcome, now)
                await uow.commit()
        except Conflict:
            log.info("duplicate inbound %s ignored", action.key)
            return HandlerResult()
        self.on_queued()
        return HandlerResult(updated=updated, replies=tuple(outcome.replies))

    async def person_view(self, uow: AbstractUnitOfWork, person: PersonRecord) -> PersonView:
        """Everything open for one person: their enrollments and those they manage."""
        ids = await uow.enrollments.ids_involving(person.id)
        enrollments = await uow.enrollments.states(ids)
        prompts = await uow.prompts.of_enrollments(ids) if ids else []
        mtms = await uow.mtms.of_enrollments(ids)
        return PersonView(uow.people.state(person), self.library,
                          [e for e in enrollments.values() if e.journey_id in self.library],
                          prompts, {m.id: m for m in mtms}, platform=person.platform)

    async def _answer_prompt(self, uow: AbstractUnitOfWork, person: PersonRecord, reply: Reply, now: datetime) -> Outcome:
        """A button or form on one prompt: what `_decide` does with a full view, from a few reads."""
        prompt = await uow.prompts.get(reply.prompt_id or "")
        e_row = await uow.enrollments.record(prompt.enrollment_id) if prompt is not None else None
        if prompt is None or e_row is None:
            return Outcome(replies=[Message(person.id, PROMPT_GONE)])
        if e_row.status == "unenrolled" or person.id not in (e_row.person_id, e_row.manager_id):
            # a button or form of a prompt addressed to someone else entirely
            return Outcome(replies=[Message(person.id, NOT_YOURS)])
        journey = self.library.get(e_row.journey_id)
        if journey is None:
            return Outcome(replies=[Message(person.id, PROMPT_GONE)])
        people = {person.id: person}
        missing = [i for i in (e_row.person_id, e_row.manager_id) if i and i not in people]
        if missing:
            people.update(await uow.people.by_ids(missing))
        enrollment = uow.enrollments.state(e_row, people[e_row.person_id], people.get(e_row.manager_id or ""))
        mtm = await uow.mtms.get(prompt.mtm_id) if prompt.mtm_id else None
        if mtm is not None and mtm.enrollment_id != e_row.id:
            mtm = None
        return engine.answer(journey, enrollment, prompt, mtm, reply, now)

    async def _decide(self, uow: AbstractUnitOfWork, view: PersonView, reply: Reply, now: datetime) -> Outcome:
        """Typed text (buttons and forms go to `_answer_prompt`)."""
        if reply.prompt_id is not None and reply.prompt_id not in {p.id for p in view.prompts}:
            if await uow.prompts.exists(reply.prompt_id):
                # a button or form of a prompt addressed to someone else entirely
                return Outcome(replies=[Message(view.person.id, NOT_YOURS)])
            return Outcome(replies=[Message(view.person.id, PROMPT_GONE)])
        return handle_text(view, reply, now)

    async def home_view(self, platform: str, user_id: str) -> list[Message] | None:
        """The Slack App Home: the same status a person gets by typing `status`."""
        async with self.uow.read() as uow:
            person = await uow.people.by_platform_id(platform, user_id)
            if person is None:
                return None
            view = await self.person_view(uow, person)
        return [status_message(view, self.clock.now())]

    async def prompt_message(self, prompt_id: str, *, platform: str | None = None,
                             user_id: str | None = None) -> Message | None:
        """The current rendering of a prompt (to open its form as a modal).

        With `user_id`, only the prompt's addressee may open it (its form shows their text):
        anyone else gets PermissionError(NOT_YOURS).
        """
        if notes_enrollment(prompt_id) is not None:  # the interview notes form: for admins only
            if user_id is not None and not await self.people.is_admin(platform or "", user_id):
                raise PermissionError(ADMINS_ONLY)
            async with self.uow.read() as uow:
                me = await uow.people.by_platform_id(platform or "", user_id or "") if user_id else None
                return await current_form(uow, self.library, prompt_id, me.id if me else "")
        if endorse_target(prompt_id) is not None:  # a leader's Endorse form: for that leader only
            async with self.uow.read() as uow:
                me = await uow.people.by_platform_id(platform or "", user_id or "") if user_id else None
                return await endorsement_form(uow, self.library, prompt_id, me)
        async with self.uow.read() as uow:
            prompt = await uow.prompts.get(prompt_id)
            if prompt is None:
                return None
            if user_id is not None:
                asker = await uow.people.by_platform_id(platform or "", user_id)
                if asker is None or asker.id != prompt.recipient_id:
                    raise PermissionError(NOT_YOURS)
            enrollments = await uow.enrollments.states([prompt.enrollment_id])
            e = enrollments[prompt.enrollment_id]
            journey = self.library.get(e.journey_id)
            if journey is None or not rendering.has_card(journey, prompt):
                return None
            mtm = await uow.mtms.get(prompt.mtm_id) if prompt.mtm_id else None
            return rendering.render_prompt(journey, e, prompt, mtm)
