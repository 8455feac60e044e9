"""The `interviews <cohort>` and `interview <user> ...` admin commands (Success Case interviews).

Selection, slots, the guide and the figures are `journeys/interviews.py`'s; this module reads the
cohort, asks new candidates for consent (a message queued through the outbox, in their own time
zone, with slots inside both their and the interviewer's working hours) and records answers and
verdicts as events. Nothing anyone said in an interview is stored: only codes and numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from adapters.port import HandlerResult
from bot.admin_context import AdminError, Ctx, existing
from bot.reports import cohort_events
from journeys.commands import Interview, Interviews
from journeys.definition import Journey
from journeys.engine import calendar_for, tz_of
from journeys.interviews import (
    CLASS_WORDS,
    NO,
    STATUS_WORDS,
    Candidate,
    candidates,
    consent_event,
    declined_themselves,
    consent_prompt_id,
    guide,
    invited_event,
    propose_slots,
    recorded_event,
)
from journeys.messages import Button, Message, Outgoing
from journeys.ppp import measured_outcomes, units
from journeys.state import Outcome
from journeys.text import typed
from store.people import PersonRecord
from store.repo import person_state


def _when(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


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
    buttons = tuple(Button(f"Yes: {_when(s, tz)}", f"slot:{i}", "primary" if i == 0 else "default")
                    for i, s in enumerate(slots)) + (Button("No, thanks", NO),)
    return Message(recipient_id=person.id, title="Could we talk about your results?",
                   text=text + (f"\n{note}" if note else ""), journey_title=journey.title,
                   prompt_id=consent_prompt_id(enrollment_id), buttons=() if note else buttons, closed=bool(note),
                   context=f"{journey.title} · Success Case interview · optional")


def invite_key(enrollment_id: str) -> str:
    return f"interview:{enrollment_id}:invite"


def invitation(journey: Journey, enrollment_id: str, person: PersonRecord, interviewer: PersonRecord,
               slots: list[datetime], tz: ZoneInfo) -> Outgoing:
    return Outgoing(invite_key(enrollment_id),
                    invitation_message(journey, enrollment_id, person, interviewer.name, slots, tz),
                    journey_id=journey.id)


def _line(c: Candidate, name: str, tz: ZoneInfo, journey: Journey) -> str:
    why = {"success": "success case, agreed to be contacted", "sample": "sample of the others",
           "other": "added by an interviewer"}[c.reason]
    # a sampled non-success case is listed without their self-report: verified blind (docs/exports.md)
    said = f"said: {CLASS_WORDS.get(c.self_reported, '–')} " if c.reason == "success" else ""
    text = f"• {typed(name)} — {said}({why}); {STATUS_WORDS[c.status]}"
    if c.reason == "success" and c.outcome and c.outcome in measured_outcomes(journey):
        text += f"; story tagged `{c.outcome}`"
    if c.verdict is not None and c.reason == "success":
        v = c.verdict
        text += f" → verified: {CLASS_WORDS[v.classification]}"
        if v.outcome:
            text += f", `{v.outcome}`"
        if v.units is not None:
            text += f", value {v.units:g}"
    elif c.verdict is not None:
        text += " → verified"
    if c.verdict is None and c.slots and c.status in ("invited", "agreed"):
        what = "booked" if c.status == "agreed" else "proposed"
        text += f"; {what}: " + ", ".join(_when(s, tz) for s in c.slots) + " (your time)"
    return text


async def interviews(ctx: Ctx, cmd: Interviews) -> HandlerResult:
    service = ctx.service
    ids, events, journey_id = await cohort_events(service, cmd.cohort)
    journey = service.library.get(journey_id or "")
    if not ids or journey is None:
        raise AdminError(f"`interviews`: unknown cohort '{cmd.cohort}' (see `status` for the cohorts)")
    chosen = candidates(events, journey.interviews, ids)
    if not chosen:
        return ctx.reply("No Success Case survey answers yet, so there is nobody to interview.",
                         f"Interviews: {cmd.cohort}")
    async with service.uow() as uow:
        owners = {eid: pid for eid, pid, _ in await uow.enrollments.people_of(ids)}
        people = await uow.people.by_ids([*owners.values(), ctx.actor.id])
        me = person_state(people.get(ctx.actor.id) or ctx.actor, service.default_tz)
        mine = (calendar_for(journey, me), tz_of(journey, me))
        out = Outcome()
        invited = 0
        for i, c in enumerate(chosen):
            who = people.get(owners.get(c.enrollment_id, ""))
            if c.status != "to_invite" or who is None:
                continue
            state = person_state(who, service.default_tz)
            theirs = (calendar_for(journey, state), tz_of(journey, state))
            slots = propose_slots(ctx.now, journey.interviews, theirs, mine)
            out.outgoing.append(invitation(journey, c.enrollment_id, who, ctx.actor, slots, theirs[1]))
            out.events.append(invited_event(c.enrollment_id, ctx.actor.id, slots, ctx.now))
            invited += 1
        if out.events:
            await uow.save(out, ctx.now)
            await uow.commit()
    if invited:
        ids2, events, _ = await cohort_events(service, cmd.cohort)
        chosen = candidates(events, journey.interviews, ids2)
    tz = mine[1]
    names = {eid: (people[pid].name if pid in people else "(removed)") for eid, pid in owners.items()}
    lines = [f"{len(chosen)} candidate{'s' if len(chosen) != 1 else ''} for Success Case interviews"
             + (f"; {invited} asked for consent just now" if invited else "") + ":"]
    lines += [_line(c, names.get(c.enrollment_id, "?"), tz, journey) for c in chosen]
    lines.append("")
    lines += guide(journey, chosen[0] if len(chosen) == 1 else Candidate("", "", "other", "to_invite"))
    return ctx.reply("\n".join(lines), f"Interviews: {cmd.cohort}")


async def interview(ctx: Ctx, cmd: Interview) -> HandlerResult:
    service = ctx.service
    person = await existing(ctx, "interview", cmd.user)
    async with service.uow.read() as uow:
        rows = await uow.enrollments.of_person(person.id)
        events = await uow.events.of_enrollments([r.id for r in rows])
    surveyed = {e.enrollment_id for e in events if e.kind == "scm_classified"}
    rows = [r for r in rows if r.id in surveyed]
    if not rows:
        raise AdminError(f"`interview`: {cmd.user.display} has not answered a Success Case survey yet")
    row = rows[-1]  # their latest surveyed enrollment
    journey = service.library.get(row.journey_id)
    if journey is None:
        raise AdminError(f"`interview`: the journey '{row.journey_id}' is not loaded")
    if cmd.action in ("agreed", "declined"):
        if cmd.action == "agreed" and declined_themselves(events, row.id):
            raise AdminError(f"`interview`: {cmd.user.display} declined the interview themselves, and their answer "
                             "stands unless they change it; nothing was recorded.")
        event = consent_event(row.id, cmd.action == "agreed", ctx.now, recorded_by=ctx.actor.id)
        done = f"Recorded: {cmd.user.display} {cmd.action} to an interview."
    else:
        assert cmd.classification is not None
        outcome = cmd.outcome
        if outcome is None and cmd.units is not None:
            tagged = next((c.outcome for c in candidates(events, journey.interviews, [row.id]) if c.outcome), None)
            outcome = tagged
        measured = measured_outcomes(journey)
        if outcome is not None and outcome not in measured:
            known = ", ".join(sorted(measured)) or "none"
            raise AdminError(f"`interview`: '{outcome}' is not an outcome of {journey.title} (outcomes: {known})")
        if cmd.units is not None and (outcome is None or measured[outcome].measure is None):
            raise AdminError("`interview`: `value` needs an `outcome` with a measure, so the units have a "
                             "value (e.g. `outcome fewer-escalations value 6`)")
        event = recorded_event(row.id, cmd.classification, outcome, cmd.units, ctx.actor.id, ctx.now)
        m = measured[outcome].measure if outcome else None
        worth = f", {units(cmd.units, m.unit)}" if m is not None and cmd.units is not None else ""
        done = (f"Recorded: {cmd.user.display}'s interview verified {CLASS_WORDS[cmd.classification]}"
                + (f" ({outcome}{worth})" if outcome else "") + ".")
    async with service.uow() as uow:
        await uow.save(Outcome(events=[event]), ctx.now)
        uow.audit.record(ctx.now, ctx.actor.id, f"interview_{cmd.action}", person.id)
        await uow.commit()
    return ctx.reply(done, "Interview")
