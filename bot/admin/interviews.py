"""The `interviews <cohort>` and `interview <user> ...` admin commands (Success Case interviews).

Selection, slots, the guide and the figures are `journeys/evaluation/interviews.py`'s; this module reads the
cohort, asks new candidates for consent (a message queued through the outbox, in their own time
zone, with slots inside both their and the interviewer's working hours) and records answers and
verdicts as events. Nothing anyone said in an interview is stored: only codes and numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.admin.context import AdminError, Ctx, existing
from bot.services.host import Services
from bot.services.interview_calendar import hold_times
from bot.services.interview_invitation import invitation_message, invite_key
from bot.services.interview_notes import send_form
from bot.services.reports import cohort_events, story_questions
from journeys.admin.commands import Interview, Interviews
from journeys.definition import Journey
from journeys.evaluation.interviews import (
    CLASS_WORDS,
    STATUS_WORDS,
    Candidate,
    candidates,
    consent_event,
    declined_themselves,
    guide,
    invited_event,
    non_success_guide,
    ranking,
    recorded_event,
    swap_events,
)
from journeys.evaluation.scm_selection import Evidence, Ranked
from journeys.messages import Outgoing
from journeys.ppp import measured_outcomes, units
from journeys.relative import time_words
from journeys.state import Outcome
from journeys.text import typed
from journeys.timekeeping import calendar_for, tz_of
from ports.chat import HandlerResult
from store.interview_slots import Held
from store.people import PersonRecord
from store.uow import AbstractUnitOfWork


def invitation(journey: Journey, enrollment_id: str, person: PersonRecord, interviewer: PersonRecord,
               slots: list[datetime], tz: ZoneInfo) -> Outgoing:
    return Outgoing(invite_key(enrollment_id),
                    invitation_message(journey, enrollment_id, person, interviewer.name, slots, tz),
                    journey_id=journey.id)


def _line(c: Candidate, name: str, tz: ZoneInfo, today: date,
          shown: frozenset[tuple[str, datetime]] = frozenset()) -> str:
    """One candidate's line; their held or booked times only when the calendar below (`shown`:
    (enrollment, time) pairs) does not list them already: each time is said once."""
    why = c.why or {"swapped": "swapped in by an interviewer", "other": "added by an interviewer"}.get(c.reason, "")
    place = f"{c.rank}. " if c.rank and c.reason != "swapped" else "• "
    tail = " (swapped in)" if c.reason == "swapped" else ""
    text = f"{place}{typed(name)} — {why}{tail}; {STATUS_WORDS[c.status]}"
    if c.verdict is not None:
        v = c.verdict
        text += f" → verified: {CLASS_WORDS[v.classification]}"
        if v.outcome:
            text += f", `{v.outcome}`"
        if v.units is not None:
            text += f", value {v.units:g}"
    if c.verdict is None and c.slots and c.status in ("invited", "agreed"):
        what = "booked" if c.status == "agreed" else "held"
        own = [s for s in c.slots if (c.enrollment_id, s) not in shown]
        if own:
            text += f"; {what}: " + ", ".join(time_words(s, tz, today) for s in own)
        elif c.status == "invited":
            text += f"; {len(c.slots)} time{'s' if len(c.slots) != 1 else ''} held (your calendar below)"
        else:
            text += "; booked (your calendar below)"
    return text


async def survey_evidence(service: Services, journey: Journey, ids: list[str]) -> dict[str, Evidence]:
    """What each survey answer offers an interviewer, as booleans (no text leaves this function):
    a concrete situation (the evidence answer has some substance) and a result that gives a number."""
    steps, did_q, result_q = story_questions(journey)
    if not steps or not ids:
        return {}
    async with service.uow.read() as u:
        answers = await u.prompts.answered(ids, steps)
    out = {}
    for eid, a in answers.items():
        did = str(a.get(did_q) or "") if did_q else ""
        result = str(a.get(result_q) or "") if result_q else ""
        out[eid] = Evidence(situation=len(did.split()) >= CONCRETE_WORDS, counted=any(ch.isdigit() for ch in result))
    return out


CONCRETE_WORDS = 6  # an evidence answer this long names a situation; "used it, went well" does not


def _ranking_lines(chosen: list[Candidate], success: list[Ranked], others: list[Ranked], names: dict[str, str],
                   tz: ZoneInfo, today: date, shown: frozenset[tuple[str, datetime]] = frozenset()) -> list[str]:
    picked = {c.enrollment_id for c in chosen}
    lines: list[str] = []
    for title, reason, ranked in (("Success cases, strongest evidence first:", ("success",), success),
                                  ("Non-success cases, most to learn from first:", ("sample",), others)):
        group = [c for c in chosen if c.reason in reason]
        if title.startswith("Success"):
            group += [c for c in chosen if c.reason in ("swapped", "other")]
        if not group and not ranked:
            continue
        lines.append(title)
        lines += ["  " + _line(c, names.get(c.enrollment_id, "?"), tz, today, shown) for c in group]
        spare = [r for r in ranked if r.enrollment_id not in picked][:2]
        lines += [f"  next in line: {r.rank}. {typed(names.get(r.enrollment_id, '?'))} — {r.why}" for r in spare]
    return lines


def held_until(slot: datetime, expires: datetime | None, tz: ZoneInfo, today: date) -> str:
    """How long a proposed time stays held, said once: a hold that lasts until the time itself is
    "until then"; one that ends earlier that day gives only the hour; otherwise the day and hour."""
    if expires is None:
        return "held"
    if expires >= slot:
        return "held until then"
    if expires.astimezone(tz).date() == slot.astimezone(tz).date():
        return f"held until {expires.astimezone(tz):%H:%M} that day"
    return f"held until {time_words(expires, tz, today)}"


def calendar_lines(held: list[Held], names: dict[str, str], tz: ZoneInfo, today: date) -> list[str]:
    """The interviewer's calendar: one line per time, held or booked, never two at once; their
    `today` and tomorrow are called so ("tomorrow, Fri 29 Jan 10:00")."""
    if not held:
        return []
    lines = ["Your interview calendar (your time; each time is held for one person until they answer):"]
    for h in held:
        state = "booked" if h.state == "booked" else held_until(h.slot_at, h.expires_at, tz, today)
        lines.append(f"  {time_words(h.slot_at, tz, today)} — {typed(names.get(h.enrollment_id, '?'))}, {state}")
    return lines


async def interviews(ctx: Ctx, cmd: Interviews) -> HandlerResult:
    service = ctx.service
    ids, events, journey_id = await cohort_events(service, cmd.cohort)
    journey = service.library.get(journey_id or "")
    if not ids or journey is None:
        raise AdminError(f"`interviews`: unknown cohort '{cmd.cohort}' (see `status` for the cohorts)")
    measured = {k for k, o in measured_outcomes(journey).items() if o.measure is not None}
    evidence = await survey_evidence(service, journey, ids)
    chosen = candidates(events, journey.interviews, ids, measured=measured, evidence=evidence)
    if not chosen:
        return ctx.reply("No Success Case survey answers yet, so there is nobody to interview.",
                         f"Interviews: {cmd.cohort}")
    swapped = ""
    async with service.uow() as uow:
        owners = {eid: pid for eid, pid, _ in await uow.enrollments.people_of(ids)}
        people = await uow.people.by_ids([*owners.values(), ctx.actor.id])
        me = uow.people.state(people.get(ctx.actor.id) or ctx.actor)
        mine = (calendar_for(journey, me), tz_of(journey, me))
        out = Outcome()
        if cmd.swap is not None:
            swapped = await swap(ctx, uow, journey, cmd, chosen, owners, people, out)
            await uow.save(out, ctx.now)
            events = [*events, *out.events]
            chosen = candidates(events, journey.interviews, ids, measured=measured, evidence=evidence)
            out = Outcome()
        invited = 0
        for c in chosen:
            who = people.get(owners.get(c.enrollment_id, ""))
            if c.status != "to_invite" or who is None:
                continue
            state = uow.people.state(who)
            theirs = (calendar_for(journey, state), tz_of(journey, state))
            slots = await hold_times(uow, journey, ctx.actor.id, c.enrollment_id, theirs, mine, ctx.now)
            out.outgoing.append(invitation(journey, c.enrollment_id, who, ctx.actor, slots, theirs[1]))
            out.events.append(invited_event(c.enrollment_id, ctx.actor.id, slots, ctx.now))
            invited += 1
        await uow.save(out, ctx.now)
        held = await uow.interview_slots.calendar(ctx.actor.id, ctx.now)
        await uow.commit()
    if invited or swapped:
        ids, events, _ = await cohort_events(service, cmd.cohort)
        chosen = candidates(events, journey.interviews, ids, measured=measured, evidence=evidence)
    success, others = ranking(events, measured, evidence, ids)
    tz = mine[1]
    names = {eid: (people[pid].name if pid in people else "(removed)") for eid, pid in owners.items()}
    lines = ([swapped] if swapped else []) + [
        f"{len(chosen)} candidate{'s' if len(chosen) != 1 else ''} for Success Case interviews"
        + (f"; {invited} asked for consent just now" if invited else "") + ":"]
    shown = frozenset((h.enrollment_id, h.slot_at) for h in held)  # the calendar below lists these
    today = ctx.now.astimezone(tz).date()
    lines += _ranking_lines(chosen, success, others, names, tz, today, shown)
    lines += calendar_lines(held, names, tz, today)
    lines.append("")
    lines += guide(journey, Candidate("", "", "other", "to_invite"))
    lines.append("")
    lines += non_success_guide(journey)
    return ctx.reply("\n".join(lines), f"Interviews: {cmd.cohort}")


async def swap(ctx: Ctx, uow: AbstractUnitOfWork, journey: Journey, cmd: Interviews, chosen: list[Candidate],
               owners: dict[str, str], people: dict[str, PersonRecord], out: Outcome) -> str:
    """Replace a candidate not yet agreed by another surveyed member of the cohort: the first one's
    request is withdrawn (its card closes, its held times are freed); the second is invited next."""
    assert cmd.swap is not None
    refs = cmd.swap
    found = [await existing(ctx, "interviews", ref) for ref in refs]
    by_person = {pid: eid for eid, pid in owners.items()}
    eids = [by_person.get(p.id) for p in found]
    for ref, eid in zip(refs, eids, strict=True):
        if eid is None:
            raise AdminError(f"`interviews`: {ref.display} is not in cohort '{cmd.cohort}'")
    out_id, in_id = eids[0] or "", eids[1] or ""
    current = {c.enrollment_id: c for c in chosen}
    gone = current.get(out_id)
    if gone is None:
        raise AdminError(f"`interviews`: {refs[0].display} is not a candidate, so there is nobody to swap out")
    if gone.status not in ("to_invite", "invited"):
        raise AdminError(f"`interviews`: {refs[0].display} has already answered ({STATUS_WORDS[gone.status]}); a "
                         "swap only replaces someone who has not answered yet")
    if in_id in current:
        raise AdminError(f"`interviews`: {refs[1].display} is already a candidate")
    ranked = {r.enrollment_id for group in ranking(await uow.events.of_enrollments([in_id])) for r in group}
    if in_id not in ranked:
        raise AdminError(f"`interviews`: {refs[1].display} has not answered the Success Case survey, or said "
                         "no to being contacted")
    out.events += swap_events(out_id, in_id, ctx.actor.id, ctx.now)
    await uow.interview_slots.release(out_id)
    person = people.get(owners[out_id])
    if gone.status == "invited" and person is not None:
        tz = tz_of(journey, uow.people.state(person))
        closed = invitation_message(journey, out_id, person, ctx.actor.name, gone.slots, tz,
                                    note="No longer needed: thank you all the same. The times are freed.")
        out.outgoing.append(Outgoing(invite_key(out_id) + ":withdrawn", closed, replaces_key=invite_key(out_id),
                                     journey_id=journey.id, at_once=True))
    uow.audit.record(ctx.now, ctx.actor.id, "interview_swap", found[1].id)
    gone_name, in_name = (typed(p.name) if p.name else ref.display for p, ref in zip(found, refs, strict=True))
    return f"Swapped: {in_name} takes the place of {gone_name}."


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
    who = typed(person.name) if person.name else cmd.user.display  # (the reply names them, not the handle typed)
    if cmd.action == "notes":
        async with service.uow() as uow:
            await uow.save(Outcome(outgoing=[send_form(journey, row.id, ctx.actor.id, person.name or "", ctx.now)]),
                           ctx.now)
            await uow.commit()
        return ctx.reply(f"The interview notes form for {who} is in your messages: the story with "
                         "their consent, the evidence you saw, what helped and got in the way, and the value.",
                         "Interview notes")
    if cmd.action in ("agreed", "declined"):
        if cmd.action == "agreed" and declined_themselves(events, row.id):
            raise AdminError(f"`interview`: {cmd.user.display} declined the interview themselves, and their answer "
                             "stands unless they change it; nothing was recorded.")
        event = consent_event(row.id, cmd.action == "agreed", ctx.now, recorded_by=ctx.actor.id)
        done = f"Recorded: {who} {cmd.action} to an interview."
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
        done = (f"Recorded: {who}'s interview verified {CLASS_WORDS[cmd.classification]}"
                + (f" ({outcome}{worth})" if outcome else "") + ".")
    async with service.uow() as uow:
        await uow.save(Outcome(events=[event]), ctx.now)
        uow.audit.record(ctx.now, ctx.actor.id, f"interview_{cmd.action}", person.id)
        await uow.commit()
    return ctx.reply(done, "Interview")
