"""`enroll`, `pause`, `resume` and `unenroll`: the admin commands that change enrollments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from bot.admin.context import (
    LIST_LIMIT,
    AdminError,
    Ctx,
    Found,
    as_admin_reads,
    existing,
    find,
    label,
    names,
)
from bot.services import directory
from bot.services.chain_check import circles_with_stored
from bot.services.enrollment import EnrollResult
from bot.services.facilitators import assign, assigned_line
from journeys import before_phase, engine, timekeeping
from journeys.admin.commands import Enroll, Pause, Resume, Unenroll, UserRef
from journeys.calendar import WorkCalendar
from journeys.definition import Journey
from journeys.state import EnrollmentState, Outcome, PromptState
from ports.chat import HandlerResult
from store.chain import node
from store.people import PersonRecord

Decide = Callable[[Journey | None, EnrollmentState, list[PromptState], datetime], Outcome]


def journey_named(ctx: Ctx, command: str, journey_id: str) -> Journey:
    journey = ctx.service.library.get(journey_id)
    if journey is None:
        known = ", ".join(sorted(ctx.service.library)) or "none loaded"
        raise AdminError(f"`{command}`: unknown journey '{journey_id}' (known journeys: {known})")
    return journey


async def enroll(ctx: Ctx, cmd: Enroll) -> HandlerResult:
    journey = journey_named(ctx, "enroll", cmd.journey_id)
    declared = [e.id for e in journey.events]
    for name in cmd.events:
        if name not in declared:
            expected = ", ".join(declared) if declared else "this journey declares no events"
            raise AdminError(f"`enroll`: unknown event '{name}' for journey {journey.id} (expected: {expected})")
    # resolve everyone before storing anyone: an unknown user leaves nothing behind
    participants = [await find(ctx, "enroll", ref, create=True) for ref in cmd.users]
    facilitator = await find(ctx, "enroll", cmd.facilitator, create=True) if cmd.facilitator else None
    if facilitator is not None and any(f.ident() == facilitator.ident() for f in participants):
        raise AdminError(f"`enroll`: the facilitator can't also be a participant ({facilitator.ref.display})")
    if not participants:
        return await _facilitator_only(ctx, journey, cmd, facilitator)
    if cmd.manager.kind == "auto":
        groups, above = await _own_managers(ctx, participants)
    else:
        groups, above = [(await find(ctx, "enroll", cmd.manager, create=True), participants)], []

    for manager, members in groups:
        for f in members:
            if f.ident() == manager.ident():
                raise AdminError(f"`enroll`: the manager can't also be a participant ({manager.ref.display} is "
                                 f"{f.ref.display})")
    await _refuse_circles(ctx, groups)
    start = cmd.start
    if start is None:
        cal = WorkCalendar.from_definition(journey.calendar, None, None)
        start = cal.roll_forward(ctx.today + timedelta(days=7))

    stored: list[tuple[PersonRecord, list[PersonRecord]]] = []
    seen: set[str] = set()
    for manager, members in groups:
        people: list[PersonRecord] = []
        for f in members:
            row = await f.store(ctx.service)
            if row.id not in seen:
                seen.add(row.id)
                people.append(row)
        stored.append((await manager.store(ctx.service), people))
    for f in above:
        await f.store(ctx.service)
    # their own calendars and managers, from the directory, before their prompts are scheduled
    await directory.apply(ctx.service, [r.email or "" for m, ps in stored for r in (m, *ps)]
                          + [f.email or (f.row.email if f.row else "") or "" for f in above])
    lines: list[str] = []
    totals = [0, 0, 0, 0]
    cohort = ""
    for manager_row, people in stored:
        result = await ctx.service.enrollment.enroll(journey.id, [p.id for p in people], manager_row.id, start,
                                          events=dict(cmd.events), cohort=cmd.cohort, actor_id=ctx.actor.id)
        lines.extend(_enroll_lines(journey, start, manager_row, people, result))
        cohort = result.cohort
        for i, n in enumerate((len(result.enrolled), len(result.already), len(result.opted_out), result.prompts)):
            totals[i] += n
    if facilitator is not None:
        lines.append(await _assign(ctx, journey, cohort, facilitator))
    facts = (("Journey", journey.id), ("Cohort", cohort), ("Start", start.isoformat()),
             ("Enrolled", str(totals[0])), ("Already enrolled", str(totals[1])),
             ("Opted out", str(totals[2])), ("Prompts scheduled", str(totals[3])))
    return ctx.reply("\n".join(lines), "Enrollment", facts=facts)


async def _assign(ctx: Ctx, journey: Journey, cohort: str, f: Found) -> str:
    row = await f.store(ctx.service)
    done = await assign(ctx.service.uow, journey, cohort, row.id, ctx.now, ctx.actor.id)
    if done is None:
        raise AdminError(f"`enroll`: cohort '{cohort}' has nobody in {journey.id}, so it has no workshop to "
                         f"facilitate (`status` lists the cohorts; enroll its participants first)")
    return assigned_line(journey, label(row), done)


async def _facilitator_only(ctx: Ctx, journey: Journey, cmd: Enroll, f: Found | None) -> HandlerResult:
    """`enroll <journey> facilitator <user> cohort <name>`: the facilitator of an existing cohort."""
    if f is None or cmd.cohort is None:  # the grammar never gives one without the other
        raise AdminError("`enroll`: expected participants, or `facilitator <user> cohort <name>`")
    return ctx.reply(await _assign(ctx, journey, cmd.cohort, f), "Facilitator",
                     facts=(("Journey", journey.id), ("Cohort", cmd.cohort)))


def _node(f: Found) -> str:
    email = f.email or (f.row.email if f.row is not None else None)
    if email or f.row is not None:
        return node(f.row.id if f.row is not None else "", email)
    return "new:" + ":".join(f.ident())  # not stored yet and no e-mail: only the new links can reach them


async def _refuse_circles(ctx: Ctx, groups: list[tuple[Found, list[Found]]]) -> None:
    """The participant -> manager links about to be written, checked against the whole stored chain
    (own managers, enrollments, the HR sync) before anyone is stored: nobody may end up above their
    own manager, where an escalation about a peer would reach them."""
    bad = await circles_with_stored(ctx.service.uow, [(_node(f), _node(m)) for m, members in groups for f in members])
    if bad:
        raise AdminError(f"`enroll`: managers would go round in a circle: {next(iter(bad.values()))}. "
                         "Nobody was enrolled; fix the manager (or the HR data) first.")


def _enroll_lines(journey: Journey, start: date, manager_row: PersonRecord, people: list[PersonRecord],
                  result: EnrollResult) -> list[str]:
    by_id = {p.id: p for p in people}
    lines: list[str] = []
    if result.enrolled:
        enrolled = [by_id[pid] for pid, _ in result.enrolled]
        lines.append(f"Enrolled {len(enrolled)} in {journey.title} starting {start.isoformat()}: {names(enrolled)}.")
    else:
        lines.append("Nobody new was enrolled.")
    if result.already:
        lines.append("Already enrolled (unchanged): " + "; ".join(
            f"{label(by_id[pid])} already enrolled since {since.isoformat()}"
            for pid, since in result.already[:LIST_LIMIT]) + (
            f"; and {len(result.already) - LIST_LIMIT} more" if len(result.already) > LIST_LIMIT else "") + ".")
    if result.opted_out:
        lines.append(f"Not enrolled, opted out: {names([by_id[p] for p in result.opted_out])}.")
    if result.compressed and result.enrolled:
        lines.append(before_phase.compression_warning(result.compressed, journey))
    lines.append(f"Manager: {label(manager_row)}. Cohort: `{result.cohort}` (use `status {result.cohort}` and "
                 f"`report {result.cohort}`). Prompts scheduled: {result.prompts}.")
    return lines


async def _own_managers(ctx: Ctx, participants: list[Found]) -> tuple[list[tuple[Found, list[Found]]],
                                                                        list[Found]]:
    """`manager auto`: each participant's manager from the directory, grouped; and the managers'
    own managers (for accountability digests) where the platform knows them."""
    by_manager: dict[str, tuple[Found, list[Found]]] = {}
    for f in participants:
        email = (f.email or (f.row.email if f.row is not None else None) or "").lower()
        if not email:
            raise AdminError(f"`enroll`: {f.ref.display} has no e-mail address the directory could be asked "
                             "about; name their manager with `manager <user>`")
        entry = await directory.lookup(ctx.service, ctx.platform, email)
        if entry is None or not entry.manager_email:
            raise AdminError(f"`enroll`: the directory has no manager for {email} (Microsoft Graph, Slack profile "
                             "fields or `hplj people sync`); name one with `manager <user>`. Nobody was enrolled.")
        if entry.manager_email not in by_manager:
            manager = await find(ctx, "enroll", UserRef("email", entry.manager_email), create=True)
            by_manager[entry.manager_email] = (manager, [])
        by_manager[entry.manager_email][1].append(f)
    above: list[Found] = []
    for manager_email in by_manager:
        entry = await directory.lookup(ctx.service, ctx.platform, manager_email)
        if entry is not None and entry.manager_email and entry.manager_email not in by_manager:
            try:
                above.append(await find(ctx, "enroll", UserRef("email", entry.manager_email), create=True))
            except AdminError:
                pass  # their own manager is not reachable here: no senior-leader digest for them
    return list(by_manager.values()), above


async def change_enrollments(ctx: Ctx, command: str, person: PersonRecord, statuses: tuple[str, ...],
                              journey_id: str | None, decide: Decide) -> list[tuple[EnrollmentState, Outcome]]:
    """The engine's decision for each of their enrollments in `statuses`, saved in one transaction."""
    done: list[tuple[EnrollmentState, Outcome]] = []
    async with ctx.service.uow() as uow:
        rows = await uow.enrollments.of_person(person.id, statuses, journey_id)
        if not rows:
            return []
        ids = [r.id for r in rows]
        states = await uow.enrollments.states(ids)
        prompts = await uow.prompts.of_enrollments(ids)
        for r in rows:
            state = states[r.id]
            mine = [p for p in prompts if p.enrollment_id == r.id]
            out = decide(ctx.service.library.get(r.journey_id), state, mine, ctx.now)
            await uow.save(out, ctx.now)
            uow.audit.record(ctx.now, ctx.actor.id, command, person.id, {"enrollment": r.id, "journey": r.journey_id})
            done.append((state, out))
        await uow.commit()
    return done


async def pause(ctx: Ctx, cmd: Pause) -> HandlerResult:
    person = await existing(ctx, "pause", cmd.user)
    done = await change_enrollments(ctx, "pause", person, ("active",), None,
                                     lambda j, e, ps, now: engine.pause(e, ps, now))
    if not done:
        raise AdminError(f"`pause`: {cmd.user.display} has no active enrollment to pause")
    journeys = ", ".join(ctx.service.library[r.journey_id].title if r.journey_id in ctx.service.library
                         else r.journey_id for r, _ in done)
    return ctx.reply(f"Paused {label(person)} in {journeys}. Nothing is sent to them until `resume`; "
                     "what was still to come will shift by the working days spent paused.", "Paused")


async def resume(ctx: Ctx, cmd: Resume) -> HandlerResult:
    person = await existing(ctx, "resume", cmd.user)

    def decide(journey: Journey | None, e: EnrollmentState, ps: list[PromptState], now: datetime) -> Outcome:
        if journey is None:
            raise AdminError(f"`resume`: journey '{e.journey_id}' is no longer loaded")
        return engine.resume(journey, e, ps, now)

    done = await change_enrollments(ctx, "resume", person, ("paused",), None, decide)
    if not done:
        raise AdminError(f"`resume`: {cmd.user.display} has no paused enrollment to resume")
    lines = []
    for r, out in done:
        me = r.person
        journey = ctx.service.library[r.journey_id]
        upcoming = sorted(p.due_at for p in out.prompts if p.status == "scheduled")
        nxt = (f"; next prompt {as_admin_reads(ctx, upcoming[0], timekeeping.tz_of(journey, me), me)}"
               if upcoming else "")
        shift = next((ev.data.get("shift_days") for ev in out.events if ev.kind == "resumed"), 0)
        lines.append(f"Resumed {label(person)} in {journey.title}: the schedule moved {shift} working days{nxt}.")
    return ctx.reply("\n".join(lines), "Resumed")


async def unenroll(ctx: Ctx, cmd: Unenroll) -> HandlerResult:
    if cmd.journey_id is not None:
        journey_named(ctx, "unenroll", cmd.journey_id)
    person = await existing(ctx, "unenroll", cmd.user)
    done = await change_enrollments(ctx, "unenroll", person, ("active", "paused"), cmd.journey_id,
                                     lambda j, e, ps, now: engine.stop(e, ps, now, status="unenrolled"))
    if not done:
        where = f" in {cmd.journey_id}" if cmd.journey_id else ""
        raise AdminError(f"`unenroll`: {cmd.user.display} has no active or paused enrollment{where}")
    journeys = ", ".join(r.journey_id for r, _ in done)
    return ctx.reply(f"Unenrolled {label(person)} from {journeys}. Their data stays until `forget`.", "Unenrolled")
